"""Executing one notebook with papermill, locating failures, and swapping folders into place."""

from __future__ import annotations

import contextlib
import ctypes
import errno
import html
import os
import re
import shutil
import sys
import time
from pathlib import Path

from analysis.apps.report._common import (
    _REPO_ROOT,
    CELL_TIMEOUT_SECONDS,
    KERNEL_NAME,
    KERNEL_START_TIMEOUT_SECONDS,
    PLAIN_TAG,
    SUMMARY_NOTEBOOK,
    BuildError,
    NotebookRun,
)
from analysis.apps.report.pages import (
    _clean_outputs,
    _headline_fragments,
    _notebook_title_and_summary,
    _render_page,
)

# --------------------------------------------------------------------------- execution


def _read_notebook(path: Path | str):
    import nbformat

    return nbformat.read(str(path), as_version=4)


#: How a kernel that never started shows itself (jupyter_client); e.g. two kernels started at
#: the same moment picked the same free port ("ZMQError: Address already in use").
_KERNEL_NOT_STARTED = "Kernel died before replying to kernel_info"

#: Starts of a notebook's kernel tried before the build gives up (no cell has run before it).
KERNEL_START_ATTEMPTS = 3


def _execute_with_kernel_restarts(execute, attempts: int = KERNEL_START_ATTEMPTS):
    """Run ``execute()``; when its kernel dies before it starts, start it again (at most
    ``attempts`` times). A kernel that started and then failed is never retried."""
    for attempt in range(1, attempts + 1):
        try:
            return execute()
        except RuntimeError as error:
            if _KERNEL_NOT_STARTED not in str(error) or attempt == attempts:
                raise
            time.sleep(0.5 * attempt)


def _execute_and_render(job: dict) -> NotebookRun:
    """Worker: execute one notebook with papermill, then render its page (own process)."""
    import nbformat
    import papermill

    start = time.perf_counter()
    source = Path(job["source"])
    executed = Path(job["executed"])
    stderr_log = executed.with_suffix(".stderr.txt")
    try:
        with _kernel_stderr_to(stderr_log):
            _execute_with_kernel_restarts(lambda: papermill.execute_notebook(
                str(source),
                str(executed),
                parameters=job["parameters"],
                kernel_name=KERNEL_NAME,
                cwd=str(source.parent),
                progress_bar=False,
                log_output=False,
                request_save_on_cell_execute=False,
                start_timeout=KERNEL_START_TIMEOUT_SECONDS,
                execution_timeout=CELL_TIMEOUT_SECONDS,
            ))
    except papermill.PapermillExecutionError as exc:
        raise BuildError(
            f"{source.stem}: {_cell_name(executed, exc.cell_index)} raised "
            f"{exc.ename}: {exc.evalue}{_error_location(exc.traceback)}"
            f"{_stderr_tail(stderr_log)}"
        ) from None
    except Exception as exc:  # kernel died, timeout, unreadable notebook, ...
        raise BuildError(
            f"{source.stem}: {type(exc).__name__}: {exc}{_stderr_tail(stderr_log)}"
        ) from None
    stderr_log.unlink(missing_ok=True)
    nb = nbformat.read(str(executed), as_version=4)
    title, summary = _notebook_title_and_summary(nb, source.stem)
    _clean_outputs(nb)
    summary_page = source.stem == SUMMARY_NOTEBOOK
    headline = _headline_fragments(nb) if summary_page else ()
    plain = _headline_fragments(nb, PLAIN_TAG) if summary_page else ()
    page, figures = _render_page(nb, title, job["banner"].replace("{title}", html.escape(title)))
    Path(job["html"]).write_text(page, encoding="utf-8")
    return NotebookRun(
        name=source.stem,
        title=title,
        summary=summary,
        html_file=Path(job["html"]).name,
        seconds=time.perf_counter() - start,
        headline_html=headline,
        plain_html=plain,
        figures=tuple(figures),
    )


@contextlib.contextmanager
def _kernel_stderr_to(path: Path):
    """Send this process's stderr (inherited by the kernel it starts) to ``path``.

    The kernel writes start-up warnings to stderr; they would drown the progress lines.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    with open(path, "wb") as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


def _cell_name(executed: Path, cell_index: int) -> str:
    """``code cell N`` as the author counts them (the injected parameters cell excluded)."""
    import nbformat

    try:
        cells = nbformat.read(str(executed), as_version=4).cells
    except (OSError, ValueError):
        return f"cell {cell_index}"
    # papermill adds a banner cell pointing at the error; cell_index does not count it
    cells = [c for c in cells
             if "papermill-error-cell-tag" not in c.get("metadata", {}).get("tags", [])]
    number = sum(
        1 for cell in cells[: cell_index + 1]
        if cell.cell_type == "code"
        and "injected-parameters" not in cell.get("metadata", {}).get("tags", [])
    )
    return f"code cell {number}"


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_FRAME = re.compile(r"File (?P<file>\S+?):(?P<line>\d+), in (?P<where>[^\s(]+)")


def _error_location(traceback_lines) -> str:
    """`` (at analysis/x.py:12 in f)``: the innermost frame of a kernel traceback, if any.

    >>> _error_location(["\\x1b[36mFile \\x1b[39m/repo/analysis/engine/_tau2.py:73, in fit(y)", "NameError"])
    ' (at /repo/analysis/engine/_tau2.py:73 in fit)'
    """
    frames = [_FRAME.search(_ANSI.sub("", str(line))) for line in traceback_lines or ()]
    frames = [f for f in frames if f]
    if not frames:
        return ""
    last = frames[-1]
    where = last["file"]
    with contextlib.suppress(ValueError):
        where = str(Path(where).relative_to(_REPO_ROOT))
    return f" (at {where}:{last['line']} in {last['where']})"


def _stderr_tail(path: Path, lines: int = 8) -> str:
    """The kernel's last stderr lines (without its routine start-up warning), if any."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    kept = [
        line for line in text.splitlines()
        if line.strip() and "without encryption" not in line
    ][-lines:]
    return ("\nkernel stderr:\n  " + "\n  ".join(kept)) if kept else ""


def _swap_into_place(new: Path, target: Path) -> None:
    """Replace ``target`` by ``new`` (both folders on the same file system).

    Uses Linux's ``renameat2(RENAME_EXCHANGE)`` where available, so there is no moment
    without a report; elsewhere, two renames with a roll-back.
    """
    if not target.exists():
        os.rename(new, target)
        return
    if _exchange(new, target):
        shutil.rmtree(new)  # `new` now holds the old report
        return
    old = target.with_name(f"{target.name}_old_{os.getpid()}")
    os.rename(target, old)
    try:
        os.rename(new, target)
    except OSError:
        os.rename(old, target)
        raise
    shutil.rmtree(old)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically exchange two paths with renameat2; False if the system cannot."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                          ctypes.c_uint]
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))



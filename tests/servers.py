"""Servers started by tests (the explorer's Voilà app, JupyterLab): started, awaited and always
stopped, with every process they started, even when the test fails."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

#: Seconds a server may take to answer its first request (a kernel start on a busy machine).
START_TIMEOUT_SECONDS = 120

#: Preheated kernels of the explorers tests start (``--pool``): one, so that the first page comes
#: from the pool as a reader's does, without preheating kernels no test opens (each one runs
#: the notebook: a few seconds of CPU, and Voilà refills the pool after every page).
EXPLORER_POOL = 1


def descendants(pid: int) -> set[int]:
    """Every living process below ``pid`` (children, their children, ...), read from /proc."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def alive(pid: int) -> bool:
    """Whether ``pid`` is a running (not zombie) process."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def stop(server: subprocess.Popen, family: set[int]) -> None:
    """Stop ``server`` politely (SIGTERM), then kill whatever of it and ``family`` is left."""
    family = family | descendants(server.pid)
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in family) and time.monotonic() < deadline:
        time.sleep(0.2)
    for pid in family:
        if alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def wait_until_up(url: str, server: subprocess.Popen, log: Path, timeout: float = START_TIMEOUT_SECONDS,
                  headers: dict[str, str] | None = None) -> None:
    """Return once ``url`` answers; raise AssertionError with the server's log if it never does."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            # once connected, wait for the answer up to the deadline: a Voilà with preheated kernels
            # answers the first request when a pooled kernel has run the notebook (another request
            # would only take another kernel from the pool)
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}),
                                        timeout=max(5.0, deadline - time.monotonic())):
                return
        except TimeoutError:
            raise AssertionError(f"the server at {url} did not answer in {timeout:.0f} s:\n"
                                 f"{log.read_text()[-3000:]}") from None
        except (urllib.error.URLError, ConnectionError):
            if server.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the server at {url} did not start:\n{log.read_text()[-3000:]}") from None
            time.sleep(0.5)


@contextlib.contextmanager
def running(command: list[str], log: Path, *, cwd: Path, **popen):
    """Start ``command`` with its output in ``log``; on leaving, stop it and everything it started."""
    family: set[int] = set()
    with log.open("w") as sink:
        server = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, cwd=cwd, **popen)
    try:
        yield server
    finally:
        family |= descendants(server.pid)
        stop(server, family)


def open_explorer(page, url: str, log: Path, timeout_ms: float) -> None:
    """Open the explorer's page in a Playwright ``page`` and wait for its first figure; fail with
    the page's text and the server's log if it never comes."""
    page.goto(url)
    try:
        page.locator(".explorer-figure svg").wait_for(timeout=timeout_ms)
    except Exception:  # Playwright's TimeoutError
        raise AssertionError(f"the explorer did not render:\n{page.inner_text('body')[:2000]}\n"
                             f"{log.read_text()[-3000:]}") from None

"""The explorer's Voilà server for a browser test: started, awaited, stopped.

Shared by ``tests/test_explorer_browser.py`` (the app as ``make explore`` serves it) and
``tests/test_hostile_data.py`` (the same app on a hostile copy of the data).
"""

from __future__ import annotations

import contextlib
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

#: The Voila server answers in 2-5 s here; a loaded CI machine gets more.
START_TIMEOUT_SECONDS = 90


def _wait_until_up(url: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except (urllib.error.URLError, ConnectionError):
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the explorer did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)


@contextlib.contextmanager
def running_app(command: Sequence[str], url: str, log: Path, *, cwd: Path,
                env: Mapping[str, str] | None = None):
    """Run ``command`` (a server answering at ``url``, output into ``log``) until the block ends."""
    with log.open("w") as sink:
        server = subprocess.Popen(list(command), stdout=sink, stderr=subprocess.STDOUT, cwd=cwd,
                                  env=None if env is None else dict(env))
    try:
        _wait_until_up(url, server, log)
        yield server
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()

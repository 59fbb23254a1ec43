"""`make explore`'s command as a user runs it: the address printed once Voila listens, Ctrl-C
stops it whatever signal disposition it inherited, and nothing is left running."""

from __future__ import annotations

import signal
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from servers import EXPLORER_POOL, alive, descendants, running

from analysis.apps.explorer.serve import address, free_port

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT_SECONDS = 120
ADDRESS_LINE = "Explorer: open {} in a browser (Ctrl-C stops it)"


def _ignore_sigint():
    """As a job started from a shell that ignores SIGINT (e.g. `nohup`, `cmd &` in a script)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize("inherited", ["default", "SIGINT ignored"])
def test_the_address_is_printed_once_it_listens_and_ctrl_c_stops_everything(tmp_path, inherited):
    port = free_port()
    log = tmp_path / "server.log"
    line = ADDRESS_LINE.format(address(port))
    popen = {"preexec_fn": _ignore_sigint} if inherited == "SIGINT ignored" else {}
    with running([sys.executable, "-m", "analysis.apps.explorer.serve", "--port", str(port),
                  "--pool", str(EXPLORER_POOL)], log,
                 cwd=ROOT, **popen) as server:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while line not in log.read_text():
            assert server.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        urllib.request.urlopen(address(port), timeout=30).close()  # listening when it says so
        family = descendants(server.pid)
        assert family, "Voila runs as a child of the launcher"
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=60) == 0, log.read_text()
    output = log.read_text()
    assert output.index("Explorer: starting on") < output.index(line) < output.index("Explorer stopped.")
    assert not [pid for pid in family if alive(pid)], "Voila or a kernel outlived the launcher"
    with pytest.raises(OSError):  # nothing listens any more
        urllib.request.urlopen(address(port), timeout=5)

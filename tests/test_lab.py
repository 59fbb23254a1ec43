"""`make lab` opens real JupyterLab on the notebooks: start it on loopback and ask it.

The server runs from this environment (``python -m jupyter lab``, as the Makefile's
``.venv/bin/jupyter lab notebooks``), with a token, on a free local port, and is shut down
at the end; the test reads the notebook listing and the kernel specs through its REST API.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "test-token-for-loopback-only"
#: JupyterLab's server starts in 2-10 s here; a loaded CI machine gets more.
START_TIMEOUT_SECONDS = 90


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str):
    request = urllib.request.Request(url, headers={"Authorization": f"token {TOKEN}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, response.read().decode("utf-8")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    port = _free_port()
    log = tmp_path_factory.mktemp("lab") / "server.log"
    with log.open("w") as sink:
        server = subprocess.Popen(
            [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1",
             f"--port={port}", f"--IdentityProvider.token={TOKEN}",
             f"--ServerApp.root_dir={ROOT / 'notebooks'}",
             *(["--allow-root"] if os.geteuid() == 0 else [])],  # as the Makefile does
            stdout=sink, stderr=subprocess.STDOUT, cwd=ROOT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            try:
                _get(f"{base}/api/status")
                break
            except (urllib.error.URLError, ConnectionError):
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not start:\n{log.read_text()[-2000:]}")
                time.sleep(0.5)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def test_lab_serves_the_jupyterlab_page(lab):
    status, body = _get(f"{lab}/lab")
    assert status == 200
    assert "JupyterLab" in body


def test_lab_lists_every_notebook(lab):
    _, body = _get(f"{lab}/api/contents")
    listed = {item["name"] for item in json.loads(body)["content"]}
    on_disk = {path.name for path in (ROOT / "notebooks").glob("*.ipynb")}
    assert on_disk and on_disk <= listed


def test_lab_offers_the_environments_python3_kernel(lab):
    _, body = _get(f"{lab}/api/kernelspecs")
    specs = json.loads(body)["kernelspecs"]
    assert "python3" in specs
    argv0 = specs["python3"]["spec"]["argv"][0]
    assert argv0 in {"python", sys.executable} or Path(argv0).resolve().parent == Path(sys.executable).resolve().parent

"""`make lab` opens real JupyterLab on the notebooks: start it on loopback and ask it.

The server runs from this environment (``python -m jupyter lab``, as the Makefile's
``.venv/bin/jupyter lab notebooks``), with a token, on a free local port, and is shut down
at the end; the test reads the notebook listing and the kernel specs through its REST API, and
opens ``explore.ipynb`` in a kernel session and runs its cells over the kernel's websocket, as
the Lab front end does.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
from servers import running, wait_until_up

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "test-token-for-loopback-only"
#: The explorer notebook's cells run in about 3 s here.
CELL_TIMEOUT_SECONDS = 120


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
    command = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1",
               f"--port={port}", f"--IdentityProvider.token={TOKEN}",
               f"--ServerApp.root_dir={ROOT / 'notebooks'}",
               *(["--allow-root"] if os.geteuid() == 0 else [])]  # as the Makefile does
    base = f"http://127.0.0.1:{port}"
    with running(command, log, cwd=ROOT) as server:
        wait_until_up(f"{base}/api/status", server, log, headers={"Authorization": f"token {TOKEN}"})
        yield base


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


def _post(url: str, body: dict):
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Authorization": f"token {TOKEN}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read().decode("utf-8"))


def _run_cell(channel, source: str, timeout: float) -> list[dict]:
    """Execute ``source`` on a kernel's websocket; return the cell's iopub messages."""
    msg_id = uuid.uuid4().hex
    channel.send(json.dumps({
        "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": "test", "session": msg_id,
                   "version": "5.3", "date": ""},
        "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
        "content": {"code": source, "silent": False, "store_history": True, "user_expressions": {},
                    "allow_stdin": False, "stop_on_error": True},
    }))
    outputs, reply, deadline = [], None, time.monotonic() + timeout
    while reply is None or not any(m["msg_type"] == "status" and m["content"]["execution_state"] == "idle"
                                   for m in outputs):
        channel.settimeout(max(0.1, deadline - time.monotonic()))
        message = json.loads(channel.recv())
        if message.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        if message["msg_type"] == "execute_reply":
            reply = message["content"]
        else:
            outputs.append(message)
    assert reply["status"] == "ok", reply
    return outputs


def test_lab_runs_the_explorer_notebook(lab):
    """JupyterLab opens explore.ipynb in a kernel of this environment; every cell runs; the explorer displays."""
    import websocket  # websocket-client, a dependency of jupyter_server

    session = _post(f"{lab}/api/sessions", {"path": "explore.ipynb", "type": "notebook", "name": "explore.ipynb",
                                            "kernel": {"name": "python3"}})
    kernel = session["kernel"]["id"]
    channel = websocket.create_connection(f"{lab.replace('http', 'ws')}/api/kernels/{kernel}/channels?token={TOKEN}",
                                          timeout=60)
    try:
        notebook = json.loads((ROOT / "notebooks" / "explore.ipynb").read_text())
        shown = []
        for cell in notebook["cells"]:
            if cell["cell_type"] == "code":
                shown += _run_cell(channel, "".join(cell["source"]), timeout=CELL_TIMEOUT_SECONDS)
    finally:
        channel.close()
        request = urllib.request.Request(f"{lab}/api/sessions/{session['id']}", method="DELETE",
                                         headers={"Authorization": f"token {TOKEN}"})
        urllib.request.urlopen(request, timeout=30).close()
    assert not [m for m in shown if m["msg_type"] == "error"]
    results = [m["content"]["data"] for m in shown if m["msg_type"] in ("execute_result", "display_data")]
    assert any("application/vnd.jupyter.widget-view+json" in data for data in results), results

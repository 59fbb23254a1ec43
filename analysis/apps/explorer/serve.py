"""Serve the explorer as a web app without code: ``make explore`` (Voilà on 127.0.0.1).

``python -m analysis.apps.explorer.serve [--port N]`` runs Voilà on
``notebooks/explore.ipynb``, listening on the loopback address only, prints the
address to open, and stops on Ctrl-C. ``--port 0`` takes a free port. Voilà
shows the notebook's outputs (the widgets), never its code, and refuses to run
any other code in the kernel.
"""

from __future__ import annotations

import argparse
import signal
import socket
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from analysis.data.paths import NOTEBOOKS_DIR

#: The notebook served.
NOTEBOOK = NOTEBOOKS_DIR / "explore.ipynb"

#: Voilà's usual port.
DEFAULT_PORT = 8866

#: The only address the app listens on.
HOST = "127.0.0.1"


def free_port() -> int:
    """A port on the loopback address that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def voila_command(port: int, notebook: Path = NOTEBOOK) -> list[str]:
    """The Voilà command line serving ``notebook`` on ``HOST:port``.

    Examples
    --------
    >>> voila_command(8866)[1:3]
    ['-m', 'voila']
    >>> [arg for arg in voila_command(8866) if arg.startswith("--Voila.")]
    ['--Voila.ip=127.0.0.1', '--Voila.port=8866', '--Voila.port_retries=0', '--Voila.open_browser=False']
    """
    return [sys.executable, "-m", "voila", f"--Voila.ip={HOST}", f"--Voila.port={port}",
            "--Voila.port_retries=0", "--Voila.open_browser=False", "--show_tracebacks=False", str(notebook)]


def address(port: int) -> str:
    """The address a browser opens."""
    return f"http://{HOST}:{port}/"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the app until Ctrl-C (or SIGTERM); return Voilà's exit status (0 on Ctrl-C)."""
    parser = argparse.ArgumentParser(prog="python -m analysis.apps.explorer.serve", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0: a free one)")
    args = parser.parse_args(argv)
    port = args.port or free_port()
    print(f"Explorer: open {address(port)} in a browser (Ctrl-C stops it)", flush=True)
    server = subprocess.Popen(voila_command(port), start_new_session=True)
    signal.signal(signal.SIGTERM, lambda *_: server.terminate())
    try:
        return server.wait()
    except KeyboardInterrupt:
        server.terminate()  # Voilà's own Ctrl-C handler would ask for confirmation
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        print("Explorer stopped.", flush=True)
        return 0


if __name__ == "__main__":
    sys.exit(main())

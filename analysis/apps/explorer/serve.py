"""Serve the explorer as a web app without code: ``make explore`` (Voilà on 127.0.0.1).

``python -m analysis.apps.explorer.serve [--port N]`` runs Voilà on
``notebooks/explore.ipynb``, listening on the loopback address only, prints the
address to open once Voilà listens, and stops on Ctrl-C. ``--port 0`` takes a free port. Voilà
shows the notebook's outputs (the widgets), never its code, and refuses to run
any other code in the kernel. Every page is served with
:data:`CONTENT_SECURITY_POLICY`: the browser loads scripts, styles, fonts and images and
opens connections only from the app itself (Voilà's stock template would fetch Font
Awesome from a CDN; the policy refuses it, and the widgets need no icon font).
"""

from __future__ import annotations

import argparse
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from analysis.data.paths import NOTEBOOKS_DIR

#: The notebook served.
NOTEBOOK = NOTEBOOKS_DIR / "explore.ipynb"

#: Voilà's usual port.
DEFAULT_PORT = 8866

#: The only address the app listens on.
HOST = "127.0.0.1"

#: What the browser may load for the app's pages: everything from the app itself (Voilà's
#: scripts need inline code and eval), images also as data: and blob: addresses, nothing
#: from elsewhere; no plugins, no form posts or frames to other sites.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self' 'unsafe-inline' 'unsafe-eval'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    f"connect-src 'self' ws://{HOST}:*",
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'self'",
])


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
    >>> [arg for arg in voila_command(8866) if arg.startswith("--Voila.")][:4]
    ['--Voila.ip=127.0.0.1', '--Voila.port=8866', '--Voila.port_retries=0', '--Voila.open_browser=False']
    >>> "Content-Security-Policy" in voila_command(8866)[-3]
    True
    """
    settings = {"headers": {"Content-Security-Policy": CONTENT_SECURITY_POLICY}}
    return [sys.executable, "-m", "voila", f"--Voila.ip={HOST}", f"--Voila.port={port}",
            "--Voila.port_retries=0", "--Voila.open_browser=False", f"--Voila.tornado_settings={settings!r}",
            "--show_tracebacks=False", str(notebook)]


def address(port: int) -> str:
    """The address a browser opens."""
    return f"http://{HOST}:{port}/"


#: Seconds to wait for Voilà to listen before giving up.
START_TIMEOUT_SECONDS = 120


class _Stop(Exception):
    """Ctrl-C or SIGTERM reached the launcher."""


def _stop(signum, frame):
    raise _Stop


def wait_until_listening(port: int, server: subprocess.Popen, timeout: float = START_TIMEOUT_SECONDS) -> bool:
    """Whether ``server`` accepts connections on ``HOST:port`` within ``timeout`` seconds
    (False as soon as it exits)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and server.poll() is None:
        try:
            with socket.create_connection((HOST, port), timeout=1):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def _shut_down(server: subprocess.Popen) -> None:
    """Stop Voilà and its kernels: SIGTERM (it shuts its kernels down), SIGKILL if it hangs."""
    if server.poll() is not None:
        return
    server.terminate()  # Voilà's own Ctrl-C handler would ask for confirmation
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the app until Ctrl-C (or SIGTERM); return Voilà's exit status (0 on Ctrl-C).

    The address is printed once Voilà listens. Ctrl-C and SIGTERM stop it whatever signal
    disposition this process inherited (a job started with SIGINT ignored still stops).
    """
    parser = argparse.ArgumentParser(prog="python -m analysis.apps.explorer.serve", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0: a free one)")
    args = parser.parse_args(argv)
    port = args.port or free_port()
    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    server = None
    try:
        print(f"Explorer: starting on {address(port)} ...", flush=True)
        # a session of its own: a terminal's Ctrl-C reaches this launcher, which stops Voilà cleanly
        server = subprocess.Popen(voila_command(port), start_new_session=True)
        if not wait_until_listening(port, server):
            _shut_down(server)
            print(f"Explorer: Voilà did not start listening on {address(port)} (exit status "
                  f"{server.returncode}); see its messages above.", file=sys.stderr, flush=True)
            return server.returncode or 1
        print(f"Explorer: open {address(port)} in a browser (Ctrl-C stops it)", flush=True)
        return server.wait()
    except _Stop:
        print("Explorer stopped.", flush=True)
        return 0
    finally:
        if server is not None:
            _shut_down(server)


if __name__ == "__main__":
    sys.exit(main())

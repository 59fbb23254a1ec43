"""Serve the explorer as a web app without code: ``make explore`` (Voilà on 127.0.0.1).

``python -m analysis.apps.explorer.serve [--port N] [--pool K]`` runs Voilà on
``notebooks/explore.ipynb``, listening on the loopback address only, prints the
address to open once Voilà listens, and stops on Ctrl-C. ``--port 0`` takes a free port. Voilà
shows the notebook's outputs (the widgets), never its code, and refuses to run
any other code in the kernel. Every page is served with
:data:`CONTENT_SECURITY_POLICY`: the browser loads scripts, styles, fonts and images and
opens connections only from the app itself (Voilà's stock template would fetch Font
Awesome from a CDN; the policy refuses it, and the widgets need no icon font).

Quick to open: Voilà's preheated kernels (``--preheat_kernel=True --pool_size=K``) start
``K`` kernels when the server starts and run the notebook in each before anyone asks, so a
reader who arrives once the server has settled gets a rendered page from the pool instead of
waiting for a kernel to start and the notebook to run (5-8 s here); each kernel taken is
replaced after Voilà's ``fill_delay`` (1 s). ``K`` = :data:`POOL_SIZE` readers can open the
page at once without any of them waiting for a kernel; ``--pool 0`` turns pooling off.
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

#: Preheated kernels kept ready (each runs the notebook before a reader arrives).
POOL_SIZE = 6

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


def voila_command(port: int, notebook: Path = NOTEBOOK, pool: int = POOL_SIZE) -> list[str]:
    """The Voilà command line serving ``notebook`` on ``HOST:port`` with ``pool`` preheated kernels.

    Examples
    --------
    >>> voila_command(8866)[1:3]
    ['-m', 'voila']
    >>> [arg for arg in voila_command(8866) if arg.startswith("--Voila.")][:4]
    ['--Voila.ip=127.0.0.1', '--Voila.port=8866', '--Voila.port_retries=0', '--Voila.open_browser=False']
    >>> "Content-Security-Policy" in voila_command(8866)[-3]
    True
    >>> [arg for arg in voila_command(8866, pool=6) if "pool" in arg or "preheat" in arg]
    ['--preheat_kernel=True', '--pool_size=6']
    >>> [arg for arg in voila_command(8866, pool=0) if "pool" in arg or "preheat" in arg]
    []
    """
    if pool < 0:
        raise ValueError(f"pool must be 0 (no preheated kernels) or more, not {pool}")
    preheat = ["--preheat_kernel=True", f"--pool_size={pool}"] if pool else []
    settings = {"headers": {"Content-Security-Policy": CONTENT_SECURITY_POLICY}}
    return [sys.executable, "-m", "voila", f"--Voila.ip={HOST}", f"--Voila.port={port}",
            "--Voila.port_retries=0", "--Voila.open_browser=False", *preheat,
            f"--Voila.tornado_settings={settings!r}", "--show_tracebacks=False", str(notebook)]


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
    parser.add_argument("--pool", type=int, default=POOL_SIZE,
                        help=f"preheated kernels kept ready (default {POOL_SIZE}; 0: none)")
    args = parser.parse_args(argv)
    if args.pool < 0:
        parser.error(f"--pool must be 0 or more, not {args.pool}")
    port = args.port or free_port()
    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    server = None
    try:
        print(f"Explorer: starting on {address(port)} ...", flush=True)
        # a session of its own: a terminal's Ctrl-C reaches this launcher, which stops Voilà cleanly
        server = subprocess.Popen(voila_command(port, pool=args.pool), start_new_session=True)
        if not wait_until_listening(port, server):
            _shut_down(server)
            print(f"Explorer: Voilà did not start listening on {address(port)} (exit status "
                  f"{server.returncode}); see its messages above.", file=sys.stderr, flush=True)
            return server.returncode or 1
        print(f"Explorer: open {address(port)} in a browser (Ctrl-C stops it)"
              + (f"; {args.pool} kernels are being preheated, the page opens at once when they are ready"
                 if args.pool else ""), flush=True)
        return server.wait()
    except _Stop:
        print("Explorer stopped.", flush=True)
        return 0
    finally:
        if server is not None:
            _shut_down(server)


if __name__ == "__main__":
    sys.exit(main())

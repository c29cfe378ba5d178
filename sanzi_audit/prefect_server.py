"""A temporary Prefect server for a run with no PREFECT_API_URL, that dies with the run.

Prefect starts its own temporary server in that case and stops it at exit, but a run killed with ``kill -9``
never reaches exit and the server was left running, orphaned, holding its port and database. This one is started
the same way (uvicorn over ``prefect.server.api.server:create_app``, UI off) with the kernel told to send it
SIGTERM when the run's process dies (Linux ``PR_SET_PDEATHSIG``), so no child outlives the run however it ends.
Elsewhere it falls back to Prefect's own temporary server.
"""

from __future__ import annotations

import atexit
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

_PR_SET_PDEATHSIG = 1


def _die_with(parent: int):
    def set_death_signal() -> None:  # runs in the child between fork and exec
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the parent died before the signal was armed
            os._exit(1)

    return set_death_signal


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_temporary_server(timeout: float | None = None) -> str | None:
    """Start a temporary server and set it as PREFECT_API_URL for this process; returns its API URL, or None when
    one is configured already (or this is not Linux: Prefect's own temporary server then serves the run).

    It is stopped at interpreter exit, after Prefect's own exit handlers (they drain logs and events to it, and
    hung when it was stopped first), and by the kernel if this process is killed."""
    if os.environ.get("PREFECT_API_URL") or not sys.platform.startswith("linux"):
        return None
    timeout = timeout or float(os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90"))
    port = _free_port()
    env = {**os.environ, "PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "prefect.server.api.server:create_app", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "error", "--lifespan", "on"],
        env=env, preexec_fn=_die_with(os.getpid()), stdin=subprocess.DEVNULL)
    atexit.register(_stop, proc)  # registered before Prefect is imported: runs after Prefect's exit handlers
    url = f"http://127.0.0.1:{port}/api"
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"临时 Prefect 服务未能启动（退出码 {proc.returncode}）；"
                               "可设置 PREFECT_API_URL 使用已有的 Prefect 服务")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if time.monotonic() > deadline:
            _stop(proc)
            raise RuntimeError(f"临时 Prefect 服务 {timeout:.0f} 秒内未就绪；可设置 PREFECT_API_URL 使用已有的服务，"
                               "或调大 PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS")
        time.sleep(0.2)
    os.environ["PREFECT_API_URL"] = url
    return url


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()

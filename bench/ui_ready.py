"""Figure 1: process start to HTTP 200 on "/" for the official Gradio app and ours, each in a fresh process."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request

from .common import LOG_DIR, PY, REPO, SCRATCH, bench_env, tree_rss


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def command(side: str, port: int) -> tuple[list[str], str]:
    if side == "official":  # loads the vocoder and F5-TTS at import, then builds its UI and launches
        cwd = SCRATCH / "official_app"
        cwd.mkdir(parents=True, exist_ok=True)
        return [PY, "-m", "f5_tts.infer.infer_gradio", "--port", str(port)], str(cwd)
    return [PY, "app.py", "--port", str(port)], str(REPO)


def measure(side: str, timeout: float, name: str) -> dict:
    """Start the app, poll "/" every 50 ms; returns seconds to the first 200 and the RSS at that moment."""
    port = free_port()
    cmd, cwd = command(side, port)
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log_path = LOG_DIR / f"{name}.log"
    url = f"http://127.0.0.1:{port}/"
    with open(log_path, "wb") as log:
        start_wall = time.time()
        start = time.perf_counter()
        proc = subprocess.Popen(
            cmd,
            cwd=cwd,
            env=bench_env(GRADIO_SERVER_NAME="127.0.0.1"),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        result: dict = {"side": side, "spawned": start_wall, "log": str(log_path)}
        try:
            while True:
                elapsed = time.perf_counter() - start
                if proc.poll() is not None:
                    result["error"] = f"exited with {proc.returncode} before answering (see {log_path})"
                    break
                if elapsed > timeout:
                    result["error"] = f"no HTTP 200 on / within {timeout:.0f} s"
                    result["timed_out"] = True
                    break
                try:
                    with urllib.request.urlopen(url, timeout=2) as r:
                        if r.status == 200:
                            result["seconds"] = time.perf_counter() - start
                            result["rss"] = tree_rss(proc.pid)
                            break
                except OSError:
                    pass
                time.sleep(0.05)
        finally:
            stop(proc)
    return result


def stop(proc: subprocess.Popen) -> None:
    """Stop the app this module started (its own process group), politely first."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except (ProcessLookupError, PermissionError):
        pass
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()

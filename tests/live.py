"""Start the real app (`python app.py`) in a subprocess on a free port, pointed at the tiny model."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
launch_allowed = True  # tests/conftest.py sets it per test: False outside `e2e` tests


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 60.0, proc: subprocess.Popen | None = None) -> float:
    """Poll until `url` answers 200; returns the seconds waited."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"app exited early with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return time.perf_counter() - start
        except OSError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


@contextmanager
def run_app(
    args: list[str] | None = None, env: dict[str, str] | None = None, log_path: Path | None = None
) -> Iterator[tuple[str, subprocess.Popen]]:
    """Yields (base URL, process); the process is stopped afterwards."""
    if not launch_allowed:
        raise RuntimeError(
            "This test launches the app but is not marked e2e: mark it (pytest.mark.e2e) or give the fixture that "
            "launches it a name in tests/conftest.py's E2E_FIXTURES."
        )
    port = free_port()
    inherited = {k: v for k, v in os.environ.items() if k not in ("PORT", "PORT_HEALTH")}  # they would win
    full_env = {**inherited, "GRADIO_SERVER_PORT": str(port), "GRADIO_SERVER_NAME": "127.0.0.1", **(env or {})}
    if "PORT" in full_env:  # the caller chose the port the RunPod way
        port = int(full_env["PORT"])
    log = open(log_path, "wb") if log_path else subprocess.DEVNULL
    proc = subprocess.Popen(
        [sys.executable, "app.py", *(args or [])], cwd=REPO, env=full_env, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(base + "/health", proc=proc)
        yield base, proc
    finally:
        stop(proc, 15)
        if log_path:
            log.close()  # type: ignore[union-attr]


def stop(proc: subprocess.Popen, timeout: float = 20) -> None:
    """Ask a process to stop (SIGTERM); kill it if it has not within `timeout` seconds."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def metric_samples(base: str) -> dict[str, float]:
    """The app's /metrics as {sample name: value}, unlabelled samples only."""
    import httpx
    from prometheus_client.parser import text_string_to_metric_families

    text = httpx.get(f"{base}/metrics", timeout=10).text
    return {s.name: s.value for f in text_string_to_metric_families(text) for s in f.samples if not s.labels}

"""A bounded load test on 127.0.0.1 (slow: ~2 minutes): 20 concurrent clients for LOAD_SECONDS against the launched
app on the tiny model, over every kind of endpoint, with a small F5_QUEUE_MAX so some requests are turned away.

Checked: every request either succeeds or is told clearly that the studio is busy (Gradio's full queue; REST's 429);
all clients finish (no deadlock); the model loads once; the app's memory and open files are flat after a warm-up;
the temporary folder grows by a bounded amount per request (Gradio deletes its files after an hour, see
test_security.py), uploads of the same recording are stored once, and the UI's export folder is pruned.
The figures are printed at the end (run with -s to see them).
"""

from __future__ import annotations

import random
import shutil
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import numpy as np
import psutil
import pytest
import soundfile as sf

from tests.conftest import REF_TEXT, wait_until
from tests.live import run_app

pytestmark = pytest.mark.slow

CLIENTS = 20
LOAD_SECONDS = 75  # the whole test stays around two minutes
QUEUE_MAX = 5
REQUEST_TIMEOUT = 90  # a request that takes longer counts as stuck
ACTIONS = ("synthesize", "synthesize", "speech", "speech", "transcribe", "list_voices", "health", "voices")


def folder_size(folder: Path) -> tuple[int, int]:
    files = [p for p in folder.rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def snapshot(proc: psutil.Process) -> dict:
    return {"rss": proc.memory_info().rss, "fds": proc.num_fds(), "threads": proc.num_threads()}


def settled(app: psutil.Process, base: str, timeout: float = 60) -> bool:
    """Until the app holds no client connection on its port (every response written, every client's socket closed):
    what the memory and file counts are compared at."""
    port = int(base.rsplit(":", 1)[1])

    def open_connections() -> list:
        return [c for c in app.net_connections(kind="tcp") if c.laddr and c.laddr.port == port and c.status != "LISTEN"]

    return bool(wait_until(lambda: not open_connections(), timeout))


def busy(message: str) -> bool:
    text = message.lower()
    return "try again" in text or "busy" in text or "queue is full" in text


@pytest.fixture(scope="module")
def refs(tmp_path_factory: pytest.TempPathFactory, ref_wav: Path) -> list[Path]:
    """Three short references (what visitors upload), 2-3 s each, so generations stay short."""
    wave, sr = sf.read(ref_wav, dtype="float32")
    folder = tmp_path_factory.mktemp("load-refs")
    out = []
    for i, seconds in enumerate((2.0, 2.5, 3.0)):
        out.append(folder / f"ref{i}.wav")
        sf.write(out[-1], wave[: int(seconds * sr)], sr, subtype="PCM_16")
    return out


def test_twenty_clients_for_over_a_minute(tiny, tmp_path: Path, refs: list[Path]) -> None:
    from gradio_client import Client, handle_file

    voices, tmp, log = tmp_path / "voices", tmp_path / "gradio-tmp", tmp_path / "app.log"
    voices.mkdir()
    shutil.copy(refs[1], voices / "alice.wav")
    (voices / "alice.txt").write_text(REF_TEXT, encoding="utf-8")
    env = {
        "F5_MODEL": str(tiny["yaml"]),
        "VOICES_DIR": str(voices),
        "GRADIO_TEMP_DIR": str(tmp),
        "F5_QUEUE_MAX": str(QUEUE_MAX),
    }
    with run_app(env=env, log_path=log) as (base, proc):
        app = psutil.Process(proc.pid)
        outcomes: Counter[str] = Counter()
        problems: list[str] = []
        lock = threading.Lock()

        def record(action: str, outcome: str, detail: str = "") -> None:
            with lock:
                outcomes[f"{action}:{outcome}"] += 1
                if outcome == "FAILED" and len(problems) < 20:
                    problems.append(f"{action}: {detail[:300]}")

        def one(client: Client, http: httpx.Client, action: str, rng: random.Random) -> None:
            try:
                if action in ("synthesize", "transcribe"):
                    ref = handle_file(str(rng.choice(refs)))
                    args = (ref, REF_TEXT, rng.choice(["Hello there.", "Good morning, friend."]), rng.randrange(100))
                    job = (
                        client.submit(*args, nfe_step=7, api_name="/synthesize")
                        if action == "synthesize"
                        else client.submit(ref, api_name="/transcribe")
                    )
                    result = job.result(timeout=REQUEST_TIMEOUT)
                    if action == "synthesize":
                        assert sf.read(result[0])[1] == 24000
                    record(action, "ok")
                elif action == "list_voices":
                    assert client.predict(api_name="/list_voices") == [{"name": "alice", "transcript": REF_TEXT}]
                    record(action, "ok")
                elif action == "speech":
                    response = http.post(
                        "/v1/audio/speech",
                        json={
                            "voice": "alice",
                            "input": rng.choice(["Hello there.", "How are you today?"]),
                            "response_format": "pcm",
                            "nfe_step": 4,
                            "seed": rng.randrange(100),
                        },
                    )
                    if response.status_code == 200:
                        assert len(response.content) > 1000
                        record(action, "ok")
                    elif response.status_code in (429, 503) and busy(response.json()["error"]["message"]):
                        record(action, "busy")
                        time.sleep(0.2)
                    else:
                        record(action, "FAILED", f"HTTP {response.status_code}: {response.text}")
                elif action == "health":
                    assert http.get("/health").json()["status"] == "ok"
                    record(action, "ok")
                else:
                    assert http.get("/v1/voices").json() == {"voices": [{"name": "alice", "has_transcript": True}]}
                    record(action, "ok")
            except Exception as e:  # a refusal must say "busy"/"try again"; anything else is a failure
                message = f"{type(e).__name__}: {e}"
                if action == "transcribe" and "No words were recognised" in message:
                    record(action, "ok")  # the tiny random Whisper may hear nothing: a clear answer too
                elif busy(message):
                    record(action, "busy")
                    time.sleep(0.2)  # a polite client waits a moment before trying again
                else:
                    record(action, "FAILED", message)

        # warm-up: the model loads once, every endpoint is touched, caches fill
        warm = Client(base, verbose=False)
        with httpx.Client(base_url=base, timeout=REQUEST_TIMEOUT) as http:
            rng = random.Random(0)
            for action in ACTIONS * 2:
                one(warm, http, action, rng)
        warm.close()  # a client holds a heartbeat stream (an open socket on the server) until closed
        assert not problems, problems
        assert settled(app, base), "the warm-up's connections stayed open"
        before, tmp_before = snapshot(app), folder_size(tmp)

        deadline = time.monotonic() + LOAD_SECONDS
        finished = []

        def client_loop(index: int) -> None:
            rng = random.Random(index)
            client = Client(base, verbose=False)
            with httpx.Client(base_url=base, timeout=REQUEST_TIMEOUT) as http:
                while time.monotonic() < deadline:
                    one(client, http, ACTIONS[(index + rng.randrange(len(ACTIONS))) % len(ACTIONS)], rng)
            client.close()
            finished.append(index)

        threads = [threading.Thread(target=client_loop, args=(i,), daemon=True) for i in range(CLIENTS)]
        start = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=LOAD_SECONDS + 2 * REQUEST_TIMEOUT)
        elapsed = time.monotonic() - start
        assert len(finished) == CLIENTS, f"only {len(finished)} of {CLIENTS} clients finished: a deadlock?"

        assert settled(app, base), "clients' connections stayed open after they closed"
        after, tmp_after = snapshot(app), folder_size(tmp)
        health = httpx.get(f"{base}/health", timeout=10).json()
        served = sum(n for k, n in outcomes.items() if k.endswith(":ok"))
        refused = sum(n for k, n in outcomes.items() if k.endswith(":busy"))
        synthesized = outcomes["synthesize:ok"]
        failed = sum(n for k, n in outcomes.items() if k.endswith(":FAILED"))
        print(
            f"\nload: {CLIENTS} clients for {elapsed:.0f} s: {served} served, {refused} refused as busy, "
            f"{failed} failed; {dict(sorted(outcomes.items()))}"
        )
        print(
            f"app RSS {before['rss'] / 1e6:.0f} MB -> {after['rss'] / 1e6:.0f} MB "
            f"({(after['rss'] / before['rss'] - 1) * 100:+.1f}%), open files {before['fds']} -> {after['fds']}, "
            f"threads {before['threads']} -> {after['threads']}"
        )
        print(
            f"GRADIO_TEMP_DIR: {tmp_before[0]} files / {tmp_before[1] / 1e6:.1f} MB -> {tmp_after[0]} files / "
            f"{tmp_after[1] / 1e6:.1f} MB after {synthesized} syntheses"
        )

        assert not problems, "\n".join(problems)
        assert served >= 100, outcomes
        assert health["status"] == "ok" and health["model"] == "ready"
        assert log.read_text(errors="replace").count("model ready") == 1  # loaded once, by one request
        assert after["rss"] < before["rss"] * 1.15, (before, after)
        assert after["fds"] < before["fds"] + 20, (before, after)
        assert after["threads"] <= before["threads"] + 45, (before, after)  # the worker pool is capped at 40
        # Each generation through Gradio leaves its result (a WAV and a spectrogram PNG) in the cache until the
        # hourly clean-up; uploads of the same recording are stored once. Nothing else accumulates.
        new_files = tmp_after[0] - tmp_before[0]
        assert new_files <= 2 * synthesized + 10, (tmp_before, tmp_after, synthesized)
        assert tmp_after[1] - tmp_before[1] <= synthesized * 2_000_000, (tmp_before, tmp_after, synthesized)
        uploads = [p for p in tmp.rglob("ref*.wav")]
        assert len({p.read_bytes() for p in uploads}) == len(uploads) <= len(refs), uploads


def test_the_export_folder_is_pruned(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The session takes' downloads (ui/history.py) are deleted once older than EXPORT_MAX_AGE_S."""
    import os

    from ui import history

    monkeypatch.setattr(history, "EXPORT_DIR", tmp_path / "exports")
    take = history.Take(1, "text", "voice", 1, {}, 24000, np.zeros(2400, np.float32))
    old = [history.export(take, "wav") for _ in range(30)]
    stale = time.time() - history.EXPORT_MAX_AGE_S - 10
    for path in old:  # each download is in a folder of its own (so that it keeps its name)
        os.utime(path.parent, (stale, stale))
    fresh = history.export(take, "wav")
    assert [p.name for p in (tmp_path / "exports").iterdir()] == [fresh.parent.name]

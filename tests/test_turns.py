"""Many visitors at once, through the engine and every interface: fair turns, unchanged audio under load, visitors
told they are waiting, the serverless worker taking several jobs, RunPod's ports, /metrics and Retry-After.

Behaviour, not timing: the order in which chunks start is read back from the engine (a hook sees every chunk as
its run begins), so a newcomer's first chunk is shown to start before the long request's next chunk, whatever the
machine's speed. Benchmarks (bench/fairness.py, bench/load.py) report the latencies.
"""

from __future__ import annotations

import base64
import io
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
import soundfile as sf

from inference import Engine, SynthesisOptions, SynthesisRequest
from tests.conftest import REF_TEXT, wait_idle, wait_until
from tests.live import free_port, metric_samples, run_app, stop, wait_http

LONG = " ".join(f"Sentence number {i} is part of a long text." for i in range(24))
SHORT = "A short line."
FAST = {"nfe_step": 4, "seed": 7}


class StartOrder:
    """A fault hook (EngineHooks.fault): records each chunk's text as its run begins (the hook is called then)."""

    def __init__(self, delay: float = 0.0) -> None:
        self.started: list[str] = []
        self.delay = delay
        self.lock = threading.Lock()

    def __call__(self, item) -> None:
        with self.lock:
            self.started.append(item.text)
        time.sleep(self.delay)


def request(engine: Engine, ref: Path, text: str, seed: int = 7) -> SynthesisRequest:
    return SynthesisRequest(text, engine.reference(audio=ref, text=REF_TEXT), SynthesisOptions(nfe_step=4, seed=seed))


def test_a_newcomer_starts_before_the_long_requests_next_chunk(engine: Engine, engine_hooks, short_ref: Path) -> None:
    hook = StartOrder(delay=0.05)
    engine_hooks.fault = hook
    try:
        long_stream = engine.stream(request(engine, short_ref, LONG))
        first = next(long_stream)
        assert first.total >= 4
        got: dict = {}

        def rest() -> None:
            got["long"] = [first, *long_stream]

        reader = threading.Thread(target=rest)
        reader.start()
        while len(hook.started) < 2:  # the long request's second chunk is under way
            time.sleep(0.01)
        short = engine.synthesize(request(engine, short_ref, SHORT))
        reader.join(120)
        texts = [t.removeprefix(engine_ref_text(engine)) for t in hook.started]
        short_at = next(i for i, t in enumerate(texts) if t.endswith(SHORT))
        assert short_at <= 2, texts  # right after the long chunk that was running: not after all the others
        assert short.duration > 0 and len(got["long"]) == first.total
    finally:
        engine_hooks.fault = None


def engine_ref_text(engine: Engine) -> str:
    from inference.model.sampling import ref_text_for_model

    return ref_text_for_model(REF_TEXT)


def test_the_same_seed_gives_the_same_audio_alone_and_under_load(engine: Engine, short_ref: Path) -> None:
    """On the CPU (batch size 1) each request's audio is bit for bit what it is alone, whatever runs beside it."""
    alone = engine.synthesize(request(engine, short_ref, LONG[:300], seed=11)).wave
    results: dict[int, np.ndarray] = {}

    def run(i: int, text: str, seed: int) -> None:
        results[i] = engine.synthesize(request(engine, short_ref, text, seed=seed)).wave

    threads = [threading.Thread(target=run, args=(0, LONG[:300], 11))]
    threads += [threading.Thread(target=run, args=(i, f"Other text number {i}. " * i, 100 + i)) for i in range(1, 4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    np.testing.assert_array_equal(results[0], alone)


def test_closing_a_stream_frees_its_queued_chunks(engine: Engine, short_ref: Path) -> None:
    """The chunks not started when the stream closes never run: at most the one under way finishes."""
    stream = engine.stream(request(engine, short_ref, LONG))
    first = next(stream)
    assert engine.scheduler.waiting >= first.total - 2
    runs_before = engine.scheduler.batches_run
    stream.close()
    assert wait_idle(engine), "the engine kept working after the stream closed"
    assert engine.scheduler.batches_run - runs_before <= 1, f"{engine.scheduler.batches_run - runs_before} chunks ran"
    assert engine.active == 0


def test_concurrency_defaults_fit_the_device(tiny_settings) -> None:
    assert Engine(tiny_settings.replace(device="cpu")).concurrency() == 4
    assert Engine(tiny_settings.replace(device="cuda")).concurrency() == 16  # twice the auto batch of 8
    assert Engine(tiny_settings.replace(device="cuda", batch_size=4)).concurrency() == 8
    assert Engine(tiny_settings.replace(concurrency=3)).concurrency() == 3


# ---- through the launched app -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def turns_app(tiny, tmp_path_factory: pytest.TempPathFactory, short_ref: Path):
    root = tmp_path_factory.mktemp("turns")
    voices = root / "voices"
    voices.mkdir()
    (voices / "ann.wav").write_bytes(short_ref.read_bytes())
    (voices / "ann.txt").write_text(REF_TEXT, encoding="utf-8")
    with run_app(env={"F5_MODEL": str(tiny["yaml"]), "VOICES_DIR": str(voices)}, log_path=root / "app.log") as (
        base,
        _,
    ):
        yield base


def test_gradio_client_generations_run_at_once_and_a_short_one_finishes_first(turns_app: str) -> None:
    from gradio_client import Client

    client = Client(turns_app, verbose=False)
    client.predict(None, "", SHORT, 1, nfe_step=7, voice="ann", api_name="/synthesize")  # loaded
    long_job = client.submit(None, "", LONG * 2, 1, nfe_step=7, voice="ann", api_name="/synthesize")
    assert wait_until(lambda: metric_samples(turns_app)["studio_chunks_waiting"] >= 2, 120)  # its chunks queue
    short_job = client.submit(None, "", SHORT, 2, nfe_step=7, voice="ann", api_name="/synthesize")
    short_job.result(timeout=120)
    assert not long_job.done(), "the short request waited for the whole long one"
    audio_path, _, seed, _ = long_job.result(timeout=300)
    assert seed == 1 and sf.info(audio_path).duration > 20


def test_a_waiting_visitor_is_told_their_place_and_can_leave(tiny, short_ref: Path, tmp_path: Path) -> None:
    """With one generation at a time, the others wait in Gradio's queue and each is told its place (rank, of how
    many); the browser shows it as "queue: 2/3". A waiting visitor who cancels (gradio_client's `job.cancel()`)
    leaves the queue: their generation never runs."""
    from gradio_client import Client, handle_file

    with run_app(env={"F5_MODEL": str(tiny["yaml"]), "F5_CONCURRENCY": "1"}) as (base, _):
        visitors = [Client(base, verbose=False) for _ in range(3)]  # three people, three sessions
        ref = handle_file(str(short_ref))
        jobs = [visitors[0].submit(ref, REF_TEXT, LONG * 4, 0, nfe_step=7, api_name="/synthesize")]
        assert wait_until(lambda: metric_samples(base)["studio_generations_in_progress"] == 1, 120), jobs[0].status()
        jobs += [
            v.submit(ref, REF_TEXT, SHORT, i, nfe_step=7, api_name="/synthesize")
            for i, v in enumerate(visitors[1:], start=1)
        ]

        def behind_one():  # whichever joined the queue second is told it is behind one, of two waiting
            for job in jobs[1:]:
                status = job.status()
                if status.code.name == "IN_QUEUE" and status.rank is not None and status.rank >= 1:
                    return job if status.queue_size >= 2 else None
            return None

        leaver = wait_until(behind_one, 120)
        assert leaver is not None, [job.status() for job in jobs]
        assert leaver.cancel()
        for job in jobs:
            if job is not leaver:
                job.result(timeout=300)
        assert wait_until(leaver.done, 30)
        generated = metric_samples(base)["studio_time_to_first_audio_seconds_count"]
        assert generated == 2, f"{generated:g} generations ran: the visitor who left was served anyway"


def test_ping_on_runpods_health_port_and_the_app_on_port(tiny, short_ref: Path) -> None:
    """RunPod's load balancer sets PORT (the app) and PORT_HEALTH (its probe): /ping answers 204 while the model is
    not ready and 200 once it is, on both."""
    from gradio_client import Client, handle_file

    port, health = free_port(), free_port()
    with run_app(env={"F5_MODEL": str(tiny["yaml"]), "PORT": str(port), "PORT_HEALTH": str(health)}) as (base, _):
        assert base.endswith(f":{port}")
        wait_http(f"http://127.0.0.1:{health}/health")
        assert httpx.get(f"http://127.0.0.1:{health}/ping").status_code == 204  # not loaded yet
        assert httpx.get(f"{base}/ping").status_code == 204
        Client(base, verbose=False).predict(
            handle_file(str(short_ref)), REF_TEXT, SHORT, 1, nfe_step=7, api_name="/synthesize"
        )
        assert httpx.get(f"http://127.0.0.1:{health}/ping").status_code == 200
        assert httpx.get(f"{base}/ping").status_code == 200


def test_metrics_count_requests_batches_and_the_model(turns_app: str) -> None:
    r = httpx.post(
        f"{turns_app}/v1/audio/speech",
        json={"voice": "ann", "input": SHORT, "response_format": "wav", **FAST},
        timeout=120,
    )
    assert r.status_code == 200
    httpx.post(f"{turns_app}/v1/audio/speech", json={"voice": "nobody", "input": SHORT}, timeout=30)
    text = httpx.get(f"{turns_app}/metrics").text
    from prometheus_client.parser import text_string_to_metric_families

    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    assert samples[("studio_requests_total", (("interface", "openai"), ("outcome", "ok")))] >= 1
    assert samples[("studio_requests_total", (("interface", "openai"), ("outcome", "refused")))] >= 1
    assert samples[("studio_model_state", (("studio_model_state", "ready"),))] == 1
    assert samples[("studio_model_load_seconds", ())] > 0
    for name in (
        "studio_chunk_wait_seconds_count",
        "studio_chunk_run_seconds_count",
        "studio_batch_size_count",
        "studio_time_to_first_audio_seconds_count",
        "studio_real_time_factor_count",
    ):
        assert samples[(name, ())] >= 1, name
    for name in ("studio_generations_in_progress", "studio_chunks_waiting", "studio_runs_active", "studio_queue_depth"):
        assert (name, ()) in samples, name


def test_metrics_need_the_api_login_when_there_is_one(tiny) -> None:
    with run_app(env={"F5_MODEL": str(tiny["yaml"]), "STUDIO_API_TOKEN": "t0ken"}) as (base, _):
        assert httpx.get(f"{base}/metrics").status_code == 401
        ok = httpx.get(f"{base}/metrics", headers={"Authorization": "Bearer t0ken"})
        assert ok.status_code == 200 and "studio_model_state" in ok.text


# ---- the serverless worker: several jobs at once -----------------------------------------------------------------
def test_the_local_api_server_answers_jobs_sent_together(worker_env_turns: dict[str, str], tmp_path: Path) -> None:
    """RunPod's local API server (`--rp_serve_api`) with four jobs sent together: all complete with the right audio,
    and the one with a bad input fails alone. That server never calls the concurrency_modifier: that jobs run at the
    same time is shown on the SDK's queue path (test_the_serverless_worker_runs_queued_jobs_at_the_same_time)."""
    import subprocess
    import sys

    from tests.live import REPO

    port = free_port()
    log = tmp_path / "worker.log"  # a file, not a pipe: the SDK logs every output whole, and a full pipe blocks it
    proc = subprocess.Popen(
        [
            sys.executable,
            "serverless/handler.py",
            "--rp_serve_api",
            "--rp_api_host",
            "127.0.0.1",
            "--rp_api_port",
            str(port),
        ],
        cwd=REPO,
        env=worker_env_turns,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{base}/openapi.json", timeout=120, proc=proc)
        jobs = [{"text": f"Job number {i} speaks.", "voice": "ann", "nfe_step": 4, "seed": 10 + i} for i in range(3)]
        jobs.append({"text": "Hi.", "voice": "nobody"})
        out: dict[int, dict] = {}

        def send(i: int) -> None:
            out[i] = httpx.post(f"{base}/runsync", json={"input": jobs[i]}, timeout=300).json()

        threads = [threading.Thread(target=send, args=(i,)) for i in range(len(jobs))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(300)
        for i in range(3):
            assert out[i]["status"] == "COMPLETED", out[i]
            wave, sr = sf.read(io.BytesIO(base64.b64decode(out[i]["output"]["audio_base64"])))
            assert sr == 24000 and out[i]["output"]["seed"] == 10 + i and len(wave) / sr > 0.3
        assert out[3]["status"] == "FAILED" and "no saved voice called 'nobody'" in out[3]["error"]
        alone = httpx.post(f"{base}/runsync", json={"input": jobs[1]}, timeout=300).json()
        same = [sf.read(io.BytesIO(base64.b64decode(o["output"]["audio_base64"])))[0] for o in (alone, out[1])]
        assert np.array_equal(*same)  # the same audio alone (each file's tags hold its own mark id)
    finally:
        stop(proc)
        assert "up to 4 jobs at once" in log.read_text()


@pytest.fixture(scope="module")
def worker_env_turns(tiny, tmp_path_factory: pytest.TempPathFactory, short_ref: Path) -> dict[str, str]:
    import os

    from tests.live import REPO

    voices = tmp_path_factory.mktemp("turns-worker-voices")
    (voices / "ann.wav").write_bytes(short_ref.read_bytes())
    (voices / "ann.txt").write_text(REF_TEXT, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNPOD_", "F5_"))}
    env.update(
        F5_MODEL=str(tiny["yaml"]), VOICES_DIR=str(voices), HF_HUB_OFFLINE="1", F5_DEVICE="cpu", PYTHONPATH=str(REPO)
    )
    return env


# ---- preemption mid-sampling, with exact audio for both requests ----------------------------------------------
ALPHA = " ".join(f"Alpha sentence {i} is said by the first visitor." for i in range(16))
BRAVO = "Bravo speaks now."


class SteppedRuns:
    """Wraps the scheduler's `begin` so that every run's steps are recorded in order as (run label, step), and the
    first request's second chunk is held at its third step until the newcomer's chunk is queued (an event, so that
    the newcomer arrives mid-sampling whatever the machine's speed)."""

    def __init__(self, begin) -> None:
        self.begin = begin
        self.trace: list[tuple[str, int]] = []
        self.runs: list[str] = []
        self.held = threading.Event()  # the long request's second chunk is mid-sampling
        self.queued = threading.Event()  # the newcomer's first chunk is in the queue

    def __call__(self, key, items):
        alpha_runs = sum(r.startswith("alpha") for r in self.runs)
        label = f"alpha{alpha_runs}" if "Alpha" in items[0][0].text else "bravo"  # alpha1: its second chunk
        self.runs.append(label)
        run, outer = self.begin(key, items), self

        class Traced:
            def __init__(self) -> None:
                self.n = 0

            def step(self):
                if label == "alpha1" and self.n == 2:
                    outer.held.set()
                    assert outer.queued.wait(120), "the newcomer was never queued"
                outer.trace.append((label, self.n))
                self.n += 1
                return run.step()

        return Traced()


def test_a_newcomer_preempts_a_run_mid_sampling_and_both_audios_stay_exact(
    engine: Engine, short_ref: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A multi-chunk request is paused in the middle of its second chunk's sampling, the newcomer's chunk runs, and
    the paused run resumes: each request's audio is bit for bit what it is alone (so nothing of one run, such as the
    transformer's text cache, leaks into the other)."""
    alpha, bravo = request(engine, short_ref, ALPHA, seed=5), request(engine, short_ref, BRAVO, seed=6)
    alpha_alone, bravo_alone = engine.synthesize(alpha), engine.synthesize(bravo)
    assert len(alpha_alone.chunks) >= 2 and len(bravo_alone.chunks) == 1
    runs = SteppedRuns(engine.scheduler.begin)
    monkeypatch.setattr(engine.scheduler, "begin", runs)
    submit_many = engine.scheduler.submit_many

    def submit_and_tell(owner, jobs):
        futures = submit_many(owner, jobs)
        if any("Bravo" in item[0].text for _, _, item in jobs):
            runs.queued.set()
        return futures

    monkeypatch.setattr(engine.scheduler, "submit_many", submit_and_tell)
    got: dict = {}
    reader = threading.Thread(target=lambda: got.setdefault("alpha", engine.synthesize(alpha)))
    reader.start()
    assert runs.held.wait(120), "the first request's second chunk never started"
    got["bravo"] = engine.synthesize(bravo)
    reader.join(300)
    steps = [step for label, step in runs.trace if label == "alpha1"]
    first_bravo = runs.trace.index(("bravo", 0))
    resumed = runs.trace.index(("alpha1", 3))
    assert runs.trace[first_bravo - 1] == ("alpha1", 2) and first_bravo < resumed, runs.trace  # mid-sampling
    assert steps == list(range(len(steps))) and len(steps) > 3
    np.testing.assert_array_equal(got["bravo"].wave, bravo_alone.wave)
    np.testing.assert_array_equal(got["alpha"].wave, alpha_alone.wave)


def test_the_serverless_worker_runs_queued_jobs_at_the_same_time(
    worker_env_turns: dict[str, str], tmp_path: Path
) -> None:
    """The real worker on a stand-in for RunPod's queue (tests/runpod_queue.py): the SDK's JobScaler takes the jobs
    as its `concurrency_modifier` allows and runs them together. Four streaming jobs of several chunks each are all
    under way at one moment: each has posted audio before any of them has posted its result."""
    import subprocess
    import sys

    from tests.live import REPO
    from tests.runpod_queue import serve_queue

    with serve_queue() as queue:
        for i in range(4):
            text = " ".join(f"Job {i} says sentence {k} of its long text." for k in range(14))
            queue.add(f"job-{i}", {"text": text, "voice": "ann", "nfe_step": 4, "seed": 20 + i})
        env = {**worker_env_turns, **queue.env(), "F5_SERVERLESS_STREAM": "1"}
        log = tmp_path / "worker.log"  # a file, not a pipe: a full pipe would block the worker
        proc = subprocess.Popen(
            [sys.executable, "serverless/handler.py"], cwd=REPO, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT
        )
        try:
            ids = {f"job-{i}" for i in range(4)}
            assert queue.wait_done(ids, timeout=300), log.read_text()[-3000:]
        finally:
            stop(proc)
    for job in sorted(ids):
        items = queue.result(job)["output"]
        assert len(items) >= 2 and all(item["sample_rate"] == 24000 for item in items), (job, queue.result(job))
        assert len(queue.times(job, "stream")) == len(items)
    first_audio = {job: min(queue.times(job, "stream")) for job in ids}
    results = {job: queue.times(job, "done")[0] for job in ids}
    order = sorted(
        (t, job, kind) for kind, times in (("audio", first_audio), ("result", results)) for job, t in times.items()
    )
    assert max(first_audio.values()) < min(results.values()), order  # all four under way at one moment
    assert max(queue.batch_sizes) == 4, queue.batch_sizes  # taken together, as the modifier allows

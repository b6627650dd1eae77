"""The segments job (serverless/segments.py): a batch of a long-form project's segments, through the handler and
through the real runpod SDK on a stand-in for RunPod's queue (tests/runpod_queue.py).

| case                                        | answer                                                           |
|---------------------------------------------|------------------------------------------------------------------|
| segments in a shared recording or a voice   | each its audio: the same WAV bytes as Studio.synthesize locally  |
| a segment without a seed                    | a seed picked, and returned                                      |
| a bad segment (unknown voice, no text, an   | its entry holds "error" saying what to do; the others come back  |
| unknown key, not an object, no id)          |                                                                  |
| a bad job (no list, empty, repeated ids,    | {"error": ...} for the whole job                                 |
| voice and recording, a seed for all)        |                                                                  |
| an output over RUNPOD_MAX_OUTPUT_MB         | the segments that fit; the rest: "send it again in another job"   |
| the streaming worker                        | one item per segment, in order, with sample_rate                 |
| a worker SIGKILLed mid-batch                | the batch sent again comes back whole, the same bytes            |
"""

from __future__ import annotations

import base64
import io
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile as sf

from inference import Studio, encode_audio
from tests.conftest import REF_TEXT, serverless_worker

FAST = {"nfe_step": 4}
TEXTS = ("The first segment is short.", "A second one follows it.", "And the third ends the batch.")


@pytest.fixture(scope="module")
def ref_b64(short_ref: Path) -> str:
    return base64.b64encode(short_ref.read_bytes()).decode()


@pytest.fixture(scope="module")
def studio(engine) -> Studio:
    return Studio(engine)


def local_wav(studio: Studio, text: str, seed: int, audio: bytes | None = None, voice: str | None = None) -> str:
    """What the studio renders locally for the same text, voice and seed, as the job's base64 WAV."""
    request = studio.request(
        text, voice=voice, audio=audio, ref_text=None if voice else REF_TEXT, options={**FAST, "seed": seed}
    )
    result = studio.synthesize(request)
    return base64.b64encode(encode_audio(result.wave, result.sample_rate, "wav")).decode()


def samples(b64: str) -> list[float]:
    """A base64 WAV's samples: the audio, without its tags (each file's tags hold its own mark id)."""
    return sf.read(io.BytesIO(base64.b64decode(b64)), dtype="int16")[0].tolist()


def audio_of(entry: dict) -> dict:
    """A segment's entry with its audio as samples (each file's tags hold its own mark id)."""
    return {k: samples(v) if k == "audio_base64" else v for k, v in entry.items()}


def batch(ref_b64: str, texts: tuple[str, ...] = TEXTS, **more) -> dict:
    segments = [{"id": f"s{i}", "text": t, "seed": 100 + i} for i, t in enumerate(texts)]
    return {"segments": segments, "ref_audio_base64": ref_b64, "ref_text": REF_TEXT, **FAST, **more}


def test_each_segment_is_what_a_local_render_gives(engine, studio: Studio, ref_b64: str, short_ref: Path) -> None:
    studio.save_voice("segvoice", short_ref.read_bytes(), REF_TEXT, overwrite=True)
    job = batch(ref_b64)
    job["segments"].append({"id": 7, "text": "In a saved voice.", "seed": 5, "voice": "SegVoice"})
    out = serverless_worker(engine).handler({"id": "j1", "input": job})
    assert out["sample_rate"] == 24000 and [s["id"] for s in out["segments"]] == ["s0", "s1", "s2", 7], out
    audio = short_ref.read_bytes()
    for i, (entry, text) in enumerate(zip(out["segments"], TEXTS, strict=False)):
        assert entry["seed"] == 100 + i and entry["spoken_text"] and entry["duration"] > 0
        assert samples(entry["audio_base64"]) == samples(local_wav(studio, text, 100 + i, audio=audio)), entry["id"]
    assert samples(out["segments"][3]["audio_base64"]) == samples(
        local_wav(studio, "In a saved voice.", 5, voice="segvoice")
    )


def test_a_segment_without_a_seed_gets_one(engine, ref_b64: str) -> None:
    job = batch(ref_b64)
    del job["segments"][0]["seed"]
    out = serverless_worker(engine).handler({"id": "j2", "input": job})
    assert isinstance(out["segments"][0]["seed"], int) and out["segments"][1]["seed"] == 101


def test_a_bad_segment_fails_alone(engine, ref_b64: str) -> None:
    job = batch(ref_b64)
    job["segments"] += [
        {"id": "voice", "text": "Hello.", "voice": "nobody-here"},
        {"id": "notext"},
        {"id": "extra", "text": "Hello.", "speed": 2},
        "just a string",
        {"text": "No id."},
        {"id": "long", "text": "word " * 3000},
    ]
    out = serverless_worker(engine).handler({"id": "j3", "input": job})
    entries = {e["id"]: e for e in out["segments"]}
    assert [e["id"] for e in out["segments"]] == ["s0", "s1", "s2", "voice", "notext", "extra", 6, 7, "long"]
    assert all("audio_base64" in entries[f"s{i}"] for i in range(3))
    expected = {
        "voice": "no saved voice called 'nobody-here'",
        "notext": "Add 'text'",
        "extra": "'speed'",
        6: "must be an object",
        7: "needs an 'id'",
        "long": "characters",
    }
    for seg_id, words in expected.items():
        assert set(entries[seg_id]) == {"id", "error"} and words in entries[seg_id]["error"], entries[seg_id]


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"segments": []}, "non-empty list"),
        ({"segments": "s1"}, "non-empty list"),
        ({"segments": [{"id": 1, "text": "a"}, {"id": 1, "text": "b"}]}, "repeated: 1"),
        ({"voice": "alice"}, "Both 'voice' and 'ref_audio_base64'"),
        ({"voice": "alice", "ref_audio_base64": None}, "'ref_text' goes with 'ref_audio_base64'"),
        ({"seed": 3}, "'seed'"),
        ({"nfe_step": 7.5}, "nfe_step"),
        ({"response_format": "midi"}, "response_format"),
    ],
)
def test_a_bad_job_is_refused_whole(engine, ref_b64: str, change: dict, words: str) -> None:
    out = serverless_worker(engine).handler({"id": "j4", "input": batch(ref_b64) | change})
    assert set(out) == {"error"} and words in out["error"], out


def test_the_output_limit_holds_for_the_whole_batch(engine, ref_b64: str) -> None:
    whole = serverless_worker(engine).handler({"id": "j5", "input": batch(ref_b64)})
    first = len(whole["segments"][0]["audio_base64"])
    limit_mb = (first + len(whole["segments"][1]["audio_base64"]) // 2) / 1_000_000  # one fits, two do not
    out = serverless_worker(engine, max_output_mb=limit_mb).handler({"id": "j6", "input": batch(ref_b64)})
    assert audio_of(out["segments"][0]) == audio_of(whole["segments"][0])
    for entry in out["segments"][1:]:
        assert set(entry) == {"id", "error"}
        assert "another job" in entry["error"] and "mp3" in entry["error"], entry


def test_the_streaming_worker_yields_one_item_per_segment(engine, ref_b64: str) -> None:
    whole = serverless_worker(engine).handler({"id": "j7", "input": batch(ref_b64)})
    items = serverless_worker(engine, stream=True).stream_handler({"id": "j8", "input": batch(ref_b64)})
    assert [audio_of({k: v for k, v in item.items() if k != "sample_rate"}) for item in items] == [
        audio_of(entry) for entry in whole["segments"]
    ]
    assert all(item["sample_rate"] == 24000 for item in items)


# ---- the real SDK on a stand-in for RunPod's queue --------------------------------------------------------------
@pytest.fixture(scope="module")
def worker_env(tiny, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    from tests.live import REPO

    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNPOD_", "F5_"))}
    voices = tmp_path_factory.mktemp("segments-worker-voices")
    env.update(
        F5_MODEL=str(tiny["yaml"]), VOICES_DIR=str(voices), HF_HUB_OFFLINE="1", F5_DEVICE="cpu", PYTHONPATH=str(REPO)
    )
    env["F5_WATERMARK"] = "0"  # as the shared test settings: the audio is compared with a local render's
    return env


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    from tests.live import REPO

    return subprocess.Popen(
        [sys.executable, "serverless/handler.py"], cwd=REPO, env=env, stdout=log.open("a"), stderr=subprocess.STDOUT
    )


def segments_of(result: dict) -> dict:
    output = result["output"]
    entries = output if isinstance(output, list) else output["segments"]  # the streaming worker: its items
    return {e["id"]: samples(e["audio_base64"]) for e in entries}


def test_batches_through_the_queue_all_arrive_with_local_audio(
    worker_env: dict[str, str], studio: Studio, ref_b64: str, short_ref: Path, tmp_path: Path
) -> None:
    from tests.live import stop
    from tests.runpod_queue import serve_queue

    with serve_queue() as queue:
        queue.add("batch-a", batch(ref_b64))
        queue.add("batch-b", batch(ref_b64) | {"segments": [{"id": "b0", "text": TEXTS[0], "seed": 9}]})
        proc = start_worker({**worker_env, **queue.env()}, tmp_path / "worker.log")
        try:
            assert queue.wait_done({"batch-a", "batch-b"}, timeout=300), (tmp_path / "worker.log").read_text()[-3000:]
        finally:
            stop(proc)
    audio = short_ref.read_bytes()
    got = segments_of(queue.result("batch-a")) | segments_of(queue.result("batch-b"))
    expected = {f"s{i}": samples(local_wav(studio, t, 100 + i, audio=audio)) for i, t in enumerate(TEXTS)}
    assert got == expected | {"b0": samples(local_wav(studio, TEXTS[0], 9, audio=audio))}


def test_a_worker_killed_mid_batch_loses_nothing_when_the_batch_is_sent_again(
    worker_env: dict[str, str], studio: Studio, ref_b64: str, short_ref: Path, tmp_path: Path
) -> None:
    """The streaming worker has delivered one segment of the batch when it is SIGKILLed: the job never completes.
    The batch sent again to a new worker comes back whole, and what was delivered before is the same audio."""
    from tests.live import stop
    from tests.runpod_queue import serve_queue

    log = tmp_path / "worker.log"
    env = {**worker_env, "F5_SERVERLESS_STREAM": "1"}
    texts = tuple(f"Segment number {i} of a longer batch." for i in range(8))
    with serve_queue() as queue:
        queue.add("first", batch(ref_b64, texts))
        proc = start_worker({**env, **queue.env()}, log)
        try:
            with queue.changed:  # an event: the stand-in notifies on every post
                assert queue.changed.wait_for(lambda: queue.times("first", "stream"), 300), log.read_text()[-3000:]
            proc.send_signal(signal.SIGKILL)
            proc.wait(30)
        finally:
            stop(proc)
        delivered = {
            item["body"]["output"]["id"]: samples(item["body"]["output"]["audio_base64"]) for item in streamed(queue)
        }
        assert delivered and not queue.times("first", "done") and len(delivered) < len(texts), delivered
        with queue.changed:  # the dead worker's last long poll ends first: a job given to it would be lost here
            assert queue.changed.wait_for(lambda: queue.taking == 0, 30)
        queue.add("again", batch(ref_b64, texts))
        proc = start_worker({**env, **queue.env()}, log)
        try:
            assert queue.wait_done({"again"}, timeout=300), log.read_text()[-3000:]
        finally:
            stop(proc)
    again = segments_of(queue.result("again"))
    audio = short_ref.read_bytes()
    assert again == {f"s{i}": samples(local_wav(studio, t, 100 + i, audio=audio)) for i, t in enumerate(texts)}
    assert all(again[seg_id] == wav for seg_id, wav in delivered.items())


def streamed(queue) -> list[dict]:
    return [{"body": e.body} for e in queue.events if e.job == "first" and e.kind == "stream"]


def test_the_segments_of_a_job_are_spoken_at_the_same_time(engine, ref_b64: str) -> None:
    """Up to the worker's concurrency (4 on a CPU) at once, so that a GPU batches them: each of the three waits at a
    barrier until all three are under way (spoken one after another, the barrier would time out)."""
    import threading

    from serverless.limits import WorkerSettings
    from serverless.segments import SegmentsJob

    studio = Studio(engine)
    barrier = threading.Barrier(len(TEXTS), timeout=30)
    alone = studio.synthesize

    def together(request, progress=None):
        barrier.wait()
        return alone(request, progress)

    studio.synthesize = together  # type: ignore[method-assign]
    job = SegmentsJob.parse(batch(ref_b64), studio, WorkerSettings())
    out = job.run(studio)
    assert all("audio_base64" in entry for entry in out["segments"]), out["segments"]

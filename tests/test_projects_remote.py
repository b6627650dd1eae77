"""Rendering a project on a RunPod queue endpoint (inference/projects/remote.py), with the real runpod SDK on both
sides: the studio's Endpoint client against a stand-in for RunPod's endpoint API (tests/runpod_endpoint.py), and real
worker subprocesses of this code (serverless/handler.py, the tiny model) taking the jobs from its queue.

| case                                              | expected                                                       |
|---------------------------------------------------|----------------------------------------------------------------|
| a multi-chapter project, F5_RENDER_ENDPOINT set   | every segment arrives, in batches of F5_RENDER_BATCH, one take |
|                                                   | each; its WAV is byte for byte what a local render gives for   |
|                                                   | the same seeds; each scored here as a local take is           |
| a worker SIGKILLed mid-batch                      | its job times out on the endpoint; its segments are sent again |
|                                                   | and arrive; none lost, one kept take each                      |
| pause                                             | no batch is sent after the one in flight (which is recorded)   |
| cancel                                            | its jobs are cancelled on the endpoint; segments back to pending|
| delete                                            | its jobs are cancelled on the endpoint                         |
| a job's status cannot be read for LOST_S          | it is cancelled and its segments sent again (same seeds)       |
| the studio dies with jobs in flight               | the next studio on the store cancels them, sends them again    |
| an edit while its batch is out                    | the late result is dropped; the new text renders               |
| a bad API key / an unknown endpoint               | the project's status says what to do; nothing is left claimed  |
| the endpoint set without a key                    | refused at start, saying to set RUNPOD_API_KEY                  |
"""

from __future__ import annotations

import base64
import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import soundfile as sf

from inference import Engine, InputError
from inference.projects.render import Projects
from serverless.endpoint import connect
from tests.conftest import REF_TEXT, wait_until
from tests.runpod_endpoint import RunPodEndpoint, serve_endpoint

FAST = {"nfe_step": 4}
BOOK = (
    "Chapter 1\nThe keeper climbed the stairs. He lit the lamp.\n\nThe ships saw it.\n\n"
    "Chapter 2\nA storm came in the night. The lamp held.\n\nChapter 3\nMorning was quiet."
)
DIALOGUE = BOOK.replace("\n\nThe ships", "\n\n[Guest] Is the lamp lit?\n\nThe ships")  # a voice per speaker
GUEST = {"Guest": "guest"}
ENDPOINT, KEY = "ep-test", "key-test"


def samples(path: Path) -> list[int]:
    """A take file's audio (its tags hold the mark id of the request that made it)."""
    return sf.read(path, dtype="int16")[0].tolist()


@pytest.fixture(scope="module")
def worker_env(tiny, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    from tests.live import REPO

    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNPOD_", "F5_"))}
    voices = tmp_path_factory.mktemp("remote-worker-voices")
    env.update(
        F5_MODEL=str(tiny["yaml"]), VOICES_DIR=str(voices), HF_HUB_OFFLINE="1", F5_DEVICE="cpu", PYTHONPATH=str(REPO)
    )
    env["F5_WATERMARK"] = "0"  # as the shared test settings: the audio is compared with a local render's
    return env


@pytest.fixture(scope="module")
def voices(tiny_settings, tmp_path_factory: pytest.TempPathFactory, short_ref: Path, ref_wav: Path) -> Path:
    folder = tmp_path_factory.mktemp("remote-voices")
    engine = Engine(tiny_settings.replace(voices_dir=folder))
    engine.save_voice("narrator", short_ref, REF_TEXT)
    engine.save_voice("guest", ref_wav, REF_TEXT)
    return folder


@pytest.fixture
def sdk(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The SDK's own base URL setting, pointed at the stand-in by each test."""
    import runpod

    monkeypatch.setattr(runpod, "endpoint_url_base", runpod.endpoint_url_base)
    yield


@contextmanager
def remote(tiny_settings, voices: Path, folder: Path, endpoint: RunPodEndpoint, **settings) -> Iterator[Projects]:
    import runpod

    runpod.endpoint_url_base = endpoint.base
    values = {"render_endpoint": ENDPOINT, "render_api_key": KEY, "render_batch": 2, "render_jobs": 2, **settings}
    engine = Engine(tiny_settings.replace(voices_dir=voices, **values))
    projects = Projects(engine, folder, endpoint=connect(engine.settings)).start()
    try:
        yield projects
    finally:
        projects.close()


@contextmanager
def workers(env: dict[str, str], endpoint: RunPodEndpoint, log: Path, count: int = 1) -> Iterator[list]:
    from tests.live import stop
    from tests.test_serverless_segments import start_worker

    procs = [start_worker({**env, **endpoint.queue.env()}, log) for _ in range(count)]
    try:
        yield procs
    finally:
        for proc in procs:
            stop(proc)


def kept_takes(projects: Projects, pid: int) -> dict[int, list]:
    store = projects.store
    return {s.id: store.takes(s.id) for s in store.segments(pid, limit=1000)}


def finished(projects: Projects, pid: int, timeout: float = 300):
    return wait_until(lambda: (s := projects.status(pid)).status in ("done", "failed") and s, timeout)


def test_a_book_renders_remotely_with_the_audio_a_local_render_gives(
    worker_env, tiny_settings, voices: Path, tmp_path: Path, sdk
) -> None:
    log = tmp_path / "worker.log"
    with serve_endpoint(ENDPOINT, KEY) as endpoint, workers(worker_env, endpoint, log):
        with remote(tiny_settings, voices, tmp_path / "remote", endpoint, render_batch=3) as projects:
            pid = projects.create("Book", DIALOGUE, "narrator", GUEST, FAST)
            status = finished(projects, pid)
            assert status and status.status == "done", (status, log.read_text()[-3000:])
            far = {s.position + 100 * s.chapter: s for s in projects.store.segments(pid, limit=1000)}
            takes = kept_takes(projects, pid)
            far_audio = {k: samples(s.audio) for k, s in far.items()}  # each file's tags hold its own mark id
    assert len(status.chapters) == 3 and status.done == status.total == len(far) == 8
    assert all(len(t) == 1 and t[0].kept for t in takes.values()), takes
    # scored here as a local take is (the review list covers remote takes too)
    assert all({"similarity", "quality", "flagged"} <= (s.scores or {}).keys() for s in far.values()), far
    # batches of F5_RENDER_BATCH=3 in reading order, split by voice: each job in one voice's recording
    speaker = {s.id: s.speaker for s in far.values()}
    saved = Engine(tiny_settings.replace(voices_dir=voices)).voices
    recording = {v: base64.b64encode(saved.get(v).audio.read_bytes()).decode() for v in ("narrator", "guest")}
    assert sorted(len(r[2]["segments"]) for r in endpoint.runs) == [1, 1, 2, 2, 2]
    for _, _, job in endpoint.runs:
        voice = {"guest" if speaker[seg["id"]] == "Guest" else "narrator" for seg in job["segments"]}
        assert len(voice) == 1 and job["ref_audio_base64"] == recording[voice.pop()]
    engine = Engine(tiny_settings.replace(voices_dir=voices))
    engine.load()
    local = Projects(engine, tmp_path / "local").start()
    try:
        lid = local.create("Book", DIALOGUE, "narrator", GUEST, FAST)
        local.pause(lid)
        for seg in local.store.segments(lid, limit=1000):
            local.edit(lid, seg.id, seed=far[seg.position + 100 * seg.chapter].seed)
        local.resume(lid)
        assert (s := finished(local, lid)) and s.status == "done"
        near = {s.position + 100 * s.chapter: samples(s.audio) for s in local.store.segments(lid, limit=1000)}
    finally:
        local.close()
    assert near == far_audio


def test_a_worker_killed_mid_batch_loses_nothing(worker_env, tiny_settings, voices: Path, tmp_path: Path, sdk) -> None:
    """Worker A is SIGKILLed as soon as it takes the first job: that job times out on the endpoint, and its segments
    are sent again to worker B. Every segment arrives, with one kept take."""
    log = tmp_path / "worker.log"
    with serve_endpoint(ENDPOINT, KEY, execution_timeout=15) as endpoint:
        with remote(tiny_settings, voices, tmp_path / "p", endpoint, render_batch=3, render_jobs=1) as projects:
            with workers(worker_env, endpoint, log) as (a,):
                pid = projects.create("Book", BOOK, "narrator", None, FAST)
                with endpoint.changed:
                    assert endpoint.changed.wait_for(lambda: taken(endpoint), 120), log.read_text()[-3000:]
                    a.send_signal(signal.SIGKILL)
                a.wait(30)
            first = endpoint.runs[0][1]
            assert not endpoint.queue.times(first, "done")  # killed mid-batch: it never answered
            with workers(worker_env, endpoint, log):
                status = finished(projects, pid)
                assert status and status.status == "done", (status, log.read_text()[-3000:])
            takes = kept_takes(projects, pid)
    assert endpoint.final[first] == "TIMED_OUT"
    assert len(takes) == 7 and all(len(t) == 1 and t[0].kept and t[0].audio.is_file() for t in takes.values()), takes
    sent_again = {seg["id"] for r in endpoint.runs[1:] for seg in r[2]["segments"]}
    assert {seg["id"] for seg in endpoint.runs[0][2]["segments"]} <= sent_again


def taken(endpoint: RunPodEndpoint) -> bool:
    """Whether a worker has taken the first job sent."""
    return bool(endpoint.runs and endpoint.queue.times(endpoint.runs[0][1], "taken"))


def rounds_later(projects: Projects, n: int = 2) -> None:
    """Until the dispatcher has gone round `n` more times (it notifies the projects' condition each round)."""
    remote_ = projects._remote
    assert remote_ is not None
    with projects._wake:
        start = remote_.rounds
        assert projects._wake.wait_for(lambda: remote_.rounds >= start + n, 30)


def test_pause_stops_sending(worker_env, tiny_settings, voices: Path, tmp_path: Path, sdk) -> None:
    log = tmp_path / "worker.log"
    with serve_endpoint(ENDPOINT, KEY) as endpoint:
        with remote(tiny_settings, voices, tmp_path / "p", endpoint, render_jobs=1) as projects:
            pid = projects.create("Book", BOOK, "narrator", None, FAST)
            with endpoint.changed:
                assert endpoint.changed.wait_for(lambda: endpoint.runs, 30)
            projects.pause(pid)
            with workers(worker_env, endpoint, log):
                assert wait_until(lambda: projects.status(pid).done == 2, 120), log.read_text()[-3000:]
                rounds_later(projects)
                assert len(endpoint.runs) == 1 and projects.status(pid).status == "paused"
                projects.resume(pid)
                status = finished(projects, pid)
    assert status and status.status == "done" and len(endpoint.runs) == 4


def test_cancel_cancels_its_jobs_and_an_edit_drops_the_late_result(
    worker_env, tiny_settings, voices: Path, tmp_path: Path, sdk
) -> None:
    log = tmp_path / "worker.log"
    with serve_endpoint(ENDPOINT, KEY) as endpoint:
        with remote(tiny_settings, voices, tmp_path / "p", endpoint, render_jobs=1) as projects:
            pid = projects.create("Book", BOOK, "narrator", None, FAST)
            with endpoint.changed:
                assert endpoint.changed.wait_for(lambda: endpoint.runs, 30)
            projects.cancel(pid)
            with endpoint.changed:
                assert endpoint.changed.wait_for(lambda: endpoint.cancels == [endpoint.runs[0][1]], 30)
            rounds_later(projects)
            info = projects.store.project(pid)
            assert info.rendering == 0 and info.done == 0 and len(endpoint.runs) == 1
            projects.resume(pid)
            with endpoint.changed:
                assert endpoint.changed.wait_for(lambda: len(endpoint.runs) == 2, 30)
            first = projects.store.segments(pid, limit=1)[0]
            projects.edit(pid, first.id, text="A new first line.")  # its batch is out: that result comes late
            with workers(worker_env, endpoint, log):
                status = finished(projects, pid)
                assert status and status.status == "done", (status, log.read_text()[-3000:])
            takes = projects.store.takes(first.id)
    assert [t.text for t in takes] == ["A new first line."] and takes[0].kept
    resent = [seg["text"] for r in endpoint.runs[2:] for seg in r[2]["segments"] if seg["id"] == first.id]
    assert resent == ["A new first line."]  # the late result was dropped: the new text was sent and kept
    assert any(seg["text"] != "A new first line." and seg["id"] == first.id for seg in endpoint.runs[1][2]["segments"])


def test_delete_cancels_its_jobs(tiny_settings, voices: Path, tmp_path: Path, sdk) -> None:
    with serve_endpoint(ENDPOINT, KEY) as endpoint:
        with remote(tiny_settings, voices, tmp_path / "p", endpoint, render_jobs=1) as projects:
            pid = projects.create("Book", BOOK, "narrator", None, FAST)
            with endpoint.changed:
                assert endpoint.changed.wait_for(lambda: endpoint.runs, 30)
            projects.delete(pid)
            with endpoint.changed:
                assert endpoint.changed.wait_for(lambda: endpoint.cancels == [endpoint.runs[0][1]], 30)
            assert projects.all() == [] and len(endpoint.runs) == 1


def test_a_job_whose_status_cannot_be_read_is_sent_again(
    tiny_settings, voices: Path, tmp_path: Path, sdk, monkeypatch: pytest.MonkeyPatch
) -> None:
    from inference.projects import remote as dispatcher

    monkeypatch.setattr(dispatcher, "LOST_S", 1.0)
    with serve_endpoint(ENDPOINT, KEY) as endpoint:
        with remote(tiny_settings, voices, tmp_path / "p", endpoint, render_jobs=1) as projects:
            pid = projects.create("Book", BOOK, "narrator", None, FAST)
            with endpoint.changed:
                assert endpoint.changed.wait_for(lambda: endpoint.runs, 30)
                endpoint.status_down = True
                assert endpoint.changed.wait_for(lambda: len(endpoint.runs) == 2, 30)
            assert endpoint.cancels == [endpoint.runs[0][1]]  # the lost job is cancelled, its segments sent again
            assert endpoint.runs[1][2]["segments"] == endpoint.runs[0][2]["segments"]
            info = projects.store.project(pid)
            assert info.rendering == 2 and info.done == 0


def test_the_jobs_of_a_studio_that_died_are_cancelled_by_the_next(
    tiny_settings, voices: Path, tmp_path: Path, sdk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first studio stops without cancelling its job in flight (as a SIGKILL would leave it); the next one on the
    same store cancels that job and sends its segments again."""
    with serve_endpoint(ENDPOINT, KEY) as endpoint:
        with remote(tiny_settings, voices, tmp_path / "p", endpoint, render_jobs=1) as first:
            pid = first.create("Book", BOOK, "narrator", None, FAST)
            with endpoint.changed:
                assert endpoint.changed.wait_for(lambda: endpoint.runs, 30)
            assert first._remote is not None
            monkeypatch.setattr(first._remote, "_stop_all", lambda: None)
        assert endpoint.cancels == []
        with remote(tiny_settings, voices, tmp_path / "p", endpoint, render_jobs=1) as second:
            with endpoint.changed:
                assert endpoint.changed.wait_for(lambda: len(endpoint.runs) == 2, 30)
            assert endpoint.cancels == [endpoint.runs[0][1]]
            sent = [[seg["id"] for seg in job["segments"]] for _, _, job in endpoint.runs]
            assert sent[1] == sent[0]
            assert second.store.project(pid).rendering == 2


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"render_api_key": "wrong"}, "Set RUNPOD_API_KEY"),
        ({"render_endpoint": "no-such-endpoint"}, "Set F5_RENDER_ENDPOINT"),
    ],
)
def test_a_refusal_says_what_to_do(tiny_settings, voices: Path, tmp_path: Path, sdk, change, words) -> None:
    with serve_endpoint(ENDPOINT, KEY) as endpoint:
        with remote(tiny_settings, voices, tmp_path / "p", endpoint, **change) as projects:
            pid = projects.create("Book", BOOK, "narrator", None, FAST)
            status = wait_until(lambda: (s := projects.status(pid)).note and s, 30)
            assert status and words in status.note, status
            info = projects.store.project(pid)
            assert info.rendering == 0 and info.done == 0 and not endpoint.runs


def test_the_endpoint_without_a_key_is_refused_at_start(tiny_settings) -> None:
    with pytest.raises(InputError, match="RUNPOD_API_KEY"):
        connect(tiny_settings.replace(render_endpoint=ENDPOINT, render_api_key=None))
    assert connect(tiny_settings.replace(render_endpoint=None)) is None

"""The audit log: with a login set, every generation is one JSON line on the volume (inference/audit.py).

| what an operator or visitor does                          | what the log holds                                       |
|-----------------------------------------------------------|----------------------------------------------------------|
| logs in (STUDIO_AUTH), makes a take through the UI API    | one line: the login's user, "ui", the recording's hash,  |
| (gradio_client /synthesize, run in a Gradio worker thread)| the text's sha256, seconds > 0, a mark id; no text       |
| asks for 2 variations in the UI                           | two lines, "variations", one mark id, the same user      |
| calls /v1/audio/speech with HTTP Basic                    | one line: the Basic user, "openai", the saved voice      |
| calls it with the bearer token (STUDIO_API_TOKEN)         | one line: user "token"                                   |
| guards the UI with the token alone, calls /synthesize     | one line: user "token", "ui"; the log beside VOICES_DIR  |
| reads the mark id in a file's tags (UI take, REST speech)| the line of that generation has the same mark id         |
| sends 6 requests at once                                  | 6 new lines, each whole JSON, 6 different mark ids       |
| sets F5_AUDIT_TEXT=1                                      | the line holds the text itself too                       |
| sets no login                                             | no log, no folder; F5_AUDIT=on keeps one anyway          |
| runs the serverless worker with F5_AUDIT=on               | its own file (worker-<pod>.jsonl), user "runpod"         |
| lets the log grow past F5_AUDIT_MAX_MB                    | rotated: never more than F5_AUDIT_FILES old files        |
| 16 threads write at once (and rotate)                     | every line whole JSON, none lost                         |
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from inference import Engine, EngineSettings, Reference, Studio, acting
from inference.audit import AuditLog
from inference.provenance import Caller
from inference.voices import VoiceLibrary
from tests.conftest import REF_TEXT
from tests.live import run_app

USER, PASSWORD, TOKEN = "ann", "pw-Secr3t-xyz", "tok-Secr3t-abc"
TEXT = "Hello there, this is audited."
FAST = {"nfe_step": 7}


def lines(folder: Path, name: str = "studio") -> list[dict]:
    path = folder / f"{name}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def check_line(line: dict, user: str, interface: str, voice: str, text: str = TEXT) -> None:
    assert (line["user"], line["interface"], line["voice"]) == (user, interface, voice), line
    assert line["text_sha256"] == sha(text) and line["seconds"] > 0, line
    assert re.fullmatch(r"[0-9a-f]{16}", line["mark_id"]), line
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", line["time"]), line
    assert "text" not in line  # never the text unless F5_AUDIT_TEXT=1


@pytest.fixture(scope="module")
def studio_app(tiny, short_ref, tmp_path_factory):
    """The app with a login and a token, a saved voice "alice", its audit log in a folder of its own."""
    work = tmp_path_factory.mktemp("audit")
    VoiceLibrary(work / "voices").save("alice", short_ref.read_bytes(), REF_TEXT)
    env = {
        "F5_MODEL": str(tiny["yaml"]),
        "STUDIO_AUTH": f"{USER}:{PASSWORD}",
        "STUDIO_API_TOKEN": TOKEN,
        "VOICES_DIR": str(work / "voices"),
        "F5_AUDIT_DIR": str(work / "audit"),
    }
    with run_app(env=env, log_path=work / "app.log") as (base, _):
        yield base, work / "audit"


def speak(base: str, auth: httpx.Auth | None = None, headers: dict | None = None) -> bytes:
    body = {"model": "f5-tts", "input": TEXT, "voice": "alice", "response_format": "wav", **FAST}
    r = httpx.post(base + "/v1/audio/speech", json=body, auth=auth, headers=headers, timeout=120)
    assert r.status_code == 200, r.text[:300]
    return r.content


def mark_id_in(audio: bytes) -> str:
    """The mark id an output file's tags carry (inference/audio/encode.py output_tags), read by ffprobe."""
    from tests.test_tags import tags_of

    found = re.search(r"mark id ([0-9a-f]+)", tags_of(audio).get("comment", ""))
    assert found, tags_of(audio)
    return found.group(1)


@pytest.mark.e2e
def test_ui_takes_are_logged_for_the_login(studio_app, short_ref: Path) -> None:
    from gradio_client import Client, handle_file

    base, folder = studio_app
    before = len(lines(folder))
    client = Client(base, auth=(USER, PASSWORD), verbose=False)
    take = client.predict(handle_file(str(short_ref)), REF_TEXT, TEXT, 1, api_name="/synthesize", **FAST)[0]
    new = lines(folder)[before:]
    recording = "recording:" + hashlib.sha256(short_ref.read_bytes()).hexdigest()[:16]
    assert len(new) == 1
    check_line(new[0], USER, "ui", recording)
    assert new[0]["operation"] == "speech"
    assert mark_id_in(Path(take).read_bytes()) == new[0]["mark_id"]  # the file names its line

    client.predict(handle_file(str(short_ref)), REF_TEXT, TEXT, 2, api_name="/synthesize_variations", **FAST)
    takes = lines(folder)[before + 1 :]
    assert len(takes) == 2  # one line per take, run in threads of their own: still the visitor's
    for take in takes:
        check_line(take, USER, "ui", recording)
        assert take["operation"] == "variations"
    assert takes[0]["mark_id"] == takes[1]["mark_id"] != new[0]["mark_id"]  # one request, one mark id
    client.close()


@pytest.mark.e2e
def test_a_ui_guarded_by_the_token_alone_logs_the_token(tiny, short_ref: Path, tmp_path: Path) -> None:
    from gradio_client import Client, handle_file

    env = {"F5_MODEL": str(tiny["yaml"]), "STUDIO_API_TOKEN": TOKEN, "VOICES_DIR": str(tmp_path / "voices")}
    with run_app(env=env, log_path=tmp_path / "app.log") as (base, _):
        client = Client(base, headers={"Authorization": f"Bearer {TOKEN}"}, verbose=False)
        client.predict(handle_file(str(short_ref)), REF_TEXT, TEXT, 1, api_name="/synthesize", **FAST)
        client.close()
    (line,) = lines(tmp_path / "audit")  # beside VOICES_DIR by default
    recording = "recording:" + hashlib.sha256(short_ref.read_bytes()).hexdigest()[:16]
    check_line(line, "token", "ui", recording)


@pytest.mark.e2e
def test_openai_speech_is_logged_for_basic_and_bearer(studio_app) -> None:
    base, folder = studio_app
    before = len(lines(folder))
    audio = speak(base, auth=httpx.BasicAuth(USER, PASSWORD))
    speak(base, headers={"Authorization": f"Bearer {TOKEN}"})
    basic, bearer = lines(folder)[before:]
    assert mark_id_in(audio) == basic["mark_id"]  # the file names its line
    check_line(basic, USER, "openai", "alice")
    check_line(bearer, "token", "openai", "alice")
    assert basic["mark_id"] != bearer["mark_id"]


@pytest.mark.e2e
def test_concurrent_requests_each_add_one_whole_line(studio_app) -> None:
    base, folder = studio_app
    before = len(lines(folder))
    with ThreadPoolExecutor(6) as pool:
        list(pool.map(lambda _: speak(base, headers={"Authorization": f"Bearer {TOKEN}"}), range(6)))
    new = lines(folder)[before:]  # json.loads on every line: a torn line fails here
    assert len(new) == 6 and len({line["mark_id"] for line in new}) == 6
    for line in new:
        check_line(line, "token", "openai", "alice")


def test_the_text_is_kept_only_when_the_operator_asks(tiny_settings, short_ref: Path, tmp_path: Path) -> None:
    settings = EngineSettings.from_env({"F5_AUDIT_TEXT": "1", "F5_AUDIT_DIR": str(tmp_path / "audit")})
    studio = Studio(Engine(tiny_settings.replace(audit_text=settings.audit_text, audit_dir=settings.audit_dir)))
    assert studio.start_audit(login=True, name="studio") == tmp_path / "audit" / "studio.jsonl"
    with acting("ann", "python"):
        studio.synthesize(studio.request(TEXT, audio=str(short_ref), ref_text=REF_TEXT, options=FAST))
    (line,) = lines(tmp_path / "audit")
    assert line["text"] == TEXT and line["text_sha256"] == sha(TEXT) and line["user"] == "ann"


def test_a_dialogue_is_a_line_per_turn_and_an_edit_is_one(tiny_settings, ref_wav: Path, short_ref: Path, tmp_path):
    from inference import EditRequest, SynthesisOptions
    from inference.model.asr import Transcriber, Word

    class Hears(Transcriber):  # the example recording's words at their times (as tests/test_editing.py)
        def words(self, wave, sample_rate, language=None):  # type: ignore[no-untyped-def]
            return [Word("Some", 0.0, 0.3), Word("call", 0.3, 0.6), Word("me", 0.6, 0.8), Word("nature.", 0.8, 1.4)]

    studio = Studio(Engine(tiny_settings.replace(audit_dir=tmp_path), transcriber=Hears("hears")))
    studio.start_audit(login=True, name="studio")
    uploads = {"alice": Reference(ref_wav, REF_TEXT), "bob": Reference(short_ref, REF_TEXT)}
    with acting("ann", "ui") as caller:
        studio.dialogue(
            "[alice] It was late. [bob] Hello there? [alice] Nobody answered.",
            uploads=uploads,
            options=SynthesisOptions(nfe_step=7),
        )
    turns = lines(tmp_path)
    assert [(t["operation"], t["mark_id"], t["user"]) for t in turns] == [("dialogue", caller.mark_id, "ann")] * 3
    assert [t["text_sha256"] for t in turns] == [sha("It was late."), sha("Hello there?"), sha("Nobody answered.")]
    with acting("bea", "rest") as caller:
        edited = studio.edit(
            EditRequest(ref_wav, "Some call me optimist.", "Some call me nature.", options=SynthesisOptions(nfe_step=4))
        )
    (line,) = lines(tmp_path)[3:]
    recording = "recording:" + hashlib.sha256(ref_wav.read_bytes()).hexdigest()[:16]
    check_line(line, "bea", "rest", recording, "Some call me optimist.")
    assert line["operation"] == "edit" and line["mark_id"] == caller.mark_id
    assert line["seconds"] == pytest.approx(edited.duration, abs=1e-3)


def test_no_login_no_log_unless_forced(tiny_settings, tmp_path: Path) -> None:
    from app import ServerSettings, create_app

    folder = tmp_path / "audit"
    quiet = Studio(Engine(tiny_settings.replace(audit_dir=folder)))
    create_app(ServerSettings(), quiet)
    assert quiet.audit is None and not folder.exists()
    forced = Studio(Engine(tiny_settings.replace(audit_dir=folder, audit="on")))
    assert forced.start_audit(login=False, name="studio") == folder / "studio.jsonl"


def test_serverless_jobs_are_logged_when_forced(tiny, short_ref: Path, tmp_path: Path) -> None:
    from serverless.handler import worker_from_env
    from tests.conftest import SyncWorker

    VoiceLibrary(tmp_path / "voices").save("alice", short_ref.read_bytes(), REF_TEXT)
    env = {"F5_MODEL": str(tiny["yaml"]), "VOICES_DIR": str(tmp_path / "voices"), "RUNPOD_POD_ID": "pod1"}
    assert worker_from_env(dict(env)).studio.audit is None  # no login of its own: off unless forced
    worker = SyncWorker(worker_from_env({**env, "F5_AUDIT": "on"}))
    out = worker.handler({"id": "job-1", "input": {"text": TEXT, "voice": "alice", **FAST}})
    assert "error" not in out, out
    (line,) = lines(tmp_path / "audit", "worker-pod1")
    check_line(line, "runpod", "serverless", "alice")


def write_many(log: AuditLog, threads: int, each: int) -> None:
    start = threading.Barrier(threads)

    def write(k: int) -> None:
        start.wait()
        for i in range(each):
            log.record(Caller(f"user{k}", "rest"), "speech", "alice", f"text {k} {i}", 1.5)

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(write, range(threads)))


def test_rotation_keeps_the_count(tmp_path: Path) -> None:
    log = AuditLog(tmp_path, "studio", max_bytes=2000, backups=2)
    write_many(log, 1, 100)  # ~260 bytes a line: ~13 files' worth
    log.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["studio.jsonl", "studio.jsonl.1", "studio.jsonl.2"]
    for path in tmp_path.iterdir():
        assert path.stat().st_size <= 2000
        assert all(json.loads(line)["operation"] == "speech" for line in path.read_text().splitlines())


@pytest.mark.parametrize("max_bytes", [10_000_000, 20_000])  # one file; rotating while 16 threads write
def test_many_threads_write_whole_lines(tmp_path: Path, max_bytes: int) -> None:
    log = AuditLog(tmp_path, "studio", max_bytes=max_bytes, backups=1000)
    write_many(log, 16, 100)
    log.close()
    texts = [json.loads(line)["text_sha256"] for p in tmp_path.iterdir() for line in p.read_text().splitlines()]
    assert sorted(texts) == sorted(sha(f"text {k} {i}") for k in range(16) for i in range(100))


def test_a_ui_generator_runs_every_step_as_one_visitor() -> None:
    """Gradio runs each step of a generator handler in a worker thread, in a fresh copy of the event's context, with
    its request set just before (gradio.utils.function_wrapper): every step, and every handler it calls, is one
    visitor with one mark id (the take's line and its file's tag agree)."""
    import contextvars

    from gradio.context import LocalContext

    from inference import current_caller
    from ui.handlers import user_errors

    class Request:
        username, headers = "ann", {}

    seen, closed = [], threading.Event()

    @user_errors
    def inner() -> Caller:
        return current_caller()

    @user_errors
    def handler():  # type: ignore[no-untyped-def]
        try:
            for _ in range(5):
                seen.append((current_caller(), inner()))
                yield len(seen)
        finally:
            closed.set()

    def step(steps) -> int:  # type: ignore[no-untyped-def]
        def run() -> int:
            LocalContext.request.set(Request())  # type: ignore[arg-type]
            return next(steps)

        with ThreadPoolExecutor(1) as pool:
            return pool.submit(contextvars.copy_context().run, run).result()

    steps = handler()
    assert [step(steps) for _ in range(3)] == [1, 2, 3]
    callers = {caller for pair in seen for caller in pair}
    assert len(callers) == 1 and next(iter(callers)).user == "ann" and next(iter(callers)).interface == "ui"
    steps.close()  # Gradio stops reading: the handler's own generator is closed too
    assert closed.is_set()

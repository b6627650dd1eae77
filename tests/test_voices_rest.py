"""Voices over REST (api/voices.py): POST /v1/voices (multipart), DELETE /v1/voices/{name}, GET /v1/voices, with a
plain HTTP client against the real app in process, and once through the running app.

| case                         | sent                              | answer                                           |
|------------------------------|-----------------------------------|--------------------------------------------------|
| a plain name                 | 'Alice', a recording, transcript  | 201 {name 'Alice', the transcript as typed}      |
| spaces, unicode              | 'My Voice', 'Zoë', '日本語の声'    | 201, the name as sent                            |
| spaces around                | '  Bob  '                         | 201 'Bob'                                        |
| the name in another case     | 'carol' after 'Carol'             | 409 naming 'Carol'; overwrite=true: 201 'Carol'  |
| path tricks, file suffixes   | '../x', 'a/b', 'x.wav', '.hidden' | 400: what it would be saved as; nothing saved    |
| nothing usable, blank, long  | '💥', '   ', 'x' * 65             | 400 saying the rule                              |
| no name, no audio            | a form without it                 | 400 missing_required_parameter, naming it        |
| not audio, empty, silent     | a text file, 0 bytes, silence     | 400 saying what to send                          |
| too large                    | over F5_MAX_UPLOAD_MB / the body  | 400 saying what to send / 413 (OpenAI's shape)   |
| no transcript                | the recording alone               | 201, the transcript as Whisper heard it          |
| delete                       | 'ALICE'                           | 204; gone from GET, speech in it: 404            |
| delete unknown, tricky names | 'nobody', '..x'                   | 404 naming it / 400                              |
| no login                     | STUDIO_API_TOKEN set, none sent   | 401 for GET, POST and DELETE                     |
"""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import pytest
import soundfile as sf

from tests.conftest import REF_TEXT

TOKEN = "voices-rest-token"


@pytest.fixture(scope="module")
def http(tiny, tmp_path_factory: pytest.TempPathFactory):
    """The app as app.py builds it (REST, the UI mounted, the login and the body limit), in process, over a tiny model
    with an empty voices folder; uploads at most 1 MB, and a bearer token."""
    from fastapi.testclient import TestClient

    from app import ServerSettings, create_app
    from inference import Engine, EngineSettings, Studio

    voices = tmp_path_factory.mktemp("rest-voices")
    engine = Engine(EngineSettings(model=str(tiny["yaml"]), voices_dir=voices, max_upload_mb=1))
    app, _ = create_app(ServerSettings(api_token=TOKEN), Studio(engine))
    with TestClient(app, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        yield client


@pytest.fixture(scope="module")
def wav(short_ref: Path) -> bytes:
    return short_ref.read_bytes()


def save(http, name: str, audio: bytes, transcript: str | None = REF_TEXT, **more: str) -> httpx.Response:
    form = {"name": name, **({} if transcript is None else {"transcript": transcript}), **more}
    return http.post("/v1/voices", data=form, files={"audio": ("voice.wav", audio, "audio/wav")})


def error(response: httpx.Response) -> dict:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "param", "code"}, body
    return body["error"]


def names(http) -> list[str]:
    return [v["name"] for v in http.get("/v1/voices").json()["voices"]]


def test_save_list_speak_and_delete(http, wav: bytes) -> None:
    r = save(http, "Alice", wav)
    assert r.status_code == 201, r.text
    assert r.json() == {"name": "Alice", "has_transcript": True, "transcript": REF_TEXT}
    assert "Alice" in names(http)
    speech = http.post("/v1/audio/speech", json={"voice": "alice", "input": "Hello.", "response_format": "wav"} | FAST)
    assert speech.status_code == 200, speech.text
    assert sf.info(io.BytesIO(speech.content)).samplerate == 24000
    assert http.delete("/v1/voices/ALICE").status_code == 204
    assert "Alice" not in names(http)
    gone = http.post("/v1/audio/speech", json={"voice": "Alice", "input": "Hello."} | FAST)
    assert gone.status_code == 404 and "Alice" in error(gone)["message"]


FAST = {"nfe_step": 4, "seed": 7}


@pytest.mark.parametrize("name", ["My Voice", "Zoë", "日本語の声", "a-b_c 2"])
def test_names_are_kept_as_sent(http, wav: bytes, name: str) -> None:
    r = save(http, name, wav)
    assert r.status_code == 201 and r.json()["name"] == name, r.text
    assert name in names(http)
    assert http.delete(f"/v1/voices/{name}").status_code == 204
    assert name not in names(http)


def test_spaces_around_a_name_are_trimmed(http, wav: bytes) -> None:
    r = save(http, "  Bob  ", wav)
    assert r.status_code == 201 and r.json()["name"] == "Bob", r.text
    assert http.delete("/v1/voices/Bob").status_code == 204


def test_a_name_in_another_case_is_the_same_voice(http, wav: bytes) -> None:
    assert save(http, "Carol", wav).status_code == 201
    clash = save(http, "carol", wav, transcript="Another text.")
    assert clash.status_code == 409, clash.text
    e = error(clash)
    assert "'Carol' already exists" in e["message"] and "overwrite=true" in e["message"]
    assert e["param"] == "name" and e["code"] == "voice_exists"
    replaced = save(http, "carol", wav, transcript="Another text.", overwrite="true")
    assert replaced.status_code == 201 and replaced.json()["name"] == "Carol", replaced.text
    assert replaced.json()["transcript"] == "Another text."
    assert names(http).count("Carol") == 1
    assert http.delete("/v1/voices/carol").status_code == 204


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("../x", "would be saved as 'x'"),
        ("a/b", "would be saved as 'a b'"),
        ("x.wav", "would be saved as 'x wav'"),
        (".hidden", "would be saved as 'hidden'"),
        ("💥", "cannot be used as a voice name"),
        ("x" * 65, "at most 64 characters"),
        ("   ", "Type a name"),
    ],
)
def test_bad_names_are_refused_and_nothing_is_saved(http, wav: bytes, name: str, words: str) -> None:
    before = names(http)
    r = save(http, name, wav)
    assert r.status_code == 400, r.text
    e = error(r)
    assert words in e["message"] and e["param"] == "name", e
    assert names(http) == before


def test_missing_fields_are_named(http, wav: bytes) -> None:
    no_name = http.post("/v1/voices", files={"audio": ("v.wav", wav, "audio/wav")})
    assert no_name.status_code == 400 and error(no_name)["param"] == "name", no_name.text
    assert "Missing required parameter: 'name'" in error(no_name)["message"]
    no_audio = http.post("/v1/voices", data={"name": "Dan"})
    assert no_audio.status_code == 400 and error(no_audio)["param"] == "audio", no_audio.text


def silent_wav() -> bytes:
    import numpy as np

    out = io.BytesIO()
    sf.write(out, np.zeros(3 * 24000, dtype="float32"), 24000, format="WAV")
    return out.getvalue()


@pytest.mark.parametrize(
    ("audio", "words"),
    [(b"this is not audio, just text\n" * 50, "audio"), (b"", "empty"), (silent_wav(), "silent")],
    ids=["text-file", "empty", "silent"],
)
def test_audio_that_is_not_audio_is_refused(http, audio: bytes, words: str) -> None:
    r = save(http, "Eve", audio)
    assert r.status_code == 400, r.text
    message = error(r)["message"]
    assert words in message.lower(), message
    assert "Eve" not in names(http)


def test_an_upload_over_the_limit_is_refused_in_openais_shape(http, wav: bytes) -> None:
    """Over F5_MAX_UPLOAD_MB (1 MB here) but within the form's allowance: the studio's 400, saying what to send;
    beyond the body limit: 413 before the body is read."""
    for size, status in ((1_200_000, 400), (3_000_000, 413)):
        r = save(http, "Big", wav + b"\0" * size)
        assert r.status_code == status, (size, r.text)
        message = error(r)["message"]
        assert "too large" in message and ("Upload a shorter" in message or "Send less" in message), message
    assert "Big" not in names(http)


def test_without_a_transcript_the_recording_is_transcribed(http, wav: bytes) -> None:
    heard = http.app.state.studio.transcribe(wav)  # what Whisper (tiny, random) hears in it
    r = save(http, "Frank", wav, transcript=None)
    assert r.status_code == 201, r.text
    assert r.json()["transcript"] == heard and r.json()["has_transcript"] == bool(heard)
    assert http.delete("/v1/voices/Frank").status_code == 204


def test_deleting_an_unknown_or_tricky_name(http) -> None:
    r = http.delete("/v1/voices/nobody")
    assert r.status_code == 404, r.text
    assert "'nobody'" in error(r)["message"] and error(r)["param"] == "name"
    tricky = http.delete("/v1/voices/..x")
    assert tricky.status_code == 400 and "would be saved as 'x'" in error(tricky)["message"], tricky.text


def test_every_voice_route_needs_the_login(http, wav: bytes) -> None:
    bare = {"Authorization": ""}
    assert http.get("/v1/voices", headers=bare).status_code == 401
    form = {"data": {"name": "Gina"}, "files": {"audio": ("v.wav", wav, "audio/wav")}}
    assert http.post("/v1/voices", headers=bare, **form).status_code == 401
    assert http.delete("/v1/voices/Gina", headers=bare).status_code == 401
    assert "Gina" not in names(http)


@pytest.mark.e2e
def test_through_the_running_app(tiny, tmp_path: Path, wav: bytes) -> None:
    """The same life of a voice against `python app.py`: save, list, speak, delete."""
    from tests.live import run_app

    voices = tmp_path / "voices"
    env = {"F5_MODEL": str(tiny["yaml"]), "VOICES_DIR": str(voices), "STUDIO_API_TOKEN": TOKEN}
    with run_app(env=env, log_path=tmp_path / "app.log") as (base, _):
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=120) as http:
            r = save(http, "Zoë Ann", wav)
            assert r.status_code == 201 and r.json()["name"] == "Zoë Ann", r.text
            assert names(http) == ["Zoë Ann"]
            body = {"voice": "zoë ann", "input": "Hello there.", "response_format": "wav"} | FAST
            speech = http.post("/v1/audio/speech", json=body)
            assert speech.status_code == 200 and sf.info(io.BytesIO(speech.content)).samplerate == 24000
            assert http.delete("/v1/voices/Zoë Ann").status_code == 204
            assert names(http) == []
            assert http.delete("/v1/voices/Zoë Ann").status_code == 404

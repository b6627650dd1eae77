"""Is this clip ours? The mark every output carries, found again: Studio.detect, POST /v1/audio/detect, the "Check a
clip" tab and its /detect_watermark endpoint. Real speech (espeak-ng) marked by the studio's watermark, since the tiny
test model's audio is noise.

| case                                | sent                         | answer                                   |
|-------------------------------------|------------------------------|------------------------------------------|
| a marked clip                       | Studio, REST (httpx), client | marked, confidence >= 0.9, its seconds   |
| the same speech never marked        | Studio, REST, gradio_client  | not marked, confidence < 0.2             |
| marked, then MP3 at 64 kbit/s       | Studio.detect                | watermarked                              |
| marked, then resampled to 16 kHz    | Studio.detect                | watermarked                              |
| marked, stereo FLAC at 44.1 kHz     | Studio.detect                | watermarked (mixed down, resampled)      |
| a 3 s excerpt from the middle       | Studio.detect                | watermarked                              |
| a clip longer than MAX_DETECT_S     | Studio.detect                | its first MAX_DETECT_S checked           |
| not audio, 0 bytes, 0.2 s of speech | Studio, REST; 0.2 s: client  | refused, saying what to send (REST: 400) |
| over F5_MAX_UPLOAD_MB / the body    | REST                         | 400 saying what to send / 413            |
| no `file` field                     | REST                         | 400 naming `file`                        |
| no login (STUDIO_API_TOKEN set)     | REST                         | 401                                      |
| no clip                             | /detect_watermark            | refused: upload or record one            |
| a marked clip in the browser        | the tab: upload, Check       | "Marked: made by this studio…"           |
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import httpx
import numpy as np
import pytest
import soundfile as sf

from bench.watermark_detect import TRANSFORMS, excerpt, resample
from inference import MAX_DETECT_S, MIN_DETECT_S, Engine, EngineSettings, InputError, Studio
from inference.audio import watermark
from inference.audio.decode import to_wav_bytes
from tests.speech import SENTENCES, silence, speak

SR = 24000
TOKEN = "detect-token"
NOT_AUDIO = b"these are words, not a recording " * 100


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    """About 7 s of espeak-ng speech at 24 kHz, never marked."""
    return np.concatenate([speak(SENTENCES[0], "en-us", SR), silence(0.3, SR), speak(SENTENCES[1], "en-gb", SR)])


@pytest.fixture(scope="module")
def marked(speech: np.ndarray) -> np.ndarray:
    return watermark.mark(speech, SR)


@pytest.fixture(scope="module")
def studio() -> Studio:
    return Studio(Engine(EngineSettings(max_upload_mb=1)))  # detecting loads no speech model


def wav(wave: np.ndarray, sr: int = SR) -> bytes:
    return to_wav_bytes(wave, sr)


# ---- Studio.detect --------------------------------------------------------------------------------------------------
def test_a_marked_clip_is_found_and_the_same_speech_unmarked_is_not(
    studio: Studio, marked: np.ndarray, speech: np.ndarray, tmp_path: Path
) -> None:
    path = tmp_path / "take.wav"
    path.write_bytes(wav(marked))
    found = studio.detect(path)  # a path, as the UI passes it
    assert found.watermarked and found.confidence >= 0.9, found
    assert found.seconds == pytest.approx(marked.size / SR, abs=0.01)
    clean = studio.detect(wav(speech))  # bytes, as REST passes them
    assert not clean.watermarked and clean.confidence < 0.2, clean


@pytest.mark.parametrize("transform", ["mp3 64k", "16 kHz", "3 s excerpt"])
def test_the_mark_survives_what_a_clip_meets(studio: Studio, marked: np.ndarray, transform: str) -> None:
    found = studio.detect(TRANSFORMS[transform](marked, SR))
    assert found.watermarked and found.confidence >= 0.8, (transform, found)
    if transform == "3 s excerpt":
        assert found.seconds == pytest.approx(3.0, abs=0.01)


def test_a_long_clip_is_checked_over_its_first_minute(speech: np.ndarray) -> None:
    long = np.tile(speech, int(MAX_DETECT_S * SR / speech.size) + 2)
    found = Studio(Engine(EngineSettings())).detect(wav(long))  # the default upload limit
    assert long.size / SR > MAX_DETECT_S + 5 and found.seconds == pytest.approx(MAX_DETECT_S, abs=0.01), found
    assert not found.watermarked


def test_a_stereo_clip_at_another_rate_is_mixed_down(studio: Studio, marked: np.ndarray) -> None:
    stereo = np.stack([resample(marked, SR, 44100)] * 2, axis=1)
    buf = io.BytesIO()
    sf.write(buf, stereo, 44100, format="FLAC")
    found = studio.detect(buf.getvalue())
    assert found.watermarked, found


@pytest.mark.parametrize(
    "audio, words",
    [
        (NOT_AUDIO, "could not read this file as audio"),
        (b"", "empty"),
        (b"short", "short"),  # 0.2 s of speech, made in the test
    ],
)
def test_refusals_say_what_to_send(studio: Studio, speech: np.ndarray, audio: bytes, words: str) -> None:
    if audio == b"short":
        audio = wav(speech[: int(0.2 * SR)])
    with pytest.raises(InputError) as e:
        studio.detect(audio)
    assert words in e.value.message.lower() and e.value.hint, (e.value.message, e.value.hint)
    if words == "short":
        assert f"{MIN_DETECT_S:g} s" in e.value.hint


def test_an_excerpt_too_short_to_tell_is_refused(studio: Studio, marked: np.ndarray) -> None:
    with pytest.raises(InputError, match="too short"):
        studio.detect(wav(excerpt(marked, SR, 0.2)))


# ---- REST in process: refusals and the login -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def http():
    """The app as app.py builds it, in process: uploads at most 1 MB, and a bearer token."""
    from fastapi.testclient import TestClient

    from app import ServerSettings, create_app

    app, _ = create_app(ServerSettings(api_token=TOKEN), Studio(Engine(EngineSettings(max_upload_mb=1))))
    with TestClient(app, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        yield client


def post(http, audio: bytes, **kw) -> httpx.Response:
    return http.post("/v1/audio/detect", files={"file": ("clip.wav", audio, "audio/wav")}, **kw)


def error(response: httpx.Response) -> dict:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "param", "code"}, body
    return body["error"]


def test_rest_answers_the_verdict(http, marked: np.ndarray, speech: np.ndarray) -> None:
    r = post(http, wav(marked))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["watermarked"] is True and body["confidence"] >= 0.9 and body["threshold"] == watermark.THRESHOLD
    assert body["seconds"] == pytest.approx(marked.size / SR, abs=0.01)
    assert post(http, wav(speech)).json()["watermarked"] is False


def test_rest_refusals_say_what_to_send(http, speech: np.ndarray) -> None:
    cases = {
        "not audio": (NOT_AUDIO, 400, "Upload a WAV"),
        "empty": (b"", 400, "Upload the recording again"),
        "0.2 s": (wav(speech[: int(0.2 * SR)]), 400, f"Send at least {MIN_DETECT_S:g} s"),
        "over F5_MAX_UPLOAD_MB": (wav(speech) + b"\0" * 1_200_000, 400, "Upload a shorter recording"),
        "over the body limit": (b"\0" * 3_000_000, 413, "too large"),
    }
    for case, (audio, status, words) in cases.items():
        r = post(http, audio)
        assert r.status_code == status, (case, r.text)
        assert words in error(r)["message"], (case, r.text)
    missing = http.post("/v1/audio/detect", data={"other": "x"})
    assert missing.status_code == 400 and error(missing)["param"] == "file", missing.text


def test_rest_needs_the_login(http, marked: np.ndarray) -> None:
    assert post(http, wav(marked), headers={"Authorization": ""}).status_code == 401


# ---- the running app: REST with httpx, gradio_client, the browser --------------------------------------------------
@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory, marked: np.ndarray, speech: np.ndarray) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("clips")
    paths = {name: folder / f"{name}.wav" for name in ("marked", "speech", "short")}
    paths["marked"].write_bytes(wav(marked))
    paths["speech"].write_bytes(wav(speech))
    paths["short"].write_bytes(wav(marked[: int(0.2 * SR)]))
    return paths


def test_through_the_running_app(app_url: str, clips: dict[str, Path]) -> None:
    from gradio_client import Client, handle_file

    with httpx.Client(base_url=app_url, timeout=60) as rest:
        for name, expected in (("marked", True), ("speech", False)):
            r = rest.post("/v1/audio/detect", files={"file": (f"{name}.wav", clips[name].read_bytes(), "audio/wav")})
            assert r.status_code == 200 and r.json()["watermarked"] is expected, (name, r.text)
    client = Client(app_url, verbose=False)
    words, confidence = client.predict(handle_file(str(clips["marked"])), api_name="/detect_watermark")
    assert words.startswith("Marked: made by this studio (confidence") and confidence >= 0.9, (words, confidence)
    words, confidence = client.predict(handle_file(str(clips["speech"])), api_name="/detect_watermark")
    assert words.startswith("No mark found") and confidence < 0.2, (words, confidence)
    with pytest.raises(Exception, match="Upload or record the clip"):
        client.predict(None, api_name="/detect_watermark")
    with pytest.raises(Exception, match=f"too short to check for the mark. Send at least {MIN_DETECT_S:g} s"):
        client.predict(handle_file(str(clips["short"])), api_name="/detect_watermark")


def test_check_a_clip_in_the_browser(browser, app_url: str, clips: dict[str, Path]) -> None:
    from playwright.sync_api import expect

    from tests.test_browser import open_app

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page, errors = open_app(context, app_url)
        page.get_by_role("tab", name="Check a clip").click()
        block = page.locator("#detect-audio")
        block.locator("input[type=file]").set_input_files(str(clips["marked"]))
        expect(block.locator("a[data-testid=download-link]")).to_have_attribute("href", re.compile(r"/file="))
        page.locator("#detect-check").click()
        expect(page.locator("#detect-verdict textarea")).to_have_value(
            re.compile(r"^Marked: made by this studio \(confidence (0\.9\d|1\.00)\)")
        )
        assert not errors, errors
    finally:
        context.close()

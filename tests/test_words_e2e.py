"""Every word said right, through every interface of the launched app: gradio_client (/normalize_text, the
pronunciation endpoints, /synthesize_variations, /synthesize's new parameters, /synthesize_dialogue), the OpenAI
endpoint (the extension fields, X-Check) and the serverless worker; and their bad inputs, in the bad-input tally."""

from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path

import gradio as gr
import httpx
import numpy as np
import pytest
import soundfile as sf

from inference import Engine, Studio
from tests.badinputs import (
    BAD_ENTRIES,
    BAD_SETTINGS,
    BAD_VARIATION_COUNTS,
    REFUSED_TEXT,
    assert_clear,
    report_tried,  # noqa: F401 - autouse: prints the running total of bad inputs tried
    tried,
)
from tests.conftest import serverless_worker
from tests.live import run_app

EXAMPLE = "On 12/01/2026 I paid $3.50 for 2 coffees at 5:30 pm, 25% off."
SHORT_TEXT = "Some call me nature."


@pytest.fixture(scope="module")
def live(tiny, tmp_path_factory: pytest.TempPathFactory, short_ref: Path):
    work = tmp_path_factory.mktemp("words-e2e")
    voices = work / "voices"
    voices.mkdir()
    shutil.copy(short_ref, voices / "alice.wav")
    (voices / "alice.txt").write_text(SHORT_TEXT, encoding="utf-8")
    env = {"F5_MODEL": str(tiny["yaml"]), "VOICES_DIR": str(voices), "GRADIO_TEMP_DIR": str(work / "gradio-tmp")}
    with run_app(env=env, log_path=work / "app.log") as (base, _):
        yield {"base": base, "voices": voices, "log": work / "app.log"}


@pytest.fixture(scope="module")
def client(live: dict):
    from gradio_client import Client

    client = Client(live["base"], verbose=False)
    yield client
    client.close()


def app_error(client, *args, api_name: str, **kwargs) -> str:
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError) as info:
        client.predict(*args, api_name=api_name, **kwargs)
    return str(info.value)


# ---- gradio_client --------------------------------------------------------------------------------------------------
def test_normalize_text_previews_the_spoken_text(client) -> None:
    spoken = client.predict(EXAMPLE, api_name="/normalize_text")
    assert not re.search(r"[\d$%/:]", spoken) and "dollar" in spoken
    assert client.predict(EXAMPLE, "", False, api_name="/normalize_text") == EXAMPLE
    assert client.predict("我有3个苹果。", api_name="/normalize_text") == "我有三个苹果。"


def test_pronunciations_are_listed_changed_and_used(client, live: dict) -> None:
    assert client.predict("", api_name="/list_pronunciations") == []
    entries = client.predict("Nguyen", "win", False, "", api_name="/set_pronunciation")
    assert entries == [{"word": "Nguyen", "spoken": "win", "case_sensitive": False}]
    client.predict("US", "you ess", True, "", api_name="/set_pronunciation")
    client.predict("Nguyen", "nuh win", False, "alice", api_name="/set_pronunciation")
    assert (live["voices"] / "_pronunciations.txt").read_text().splitlines()[-2:] == ["Nguyen = win", "US == you ess"]
    assert "Nguyen = nuh win" in (live["voices"] / "alice.pronunciations.txt").read_text()
    assert client.predict("Nguyen said US and us.", api_name="/normalize_text") == "win said you ess and us."
    assert client.predict("Nguyen said US.", "alice", api_name="/normalize_text") == "nuh win said you ess."
    # the take says it too: its spoken text comes back with the variations
    _, takes = client.predict(
        None, "", "Nguyen has 2 cats.", 1, 7, nfe_step=7, voice="alice", api_name="/synthesize_variations"
    )
    assert takes[0]["spoken_text"] == "nuh win has two cats."
    assert client.predict("Nguyen", "alice", api_name="/delete_pronunciation") == []
    assert [e["word"] for e in client.predict("", api_name="/list_pronunciations")] == ["Nguyen", "US"]
    for word in ("Nguyen", "US"):
        client.predict(word, "", api_name="/delete_pronunciation")
    assert client.predict("", api_name="/list_pronunciations") == []


def test_variations_at_the_most_takes(client) -> None:
    files, takes = client.predict(
        None, "", "Hello there, my friend.", 4, 40, nfe_step=7, voice="alice", api_name="/synthesize_variations"
    )
    assert len(files) == len(takes) == 4
    assert [t["seed"] for t in takes] == [40, 41, 42, 43] and [t["rank"] for t in takes] == [1, 2, 3, 4]
    waves = []
    for path, take in zip(files, takes, strict=True):
        wave, sr = sf.read(path)
        assert sr == 24000 and abs(len(wave) / sr - take["duration"]) < 0.01 and take["check"] is None
        waves.append(wave)
    assert not np.allclose(waves[0], waves[1])  # four seeds, four takes
    # the same seed through /synthesize gives take 1's audio
    audio, _, seed, _ = client.predict(
        None, "", "Hello there, my friend.", 40, nfe_step=7, voice="alice", api_name="/synthesize"
    )
    assert seed == 40
    same = sf.read(audio)[0]  # Gradio's player scales a take to its peak; the files keep the level
    np.testing.assert_allclose(same / np.abs(same).max(), waves[0] / np.abs(waves[0]).max(), atol=2e-3)


def test_variations_with_the_check_are_ranked_by_score(client) -> None:
    _, takes = client.predict(
        None,
        "",
        "Hello there.",
        3,
        9,
        nfe_step=7,
        voice="alice",
        check=True,
        check_tries=1,
        api_name="/synthesize_variations",
    )
    scores = [t["score"] for t in takes]
    assert all(isinstance(s, float) for s in scores) and scores == sorted(scores)
    assert sorted(t["seed"] for t in takes) == [9, 10, 11]
    for take in takes:
        (chunk,) = take["check"]["chunks"]
        assert take["check"]["checked"] and chunk["tries"] == 1 and chunk["heard"] and chunk["seed"] == take["seed"]


def test_synthesize_keeps_its_four_outputs_and_takes_the_new_options(client, short_ref: Path) -> None:
    from gradio_client import handle_file

    out = client.predict(
        handle_file(str(short_ref)), SHORT_TEXT, "I have 2 cats.", 3, nfe_step=7, normalize=False, check=True,
        check_tries=2, min_duration=False, check_threshold=0.5, api_name="/synthesize",
    )  # fmt: skip
    assert len(out) == 4 and out[2] == 3 and out[3] == SHORT_TEXT and sf.read(out[0])[1] == 24000


def test_dialogue_reports_spoken_text_and_checks(client) -> None:
    _, turns, _ = client.predict(
        "[alice] I have 2 cats. [alice] Hello.", None, 0.1, 7, 5, True, True, api_name="/synthesize_dialogue"
    )
    assert turns[0]["spoken_text"] == "I have two cats." and turns[0]["check"]["checked"]
    _, turns, _ = client.predict("[alice] I have 2 cats.", None, 0.1, 7, 5, False, api_name="/synthesize_dialogue")
    assert turns[0]["spoken_text"] == "I have 2 cats." and turns[0]["check"] is None


# ---- OpenAI ---------------------------------------------------------------------------------------------------------
def speak(live: dict, **fields) -> httpx.Response:
    body = {"model": "f5-tts", "voice": "alice", "input": "Hello there.", "response_format": "wav", "nfe_step": 4}
    return httpx.post(live["base"] + "/v1/audio/speech", json={**body, **fields}, timeout=120)


def test_openai_check_header_and_extension_fields(live: dict) -> None:
    plain = speak(live, seed=2)
    assert plain.status_code == 200 and "x-check" not in plain.headers
    checked = speak(live, seed=2, check=True, check_tries=2, input="I have 2 cats. 我有3个苹果。")
    assert checked.status_code == 200
    report = json.loads(checked.headers["x-check"])
    assert report["checked"] and report["chunks"] and all(c["tries"] <= 2 for c in report["chunks"])
    assert "two cats" in report["chunks"][0]["text"]
    wave, sr = sf.read(__import__("io").BytesIO(checked.content))
    assert sr == 24000 and len(wave) > sr // 2
    raw = speak(live, seed=2, normalize=False, min_duration=False, input="OK!")
    assert raw.status_code == 200


def test_openai_sse_with_the_check_streams_and_ends_with_its_scores(live: dict) -> None:
    body = {"model": "f5-tts", "voice": "alice", "input": "I have 2 cats.", "response_format": "pcm", "nfe_step": 4}
    body |= {"seed": 3, "check": True, "check_tries": 2, "stream_format": "sse"}
    with httpx.stream("POST", live["base"] + "/v1/audio/speech", json=body, timeout=120) as response:
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
        events = [json.loads(line[5:]) for line in response.iter_lines() if line.startswith("data:")]
    kinds = [e["type"] for e in events]
    assert kinds[-2:] == ["speech.check", "speech.audio.done"] and kinds.count("speech.audio.delta") >= 1
    report = events[-2]
    assert report["checked"] and "two cats" in report["chunks"][0]["text"] and report["chunks"][0]["tries"] <= 2
    audio = b"".join(__import__("base64").b64decode(e["audio"]) for e in events if e["type"] == "speech.audio.delta")
    whole = speak(live, seed=3, check=True, check_tries=2, input="I have 2 cats.", response_format="pcm")
    assert audio == whole.content  # the same takes, streamed or whole
    assert json.loads(whole.headers["x-check"])["chunks"] == report["chunks"]


# ---- serverless -----------------------------------------------------------------------------------------------------
def test_serverless_output_has_the_spoken_text_and_the_check(engine: Engine, short_ref: Path) -> None:
    import base64

    worker = serverless_worker(engine)
    ref = base64.b64encode(short_ref.read_bytes()).decode()
    job = {"text": "I have 2 cats.", "ref_audio_base64": ref, "ref_text": SHORT_TEXT, "nfe_step": 4, "seed": 1}
    out = worker.handler({"id": "w", "input": job})
    assert out["spoken_text"] == "I have two cats." and "check" not in out
    out = worker.handler({"id": "w", "input": {**job, "check": True, "check_tries": 2, "normalize": False}})
    assert (
        out["spoken_text"] == "I have 2 cats." and out["check"]["checked"] and out["check"]["chunks"][0]["tries"] <= 2
    )
    items = worker.stream_handler({"id": "w", "input": {**job, "check": True, "check_tries": 1}})
    assert items[0]["text"] == "I have two cats." and items[0]["check"]["tries"] == 1


# ---- bad inputs -----------------------------------------------------------------------------------------------------
def test_bad_pronunciation_entries(client, engine: Engine) -> None:
    from ui.words import WordsHandlers

    h = WordsHandlers(Studio(engine))
    for name, (word, spoken, case) in BAD_ENTRIES.items():
        tried("ui-handler", "pronunciation", name)
        with pytest.raises(gr.Error) as info:
            h.set_pronunciation(word, spoken, case, "")
        assert_clear(info.value.message)
        if "\x00" in word:
            continue  # gradio_client cannot send a NUL in JSON text as typed; the handler above refuses it
        tried("gradio_client", "pronunciation", name)
        assert_clear(app_error(client, word, spoken, case, "", api_name="/set_pronunciation"))
    for name, args in {
        "entry-unknown-voice": ("Nguyen", "win", False, "nobody"),
        "entry-voice-path": ("Nguyen", "win", False, "../../etc"),
    }.items():
        tried("gradio_client", "pronunciation", name)
        assert_clear(app_error(client, *args, api_name="/set_pronunciation"), "no saved voice|cannot be used")
    tried("gradio_client", "pronunciation", "delete-missing-word")
    assert_clear(app_error(client, "Nowhere", "", api_name="/delete_pronunciation"), "not in the global")
    assert client.predict("", api_name="/list_pronunciations") == []


def test_bad_text_to_normalize(client) -> None:
    for name, (text, words) in REFUSED_TEXT.items():
        tried("gradio_client", "normalize_text", name)
        assert_clear(app_error(client, text, api_name="/normalize_text"), words)
    tried("gradio_client", "normalize_text", "normalize-text-flag")
    assert_clear(app_error(client, "Hi 2.", "", "maybe", api_name="/normalize_text"), "normalize")
    tried("gradio_client", "normalize_text", "unknown-voice")
    assert_clear(app_error(client, "Hi 2.", "nobody", api_name="/normalize_text"), "no saved voice")


def test_bad_variation_counts(client, engine: Engine) -> None:
    from inference import SynthesisRequest
    from inference.studio.variations import synthesize_variations

    request = SynthesisRequest("Hello.", engine.reference(audio=b"unused", text=SHORT_TEXT))
    for name, n in BAD_VARIATION_COUNTS.items():
        tried("engine", "variations", name)
        with pytest.raises(Exception, match="number of variations") as info:
            synthesize_variations(engine, request, n)
        assert_clear(str(info.value))
        tried("gradio_client", "variations", name)
        message = app_error(client, None, "", "Hello.", n, 1, voice="alice", api_name="/synthesize_variations")
        assert_clear(message)


def test_new_settings_through_the_variations_endpoint(client) -> None:
    for name, (field, value) in BAD_SETTINGS.items():
        if field not in ("normalize", "check", "min_duration", "check_threshold", "check_tries"):
            continue
        if isinstance(value, float) and not math.isfinite(value):
            continue  # gradio_client cannot send NaN or infinity (see test_bad_input's raw HTTP test)
        tried("gradio_client-variations", "settings", name)
        message = app_error(
            client,
            None,
            "",
            "Hello.",
            2,
            1,
            voice="alice",
            nfe_step=7,
            api_name="/synthesize_variations",
            **{field: value},
        )
        assert_clear(message)


def test_the_app_log_has_no_tracebacks(live: dict) -> None:
    text = live["log"].read_text(errors="replace")
    assert "unexpected error" not in text, text[-3000:]


def test_the_largest_allowed_values_through_the_interfaces(client, engine: Engine, short_ref: Path) -> None:
    import base64

    from inference.text.pronounce import MAX_SPOKEN, MAX_WORD

    word, spoken = "W" * MAX_WORD, "s" * MAX_SPOKEN
    (entry,) = client.predict(word, spoken, True, "", api_name="/set_pronunciation")
    assert entry == {"word": word, "spoken": spoken, "case_sensitive": True}
    assert client.predict(f"Say {word}.", api_name="/normalize_text") == f"Say {spoken}."
    client.predict(word, "", api_name="/delete_pronunciation")
    worker = serverless_worker(engine)
    job = {
        "text": "Hello there.",
        "ref_audio_base64": base64.b64encode(short_ref.read_bytes()).decode(),
        "ref_text": SHORT_TEXT,
        "nfe_step": 4,
        "seed": 1,
        "check": True,
        "check_threshold": 0.0,  # the noise of the tiny model never passes: every try is made
        "check_tries": 5,
    }
    out = worker.handler({"id": "max", "input": job})
    (chunk,) = out["check"]["chunks"]
    assert chunk["tries"] == 5 and len(chunk["scores"]) == 5 and chunk["seed"] in range(1, 6)
    out = worker.handler({"id": "max", "input": {**job, "check_threshold": 1.0, "check_tries": 1}})
    assert out["check"]["chunks"][0]["tries"] == 1

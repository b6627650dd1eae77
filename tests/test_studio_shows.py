"""What the studio knows, it shows, through each real interface. What preparing the reference did or found reaches
the visitor wherever they come in: next to the reference in the page, from gradio_client's /reference_notes, in the
OpenAI answer's X-Reference-Notes header, in serverless output. Each setting shows its help text from
inference/options.py. Captions show the text as typed (the mapping itself: tests/test_typed_captions.py).

Case table (a reference as visitors upload it -> the notes they see):
    2.5 s, of which 2.1 s speech          -> "short reference (2.1 s); 5 to 12 s of speech gives a closer voice match"
    the same, 30 dB quieter               -> also "raised the volume by N dB"
    the example voice over loud hiss      -> "noisy reference (the background is only N dB below the speech); ..."
    the example voice as it ships         -> no notes
"""

from __future__ import annotations

import base64
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from api.openai.serving import notes_header
from inference.audio.prepare import prepare_reference
from inference.options import SynthesisOptions
from tests.conftest import serverless_worker
from tests.live import run_app

SHORT_TEXT = "Some call me nature."
TYPED = "I have 1,250 apples. Dr. Smith called."  # spoken: "... thousand two hundred and fifty ... doctor Smith ..."
TYPED_CUES = ["I have 1,250 apples.", "Dr. Smith called."]
FAST = {"nfe_step": 4, "seed": 7}
QUIET = 10 ** (-30 / 20)  # the quiet reference is 30 dB below the short one


def has(notes: list[str] | tuple[str, ...], start: str) -> bool:
    return any(n.startswith(start) for n in notes)


@pytest.fixture(scope="module")
def quiet_ref(tmp_path_factory: pytest.TempPathFactory, short_ref: Path) -> Path:
    wave, sr = sf.read(short_ref, dtype="float32")
    path = tmp_path_factory.mktemp("quiet") / "quiet.wav"
    sf.write(path, wave * QUIET, sr, subtype="FLOAT")
    return path


@pytest.fixture(scope="module")
def noisy_ref(tmp_path_factory: pytest.TempPathFactory, ref_wav: Path) -> Path:
    wave, sr = sf.read(ref_wav, dtype="float32")
    rms = float(np.sqrt(np.mean(wave**2)))
    hiss = np.random.default_rng(0).standard_normal(len(wave)).astype(np.float32) * rms * 10 ** (-8 / 20)
    path = tmp_path_factory.mktemp("noisy") / "noisy.wav"
    sf.write(path, np.clip(wave + hiss, -1, 1), sr, subtype="FLOAT")
    return path


def test_notes_say_short_quiet_and_noisy(ref_wav: Path, short_ref: Path, quiet_ref: Path, noisy_ref: Path) -> None:
    assert prepare_reference(ref_wav).notes == ()
    short = prepare_reference(short_ref).notes
    assert has(short, "short reference (2.1 s)") and not has(short, "raised the volume"), short
    quiet = prepare_reference(quiet_ref).notes
    assert has(quiet, "short reference") and has(quiet, "raised the volume by"), quiet
    noisy = prepare_reference(noisy_ref).notes
    assert has(noisy, "noisy reference (the background is only"), noisy


def test_notes_header_is_json_ascii_and_bounded() -> None:
    notes = ["réduit", "x" * 600, "y" * 600]
    value = notes_header(notes, limit=700)
    assert value.isascii() and len(value) <= 700
    assert json.loads(value) == ["réduit", "x" * 600, "..."]
    assert json.loads(notes_header([])) == []


def test_serverless_output_carries_the_notes(engine, quiet_ref: Path) -> None:
    worker = serverless_worker(engine)
    job = {"text": "Hello.", "ref_audio_base64": base64.b64encode(quiet_ref.read_bytes()).decode(), **FAST}
    out = worker.handler({"id": "notes", "input": {**job, "ref_text": SHORT_TEXT}})
    assert "error" not in out, out
    assert has(out["ref_notes"], "short reference") and has(out["ref_notes"], "raised the volume by"), out
    items = worker.stream_handler({"id": "notes-stream", "input": {**job, "ref_text": SHORT_TEXT, "stream": True}})
    assert items and all(item["ref_notes"] == out["ref_notes"] for item in items), items


def test_serverless_captions_show_the_typed_text(engine, quiet_ref: Path) -> None:
    job = {"text": TYPED, "ref_audio_base64": base64.b64encode(quiet_ref.read_bytes()).decode(), **FAST}
    out = serverless_worker(engine).handler({"id": "cues", "input": {**job, "ref_text": SHORT_TEXT, "captions": True}})
    assert "error" not in out, out
    assert "1,250" not in out["spoken_text"] and [c["text"] for c in out["cues"]] == TYPED_CUES, out["cues"]


@pytest.fixture(scope="module")
def live(tiny, quiet_ref: Path, tmp_path_factory: pytest.TempPathFactory):
    """The app with a saved voice "quiet" (the quiet short reference, copied in by hand)."""
    voices = tmp_path_factory.mktemp("voices")
    shutil.copy(quiet_ref, voices / "quiet.wav")
    (voices / "quiet.txt").write_text(SHORT_TEXT, encoding="utf-8")
    log = tmp_path_factory.mktemp("notes-app") / "app.log"
    with run_app(env={"F5_MODEL": str(tiny["yaml"]), "VOICES_DIR": str(voices)}, log_path=log) as (url, _):
        yield url


def test_gradio_client_reference_notes(live: str, quiet_ref: Path, ref_wav: Path) -> None:
    from gradio_client import Client, handle_file

    client = Client(live, verbose=False)
    notes = client.predict(handle_file(str(quiet_ref)), api_name="/reference_notes")
    assert has(notes, "short reference") and has(notes, "raised the volume by"), notes
    assert client.predict(handle_file(str(ref_wav)), api_name="/reference_notes") == []
    _, _, _, cues, _ = client.predict(
        handle_file(str(quiet_ref)), SHORT_TEXT, TYPED, 7, 7, api_name="/synthesize_captions"
    )
    assert [c["text"] for c in cues] == TYPED_CUES, cues
    _, takes = client.predict(
        handle_file(str(quiet_ref)), SHORT_TEXT, "Hello.", 1, 7, 7, api_name="/synthesize_variations"
    )
    assert takes[0]["ref_notes"] == notes, takes


def test_openai_header_carries_the_notes_and_captions_the_typed_text(live: str) -> None:
    from openai import OpenAI

    client = OpenAI(base_url=f"{live}/v1", api_key="x", max_retries=0, timeout=120)
    for extra in (FAST, {**FAST, "check": True}):  # streamed, and whole (with the per-chunk check)
        response = client.audio.speech.with_raw_response.create(
            model="f5", voice={"id": "quiet"}, input="Hello.", response_format="pcm", extra_body=extra
        )
        notes = json.loads(response.headers["x-reference-notes"])
        assert has(notes, "short reference") and has(notes, "raised the volume by"), notes
    args = {"model": "f5", "voice": {"id": "quiet"}, "input": TYPED, "response_format": "pcm"}
    with client.audio.speech.with_streaming_response.create(
        **args, stream_format="sse", extra_body={**FAST, "captions": True}
    ) as response:
        assert has(json.loads(response.headers["x-reference-notes"]), "short reference")
        events = [json.loads(line[5:]) for line in response.iter_lines() if line.startswith("data:")]
    (captions,) = [e for e in events if e["type"] == "speech.captions"]
    assert [c["text"] for c in captions["cues"]] == TYPED_CUES, captions


def test_page_shows_notes_next_to_the_reference_and_help_under_settings(
    browser, live: str, quiet_ref: Path, noisy_ref: Path
) -> None:
    from playwright.sync_api import expect

    from tests.test_browser import open_app, upload_reference

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page, errors = open_app(context, live)
        upload_reference(page, quiet_ref)
        notes = page.locator("#ref-notes")
        expect(notes).to_contain_text("short reference (2.1 s)")
        expect(notes).to_contain_text("raised the volume by")
        page.get_by_role("button", name=re.compile(r"^Settings\W*$")).click()
        for name in ("speed", "cross_fade", "remove_silence", "nfe_step"):
            help_text = SynthesisOptions.specs()[name].help
            expect(page.get_by_text(help_text, exact=True).first).to_be_visible()
        page.locator("#ref-audio").get_by_role("button", name="Clear").click()
        expect(notes).to_have_text("")  # the notes go with their recording
        upload_reference(page, noisy_ref)
        expect(notes).to_contain_text("noisy reference (the background is only")
        expect(notes).not_to_contain_text("short reference")
        assert not errors, errors
    finally:
        context.close()


def test_page_shows_notes_with_the_take_and_captions_in_the_words_typed(browser, live: str, quiet_ref: Path) -> None:
    from playwright.sync_api import expect

    from tests.test_browser import choose_fast_preset, generate_and_wait, open_app, upload_reference

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page, errors = open_app(context, live)
        upload_reference(page, quiet_ref)
        notes = page.locator("#ref-notes")
        expect(notes).to_contain_text("raised the volume by")
        page.locator("#ref-text textarea").fill(SHORT_TEXT)
        page.locator("#gen-text textarea").fill(TYPED)
        choose_fast_preset(page)
        generate_and_wait(page)
        expect(page.locator("#spoken-text textarea")).to_have_value(re.compile("thousand"))  # spoken as words
        page.locator("#captions").get_by_text("Captions (SRT / VTT)").click()
        table = page.locator("#captions-table")
        for cue in TYPED_CUES:
            expect(table).to_contain_text(cue)
        expect(notes).to_contain_text("short reference")  # still there with the take
        assert not errors, errors
    finally:
        context.close()

"""Studio features: per-session history (bounded, isolated), downloads in WAV/MP3/FLAC, examples, RTF summary."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from playwright.sync_api import Browser, Page, expect

from tests.conftest import REF_TEXT
from tests.test_browser import choose_fast_preset, generate_and_wait, open_app, player_audio, upload_reference
from ui import history
from ui.clone import example_rows


def take(n: int, seconds: float = 1.0) -> history.Take:
    wave = (0.2 * np.sin(np.arange(int(24000 * seconds)) * 0.03)).astype(np.float32)
    return history.Take(n, f"text {n}", "uploaded reference", 100 + n, {"nfe_step": 7}, 24000, wave, 0.5)


def test_history_is_bounded_newest_first() -> None:
    takes: list[history.Take] = []
    for _ in range(history.HISTORY_MAX + 5):
        takes = history.add_take(takes, take(history.next_number(takes)))
    assert len(takes) == history.HISTORY_MAX
    assert [t.number for t in takes] == list(range(history.HISTORY_MAX + 5, 5, -1))
    assert history.find(takes, takes[3].label()) is takes[3] and history.find(takes, "nope") is None
    assert history.rows(takes)[0][:4] == [15, "text 15", "uploaded reference", 115]
    assert "0.50" in history.summary(take(1)) or "real-time factor 0.50" in history.summary(take(1))


@pytest.mark.parametrize("fmt", ["wav", "mp3", "flac"])
def test_every_download_format_decodes(fmt: str) -> None:
    path = history.export(take(1, 2.0), fmt)
    assert path.suffix == f".{fmt}"
    wave, sr = sf.read(io.BytesIO(path.read_bytes()))
    assert sr == 24000 and wave.ndim == 1 and abs(len(wave) / sr - 2.0) < 0.1
    path.unlink()


def test_examples_exist_and_generate(engine, tmp_path: Path) -> None:
    from inference import Reference, SynthesisOptions, SynthesisRequest

    rows = example_rows()
    assert len(rows) >= 5 and any("basic_ref_zh" in r[0] for r in rows)
    for audio, ref_text, text in rows:
        assert Path(audio).is_file()
        if ref_text:  # transcribed examples need Whisper; the typed ones must generate as they are
            result = engine.synthesize(
                SynthesisRequest(text, Reference(Path(audio), ref_text), SynthesisOptions(nfe_step=4, seed=1))
            )
            assert result.duration > 0.5


def new_page(browser: Browser, url: str) -> tuple[Page, list[str]]:
    return open_app(browser.new_context(viewport={"width": 1280, "height": 900}), url)


def open_takes(page: Page) -> None:
    header = page.get_by_role("button", name=re.compile(r"^This session's takes"))
    if not page.locator("#take-pick").is_visible():
        header.click()


def test_history_is_per_session_and_reusable(browser: Browser, app_url: str, ref_wav: Path) -> None:
    a, errors_a = new_page(browser, app_url)
    b, errors_b = new_page(browser, app_url)
    upload_reference(a, ref_wav)
    a.locator("#ref-text textarea").fill(REF_TEXT)
    a.locator("#gen-text textarea").fill("First take in session A.")
    choose_fast_preset(a)
    generate_and_wait(a)
    expect(a.locator("#take-info")).to_contain_text("real-time factor")
    a.locator("#gen-text textarea").fill("Second take in session A.")
    generate_and_wait(a)
    open_takes(a)
    open_takes(b)
    expect(a.locator("#takes-table")).to_contain_text("Second take in session A.")
    expect(a.locator("#takes-table")).to_contain_text("First take in session A.")
    expect(a.locator("#take-pick")).to_be_visible()
    expect(b.locator("#takes-table")).not_to_contain_text("session A")  # nothing leaks between visitors
    # replay and download the older take as FLAC; the browser can decode it
    a.locator("#take-pick input").click()
    a.locator("ul.options li, [role=option]").filter(has_text="First take").first.click()
    a.get_by_label("flac").check()
    link = a.locator("#take-file a").first
    expect(link).to_have_attribute("href", re.compile(r"\.flac"))
    player_audio(a, "take-audio")
    # reuse: text and seed come back, and the seed stops being randomised
    a.get_by_role("button", name="Reuse its text, seed and settings").click()
    expect(a.locator("#gen-text textarea")).to_have_value("First take in session A.")
    expect(a.get_by_label("Randomize seed each time")).not_to_be_checked()
    assert not errors_a and not errors_b


def test_example_click_then_generate(browser: Browser, app_url: str) -> None:
    page, errors = new_page(browser, app_url)
    page.locator("#examples").get_by_text("Some call me nature").first.click()
    expect(page.locator("#ref-text textarea")).to_have_value(REF_TEXT)
    expect(page.locator("#gen-text textarea")).to_have_value(re.compile(r"^I don't really care"))
    choose_fast_preset(page)
    generate_and_wait(page)
    assert not errors


def test_community_models_are_listed_with_a_matching_config() -> None:
    from ui.models import community_models, matching_config, shipped_archs

    found = {m.language: m for m in community_models()}
    assert {"Multilingual", "French", "German", "Japanese"} <= set(found)
    assert all(m.ckpt.startswith("hf://") and m.vocab.startswith("hf://") for m in found.values())
    assert found["Hindi"].config == "F5TTS_Small"
    archs = shipped_archs()
    assert (
        matching_config({"dim": 1024, "depth": 22, "heads": 16, "ff_mult": 2, "text_dim": 512, "conv_layers": 4}, archs)
        == "F5TTS_v1_Base"
    )
    assert (
        matching_config(
            {
                "dim": 1024,
                "depth": 22,
                "heads": 16,
                "ff_mult": 2,
                "text_dim": 512,
                "text_mask_padding": False,
                "conv_layers": 4,
                "pe_attn_head": 1,
            },
            archs,
        )
        == "F5TTS_Base"
    )
    assert matching_config({"dim": 3}, archs) == ""


def test_story_example_fills_the_dialogue_tab() -> None:
    from inference.studio import dialogue
    from ui.dialogue import ROWS, SLOTS, STORY_VOICES, story_example

    story = story_example()
    assert len(story["audios"]) == len(story["names"]) == len(STORY_VOICES) <= SLOTS
    assert story["tags"] == story["voices"] == list(STORY_VOICES) and len(STORY_VOICES) <= ROWS
    script, audios = story["script"], story["audios"]
    turns = dialogue.parse_script(script)
    assert {t.speaker for t in turns} == set(STORY_VOICES) and len(turns) > 5
    assert any(t.speaker == "town" and t.speed == 0.8 for t in turns)
    assert all(sr >= 16000 and len(data) > sr for sr, data in audios[: len(STORY_VOICES)])

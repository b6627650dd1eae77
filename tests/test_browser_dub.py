"""Timed speech in a real browser (headless Chromium via Playwright) on the launched app: the "Dub subtitles" tab
(upload an SRT and a voice, Dub, play the track, read the report, download the ZIP; a file that is not subtitles
says so), and the captions under the Clone tab's player."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.conftest import REF_TEXT
from tests.test_browser import (  # noqa: F401 - `page`: a fresh page on the app, with its uncaught errors
    GENERATE_TIMEOUT_MS,
    choose_fast_preset,
    generate_and_wait,
    page,
    player_audio,
    upload_reference,
)
from tests.test_dubbing import THREE

SCREENSHOT_COPY = Path("/tmp/studio-dub.png")


def open_dub_tab(page: Page, short_ref: Path, subtitles: Path) -> None:  # noqa: F811
    page.get_by_role("tab", name="Dub subtitles").click()
    page.locator("#dub-subtitles input[type=file]").set_input_files(str(subtitles))
    expect(page.locator("#dub-subtitles a").first).to_have_attribute("href", re.compile(re.escape(subtitles.name)))
    ref = page.locator("#dub-ref-audio")
    ref.locator("input[type=file]").set_input_files(str(short_ref))
    expect(ref.locator("a[data-testid=download-link]")).to_have_attribute("href", re.compile(r"/file="))
    page.locator("#dub-ref-text textarea").fill(REF_TEXT)
    fast = page.locator("#dub-quality").get_by_label("Fast (7 steps)")
    fast.check()
    expect(fast).to_be_checked()


def test_dub_subtitles_in_the_browser(page: tuple[Page, list[str]], short_ref: Path, tmp_path: Path) -> None:  # noqa: F811
    page, errors = page
    srt = tmp_path / "three.srt"
    srt.write_text(THREE, encoding="utf-8")
    open_dub_tab(page, short_ref, srt)
    page.locator("#dub-generate").click()

    expect(page.locator("#dub-result a[data-testid=download-link]")).to_have_attribute(
        "href", re.compile(r"/file=.*/dub-three-seed-\d+\.wav$"), timeout=GENERATE_TIMEOUT_MS
    )
    track = player_audio(page, "dub-result")
    assert abs(track["decoded_seconds"] - 6.5) < 0.05, track  # the last cue's end plus the tail
    expect(page.locator("#dub-summary")).to_contain_text("3 cues")
    report = page.locator("#dub-report")
    for text in ("Hello there, my friend.", "How are you today, then?", "Goodbye to you, my friend."):
        expect(report).to_contain_text(text)
    assert report.inner_text().count("fits") == 3, report.inner_text()
    link = page.locator("#dub-zip a").first
    expect(link).to_have_attribute("href", re.compile(r"\.zip"))
    with page.expect_download() as download:
        link.click()
    saved = tmp_path / "clips.zip"
    download.value.save_as(saved)
    with zipfile.ZipFile(saved) as archive:
        assert sorted(archive.namelist()) == ["cue-001.wav", "cue-002.wav", "cue-003.wav", "report.json"]
    page.screenshot(path=str(SCREENSHOT_COPY), full_page=True)
    assert not errors, errors


def test_a_file_that_is_not_subtitles_says_so(page: tuple[Page, list[str]], short_ref: Path, tmp_path: Path) -> None:  # noqa: F811
    page, errors = page
    notes = tmp_path / "notes.txt"
    notes.write_text("Dear diary,\nno subtitles today.\n", encoding="utf-8")
    open_dub_tab(page, short_ref, notes)
    page.locator("#dub-generate").click()
    toast = page.locator("[data-testid=toast-body]").filter(has_text="not subtitles")
    expect(toast).to_be_visible(timeout=GENERATE_TIMEOUT_MS)
    expect(toast).to_contain_text("00:01:02,500 --> 00:01:04,000")  # what to write instead
    expect(page.locator("#dub-result a[data-testid=download-link]")).to_have_count(0)
    assert not errors, errors


def test_captions_under_the_player(page: tuple[Page, list[str]], short_ref: Path) -> None:  # noqa: F811
    page, errors = page
    upload_reference(page, short_ref)
    page.locator("#ref-text textarea").fill(REF_TEXT)
    page.locator("#gen-text textarea").fill("Hello from the browser. These words have captions.")
    choose_fast_preset(page)
    generate_and_wait(page)
    page.locator("#captions").get_by_text("Captions (SRT / VTT)").click()
    table = page.locator("#captions-table")
    expect(table).to_contain_text("Hello from the browser.")
    expect(table).to_contain_text("These words have captions.")
    expect(page.locator("#captions-srt a").first).to_have_attribute("href", re.compile(r"\.srt"))
    expect(page.locator("#captions-vtt a").first).to_have_attribute("href", re.compile(r"\.vtt"))
    srt = page.evaluate(
        "async (u) => (await fetch(u)).text()", page.locator("#captions-srt a").first.get_attribute("href")
    )
    assert srt.startswith("1\n00:00:00,000 --> ") and "These words have captions." in srt, srt
    expect(page.locator("#captions-note")).to_contain_text("2 cues, one per sentence")
    assert not errors, errors

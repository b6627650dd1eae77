"""The Projects tab in a real browser (headless Chromium via Playwright) on the launched app, tiny model.

Case table:
| a visitor...                                              | sees                                                  |
|-----------------------------------------------------------|-------------------------------------------------------|
| opens the tab, types a text, picks the narrator, Creates  | the project in the list; its progress per chapter     |
|                                                           | refreshing by itself until "done"                     |
| listens to the book so far                                | a playable WAV of every segment                       |
| picks a segment's row, or types its id and opens it       | its text, seed and a playable WAV                     |
| edits its text and saves                                  | "rendering", then "done" again: the table shows the   |
|                                                           | new text, the segment two takes and a new take's audio|
| exports the book as SRT                                   | a download with one cue per segment                   |
| creates with no text                                      | a message saying to paste the text or upload a file   |
"""

from __future__ import annotations

import re
import shutil
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.conftest import REF_TEXT
from tests.live import run_app
from tests.test_browser import player_audio

RENDER_TIMEOUT_MS = 180_000  # the first segment also loads the model
TEXT = "Chapter 1\nThe first line.\n\nChapter 2\nThe second line."


@pytest.fixture(scope="module")
def site(tiny, tmp_path_factory, short_ref: Path) -> Iterator[str]:
    root = tmp_path_factory.mktemp("browser-projects")
    (root / "voices").mkdir()
    shutil.copy(short_ref, root / "voices" / "narrator.wav")
    (root / "voices" / "narrator.txt").write_text(REF_TEXT, encoding="utf-8")
    env = {"F5_MODEL": str(tiny["yaml"]), "VOICES_DIR": str(root / "voices"), "F5_PROJECTS_DIR": str(root / "p")}
    with run_app(env=env, log_path=root / "app.log") as (base, _):
        yield base


@pytest.fixture
def page(browser: Browser, site: str) -> Iterator[tuple[Page, list[str]]]:
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    context.set_default_timeout(30_000)
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(site)
        page.get_by_role("tab", name="Projects").click()
        yield page, errors
    finally:
        context.close()


def fetched(href: str | None) -> bytes:
    assert href and href.startswith("http"), href
    with urllib.request.urlopen(href) as r:
        return r.read()


def text_box(page: Page, elem_id: str):
    return page.locator(f"#{elem_id} textarea, #{elem_id} input").first


def test_create_watch_listen_edit_export(page: tuple[Page, list[str]], tmp_path: Path) -> None:
    page, errors = page
    text_box(page, "proj-name").fill("Browser book")
    text_box(page, "proj-text").fill(TEXT)
    picker = page.locator("#proj-voice")
    picker.locator("input").click()
    picker.get_by_role("option", name="narrator", exact=True).click()
    page.locator("#proj-quality").get_by_label("Fast (7 steps)").check()
    page.locator("#proj-create").click()

    status = page.locator("#proj-status")
    expect(status).to_contain_text("Browser book")
    expect(status).to_contain_text("Chapter 2")
    expect(status).to_contain_text("done · 4/4 segments done", timeout=RENDER_TIMEOUT_MS)  # the timer refreshed it
    expect(page.locator("#proj-list")).to_contain_text("Browser book")
    segments = page.locator("#proj-segments")
    expect(segments).to_contain_text("The second line.")

    page.locator("#proj-listen").click()  # the whole book so far
    so_far = player_audio(page, "proj-so-far")
    segments.get_by_text("The second line.").last.click()  # a row opens its segment
    expect(text_box(page, "proj-seg-text")).to_have_value("The second line.")
    assert player_audio(page, "proj-seg-audio")["decoded_seconds"] < so_far["decoded_seconds"]

    text_box(page, "proj-seg-id").fill("2")
    page.locator("#proj-seg-open").click()
    expect(text_box(page, "proj-seg-text")).to_have_value("The first line.")
    expect(text_box(page, "proj-seg-seed")).to_have_value(re.compile(r"^\d+$"))
    expect(page.locator("#proj-seg-state")).to_contain_text("done · 1 take")
    first = player_audio(page, "proj-seg-audio")
    assert first["peak"] > 0, first
    link = page.locator("#proj-seg-audio a[data-testid=download-link]")
    first_href = link.get_attribute("href")

    text_box(page, "proj-seg-text").fill("A changed first line.")
    page.locator("#proj-seg-save").click()
    expect(segments).to_contain_text("A changed first line.")
    expect(status).to_contain_text("done · 4/4 segments done", timeout=RENDER_TIMEOUT_MS)
    page.locator("#proj-seg-open").click()
    expect(page.locator("#proj-seg-state")).to_contain_text("done · 2 takes")
    expect(page.locator("#proj-takes")).to_contain_text("✓")
    expect(link).not_to_have_attribute("href", first_href or "")
    again = player_audio(page, "proj-seg-audio")
    assert again["peak"] > 0, again
    assert fetched(first_href) != fetched(link.get_attribute("href"))  # the new take's audio, not the old one

    page.locator("#proj-format").get_by_label("srt").check()
    page.locator("#proj-export").click()
    download_link = page.locator("#proj-export-file a").first
    expect(download_link).to_have_attribute("href", re.compile(r"Browser%20book\.srt|Browser book\.srt"))
    with page.expect_download() as download:
        download_link.click()
    saved = tmp_path / "book.srt"
    download.value.save_as(saved)
    captions = saved.read_text(encoding="utf-8")
    assert captions.count("-->") == 4 and "A changed first line." in captions
    page.screenshot(path="/tmp/studio-projects.png", full_page=True)
    assert not errors, errors


def test_creating_with_no_text_says_what_to_do(page: tuple[Page, list[str]]) -> None:
    page, errors = page
    picker = page.locator("#proj-voice")
    picker.locator("input").click()
    picker.get_by_role("option", name="narrator", exact=True).click()
    page.locator("#proj-create").click()
    toast = page.locator("[data-testid=toast-body]").filter(has_text="has no text")
    expect(toast).to_contain_text("Paste the text, or upload")
    assert not errors, errors

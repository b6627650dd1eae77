"""The "Edit a recording" tab in a real browser (headless Chromium via Playwright), on the tiny model.

What a visitor does: open the tab, upload a recording (its transcript appears), edit the words and see the diff
before anything is generated, Generate, and play the result beside the original. The tiny random Whisper hears
noise, so a typed transcript is refused as not matching the recording (a clear message, and the page carries on);
the edit that goes through gives its span in seconds, as the tab's settings allow.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.conftest import REF_TEXT
from tests.test_browser import GENERATE_TIMEOUT_MS, open_app, player_audio

NEW_TEXT = "Some call me optimist, others call me mother nature."
SPAN = [{"start": 1.42, "end": 2.44, "text": "optimist,"}]


@pytest.fixture
def page(browser: Browser, app_url: str) -> Iterator[tuple[Page, list[str]]]:
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    try:
        page, errors = open_app(context, app_url)
        page.get_by_role("tab", name="Edit a recording").click()
        expect(page.locator("#edit-generate")).to_be_visible()
        yield page, errors
    finally:
        context.close()


def test_upload_edit_see_the_diff_generate_and_compare(page: tuple[Page, list[str]], ref_wav: Path) -> None:
    page, errors = page
    recording = page.locator("#edit-audio")
    recording.locator("input[type=file]").set_input_files(str(ref_wav))
    # Its transcript appears (the tiny Whisper's noise), and the new text starts as it
    transcript = page.locator("#edit-transcript textarea")
    expect(transcript).not_to_have_value("", timeout=GENERATE_TIMEOUT_MS)
    expect(page.locator("#edit-new-text textarea")).to_have_value(transcript.input_value())

    # The visitor types what the recording says and edits one word: the diff shows it before anything is generated
    transcript.fill(REF_TEXT)
    page.locator("#edit-new-text textarea").fill(NEW_TEXT)
    diff = page.locator("#edit-diff")
    expect(diff).to_contain_text("optimist,")
    expect(diff).to_contain_text("nature,")
    expect(diff).to_contain_text("others call me mother nature.")
    expect(diff.get_by_text("added")).to_be_visible()  # the legend
    expect(page.locator("#edit-result a[data-testid=download-link]")).to_have_count(0)  # nothing generated yet

    # The tiny Whisper heard noise: the typed transcript does not match it, and the visitor is told what to do
    page.locator("#edit-generate").click()
    toast = page.locator("[data-testid=toast-body]").filter(has_text="does not match the recording")
    expect(toast).to_be_visible(timeout=GENERATE_TIMEOUT_MS)
    expect(toast.locator("[data-testid=toast-text]")).to_contain_text("seconds")
    toast.locator("[data-testid=toast-close]").click()

    # The span in seconds, the fast preset, a seed: Generate, then play the edit beside the original
    page.locator("#edit-settings").get_by_role("button", name=re.compile(r"^Settings")).click()
    page.locator("#edit-spans textarea").fill(json.dumps(SPAN))
    fast = page.locator("#edit-nfe_step").get_by_label("Fast (7 steps)")
    fast.check()
    expect(fast).to_be_checked()
    page.locator("#edit-seed input").fill("11")
    page.locator("#edit-generate").click()
    expect(page.locator("#edit-result a[data-testid=download-link]")).to_have_attribute(
        "href", re.compile(r"/file=.*/edit-basic_ref_en-[\w-]*seed-11\.wav$"), timeout=GENERATE_TIMEOUT_MS
    )
    edited = player_audio(page, "edit-result")
    original = player_audio(page, "edit-original")
    assert original["decoded_seconds"] == pytest.approx(5.33, abs=0.05)
    assert edited["peak"] > 0 and edited["decoded_seconds"] == pytest.approx(original["decoded_seconds"], abs=1.5)
    table = page.locator("#edit-table")
    expect(table).to_contain_text("optimist,")
    expect(table).to_contain_text("replace")
    expect(page.locator("#edit-seed-used input")).to_have_value("11")
    assert not errors, errors

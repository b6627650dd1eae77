"""Every word said right, in a real browser: the normalize and check boxes, the spoken text shown and previewed, the
pronunciation editor, and variations side by side (played, one kept)."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Browser, expect

from tests.conftest import REF_TEXT
from tests.test_browser import GENERATE_TIMEOUT_MS, choose_fast_preset, generate_and_wait, open_app, player_audio
from tests.test_browser import upload_reference as upload

SPOKEN = "#spoken-text textarea"


def field(page, elem_id: str):
    """A Textbox's text field (Gradio renders one as a textarea or an input)."""
    return page.locator(f"#{elem_id}").locator("textarea, input").first


def test_words_in_the_browser(browser: Browser, app_url: str, ref_wav: Path) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    try:
        page, errors = open_app(context, app_url)
        normalize, check = page.locator("#opt-normalize input"), page.locator("#opt-check input")
        expect(normalize).to_be_checked()  # on by default, one click away
        expect(check).not_to_be_checked()  # off by default, one click away
        upload(page, ref_wav)
        page.locator("#ref-text textarea").fill(REF_TEXT)
        page.locator("#gen-text textarea").fill("I paid $3.50 for 2 coffees.")
        choose_fast_preset(page)

        page.locator("#preview-spoken").click()
        expect(page.locator(SPOKEN)).to_have_value(re.compile(r"three dollars and fifty cents for two coffees"))
        normalize.uncheck()
        page.locator("#preview-spoken").click()
        expect(page.locator(SPOKEN)).to_have_value("I paid $3.50 for 2 coffees.")
        normalize.check()

        # the dictionary editor: the new word is said its way at once
        page.locator("#pronunciations").get_by_text("Pronunciations").first.click()
        field(page, "words-word").fill("coffees")
        field(page, "words-spoken").fill("kaw fees")
        page.locator("#words-set").click()
        expect(page.locator("#words-entries")).to_contain_text("kaw fees")
        page.locator("#preview-spoken").click()
        expect(page.locator(SPOKEN)).to_have_value(re.compile(r"for two kaw fees\."))

        # a Generate with the check on: the take shows what was spoken and each chunk's check
        check.check()
        generate_and_wait(page)
        expect(page.locator(SPOKEN)).to_have_value(re.compile(r"kaw fees"))
        expect(page.locator("#check-report")).to_contain_text("Check:")
        expect(page.locator("#check-report")).to_contain_text("tries")
        check.uncheck()

        # variations side by side: three players, each playable, one kept as the result
        page.locator("#variations").get_by_text("Variations").first.click()
        page.locator("#variations-generate").click()
        for k in range(3):
            expect(page.locator(f"#variation-{k} a[data-testid=download-link]")).to_have_attribute(
                "href", re.compile(r"/file="), timeout=GENERATE_TIMEOUT_MS
            )
            assert player_audio(page, f"variation-{k}")["decoded_seconds"] > 0.5
        seeds = [re.search(r"seed (\d+)", page.locator(f"#variation-info-{k}").inner_text()) for k in range(3)]
        assert all(seeds), seeds
        page.locator("#variation-keep-1").click()
        expect(page.get_by_label("Seed used")).to_have_value(seeds[1].group(1))  # type: ignore[union-attr]
        field(page, "words-word").fill("coffees")
        page.locator("#words-delete").click()
        expect(page.locator("#words-entries")).not_to_contain_text("kaw fees")
        assert not errors, errors
    finally:
        context.close()

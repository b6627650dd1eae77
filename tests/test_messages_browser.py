"""Messages a visitor can act on, seen in a real browser (headless Chromium via Playwright), on the tiny model.

| what the visitor does                               | what they must see                                          |
|-----------------------------------------------------|-------------------------------------------------------------|
| Generate with no reference                          | the message; "Error" on the result alone, not on every box |
| Edit tab: Generate with nothing uploaded            | the recording is missing (not "There is no text to speak") |
| Edit tab: spans typed wrong                         | a message about the spans, not about JSON or `edits`       |
| open the page                                       | "Seed used" says it comes after the first take; no "Keep" |
| Generate                                            | the result downloads as <reference>-<first words>-seed-N   |
| Generate 2 variations                               | 2 players and 2 "Keep" buttons                              |
| Dub subtitles with a [Music] cue                    | the cue reported as a sound cue, left silent; headers whole |
| any tab's tables, 1280 to 400 px wide               | headers whole: the table scrolls rather than break a word  |
| open the Model panel on the studio's machine        | the model's paths and settings, the community models       |
| open it through a share link or a proxy             | who chooses the model; no server path, no setting's name   |
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Browser, Page, Playwright, expect

from tests.badinputs import srt_text
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, REF_TEXT
from tests.test_browser import (
    GENERATE_TIMEOUT_MS,
    choose_fast_preset,
    generate_and_wait,
    open_app,
    page,
    upload_reference,
)
from tests.test_browser_dub import open_dub_tab

__all__ = ["page"]  # the fixture: a fresh page on the app

# The status boxes that say "Error" on components (the toast's own title excepted), by their closest elem_id.
ERROR_MARKS = """() => [...document.querySelectorAll('.error')]
  .filter(e => e.textContent.trim() === 'Error' && !e.closest('[data-testid=toast-body]'))
  .map(e => { const c = e.closest('[id]'); return c ? c.id : '?'; })"""


# Table headers broken inside a word (a letter or two per line): more lines than words. [table, header, lines].
SQUEEZED_HEADERS = """(root) => { const out = [];
  for (const th of document.querySelectorAll(root + ' table th')) {
    if (!th.offsetParent || !th.innerText.trim()) continue;
    const tops = new Set(), walk = document.createTreeWalker(th, NodeFilter.SHOW_TEXT);
    for (let node = walk.nextNode(); node; node = walk.nextNode()) {
      const range = document.createRange(); range.selectNodeContents(node);
      for (const r of range.getClientRects()) if (r.width > 0) tops.add(Math.round(r.top));
    }
    const words = th.innerText.split(/\\s+/).filter(Boolean).length;
    if (tops.size > words) out.push([root, th.innerText.replace(/\\s+/g, ' ').trim(), tops.size]);
  } return out; }"""


def toast(page: Page, text: str):
    found = page.locator("[data-testid=toast-body]").filter(has_text=text)
    expect(found).to_be_visible()
    return found


def test_a_failed_generate_marks_the_result_alone(page: tuple[Page, list[str]]) -> None:
    page, errors = page
    page.locator("#gen-text textarea").fill("Nobody told me whose voice to use.")
    page.locator("#generate").click()
    toast(page, "No reference")
    expect(page.locator("#result .error")).to_have_text("Error")
    assert page.evaluate(ERROR_MARKS) == ["result"]  # not the transcript, the picture, the seed, the notes...
    assert not errors, errors


def open_edit_tab(page: Page) -> None:
    page.get_by_role("tab", name="Edit a recording").click()
    expect(page.locator("#edit-generate")).to_be_visible()


def test_edit_with_nothing_uploaded_names_the_recording(page: tuple[Page, list[str]]) -> None:
    page, errors = page
    open_edit_tab(page)
    page.locator("#edit-generate").click()
    message = toast(page, "No recording was given")
    expect(message).to_contain_text("Upload or record the speech to edit")
    expect(page.locator("[data-testid=toast-body]").filter(has_text="no text to speak")).to_have_count(0)
    assert page.evaluate(ERROR_MARKS) == ["edit-result"]  # the transcript the visitor typed is not marked
    assert not errors, errors


def test_the_spans_field_speaks_of_spans(page: tuple[Page, list[str]]) -> None:
    page, errors = page
    open_edit_tab(page)
    page.locator("#edit-settings").get_by_role("button", name=re.compile(r"^Settings")).click()
    spans = page.locator("#edit-spans textarea")
    for typed, said in [
        ("start 1.4, end 2.4", "The spans could not be read"),
        ('{"start": 1.4, "end": 2.4, "text": "hi"}', "The spans must be a list in [ ], not a single object"),
        ('[{"start": 1.4, "text": "hi"}]', "Span 1 has no 'end'"),
    ]:
        spans.fill(typed)
        page.locator("#edit-generate").click()
        message = toast(page, said)
        text = message.locator("[data-testid=toast-text]").inner_text()
        assert "JSON" not in text and "edits" not in text and "Edit 1" not in text, text
        message.locator("[data-testid=toast-close]").click()
        expect(message).to_have_count(0)
    assert not errors, errors


def test_seed_used_download_name_and_one_keep_per_take(page: tuple[Page, list[str]], ref_wav: Path) -> None:
    page, errors = page
    seed_used = page.locator("#seed-used input")
    expect(seed_used).to_be_hidden()  # no take, no seed (never a 0 that no take used)
    page.locator("#variations").get_by_text("Variations: the same text with several seeds").click()
    expect(page.locator("#variations-generate")).to_be_visible()
    expect(page.locator("[id^=variation-keep-]:visible")).to_have_count(0)  # no takes, nothing to keep

    upload_reference(page, ref_wav)
    page.locator("#ref-text textarea").fill(REF_TEXT)
    page.locator("#gen-text textarea").fill("Hello there, my friend! How are you?")
    choose_fast_preset(page)
    generate_and_wait(page)
    seed = seed_used.input_value()
    assert re.fullmatch(r"\d+", seed), seed
    link = page.locator("#result a[data-testid=download-link]")
    assert link.get_attribute("href").endswith(f"/basic_ref_en-hello-there-my-friend-how-seed-{seed}.wav")

    count = page.locator("#variations-count input[type=number]")
    count.fill("2")
    count.blur()
    expect(page.locator("#variations-count input[type=range]")).to_have_value("2")
    page.locator("#variations-generate").click()
    expect(page.locator("#variation-1 a[data-testid=download-link]")).to_have_count(1, timeout=GENERATE_TIMEOUT_MS)
    expect(page.locator("[id^=variation-keep-]:visible")).to_have_count(2)
    expect(page.locator("#variation-2")).to_be_hidden()  # as many players as takes, too
    assert not errors, errors


def test_the_model_panel_shows_server_details_to_the_operator_alone(
    pw: Playwright, browser: Browser, app_url: str, tiny: dict[str, Path]
) -> None:
    """The operator opens http://127.0.0.1; a visitor comes by another name (a share link, a proxy): here a name
    the browser maps to the same machine, as a share link's tunnel does."""
    port = urlsplit(app_url).port
    visitor_browser = pw.chromium.launch(
        executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, "--host-resolver-rules=MAP visitor.test 127.0.0.1"]
    )
    try:
        for who, chromium, url in [
            ("operator", browser, app_url),
            ("visitor", visitor_browser, f"http://visitor.test:{port}"),
        ]:
            context = chromium.new_context(viewport={"width": 1280, "height": 900})
            try:
                page, errors = open_app(context, url)
                page.locator("#model-panel").get_by_text("Model").first.click()
                running = page.locator("#model-running")
                if who == "operator":
                    expect(running).to_contain_text(f"F5_MODEL={tiny['yaml']}")
                    expect(page.locator("#community-models")).to_be_visible()
                else:
                    expect(running).to_contain_text("The operator chooses the model")
                    expect(page.locator("#community-models")).to_be_hidden()
                    html = page.content()
                    assert str(tiny["yaml"]) not in html and "F5_CKPT=" not in html
                assert not errors, errors
            finally:
                context.close()
    finally:
        visitor_browser.close()


def test_a_music_cue_is_reported_as_a_sound_cue_and_the_report_reads(
    page: tuple[Page, list[str]], short_ref: Path, tmp_path: Path
) -> None:
    page, errors = page
    srt = tmp_path / "music.srt"
    srt.write_text(srt_text((0.5, 1.5, "Hello there, my friend, " * 3), (2.0, 3.0, "[Music]")), encoding="utf-8")
    open_dub_tab(page, short_ref, srt)
    page.locator("#dub-generate").click()
    report = page.locator("#dub-report")
    expect(report).to_contain_text("sound cue [Music]: left silent", timeout=GENERATE_TIMEOUT_MS)
    for width in (1280, 800, 400):  # the report scrolls sideways rather than break its headers' words
        page.set_viewport_size({"width": width, "height": 900})
        expect(report).to_be_visible()
        assert page.evaluate(SQUEEZED_HEADERS, "#dub-report") == [], width
    assert not errors, errors


def test_no_table_header_breaks_inside_a_word(page: tuple[Page, list[str]]) -> None:
    page, errors = page
    page.get_by_text("This session's takes").click()
    expect(page.locator("#takes-table")).to_be_visible()
    for tab in ["Clone a voice", "Dialogue", "Dub subtitles", "Edit a recording"]:
        page.set_viewport_size({"width": 1280, "height": 900})
        page.get_by_role("tab", name=tab).click()
        for width in (1280, 800, 400):
            page.set_viewport_size({"width": width, "height": 900})
            expect(page.locator("table th:visible").first).to_be_visible()
            assert page.evaluate(SQUEEZED_HEADERS, "") == [], (tab, width)
    assert not errors, errors

"""The launched app in a real browser (headless Chromium via Playwright), on the tiny model.

What a visitor does: upload or record a reference, type, pick a preset, press Generate, and hear a result; and what
they see when they forget the reference. Audio is checked inside the page: the file behind each player is fetched and
decoded by the browser (Web Audio), and loaded by an HTMLAudioElement, so "playable" means the browser can play it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect

from tests.conftest import CHROMIUM, CHROMIUM_ARGS, REF_TEXT, wait_until
from tests.live import metric_samples

GENERATE_TIMEOUT_MS = 120_000  # the first Generate also loads the model
expect.set_options(timeout=20_000)  # every expectation: a busy machine (two shared cores) renders the page slowly
SCREENSHOT_COPY = Path("/tmp/studio-browser.png")

# Fetch a media URL in the page, decode it with Web Audio, and load it in an <audio> element.
PROBE_AUDIO = """async (url) => {
  const r = await fetch(url);
  const buf = await r.arrayBuffer();
  const decoded = await new OfflineAudioContext(1, 1, 44100).decodeAudioData(buf.slice(0));
  let peak = 0;
  for (const x of decoded.getChannelData(0)) peak = Math.max(peak, Math.abs(x));
  const media = await new Promise((resolve) => {
    const a = new Audio();
    a.preload = "metadata";
    a.onloadedmetadata = () => resolve({duration: a.duration, readyState: a.readyState, error: null});
    a.onerror = () => resolve({duration: 0, readyState: a.readyState, error: a.error && a.error.code});
    a.src = url;
  });
  return {status: r.status, type: r.headers.get("content-type"), bytes: buf.byteLength,
          decoded_seconds: decoded.duration, peak, media};
}"""


def open_app(context: BrowserContext, url: str) -> tuple[Page, list[str]]:
    """A fresh page on the app, and a list that collects uncaught page errors (asserted empty at the end)."""
    context.set_default_timeout(30_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    expect(page.locator("#generate")).to_be_enabled()
    expect(page.locator("#model-status")).to_contain_text("Model")
    return page, errors


@pytest.fixture
def page(browser: Browser, app_url: str) -> Iterator[tuple[Page, list[str]]]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        yield open_app(context, app_url)
    finally:
        context.close()


def upload_reference(page: Page, wav: Path) -> None:
    ref = page.locator("#ref-audio")
    ref.locator("input[type=file]").set_input_files(str(wav))
    expect(ref.locator("a[data-testid=download-link]")).to_have_attribute("href", re.compile(r"/file="))


def choose_fast_preset(page: Page) -> None:
    fast = page.get_by_label("Fast (7 steps)")
    if not fast.is_visible():
        # The accordion's header is named "Settings ▼"; the footer's settings link ("Settings Settings") is not it.
        page.get_by_role("button", name=re.compile(r"^Settings\W*$")).click()
    expect(fast).to_be_visible()
    fast.check()
    expect(fast).to_be_checked()


def player_audio(page: Page, elem_id: str) -> dict:
    """The audio shown by the gr.Audio with `elem_id`: its waveform has decoded it, and the page can play its file."""
    block = page.locator(f"#{elem_id}")
    link = block.locator("a[data-testid=download-link]")
    expect(link).to_have_attribute("href", re.compile(r"/file="))
    # WaveSurfer (Gradio's player) writes the length under the waveform once it has decoded the audio.
    expect(block.locator("time#duration")).not_to_have_text(re.compile(r"^\s*0:00\s*$"))
    info = page.evaluate(PROBE_AUDIO, link.get_attribute("href"))
    assert info["status"] == 200 and info["type"].startswith("audio/"), info
    assert info["bytes"] > 1000 and info["decoded_seconds"] > 0.2, info
    assert info["media"]["error"] is None and info["media"]["duration"] > 0.2, info
    assert info["media"]["readyState"] >= 1, info
    return info


def generate_and_wait(page: Page) -> dict:
    page.locator("#generate").click()
    expect(page.locator("#result a[data-testid=download-link]")).to_have_attribute(
        "href", re.compile(r"/file="), timeout=GENERATE_TIMEOUT_MS
    )
    info = player_audio(page, "result")
    expect(page.locator("#model-status")).to_contain_text("Model ready", timeout=10_000)
    return info


def test_upload_generate_and_play(page: tuple[Page, list[str]], ref_wav: Path, tmp_path: Path) -> None:
    page, errors = page
    upload_reference(page, ref_wav)
    ref_info = player_audio(page, "ref-audio")
    assert ref_info["decoded_seconds"] == pytest.approx(5.3, abs=0.2)  # basic_ref_en.wav is 5.33 s
    page.locator("#ref-text textarea").fill(REF_TEXT)
    page.locator("#gen-text textarea").fill("Hello from the browser, in a borrowed voice.")
    choose_fast_preset(page)

    result = generate_and_wait(page)

    assert result["peak"] > 0, result  # not an all-zero file
    expect(page.locator("#model-status")).to_contain_text(re.compile(r"Model ready on \w+"))
    seed_used = page.get_by_label("Seed used")
    expect(seed_used).to_have_value(re.compile(r"^\d+$"))
    expect(page.locator("#ref-text textarea")).to_have_value(REF_TEXT)  # the transcript given is kept as is
    shot = tmp_path / "studio.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.is_file() and shot.stat().st_size > 10_000
    shutil.copyfile(shot, SCREENSHOT_COPY)
    assert not errors, errors


def test_generate_without_reference_shows_error(page: tuple[Page, list[str]], ref_wav: Path) -> None:
    page, errors = page
    page.locator("#gen-text textarea").fill("Nobody told me whose voice to use.")
    page.locator("#generate").click()

    toast = page.locator("[data-testid=toast-body]").filter(has_text="No reference")
    expect(toast).to_be_visible()
    expect(toast.locator("[data-testid=toast-text]")).to_contain_text("Upload or record")
    expect(page.locator("#result a[data-testid=download-link]")).to_have_count(0)  # no stale or empty result
    toast.locator("[data-testid=toast-close]").click()
    expect(toast).to_have_count(0)

    # The page keeps working: fix the input and the same page generates.
    expect(page.locator("#generate")).to_be_enabled()
    upload_reference(page, ref_wav)
    page.locator("#ref-text textarea").fill(REF_TEXT)
    choose_fast_preset(page)
    generate_and_wait(page)
    expect(page.locator("[data-testid=toast-body].error")).to_have_count(0)
    assert not errors, errors


@pytest.fixture
def mic_wav(ref_wav: Path, tmp_path: Path) -> Path:
    """The reference as Chromium's fake microphone likes it best: 48 kHz stereo 16-bit WAV."""
    out = tmp_path / "mic.wav"
    subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-loglevel",
            "error",
            "-y",
            "-i",
            str(ref_wav),
            "-ar",
            "48000",
            "-ac",
            "2",
            "-c:a",
            "pcm_s16le",
            str(out),
        ],
        check=True,
    )
    return out


def test_record_with_microphone_then_generate(pw: Playwright, app_url: str, mic_wav: Path) -> None:
    browser = pw.chromium.launch(
        executable_path=CHROMIUM,
        args=[
            *CHROMIUM_ARGS,
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-audio-capture={mic_wav}",
        ],
    )
    try:
        context = browser.new_context(permissions=["microphone"], viewport={"width": 1280, "height": 900})
        page, errors = open_app(context, app_url)
        ref = page.locator("#ref-audio")
        ref.get_by_role("button", name="Record audio").click()
        record = ref.get_by_role("button", name="Record", exact=True)
        expect(record).to_be_visible()
        record.click()
        # Recording: the recorder's own clock counts up; stop after 3 s of it rather than sleeping.
        expect(ref.locator(".timestamps time.duration")).to_have_text(re.compile(r"0:0[3-9]"), timeout=15_000)
        ref.locator("button.stop-button").click()

        recorded = player_audio(page, "ref-audio")
        assert 2.5 < recorded["decoded_seconds"] < 8, recorded
        assert recorded["peak"] > 0.05, recorded  # the fake microphone's speech, not silence

        page.locator("#ref-text textarea").fill("Some call me nature.")
        page.locator("#gen-text textarea").fill("This voice was recorded in the browser.")
        choose_fast_preset(page)
        generate_and_wait(page)
        assert not errors, errors
    finally:
        browser.close()


def wait_metrics(app_url: str, ready: Callable[[dict[str, float]], bool], timeout: float = 120.0) -> dict[str, float]:
    """/metrics once `ready` says so (the app has no event to wait on from outside); fails at the deadline."""
    samples = wait_until(lambda: ready(s := metric_samples(app_url)) and s, timeout)
    assert samples, metric_samples(app_url)
    return samples


def test_closing_the_tab_mid_generation_frees_the_queued_chunks(
    browser: Browser, app_url: str, short_ref: Path
) -> None:
    """A visitor presses Generate on a long text and closes the tab after the first chunk: the chunks not started
    are dropped (the generation ends, and at most the chunk under way at the close still runs)."""
    text = " ".join(f"Sentence number {i} of a long text nobody will hear." for i in range(90))
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page, _ = open_app(context, app_url)
    upload_reference(page, short_ref)
    page.locator("#ref-text textarea").fill(REF_TEXT)
    page.locator("#gen-text textarea").fill(text)
    choose_fast_preset(page)
    before = metric_samples(app_url).get("studio_chunk_wait_seconds_count", 0.0)
    page.locator("#generate").click()
    started = wait_metrics(  # the first chunk is done and the others are queued
        app_url, lambda s: s["studio_generations_in_progress"] == 1 and s["studio_chunks_waiting"] >= 4
    )
    context.close()
    idle = wait_metrics(
        app_url,
        lambda s: s["studio_generations_in_progress"] == 0 and s["studio_chunks_waiting"] == 0
        and s["studio_runs_active"] == 0,
    )  # fmt: skip
    ran_after_close = idle["studio_chunk_wait_seconds_count"] - started["studio_chunk_wait_seconds_count"]
    assert ran_after_close <= 1, (
        f"{ran_after_close:g} chunks ran after the tab closed ({started['studio_chunks_waiting']:g} were queued)"
    )
    assert started["studio_chunk_wait_seconds_count"] - before >= 1

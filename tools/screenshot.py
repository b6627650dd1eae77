"""The README's screenshot: the studio on a tiny random model after one take, photographed by headless Chromium.

    python tools/screenshot.py docs/studio.png [--chromium /usr/bin/chromium]

Needs the test tools (`make test` installs Playwright and chromium). The model is random, so the take is noise:
the picture shows the page, not a voice.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TEXT = "Hello! This is my cloned voice, made from a few seconds of speech."


def wait_http(url: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the app exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


def shrink(png: bytes, out: Path) -> None:
    """256 colours are plenty for a page: about a third of the bytes."""
    import io

    from PIL import Image

    Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=256).save(out, optimize=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--port", type=int, default=7899)
    args = parser.parse_args()

    from importlib.resources import files

    from playwright.sync_api import expect, sync_playwright

    from inference.model.random_weights import build as build_random_weights  # a developer tool may reach inside

    root = Path(tempfile.mkdtemp(prefix="screenshot-"))
    tiny = build_random_weights(root)
    ref = Path(str(files("f5_tts").joinpath("infer/examples/basic/basic_ref_en.wav")))
    env = {**os.environ, "F5_MODEL": str(tiny["yaml"]), "HF_HOME": str(root / "hf"), "HF_HUB_OFFLINE": "1"}
    env |= {"VOICES_DIR": str(root / "voices"), "GRADIO_SERVER_PORT": str(args.port)}
    log = open(root / "app.log", "wb")
    app = subprocess.Popen([sys.executable, "app.py"], cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=log)
    url = f"http://127.0.0.1:{args.port}"
    try:
        wait_http(url + "/health", app)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=args.chromium, args=["--headless", "--no-sandbox", "--disable-gpu"]
            )
            page = browser.new_page(viewport={"width": 1280, "height": 760})
            page.set_default_timeout(300_000)
            page.goto(url)
            expect(page.locator("#generate")).to_be_enabled()
            page.locator("#ref-audio input[type=file]").set_input_files(str(ref))
            uploaded = page.locator("#ref-audio a[data-testid=download-link]")
            expect(uploaded).to_have_attribute("href", re.compile("/file="))
            page.locator("#ref-text textarea").fill("Some call me nature, others call me mother nature.")
            page.locator("#gen-text textarea").fill(TEXT)
            page.locator("#generate").click()
            expect(page.locator("#take-info")).to_contain_text("Generated", timeout=300_000)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            page.evaluate("window.scrollTo(0, 0)")
            page.wait_for_function("window.scrollY === 0")
            picture = page.screenshot(type="png")
            browser.close()
    finally:
        app.terminate()
        app.wait(timeout=30)
        log.close()
    shrink(picture, args.out)
    print(f"{args.out}: {args.out.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())

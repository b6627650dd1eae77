"""Shared fixtures. Every test runs offline against tiny random-weight models written, once per session, into
the layouts production reads: an HF cache under HF_HOME (HF_HUB_OFFLINE=1) and explicit custom paths.

HF_HOME must be set before huggingface_hub is imported (it reads it once), hence the top of this file.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

ROOT = Path(tempfile.mkdtemp(prefix="studio-tests-"))
os.environ["HF_HOME"] = str(ROOT / "hf")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ["VOICES_DIR"] = str(ROOT / "voices")
for var in ("F5_MODEL", "F5_CKPT", "F5_VOCAB", "F5_VOCODER", "F5_DEVICE", "F5_PRELOAD", "GRADIO_SERVER_PORT"):
    os.environ.pop(var, None)

REF_TEXT = "Some call me nature, others call me mother nature."


def pytest_collection_finish(session: pytest.Session) -> None:
    if any(item.get_closest_marker("container") for item in session.items):
        from tests.test_container import start_build

        start_build()  # the image builds in the background while the other tests run (containers go last)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if "tests.test_container" in sys.modules:
        sys.modules["tests.test_container"].stop_build()
    shutil.rmtree(ROOT, ignore_errors=True)


# Tests that launch the app or another server, or drive a subprocess end to end, are `e2e`; those in a real
# browser are `browser` too. `make test-fast` leaves them out; `make test` runs everything.
E2E_FIXTURES = {
    "app_url",
    "rest",
    "live",
    "base",
    "protected",
    "locked",
    "hub",
    "fresh_hub",
    "downloaded",
    "hub_down_run",
    "site",
    "recorder",
    "client",
    "worker_env",
}
E2E_MODULES = {"test_app_e2e", "test_browser", "test_download", "test_load", "test_bench", "test_gradio_import"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # The container tests go last: their image builds in the background meanwhile (pytest_collection_finish)
    items[:] = sorted(items, key=lambda item: item.get_closest_marker("container") is not None)
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        module = item.module.__name__.rsplit(".", 1)[-1] if getattr(item, "module", None) else ""
        if fixtures & {"browser", "pw", "page"}:
            item.add_marker(pytest.mark.browser)
        if fixtures & E2E_FIXTURES or module in E2E_MODULES or "subprocess" in item.name or _launches(item):
            item.add_marker(pytest.mark.e2e)


def _launches(item: pytest.Item) -> bool:
    """Whether the test's own code starts the app, a server or a subprocess, or a fixture it uses (directly or
    through other fixtures) launches the app."""
    if any(
        word in _source(getattr(item, "function", None)) for word in ("run_app(", "serve(", "subprocess.", "_worker(")
    ):
        return True
    info = getattr(item, "_fixtureinfo", None)
    fixtures = [d.func for defs in (info.name2fixturedefs.values() if info else ()) for d in defs]
    return any("run_app(" in _source(f) for f in fixtures)


def _source(function) -> str:
    import inspect

    try:
        return inspect.getsource(function)
    except (OSError, TypeError):
        return ""


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Only `e2e` tests may launch the app (tests/live.py refuses otherwise), so that `-m "not e2e"` never does."""
    from tests import live

    live.launch_allowed = item.get_closest_marker("e2e") is not None


@pytest.fixture(scope="session")
def tiny() -> dict[str, Path]:
    """A tiny random F5-TTS + Vocos (+ Whisper) in the HF cache at $HF_HOME and under ROOT/custom."""
    from inference.model.random_weights import build
    from tests.tiny_whisper import build_tiny_whisper, install_into_hf_cache

    paths = build(ROOT)
    whisper = build_tiny_whisper(ROOT / "whisper")
    install_into_hf_cache(whisper, ROOT / "hf")
    return paths


@pytest.fixture(scope="session")
def tiny_settings(tiny: dict[str, Path]):
    """EngineSettings as production reads them (defaults: hf:// checkpoint, vocab, vocoder), with the tiny config;
    the mark off (it changes every sample: tests compare waves with what the model made; tests of the mark,
    tests/test_watermark_outputs.py, turn it on)."""
    from inference import EngineSettings

    return EngineSettings(model=str(tiny["yaml"]), voices_dir=ROOT / "voices", watermark=False)


class SharedHooks:
    """The shared engine's test hooks. An engine's hooks (EngineHooks) are fixed when it is built, so the shared one
    is built with these, which pass each call on to what a test sets here (`fault`, `check_scorer`; None: no fault,
    Whisper's score); a test sets them back to None when it is done."""

    def __init__(self) -> None:
        self.fault: Callable[[Any], None] | None = None
        self.check_scorer: Callable[..., tuple[float, str]] | None = None
        self.transcriber: Any = None  # the shared engine's Whisper, for the default score

    def on_item(self, item: Any) -> None:
        if self.fault is not None:
            self.fault(item)

    def score(self, wave: Any, sample_rate: int, text: str) -> tuple[float, str]:
        from inference.check import whisper_scorer

        return (self.check_scorer or whisper_scorer(self.transcriber))(wave, sample_rate, text)


@pytest.fixture(scope="session")
def engine_hooks() -> SharedHooks:
    return SharedHooks()


@pytest.fixture(scope="session")
def engine(tiny_settings, engine_hooks: SharedHooks):
    """One loaded engine shared by tests that only generate (loading is tested on fresh engines); tests inject
    faults and scores through `engine_hooks`."""
    from inference import Engine
    from inference.engine import EngineHooks

    e = Engine(tiny_settings, hooks=EngineHooks(fault=engine_hooks.on_item, check_scorer=engine_hooks.score))
    engine_hooks.transcriber = e.transcriber
    e.load()
    return e


@pytest.fixture(scope="session")
def ref_wav() -> Path:
    return Path(str(files("f5_tts").joinpath("infer/examples/basic/basic_ref_en.wav")))


SHORT_REF_S = 2.5  # a short reference keeps every generation short (it is part of what the model generates)


@pytest.fixture(scope="session")
def short_ref(tmp_path_factory: pytest.TempPathFactory, ref_wav: Path) -> Path:
    """The first 2.5 s of the reference, as 16-bit WAV."""
    import soundfile as sf

    wave, sr = sf.read(ref_wav, dtype="float32")
    path = tmp_path_factory.mktemp("short-ref") / "short.wav"
    sf.write(path, wave[: int(SHORT_REF_S * sr)], sr, subtype="PCM_16")
    return path


@pytest.fixture(scope="module")
def app_url(tiny: dict[str, Path], tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest):
    """The app launched as `python app.py` on the tiny model, one per test module; its log in a temp folder."""
    from tests.live import run_app

    log = tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1]) / "app.log"
    with run_app(env={"F5_MODEL": str(tiny["yaml"])}, log_path=log) as (base, _):
        yield base


def mark_id_blanked(data: bytes) -> bytes:
    """An output file with its tags' mark id zeroed (inference/audio/encode.py output_tags): two requests for the same
    audio give files equal byte for byte but for their own mark ids."""
    import re

    blanked = re.sub(rb"mark id [0-9a-f]{16}", b"mark id " + b"0" * 16, data)
    assert blanked != data or b"mark id" not in data
    return blanked


def wait_until(condition: Callable[[], Any], timeout: float = 30.0) -> Any:
    """Poll `condition` until it gives something true, and return that; None at the deadline. For states that have
    no event to wait on (the scheduler's queue, a server's counters)."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            return None
        time.sleep(0.02)
    return value


def wait_idle(engine, timeout: float = 30.0) -> bool:
    """Until nothing waits or runs in the scheduler and no generation is open."""
    s = engine.scheduler
    return bool(wait_until(lambda: not (s.waiting or s.running or engine.active), timeout))


class SyncWorker:
    """A serverless Worker driven synchronously, as a test calls it: handler(job) -> output, stream_handler(job) ->
    the list of items."""

    def __init__(self, worker) -> None:
        self.worker = worker

    def handler(self, job):
        import asyncio

        return asyncio.run(self.worker.handler(job))

    def stream_handler(self, job) -> list:
        import asyncio

        async def collect() -> list:
            return [item async for item in self.worker.stream_handler(job)]

        return asyncio.run(collect())

    def __getattr__(self, name: str):
        return getattr(self.worker, name)


def serverless_worker(engine, **settings) -> SyncWorker:
    """serverless.handler's Worker on `engine`, with the default payload limits unless `settings` say otherwise."""
    from inference import Studio
    from serverless.handler import Worker, WorkerSettings

    return SyncWorker(Worker(None if engine is None else Studio(engine), WorkerSettings(**settings)))


@pytest.fixture(scope="session")
def ref_zh() -> Path:
    return Path(str(files("f5_tts").joinpath("infer/examples/basic/basic_ref_zh.wav")))


@pytest.fixture(scope="module")
def pw():
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is needed for the browser tests"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(pw):
    b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield b
    b.close()

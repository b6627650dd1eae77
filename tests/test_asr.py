"""inference.model.asr: lazy Whisper transcription, offline, against a tiny random Whisper (tests/tiny_whisper.py).

Cases that need another HF_HOME than the session's (conftest sets it before huggingface_hub is imported) patch
huggingface_hub.constants, which holds the values read from the environment at import time; one case runs in a
subprocess with the real environment variables, as production does.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from inference.errors import InputError, ModelUnavailable
from inference.model import asr
from inference.model.asr import Transcriber
from tests.tiny_whisper import build_tiny_whisper, install_into_hf_cache

REPO = "openai/whisper-large-v3-turbo"
ROOT_DIR = Path(__file__).resolve().parents[1]
DEFAULT_MAX_NEW_TOKENS = asr.MAX_NEW_TOKENS
TEST_MAX_NEW_TOKENS = 16  # the tiny model never stops on its own (see tiny_whisper.py): keep its runs short


@pytest.fixture(autouse=True)
def short_generation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(asr, "MAX_NEW_TOKENS", TEST_MAX_NEW_TOKENS)


@pytest.fixture(scope="session")
def tiny_whisper(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_whisper(tmp_path_factory.mktemp("asr") / "tiny-whisper")


@pytest.fixture
def hf_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty HF_HOME, offline, in effect for this process (env vars and huggingface_hub's import-time copies)."""
    from huggingface_hub import constants

    home = tmp_path / "hf"
    home.mkdir()
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HOME", str(home))
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(home / "hub"))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    return home


@pytest.fixture
def load_calls(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """Records each transformers.pipeline call made by Transcriber (the real pipeline still runs)."""
    import transformers

    real = transformers.pipeline
    calls: list[dict] = []

    def counting(*args, **kwargs):
        calls.append(kwargs)
        time.sleep(0.05)  # widen the window in which concurrent callers could start a second load
        return real(*args, **kwargs)

    monkeypatch.setattr(transformers, "pipeline", counting)
    return calls


def noise(seconds: float, sample_rate: int = 24000, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal(int(seconds * sample_rate)) * 0.1).astype(np.float32)


# --- cheap and lazy ---------------------------------------------------------------------------------------------


def test_import_is_light() -> None:
    code = "import sys, inference.model.asr; print(sorted({'torch', 'transformers', 'torchaudio'} & set(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT_DIR, timeout=60
    )
    assert out.stdout.strip() == "[]"


def test_construction_loads_nothing(load_calls: list[dict]) -> None:
    t = Transcriber("/definitely/not/here")
    assert t.model == "/definitely/not/here" and t.device == "cpu"
    assert not t.loaded
    assert load_calls == []


@pytest.mark.parametrize(
    ("wave", "sample_rate"),
    [
        (np.zeros(0, np.float32), 24000),
        (np.zeros((2, 2400), np.float32), 24000),
        (np.full(2400, np.nan, np.float32), 24000),
        (np.zeros(2400, np.float32), 0),
    ],
    ids=["empty", "stereo", "nan", "no-rate"],
)
def test_unusable_audio_is_an_input_error_before_any_load(wave, sample_rate, load_calls: list[dict]) -> None:
    t = Transcriber("/definitely/not/here")
    with pytest.raises(InputError):
        t.transcribe(wave, sample_rate)
    assert load_calls == [] and not t.loaded


# --- model unavailable ------------------------------------------------------------------------------------------


def test_empty_cache_offline_is_unavailable_and_retried(
    hf_home: Path, tiny_whisper: Path, load_calls: list[dict]
) -> None:
    t = Transcriber(REPO)
    with pytest.raises(ModelUnavailable) as info:
        t.transcribe(noise(1), 24000)
    err = info.value
    assert REPO in err.message and str(hf_home) in err.message, err.message
    assert "could not be downloaded" in err.message
    assert "Type the reference transcript yourself" in err.hint and "python app.py download" in err.hint
    assert err.__cause__ is not None
    assert not t.loaded

    with pytest.raises(ModelUnavailable):  # the failure is not remembered: a second call tries again
        t.transcribe(noise(1), 24000)
    assert len(load_calls) == 2

    install_into_hf_cache(tiny_whisper, hf_home, REPO)  # e.g. `python app.py download` ran meanwhile
    assert isinstance(t.transcribe(noise(1), 24000, language="en"), str)
    assert t.loaded and len(load_calls) == 3


def test_missing_local_folder_is_unavailable(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-whisper"
    with pytest.raises(ModelUnavailable) as info:
        Transcriber(str(missing)).transcribe(noise(1), 24000)
    assert str(missing) in info.value.message and "does not exist" in info.value.message
    assert "python app.py download" in info.value.hint
    assert info.value.__cause__ is not None


@pytest.mark.parametrize("damage", ["empty-folder", "no-weights", "garbage-weights", "garbage-config"])
def test_broken_local_folder_is_unavailable(damage: str, tiny_whisper: Path, tmp_path: Path) -> None:
    folder = tmp_path / "whisper"
    if damage == "empty-folder":
        folder.mkdir()
    else:
        shutil.copytree(tiny_whisper, folder)
        if damage == "no-weights":
            (folder / "model.safetensors").unlink()
        elif damage == "garbage-weights":
            (folder / "model.safetensors").write_bytes(b"\x00not a safetensors file" * 10)
        else:
            (folder / "config.json").write_text("{ not json")
    t = Transcriber(str(folder))
    with pytest.raises(ModelUnavailable) as info:
        t.transcribe(noise(1), 24000)
    assert str(folder) in info.value.message and "could not be loaded" in info.value.message
    assert info.value.__cause__ is not None
    assert not t.loaded


def test_cuda_without_gpu_is_unavailable() -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is visible")
    with pytest.raises(ModelUnavailable, match="no CUDA GPU"):
        Transcriber(REPO, device="cuda").transcribe(noise(1), 24000)


# --- real (tiny, random) model ----------------------------------------------------------------------------------


def test_local_folder_transcribes_24k_input(
    tiny_whisper: Path, monkeypatch: pytest.MonkeyPatch, load_calls: list[dict]
) -> None:
    from torchaudio import functional as F

    real_resample = F.resample
    resampled: list[tuple[int, int]] = []

    def spy(waveform, orig_freq, new_freq, *args, **kwargs):
        resampled.append((orig_freq, new_freq))
        return real_resample(waveform, orig_freq, new_freq, *args, **kwargs)

    monkeypatch.setattr(F, "resample", spy)
    t = Transcriber(str(tiny_whisper), device="auto")
    text = t.transcribe(noise(2), 24000, language="en")
    assert isinstance(text, str) and text == text.strip()
    assert text, "the tiny model is built to always emit text"
    assert len(text) <= TEST_MAX_NEW_TOKENS, "generation is capped (one byte per token in the tiny vocab)"
    assert resampled == [(24000, 16000)], "Whisper hears 16 kHz: the pipeline resamples 24 kHz input"
    assert t.loaded and len(load_calls) == 1
    import torch

    assert load_calls[0]["dtype"] == torch.float32 and load_calls[0]["device"] == "cpu"

    assert isinstance(t.transcribe(noise(1, 16000, seed=1), 16000), str)  # language detected, no resampling
    assert resampled == [(24000, 16000)] and len(load_calls) == 1


@pytest.mark.parametrize(
    ("device", "cuda", "expected"),
    [
        ("cpu", True, ("cpu", "float32")),
        ("auto", False, ("cpu", "float32")),
        ("auto", True, ("cuda", "float16")),
        ("cuda:1", True, ("cuda:1", "float16")),
    ],
)
def test_device_and_dtype(device: str, cuda: bool, expected: tuple[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    import torch
    import transformers

    seen: list[dict] = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)

    def fake_pipeline(task: str, **kwargs) -> FakePipeline:
        seen.append({"task": task, **kwargs})
        return FakePipeline()

    monkeypatch.setattr(transformers, "pipeline", fake_pipeline)
    assert Transcriber(REPO, device=device).transcribe(noise(0.5), 24000) == "Some call me nature."
    (call,) = seen
    assert call["task"] == "automatic-speech-recognition" and call["model"] == REPO
    assert (call["device"], str(call["dtype"]).removeprefix("torch.")) == expected


def test_unknown_language_is_an_input_error(tiny_whisper: Path) -> None:
    with pytest.raises(InputError, match="language"):
        Transcriber(str(tiny_whisper)).transcribe(noise(1), 24000, language="klingon")


def test_hf_cache_layout_offline_in_process(hf_home: Path, tiny_whisper: Path) -> None:
    install_into_hf_cache(tiny_whisper, hf_home)
    snapshots = list((hf_home / "hub" / "models--openai--whisper-large-v3-turbo" / "snapshots").iterdir())
    assert len(snapshots) == 1 and len(snapshots[0].name) == 40
    refs = hf_home / "hub" / "models--openai--whisper-large-v3-turbo" / "refs" / "main"
    assert refs.read_text() == snapshots[0].name

    t = Transcriber()  # the production default, resolved from the cache
    assert isinstance(t.transcribe(noise(1.5), 24000), str)
    assert t._pipeline.model.config.d_model == json.loads((tiny_whisper / "config.json").read_text())["d_model"]


def test_hf_cache_layout_offline_subprocess(tmp_path: Path, tiny_whisper: Path) -> None:
    """As production runs: HF_HOME and HF_HUB_OFFLINE=1 in the environment before anything is imported."""
    home = tmp_path / "hf"
    install_into_hf_cache(tiny_whisper, home)
    code = (
        "import numpy as np\n"
        "from inference.model import asr\n"
        "from inference.model.asr import Transcriber\n"
        f"asr.MAX_NEW_TOKENS = {TEST_MAX_NEW_TOKENS}\n"
        "w = (np.random.default_rng(0).standard_normal(36000) * 0.1).astype(np.float32)\n"
        "print(repr(Transcriber('openai/whisper-large-v3-turbo').transcribe(w, 24000, language='en')))\n"
    )
    env = {**os.environ, "HF_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    env.pop("HF_HUB_CACHE", None)
    out = subprocess.run(
        [sys.executable, "-c", code], check=False, capture_output=True, text=True, cwd=ROOT_DIR, env=env, timeout=120
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().startswith("'"), out.stdout


def test_concurrent_first_calls_load_once(tiny_whisper: Path, load_calls: list[dict]) -> None:
    t = Transcriber(str(tiny_whisper))
    start = threading.Barrier(4)
    results: list[object] = []

    def call(seed: int) -> None:
        start.wait()
        try:
            results.append(t.transcribe(noise(1, seed=seed), 24000, language="en"))
        except Exception as e:
            results.append(e)

    threads = [threading.Thread(target=call, args=(i,)) for i in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=60)
    assert len(results) == 4 and all(isinstance(r, str) for r in results), results
    assert len(load_calls) == 1
    assert t.loaded


def test_concurrent_failures_each_retry(tmp_path: Path, load_calls: list[dict]) -> None:
    """A failed load is not shared or cached: callers queued behind it try again (one at a time)."""
    t = Transcriber(str(tmp_path / "missing"))
    errors: list[BaseException] = []

    def call() -> None:
        try:
            t.transcribe(noise(0.5), 24000)
        except ModelUnavailable as e:
            errors.append(e)

    threads = [threading.Thread(target=call) for _ in range(3)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=60)
    assert len(errors) == 3 and len(load_calls) == 3 and not t.loaded


# --- what is asked of the pipeline ------------------------------------------------------------------------------


class FakePipeline:
    def __init__(self) -> None:
        self.calls: list[tuple[dict, dict]] = []

    def __call__(self, inputs: dict, **kwargs) -> dict:
        self.calls.append((inputs, kwargs))
        return {"text": "  Some call me nature.  "}


@pytest.mark.parametrize(("seconds", "long_form"), [(10, False), (29, False), (45, True)])
def test_pipeline_call(seconds: float, long_form: bool) -> None:
    t = Transcriber("unused")
    fake = t._pipeline = FakePipeline()
    assert t.transcribe(noise(seconds, 22050).astype(np.float64), 22050, language="en") == "Some call me nature."
    ((inputs, kwargs),) = fake.calls
    assert inputs["sampling_rate"] == 22050 and inputs["raw"].dtype == np.float32
    assert kwargs["generate_kwargs"] == {
        "task": "transcribe",
        "language": "en",
        "max_new_tokens": TEST_MAX_NEW_TOKENS,
        "num_beams": 1,
    }
    assert kwargs.get("return_timestamps", False) is long_form, "Whisper's long-form decoding needs timestamps"

    t.transcribe(noise(1, 22050), 22050)
    assert "language" not in fake.calls[-1][1]["generate_kwargs"]


def test_default_cap_fits_whisper() -> None:
    from transformers import WhisperConfig

    # sot, language, task and notimestamps come first; Whisper refuses prompts + max_new_tokens beyond its positions
    assert 128 <= DEFAULT_MAX_NEW_TOKENS <= WhisperConfig().max_target_positions - 4


def test_unavailable_message_names_hub_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "somewhere" / "hub"))
    msg = Transcriber("org/whisper-x")._unavailable_message()
    assert "'org/whisper-x'" in msg and str(tmp_path / "somewhere" / "hub") in msg
    assert asr.looks_like_path("./models/w") and asr.looks_like_path(str(tmp_path))
    assert not asr.looks_like_path(REPO)


# --- word timestamps --------------------------------------------------------------------------------------------


@pytest.fixture
def generate_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many tokens each Whisper generate call was allowed (the real generate still runs)."""
    from transformers import WhisperForConditionalGeneration

    real = WhisperForConditionalGeneration.generate
    calls: list[int] = []

    def counting(self, *args, **kwargs):
        calls.append(kwargs.get("max_new_tokens"))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(WhisperForConditionalGeneration, "generate", counting)
    return calls


def speech_like(seconds: float, pauses: list[tuple[float, float]], sample_rate: int = 24000) -> np.ndarray:
    """Noise bursts with silent pauses at the given (start, end) seconds."""
    wave = noise(seconds, sample_rate)
    for a, b in pauses:
        wave[int(a * sample_rate) : int(b * sample_rate)] = 0.0
    return wave


@pytest.mark.parametrize("seconds", [2.0, 45.0])
def test_words_are_capped_inside_the_audio_and_in_order(
    seconds: float, tiny_whisper: Path, generate_calls: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(asr, "MAX_NEW_TOKENS", 64)
    t = Transcriber(str(tiny_whisper))
    wave = speech_like(seconds, [(24.0, 24.6)])
    started = time.perf_counter()
    words = t.words(wave, 24000, language="en")
    elapsed = time.perf_counter() - started
    windows = 1 if seconds <= asr.WORD_WINDOW_S else 2
    assert generate_calls == [64] * windows, "one capped generate call per window"
    assert words, "the tiny model is built to always emit text"
    assert sum(len(w.text) for w in words) <= 64 * windows, "at most one character per token in the tiny vocab"
    assert all(0.0 <= w.start <= w.end <= seconds for w in words), words
    assert all(a.end <= b.start for a, b in zip(words, words[1:], strict=False)), "in order, never overlapping"
    if windows == 2:
        assert any(w.start >= 24.3 for w in words), "the second window's words are offset to where it starts"
    assert elapsed < 60, f"{elapsed:.1f} s"


def test_word_windows_cut_at_a_pause() -> None:
    assert asr._windows(noise(5), 24000) == [(0.0, 5.0)]
    (first, second) = asr._windows(speech_like(50, [(27.0, 27.4)]), 24000)
    assert first[0] == 0.0 and 27.0 < first[1] < 27.4 and second == (first[1], 50.0)
    hard = asr._windows(noise(70), 24000)  # no pause: cut at the window length
    assert hard == [(0.0, asr.WORD_WINDOW_S), (asr.WORD_WINDOW_S, 2 * asr.WORD_WINDOW_S), (2 * asr.WORD_WINDOW_S, 70.0)]


def test_words_out_of_order_or_past_the_end_are_put_in_order() -> None:
    Word = asr.Word
    raw = [Word("a", 0.5, 0.9), Word("b", 0.7, 9.0), Word("c", 0.2, 0.1), Word("d", -1.0, 30.0)]
    assert asr.in_order(raw, 2.0) == [
        Word("a", 0.5, 0.9),
        Word("b", 0.9, 2.0),
        Word("c", 2.0, 2.0),
        Word("d", 2.0, 2.0),
    ]


def test_words_refuse_unusable_audio_before_any_load(load_calls: list[dict]) -> None:
    t = Transcriber("/definitely/not/here")
    with pytest.raises(InputError):
        t.words(np.zeros((2, 2400), np.float32), 24000)
    assert load_calls == [] and not t.loaded


def test_words_unknown_language_is_an_input_error(tiny_whisper: Path) -> None:
    with pytest.raises(InputError, match="language"):
        Transcriber(str(tiny_whisper)).words(noise(1), 24000, language="klingon")

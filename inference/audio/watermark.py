"""The inaudible mark every output carries, and the check that finds it: Resemble's Perth (PerthNet, "implicit"),
whose trained network ships inside the resemble-perth wheel (no download).

The network works on 32 kHz magnitude spectra: `mark` resamples there and back, keeps the wave's length, and
costs milliseconds per second of audio on a CPU. The mark carries no payload: it says "made here", and `detect`
answers how much of a clip carries it (the share of its spectrogram frames that the decoder finds marked).

    mark(wave, 24000)        -> the same wave, marked (same length, float32)
    detect(wave, 24000)      -> Detection(watermarked=True, confidence=0.99)

The network is loaded on first use, once per device, and its passes run one at a time on a thread of their own (a
pass is milliseconds). The engine marks on its own device (F5_DEVICE: on a GPU server the mark costs the GPU a pass,
not the CPU 8 ms per second of audio); where the network cannot load there, it marks on the CPU and says so in the
log.
Importing this module is cheap.
"""

from __future__ import annotations

import contextlib
import functools
import io
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InputError, ModelUnavailable

THRESHOLD = 0.5  # share of frames found marked at or above which a clip is called watermarked
MIN_DETECT_S = 0.5  # s: a shorter clip holds too few frames to tell
MAX_DETECT_S = 60.0  # s: a longer upload is checked over its first minute (a pass holds the shared lock)

Marker = Callable[[np.ndarray, int], np.ndarray]  # (wave, sample rate) -> the wave as it leaves the studio

log = logging.getLogger(__name__)

_nets: dict[str, Any] = {}  # device asked for -> the network loaded for it
_lock = threading.Lock()
# Every pass runs on this one thread, one at a time: torch and the resampler keep per-thread memory (allocator
# arenas, caches), which a pass run on each of Gradio's ~40 worker threads multiplied (+70% RSS under 20 clients)
_passes = ThreadPoolExecutor(max_workers=1, thread_name_prefix="watermark")


@dataclass(frozen=True)
class Detection:
    """Whether a clip carries the studio's mark: `confidence` is the share of its frames found marked (0..1)."""

    watermarked: bool
    confidence: float
    seconds: float


def mark(wave: np.ndarray, sample_rate: int, device: str = "cpu") -> np.ndarray:
    """`wave` (float32 mono) with the mark added, the same length, computed on `device` (auto, cpu, cuda, cuda:N).
    Silence, and audio too short to hold one spectrogram frame, come back as they are."""
    audio = _checked(wave, sample_rate)
    if audio.size < sample_rate // 10 or not np.any(audio):  # under 0.1 s, or silent: nothing to mark
        return audio
    net = _load(device)
    marked = np.asarray(_passes.submit(_inferring, net.apply_watermark, audio, int(sample_rate)).result(), np.float32)
    out = np.zeros_like(audio)  # the inverse STFT drops a few samples at the end: pad back to the length
    n = min(out.size, marked.size)
    out[:n] = marked[:n]
    if n < out.size:
        out[n:] = audio[n:]
    return np.clip(out, -1.0, 1.0)


def marker(enabled: bool, device: str = "cpu") -> Marker:
    """The one rule for what leaves the studio: `mark` when the operator's setting (EngineSettings.watermark,
    F5_WATERMARK) is on, else the wave as it is. The engine holds one (`Engine.mark`), read from its settings once;
    the engine's stream passes every piece through it, and so does every operation that makes audio apart from the
    stream (a speech edit's take)."""
    return functools.partial(mark, device=device) if enabled else _as_is


def _as_is(wave: np.ndarray, sample_rate: int) -> np.ndarray:
    return wave


def detect(wave: np.ndarray, sample_rate: int) -> Detection:
    """Whether `wave` carries the mark, with the share of frames found marked."""
    audio = _checked(wave, sample_rate)
    seconds = audio.size / sample_rate
    if seconds < MIN_DETECT_S:
        raise InputError(
            f"The clip lasts {seconds:.2f} s: too short to check for the mark.",
            f"Send at least {MIN_DETECT_S:g} s of audio.",
        )
    if not np.any(audio):
        return Detection(False, 0.0, seconds)
    net = _load()  # the check runs on the CPU: clips come one at a time, from visitors
    frames = np.asarray(_passes.submit(_inferring, net.get_watermark, audio, int(sample_rate), round=False).result())
    confidence = float(np.clip(np.mean(frames), 0.0, 1.0)) if frames.size else 0.0
    return Detection(confidence >= THRESHOLD, round(confidence, 4), seconds)


def _inferring(run: Callable[..., Any], audio: np.ndarray, sample_rate: int, **kwargs: Any) -> Any:
    """One pass of the network without autograd: Perth's own calls record a graph, and each pass left about 7 MB
    behind (2.9 GB after 300 takes; tests/test_watermark_outputs.py checks the memory stays flat)."""
    import torch

    with torch.inference_mode():
        return run(audio, sample_rate=sample_rate, **kwargs)


def _checked(wave: np.ndarray, sample_rate: int) -> np.ndarray:
    audio = np.asarray(wave, dtype=np.float32)
    if audio.ndim != 1 or not np.all(np.isfinite(audio)) or int(sample_rate) <= 0:
        raise InputError("The mark works on mono audio with valid samples.", "Pass a mono float waveform.")
    return audio


def _load(device: str = "cpu") -> Any:
    with _lock:
        if device not in _nets:
            try:
                from perth.perth_net.perth_net_implicit.perth_watermarker import PerthImplicitWatermarker
            except ImportError as e:
                raise ModelUnavailable(
                    "The watermark is unavailable: resemble-perth is not installed.",
                    "Install it (pip install -r requirements.txt), or have the operator set F5_WATERMARK=0.",
                ) from e
            _nets[device] = _network(PerthImplicitWatermarker, device)
        return _nets[device]


def _network(kind: Any, device: str) -> Any:
    """The network on `device` ('auto': CUDA when there is one), or on the CPU where it cannot load there."""
    import torch

    where = ("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device
    with contextlib.redirect_stdout(io.StringIO()):  # it prints a line when loaded
        if where != "cpu":
            try:
                return kind(device=where)
            except Exception as e:  # any failure there leaves the CPU, which always works
                log.warning("The watermark network could not load on %s (%s): it marks on the CPU.", where, e)
        return kind(device="cpu")

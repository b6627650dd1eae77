"""Plain request/result types shared by every adapter. Options are validated here, once."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import InputError

# Quality presets: label -> NFE steps. 7 and 16 use F5-TTS v1's EPSS timestep schedule; 32 is uniform.
PRESETS = {"Fast (7 steps)": 7, "Balanced (16 steps)": 16, "Best (32 steps)": 32}
DEFAULT_NFE = 32
MAX_SEED = 2**31 - 1  # seeds are 0..MAX_SEED so every client (JS included) can hold them exactly


@dataclass(frozen=True)
class SynthesisOptions:
    nfe_step: int = DEFAULT_NFE  # flow-matching steps: more is slower and cleaner (4..64)
    cfg_strength: float = 2.0  # classifier-free guidance: how strongly to follow text and voice (0..10)
    sway_sampling_coef: float = -1.0  # F5-TTS sway sampling; -1 spends more steps early
    speed: float = 1.0  # speaking rate multiplier (0.3..3)
    cross_fade: float = 0.15  # seconds of overlap between chunks (0..1)
    remove_silence: bool = False  # shorten pauses longer than ~1 s in the result
    seed: int | None = None  # None = pick a random seed; the one used is returned

    def __post_init__(self) -> None:
        _check_range("nfe_step", self.nfe_step, 4, 64, whole=True)
        _check_range("cfg_strength", self.cfg_strength, 0.0, 10.0)
        _check_range("sway_sampling_coef", self.sway_sampling_coef, -1.0, 1.0)
        _check_range("speed", self.speed, 0.3, 3.0)
        _check_range("cross_fade", self.cross_fade, 0.0, 1.0)
        if self.seed is not None:
            _check_range("seed", self.seed, 0, MAX_SEED, whole=True)


def _check_range(name: str, value: object, low: float, high: float, whole: bool = False) -> None:
    """Refuse NaN, wrong types and out-of-range values with a message naming the valid range."""
    kind = "a whole number" if whole else "a number"
    ok_type = isinstance(value, int) if whole else isinstance(value, (int, float))
    if isinstance(value, bool) or not ok_type or (isinstance(value, float) and not math.isfinite(value)):
        raise InputError(f"{name} must be {kind} from {low:g} to {high:g}, not {value!r}.", f"Set {name} in range.")
    if not low <= value <= high:  # type: ignore[operator]
        raise InputError(f"{name}={value} is out of range.", f"Use {kind} from {low:g} to {high:g}.")


@dataclass(frozen=True)
class Reference:
    """A voice to clone: a file (any common audio format) and its transcript ('' = transcribe it)."""

    audio: Path | bytes
    text: str = ""


@dataclass(frozen=True)
class SynthesisRequest:
    text: str
    reference: Reference
    options: SynthesisOptions = field(default_factory=SynthesisOptions)


@dataclass(frozen=True)
class Timings:
    load_s: float = 0.0  # model load paid by this request (0 when already loaded)
    prepare_s: float = 0.0  # reference decoding, trimming and transcription
    generate_s: float = 0.0  # sampling and vocoding, all chunks


@dataclass(frozen=True)
class SynthesisResult:
    wave: np.ndarray  # float32 mono
    sample_rate: int
    seed: int
    ref_text: str  # the transcript used (typed or transcribed)
    chunks: tuple[str, ...]  # the text as it was split
    timings: Timings
    mel: np.ndarray | None = None  # (n_mels, frames) of the generated speech, for the spectrogram picture

    @property
    def duration(self) -> float:
        return len(self.wave) / self.sample_rate


@dataclass(frozen=True)
class AudioChunk:
    """One streamed piece: a chunk's audio (already cross-faded with what came before), in order."""

    wave: np.ndarray
    sample_rate: int
    index: int
    total: int
    seed: int
    ref_text: str
    text: str = ""  # the chunk of text this audio speaks
    mel: np.ndarray | None = None  # (n_mels, frames) of this chunk
    timings: Timings | None = None  # on the last chunk: the whole request's timings

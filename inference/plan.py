"""What a stream is made of before its first chunk is generated (Engine.stream plans it, then generates from it),
the sampling settings that decide which items may share a run, and the limits checked before anything is
generated; and what tests inject into an engine (EngineHooks)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .audio import SAMPLE_RATE
from .audio.prepare import PreparedAudio
from .cancel import Stop
from .check import Scorer
from .errors import InputError, over_limit
from .model.runtime import Models
from .model.sampling import HOP_LENGTH, Item, SamplingKey, natural_seconds
from .options import SynthesisOptions
from .types import AudioChunk, ChunkCheck, SynthesisRequest, Timings


@dataclass(frozen=True)
class EngineHooks:
    """What tests inject, fixed when the engine is built: `fault` is called with each item as its run begins (a CUDA
    out of memory, a delay, a count); `check_scorer` scores chunks for the per-chunk check instead of Whisper."""

    fault: Callable[[Item], None] | None = None
    check_scorer: Scorer | None = None


@dataclass(frozen=True)
class StreamPlan:
    """Everything a stream's chunks need, fixed before the first one is generated (Engine.stream builds it)."""

    models: Models
    ref_wave: Any  # torch tensor (1, samples) at 24 kHz, raised to TARGET_RMS, on the model's device
    rms: float  # the reference's own loudness: quieter output is lowered back to it
    model_ref_text: str  # the reference transcript as the model reads it
    ref_text: str  # the transcript used (typed or transcribed)
    typed: str  # the text as typed (cleaned)
    spoken: str  # the text as spoken (normalized, pronunciations applied)
    notes: tuple[str, ...]  # what preparing the reference did or found
    chunks: tuple[str, ...]  # the spoken text as split
    frames: tuple[int, ...]  # per chunk, total mel frames (reference + generated)
    seed: int
    options: SynthesisOptions
    timings: Timings  # load and preparation (generation is added on the last chunk)
    stop: Stop | None  # the caller's cancel signal (inference/cancel.py), if any

    @property
    def key(self) -> SamplingKey:
        return sampling_key(self.options)

    def piece(
        self, index: int, wave: np.ndarray, mel: np.ndarray, check: ChunkCheck | None, timings: Timings | None
    ) -> AudioChunk:
        """Chunk `index`'s streamed piece: its audio (cross-faded), mel and check; the last one carries `timings`."""
        return AudioChunk(
            wave=wave,
            sample_rate=SAMPLE_RATE,
            index=index,
            total=len(self.chunks),
            seed=self.seed,
            ref_text=self.ref_text,
            text=self.chunks[index],
            mel=mel,
            timings=timings,
            spoken_text=self.spoken,
            check=check,
            typed_text=self.typed,
            ref_notes=self.notes,
        )


def sampling_key(options: SynthesisOptions, kind: str = "") -> SamplingKey:
    """The sampling settings of `options`: what decides which items may share a run."""
    return SamplingKey(options.nfe_step, options.cfg_strength, options.sway_sampling_coef, kind)


def check_seconds(
    request: SynthesisRequest, frames: list[int], ref_frames: int, spoken_chars: int, max_audio_seconds: float
) -> None:
    """Refuse, before anything is generated, speech estimated longer than F5_MAX_AUDIO_SECONDS or than the
    request's own max_seconds (what its output can carry). The estimate is the frames the model will make."""
    seconds = sum(f - ref_frames for f in frames) * HOP_LENGTH / SAMPLE_RATE
    limit, hint, setting = max_audio_seconds, "", "F5_MAX_AUDIO_SECONDS"
    if request.max_seconds is not None and request.max_seconds < limit:
        limit, hint, setting = request.max_seconds, request.limit_hint, "the output's size"
    if seconds > limit:
        raise over_limit(
            f"This text would be spoken as about {seconds:,.0f} s of audio ({spoken_chars:,} characters once "
            f"numbers and pronunciations are written out); the limit is {limit:,.0f} s.",
            f"Shorten the text, split it into parts, or speak it faster; {hint}".rstrip("; ") + ".",
            setting,
            limit,
        )


def timed_pace(ref_text: str, prepared: PreparedAudio, text: str, seconds: float) -> float:
    """The speed at which `text` lasts `seconds` (what sizes its chunks); refuses a duration that is not a positive
    number of seconds."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 < seconds < float("inf"):
        raise InputError(f"The duration must be a positive number of seconds, not {seconds!r}.", "Give it in seconds.")
    return natural_seconds(ref_text, prepared.seconds, text) / seconds

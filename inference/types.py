"""Plain request/result types shared by every adapter (the options and their rules are in options.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .options import SynthesisOptions


@dataclass(frozen=True)
class EngineStatus:
    state: str  # not_loaded | loading | ready | failed
    device: str  # "auto" until loaded, then e.g. "cpu" or "cuda:0"
    error: str | None = None  # why the last load failed
    load_seconds: float | None = None
    compile: str = "off"  # F5_COMPILE: off | compiling (serving uncompiled meanwhile) | compiled | failed


@dataclass(frozen=True)
class Reference:
    """A voice to clone: a file (any common audio format) and its transcript ('' = transcribe it)."""

    audio: Path | bytes
    text: str = ""
    voice: str = ""  # the saved voice's name ('' for a recording): its own pronunciations apply


@dataclass(frozen=True)
class SynthesisRequest:
    text: str
    reference: Reference
    options: SynthesisOptions = field(default_factory=SynthesisOptions)
    duration: float | None = None  # seconds the speech should last (the pace adapts); None = the model's own rule
    # the most seconds of speech the caller can take (an adapter whose output size is bounded, e.g. RunPod's), on
    # top of the engine's F5_MAX_AUDIO_SECONDS; refused before generating, with `limit_hint` saying what to do
    max_seconds: float | None = None
    limit_hint: str = ""


@dataclass(frozen=True)
class Timings:
    load_s: float = 0.0  # model load paid by this request (0 when already loaded)
    prepare_s: float = 0.0  # reference decoding, trimming and transcription
    generate_s: float = 0.0  # sampling and vocoding, all chunks


@dataclass(frozen=True)
class ChunkCheck:
    """What the per-chunk check (inference/check.py) found for one chunk: the kept take and every try."""

    index: int  # the chunk's place in the take, from 0
    text: str  # the chunk's text, as spoken
    heard: str  # what Whisper heard in the kept take ('' when not checked)
    wer: float | None  # word (Chinese: character) error rate of the kept take; None when not checked
    seed: int  # the kept take's seed
    tries: int  # generations made for this chunk
    scores: tuple[float, ...] = ()  # every try's error rate, in order
    note: str = ""  # why the chunk was not checked (e.g. no Whisper weights)

    def as_dict(self) -> dict:
        return {
            "chunk": self.index,
            "text": self.text,
            "heard": self.heard,
            "wer": None if self.wer is None else round(self.wer, 3),
            "seed": self.seed,
            "tries": self.tries,
            "scores": [round(s, 3) for s in self.scores],
            **({"note": self.note} if self.note else {}),
        }


@dataclass(frozen=True)
class SynthesisResult:
    wave: np.ndarray  # float32 mono
    sample_rate: int
    seed: int
    ref_text: str  # the transcript used (typed or transcribed)
    chunks: tuple[str, ...]  # the text as it was split
    timings: Timings
    mel: np.ndarray | None = None  # (n_mels, frames) of the generated speech, for the spectrogram picture
    spoken_text: str = ""  # the text as spoken: normalized, pronunciations applied
    checks: tuple[ChunkCheck, ...] = ()  # per chunk, when the check was on
    chunk_samples: tuple[int, ...] = ()  # how many of the wave's samples each chunk's streamed piece holds
    typed_text: str = ""  # the text as typed (cleaned): what captions show
    ref_notes: tuple[str, ...] = ()  # what preparing the reference did or found (audio/prepare.py), e.g. short

    @property
    def duration(self) -> float:
        return len(self.wave) / self.sample_rate

    def parts(self) -> list[AudioChunk]:
        """The take as its streamed pieces again (views into `wave`, without mel or timings): what captions read."""
        edges = np.cumsum((0, *self.chunk_samples)) if self.chunk_samples else np.array([0, len(self.wave)])
        texts = self.chunks if len(self.chunks) == len(edges) - 1 else (" ".join(self.chunks),)
        n = len(texts)
        return [
            AudioChunk(
                wave=self.wave[a:b],
                sample_rate=self.sample_rate,
                index=i,
                total=n,
                seed=self.seed,
                ref_text=self.ref_text,
                text=text,
                spoken_text=self.spoken_text,
                typed_text=self.typed_text,
                ref_notes=self.ref_notes,
            )
            for i, (text, a, b) in enumerate(zip(texts, edges, edges[1:], strict=False))
        ]

    @classmethod
    def from_chunks(cls, parts: Sequence[AudioChunk]) -> SynthesisResult:
        """The whole take from its streamed chunks, in order (the last one carries the timings)."""
        wave = np.concatenate([p.wave for p in parts]).astype(np.float32)
        mels = [p.mel for p in parts if p.mel is not None]
        last = parts[-1]
        return cls(
            wave=wave,
            sample_rate=last.sample_rate,
            seed=last.seed,
            ref_text=last.ref_text,
            chunks=tuple(p.text for p in parts),
            timings=last.timings or Timings(),
            mel=np.concatenate(mels, axis=1) if mels else None,
            spoken_text=last.spoken_text,
            checks=tuple(p.check for p in parts if p.check is not None),
            chunk_samples=tuple(len(p.wave) for p in parts),
            typed_text=last.typed_text,
            ref_notes=last.ref_notes,
        )


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
    spoken_text: str = ""  # the whole request's text as spoken (normalized, pronunciations applied)
    check: ChunkCheck | None = None  # what the per-chunk check found, when it was on
    typed_text: str = ""  # the whole request's text as typed (cleaned): what captions show
    ref_notes: tuple[str, ...] = ()  # what preparing the reference did or found (audio/prepare.py), e.g. short

"""Captions for a take: one cue per sentence, timed from the generation itself; word times from Whisper.

The engine knows when each chunk is spoken: the chunks come out in order, already cross-faded, so chunk i starts
where the chunks before it end (its boundary is put in the middle of the cross-fade). Within a chunk, each sentence
gets a share of the chunk's time by its UTF-8 bytes, which is the rule the model itself was given for how long to
speak (model/sampling.frames_for: frames are proportional to bytes). So no model runs for sentence captions.

    result, captions = synthesize_with_captions(engine, request, level="sentence")
    captions.srt()   -> '1\\n00:00:00,000 --> 00:00:01,234\\nHello there.\\n\\n2\\n...'
    captions.vtt()   -> 'WEBVTT\\n\\n00:00:00.000 --> 00:00:01.234\\nHello there.\\n...'

Word level ("word") asks Whisper for word times (`engine.transcriber.words`, the same lazy model as transcription),
one cue per word. Where Whisper cannot run (not downloaded, no GPU memory...), the captions stay per sentence and
`note` says why.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InputError
from ..model.asr import Word
from ..text import chunking
from ..types import AudioChunk, SynthesisRequest, SynthesisResult
from .subtitles import Cue, to_srt, to_vtt

if TYPE_CHECKING:
    from ..engine import Engine

log = logging.getLogger(__name__)

LEVELS = ("sentence", "word")  # captions: one cue per sentence (from the generation) or per word (Whisper)
LEVEL_HINT = "Ask for captions with true (one cue per sentence), 'sentence' or 'word' (word times from Whisper)."


@dataclass(frozen=True)
class Captions:
    cues: tuple[Cue, ...]
    level: str = "sentence"  # what the cues are: "sentence" or "word"
    note: str = ""  # why word-level captions fell back to sentences ('' when they did not)

    def srt(self) -> str:
        return to_srt(self.cues)

    def vtt(self) -> str:
        return to_vtt(self.cues)

    def table(self) -> list[dict[str, Any]]:
        """[{"start": 0.0, "end": 1.234, "text": "Hello there."}, ...] (seconds, rounded to ms)."""
        return [{"start": round(c.start, 3), "end": round(c.end, 3), "text": c.text} for c in self.cues]


def caption_level(value: Any) -> str | None:
    """What an interface asked for: None/False/'' -> None (no captions), True -> 'sentence', or a level by name.

    >>> [caption_level(v) for v in (None, False, True, "Word", "sentence")]
    [None, None, 'sentence', 'word', 'sentence']
    """
    if value is None or value is False or (isinstance(value, str) and not value.strip()):
        return None
    if value is True:
        return "sentence"
    if isinstance(value, str) and value.strip().lower() in LEVELS:
        return value.strip().lower()
    raise InputError(f"captions must be true, false, 'sentence' or 'word', not {value!r}.", LEVEL_HINT)


def chunk_cues(chunks: Sequence[AudioChunk], cross_fade: float) -> list[Cue]:
    """One cue per sentence of each chunk, on the take's timeline: the last one ends where the take ends."""
    edges = [0.0]
    for i, chunk in enumerate(chunks):
        seconds = len(chunk.wave) / chunk.sample_rate
        edges.append(edges[-1] + seconds)
        if i:  # chunk i opens with the cross-fade from chunk i-1: the boundary is in its middle
            edges[i] += min(cross_fade, seconds) / 2
    cues = []
    for chunk, start, end in zip(chunks, edges, edges[1:], strict=False):
        parts = chunking.sentences(chunk.text) or [chunk.text]
        sizes = np.cumsum([0] + [chunking.nbytes(p) for p in parts])
        for part, lo, hi in zip(parts, sizes, sizes[1:], strict=False):
            span = end - start
            cues.append(Cue(float(start + span * lo / sizes[-1]), float(start + span * hi / sizes[-1]), part))
    return cues


def word_cues(words: Sequence[Word], duration: float) -> list[Cue]:
    """Whisper's words as cues, in order, inside the take and never overlapping (Whisper's times can repeat or run
    backwards where it restarts a window).

    >>> word_cues([Word("Hi", 0.0, 0.4), Word("there", 0.3, 0.9), Word("", 1, 2)], 0.8)
    [Cue(start=0.0, end=0.4, text='Hi', line=0), Cue(start=0.4, end=0.8, text='there', line=0)]
    """
    out: list[Cue] = []
    for word in sorted((w for w in words if w.text.strip()), key=lambda w: w.start):
        start = min(max(word.start, out[-1].end if out else 0.0), duration)
        end = min(max(word.end, start), duration)
        if start < duration:
            out.append(Cue(start, end, word.text.strip()))
    return out


def captions_for(engine: Engine, chunks: Sequence[AudioChunk], cross_fade: float, level: str = "sentence") -> Captions:
    """A take's captions at `level` (see the module docstring); word level falls back to sentences, with a note."""
    sentences = tuple(chunk_cues(chunks, cross_fade))
    if level != "word":
        return Captions(sentences)
    wave = np.concatenate([c.wave for c in chunks]).astype(np.float32)
    rate = chunks[0].sample_rate
    try:
        words = word_cues(engine.transcriber.words(wave, rate), len(wave) / rate)
    except Exception as e:  # Whisper is optional here: the sentence captions are still right
        log.warning("word times unavailable (%s: %s); captions per sentence", type(e).__name__, e)
        return Captions(sentences, "sentence", f"Word times are unavailable ({e}); the captions are per sentence.")
    if not words:
        return Captions(sentences, "sentence", "Whisper found no words; the captions are per sentence.")
    return Captions(tuple(words), "word")


def synthesize_with_captions(
    engine: Engine,
    request: SynthesisRequest,
    level: str = "sentence",
    progress: Callable[[int, int], None] | None = None,
) -> tuple[SynthesisResult, Captions]:
    """engine.synthesize, with the take's captions."""
    chunks = list(engine.stream(request, progress))
    return SynthesisResult.from_chunks(chunks), captions_for(engine, chunks, request.options.cross_fade, level)

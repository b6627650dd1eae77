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

Captions show the text as it was typed, with the spoken form's timing (text/typed.py maps the spoken words back to
the typed ones): a sentence cue keeps its time and shows the typed words it speaks; at word level, Whisper's words
are matched to the spoken words for their times, and each typed word is one cue, from its first spoken word's start
to its last one's end ("1,250" is one cue for "one thousand two hundred fifty").
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
from ..text.subtitles import Cue, to_srt, to_vtt
from ..text.typed import typed_spans
from ..text.worddiff import split_words
from ..types import AudioChunk, SynthesisRequest, SynthesisResult
from .alignment import join_words, timed

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


def typed_cues(cues: Sequence[Cue], typed: str) -> list[Cue]:
    """Spoken-text cues with the typed text instead, each keeping its time; a cue left without typed words (its
    spoken words came from a typed word that another cue opens) joins the cue before it.

    >>> typed_cues([Cue(0.0, 1.0, "I have one thousand two hundred fifty."), Cue(1.0, 2.0, "Doctor Win.")],
    ...            "I have 1,250. Dr. Nguyen.")
    [Cue(start=0.0, end=1.0, text='I have 1,250.', line=0), Cue(start=1.0, end=2.0, text='Dr. Nguyen.', line=0)]
    """
    owner = [i for i, cue in enumerate(cues) for _ in split_words(cue.text)]  # spoken word -> its cue
    texts: list[list[str]] = [[] for _ in cues]
    for span in typed_spans(typed, [w for cue in cues for w in split_words(cue.text)]):
        where = owner[span.spoken_start] if span.spoken_start < len(owner) else len(cues) - 1
        texts[max(where, 0)] += span.typed
    out: list[Cue] = []
    opening: float | None = None  # the start of leading cues without words: the first cue with words takes it
    for cue, words in zip(cues, texts, strict=True):
        if words:
            out.append(Cue(cue.start if opening is None else opening, cue.end, join_words(words)))
            opening = None
        elif out:
            out[-1] = Cue(out[-1].start, cue.end, out[-1].text)
        elif opening is None:
            opening = cue.start
    return out or list(cues)


def typed_word_cues(heard: Sequence[Word], spoken: str, typed: str, duration: float) -> list[Cue]:
    """One cue per typed word, timed by Whisper's `heard` words (matched to the spoken words) from its first spoken
    word's start to its last one's end.

    >>> heard = [Word("I", 0.0, 0.2), Word("have", 0.2, 0.5), Word("one", 0.5, 0.8), Word("thousand", 0.8, 1.2),
    ...          Word("two", 1.2, 1.4), Word("hundred", 1.4, 1.8), Word("and", 1.8, 1.9), Word("fifty", 1.9, 2.3)]
    >>> [(c.text, c.start, c.end) for c in typed_word_cues(heard, "I have one thousand two hundred fifty.",
    ...                                                       "I have 1,250.", 2.5)]
    [('I', 0.0, 0.2), ('have', 0.2, 0.5), ('1,250.', 0.5, 2.3)]
    """
    spoken_words = split_words(spoken)
    times = timed(spoken_words, heard)
    words = [
        Word(join_words(span.typed), times[span.spoken_start].start, times[span.spoken_end - 1].end)
        for span in typed_spans(typed, spoken_words)
        if span.spoken_end > span.spoken_start
    ]
    return word_cues(words, duration)


def captions_for(engine: Engine, chunks: Sequence[AudioChunk], cross_fade: float, level: str = "sentence") -> Captions:
    """A take's captions at `level` (see the module docstring); word level falls back to sentences, with a note."""
    sentences = chunk_cues(chunks, cross_fade)
    typed = chunks[0].typed_text if chunks else ""
    if typed:
        sentences = typed_cues(sentences, typed)
    if level != "word":
        return Captions(tuple(sentences))
    wave = np.concatenate([c.wave for c in chunks]).astype(np.float32)
    rate = chunks[0].sample_rate
    try:
        heard = engine.transcriber.words(wave, rate)
    except Exception as e:  # Whisper is optional here: the sentence captions are still right
        log.warning("word times unavailable (%s: %s); captions per sentence", type(e).__name__, e)
        note = f"Word times are unavailable ({e}); the captions are per sentence."
        return Captions(tuple(sentences), "sentence", note)
    heard = [w for w in heard if w.text.strip()]
    if not heard:
        return Captions(tuple(sentences), "sentence", "Whisper found no words; the captions are per sentence.")
    spoken = " ".join(c.text for c in chunks)
    duration = len(wave) / rate
    words = typed_word_cues(heard, spoken, typed, duration) if typed else word_cues(heard, duration)
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

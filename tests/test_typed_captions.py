"""Captions show the text as typed, timed as spoken: the mapping from spoken words back to typed words
(inference/text/typed.py), and captions through the engine at sentence and word level."""

from __future__ import annotations

from pathlib import Path

import pytest

from inference import Engine, Reference, SynthesisOptions, SynthesisRequest
from inference.model.asr import Word
from inference.studio.captions import captions_for, synthesize_with_captions, typed_cues, typed_word_cues
from inference.text.normalize import normalize
from inference.text.subtitles import Cue
from inference.text.typed import typed_spans
from inference.text.worddiff import split_words
from tests.conftest import REF_TEXT

# typed text, spoken text -> (spoken words, typed words) per span
CASES = [
    (  # a number read as several words is one typed word
        "I have 1,250 apples.",
        "I have one thousand two hundred fifty apples.",
        [("I", "I"), ("have", "have"), ("one thousand two hundred fifty", "1,250"), ("apples.", "apples.")],
    ),
    (
        "Dr. Smith is here.",
        "Doctor Smith is here.",
        [("Doctor", "Dr."), ("Smith", "Smith"), ("is", "is"), ("here.", "here.")],
    ),
    ("Ask Nguyen now.", "Ask Win now.", [("Ask", "Ask"), ("Win", "Nguyen"), ("now.", "now.")]),  # dictionary entry
    ("Hello, world!", "Hello world", [("Hello", "Hello,"), ("world", "world!")]),  # punctuation dropped
    ("A * B", "A B", [("A", "A *"), ("B", "B")]),  # a symbol not spoken joins the word before
    ("5 kg", "five kilograms", [("five", "5"), ("kilograms", "kg")]),  # word for word
    (
        "I have 1,250. Dr. Nguyen.",  # changes next to each other are cut at the punctuation both sides keep
        "I have one thousand two hundred fifty. Doctor Win.",
        [
            ("I", "I"),
            ("have", "have"),
            ("one thousand two hundred fifty.", "1,250."),
            ("Doctor", "Dr."),
            ("Win.", "Nguyen."),
        ],
    ),
    ("我有3个", "我有三个", [("我", "我"), ("有", "有"), ("三", "3"), ("个", "个")]),
    ("$5 now", "five dollars now", [("five dollars", "$5"), ("now", "now")]),
]


@pytest.mark.parametrize(("typed", "spoken", "expected"), CASES)
def test_spoken_words_map_back_to_typed_words(typed: str, spoken: str, expected: list) -> None:
    words = split_words(spoken)
    spans = typed_spans(typed, words)
    assert [(" ".join(words[s.spoken_start : s.spoken_end]), " ".join(s.typed)) for s in spans] == expected


@pytest.mark.parametrize(
    "typed",
    ["I have 1,250 apples.", "Dr. Smith paid $5 at 3:30 pm.", "It is 20% off, e.g. today.", "Call me at 10 a.m. Bye."],
)
def test_every_word_is_in_one_span_with_the_real_normalizer(typed: str) -> None:
    spoken = split_words(normalize(typed))
    spans = typed_spans(typed, spoken)
    assert [w for s in spans for w in s.typed] == split_words(typed)
    assert [(s.spoken_start, s.spoken_end) for s in spans][0][0] == 0 and spans[-1].spoken_end == len(spoken)
    assert all(a.spoken_end == b.spoken_start for a, b in zip(spans, spans[1:], strict=False))


def test_a_cue_left_without_typed_words_joins_the_one_before() -> None:
    spoken = [Cue(0.0, 1.0, "one thousand,"), Cue(1.0, 2.0, "two hundred."), Cue(2.0, 3.0, "Bye.")]
    assert typed_cues(spoken, "1,200. Bye.") == [Cue(0.0, 2.0, "1,200."), Cue(2.0, 3.0, "Bye.")]
    untyped = [Cue(0.0, 1.0, "Um,"), Cue(1.0, 2.0, "one hundred.")]  # spoken, not typed: part of the first word
    assert typed_cues(untyped, "100.") == [Cue(0.0, 2.0, "100.")]
    wordless = [Cue(0.0, 1.0, ""), Cue(1.0, 2.0, "one hundred.")]  # a leading cue without words: its time is kept
    assert typed_cues(wordless, "100.") == [Cue(0.0, 2.0, "100.")]


def test_word_cues_carry_typed_words_with_whispers_times() -> None:
    heard = [Word("Doctor", 0.0, 0.4), Word("Smyth", 0.4, 0.9), Word("paid", 1.0, 1.3), Word("five", 1.3, 1.6)]
    heard += [Word("dollars.", 1.6, 2.2)]
    cues = typed_word_cues(heard, "Doctor Smith paid five dollars.", "Dr. Smith paid $5.", 3.0)
    assert [(c.text, c.start, c.end) for c in cues] == [
        ("Dr.", 0.0, 0.4),
        ("Smith", 0.4, 0.9),
        ("paid", 1.0, 1.3),
        ("$5.", 1.3, 2.2),
    ]


TYPED = "I have 1,250 apples. Dr. Smith called."


def test_sentence_captions_show_the_typed_text(engine: Engine, short_ref: Path) -> None:
    request = SynthesisRequest(TYPED, Reference(short_ref, REF_TEXT), SynthesisOptions(nfe_step=4, seed=3))
    result, captions = synthesize_with_captions(engine, request)
    assert "1,250" not in result.spoken_text and result.typed_text == TYPED
    assert [c.text for c in captions.cues] == ["I have 1,250 apples.", "Dr. Smith called."]
    assert captions.cues[-1].end == pytest.approx(result.duration, abs=1e-6)


def test_word_captions_show_typed_words_at_whispers_times(engine: Engine, short_ref: Path, monkeypatch) -> None:
    request = SynthesisRequest(TYPED, Reference(short_ref, REF_TEXT), SynthesisOptions(nfe_step=4, seed=3))
    chunks = list(engine.stream(request))
    spoken = split_words(chunks[0].spoken_text)
    heard = [Word(w.rstrip("."), i * 0.1, i * 0.1 + 0.08) for i, w in enumerate(spoken)]  # Whisper drops the dots
    monkeypatch.setattr(engine.transcriber, "words", lambda wave, rate: heard)
    captions = captions_for(engine, chunks, 0.15, "word")
    assert captions.level == "word"
    assert [c.text for c in captions.cues] == split_words(TYPED)
    number = next(c for c in captions.cues if c.text == "1,250")
    assert number.start == heard[2].start and number.end > number.start + 0.1  # several spoken words' time

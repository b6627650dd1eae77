"""Captions for a take (inference/studio/captions.py) on the tiny model: cue timing consistent with the audio, SRT and
VTT that parse back with the libraries, word times from Whisper or a clear fallback to sentences."""

from __future__ import annotations

from pathlib import Path

import pytest
import srt
import webvtt
from hypothesis import given, settings
from hypothesis import strategies as st

from inference import Engine, InputError, Reference, SynthesisOptions, SynthesisRequest, SynthesisResult
from inference.model.asr import Transcriber, Word
from inference.studio.captions import caption_level, captions_for, synthesize_with_captions, word_cues
from inference.text.chunking import sentences
from inference.text.subtitles import Cue, parse_subtitles, to_srt, to_vtt
from tests.badinputs import assert_clear
from tests.conftest import REF_TEXT

LONG = (
    "It was late, and the house was quiet. Somebody knocked at the door, twice, and waited. "
    "Nobody answered; the wind was the only sound. Then the knocking came again, louder than before, "
    "and a voice called out a name that nobody in the house had heard for years. "
) * 2  # two chunks at least, at the short reference's pace


FADE = 0.15  # the default cross-fade (s)


@pytest.fixture(scope="module")
def parts(engine: Engine, short_ref: Path) -> list:
    request = SynthesisRequest(LONG, Reference(short_ref, REF_TEXT), SynthesisOptions(nfe_step=4, seed=5))
    return list(engine.stream(request))


@pytest.fixture(scope="module")
def take(engine: Engine, parts: list):
    return SynthesisResult.from_chunks(parts), captions_for(engine, parts, FADE)


def check_timeline(cues: tuple[Cue, ...] | list[Cue], duration: float) -> None:
    """In order, not overlapping, inside the take; the last ends with the take (±50 ms)."""
    assert cues and cues[0].start >= 0
    for a, b in zip(cues, cues[1:], strict=False):
        assert a.start < a.end <= b.start + 1e-9, (a, b)
    assert abs(cues[-1].end - duration) <= 0.05


def test_sentence_cues_follow_the_take(take) -> None:
    result, captions = take
    assert len(result.chunks) > 1 and captions.level == "sentence" and not captions.note
    check_timeline(captions.cues, result.duration)
    assert captions.cues[0].text == "It was late, and the house was quiet."
    assert len(captions.cues) == 10  # one per sentence
    assert " ".join(c.text for c in captions.cues).split() == LONG.split()  # every word, once, in order


def test_a_finished_take_gives_back_its_pieces_and_the_same_captions(engine: Engine, take, parts: list) -> None:
    """What a kept variation shows: its captions from the result alone, as a Generate's from its chunks."""
    result, captions = take
    again = result.parts()
    assert [p.text for p in again] == [p.text for p in parts] and len(again) == len(parts) > 1
    for a, b in zip(again, parts, strict=True):
        assert (a.wave == b.wave).all() and a.sample_rate == b.sample_rate and a.total == len(parts)
    assert captions_for(engine, again, FADE).cues == captions.cues


def test_cue_boundaries_fall_in_the_middle_of_each_cross_fade(take, parts: list) -> None:
    """A chunk's last sentence ends, and the next chunk's first begins, halfway through the cross-fade that joins
    them (chunk i's audio opens with it)."""
    _, captions = take
    start, first = 0.0, 0  # seconds and cue index where each chunk starts
    for before, chunk in zip(parts, parts[1:], strict=False):
        start += len(before.wave) / before.sample_rate
        first += len(sentences(before.text))
        join = start + FADE / 2
        ending, opening = captions.cues[first - 1], captions.cues[first]
        assert before.text.endswith(ending.text) and chunk.text.startswith(opening.text)
        assert ending.end == pytest.approx(join, abs=1e-6) and opening.start == pytest.approx(join, abs=1e-6)


def test_srt_and_vtt_parse_back_with_the_libraries(take) -> None:
    _, captions = take
    subs = list(srt.parse(captions.srt()))
    vtt = webvtt.from_string(captions.vtt(), strict=True).captions
    assert len(subs) == len(vtt) == len(captions.cues)
    for cue, s, v in zip(captions.cues, subs, vtt, strict=True):
        assert abs(s.start.total_seconds() - cue.start) <= 0.001 and abs(s.end.total_seconds() - cue.end) <= 0.001
        assert abs(v.start_time.in_milliseconds() / 1000 - cue.start) <= 0.001
        assert s.content == cue.text and v.text == cue.text
    assert [c.text for c in parse_subtitles(captions.vtt())] == [c.text for c in captions.cues]


def test_text_with_markup_characters_round_trips() -> None:
    cues = [Cue(0.0, 1.0, "Tom & Jerry <3"), Cue(1.0, 2.25, "a < b > c")]
    for text in (to_srt(cues), to_vtt(cues)):
        assert [(c.start, c.end) for c in parse_subtitles(text)] == [(0.0, 1.0), (1.0, 2.25)]
    assert [c.text for c in parse_subtitles(to_vtt(cues))] == ["Tom & Jerry <3", "a < b > c"]


def test_a_one_chunk_take_has_one_cue_per_sentence(engine: Engine, short_ref: Path) -> None:
    request = SynthesisRequest("Hi there. How are you?", Reference(short_ref, REF_TEXT), SynthesisOptions(nfe_step=4))
    result, captions = synthesize_with_captions(engine, request)
    assert [c.text for c in captions.cues] == ["Hi there.", "How are you?"]
    assert captions.cues[0].start == 0 and captions.cues[-1].end == pytest.approx(result.duration, abs=1e-6)
    second = {"start": captions.table()[0]["end"], "end": round(result.duration, 3), "text": "How are you?"}
    assert captions.table()[1] == second


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.text(max_size=5), st.floats(-5, 40, allow_nan=False), st.floats(0, 5, allow_nan=False)),
        max_size=30,
    ),
    st.floats(0.1, 30),
)
def test_word_cues_are_ordered_and_inside_the_take(raw, duration: float) -> None:
    words = [Word(text, start, start + length) for text, start, length in raw]
    cues = word_cues(words, duration)
    for a, b in zip(cues, cues[1:], strict=False):
        assert a.end <= b.start
    assert all(0 <= c.start <= c.end <= duration and c.text.strip() for c in cues)


def test_word_level_falls_back_to_sentences_when_whisper_cannot_run(tiny_settings, short_ref: Path, take) -> None:
    engine = Engine(tiny_settings, transcriber=Transcriber(str(Path("/nonexistent/whisper"))))
    request = SynthesisRequest("Hi there. How are you?", Reference(short_ref, REF_TEXT), SynthesisOptions(nfe_step=4))
    result, captions = synthesize_with_captions(engine, request, level="word")
    assert captions.level == "sentence" and len(captions.cues) == 2
    assert_clear(captions.note, "word times are unavailable.*whisper.*per sentence")


@pytest.mark.slow
def test_word_level_captions_from_the_tiny_whisper(engine: Engine, short_ref: Path, monkeypatch) -> None:
    from inference.model import asr

    monkeypatch.setattr(asr, "MAX_NEW_TOKENS", 16)  # the random Whisper never stops by itself
    request = SynthesisRequest("Hi there.", Reference(short_ref, REF_TEXT), SynthesisOptions(nfe_step=4, seed=1))
    chunks = list(engine.stream(request))
    captions = captions_for(engine, chunks, 0.15, "word")
    duration = sum(len(c.wave) for c in chunks) / chunks[0].sample_rate
    if captions.level == "word":
        assert captions.cues and all(0 <= c.start <= c.end <= duration for c in captions.cues)
        for a, b in zip(captions.cues, captions.cues[1:], strict=False):
            assert a.end <= b.start
        list(srt.parse(captions.srt()))
    else:  # the random model's words may all be empty: then the fallback says so
        assert_clear(captions.note, "per sentence")


@pytest.mark.parametrize("bad", ["yes", "words", 1, 0.5, [], {}])
def test_a_bad_caption_level_is_refused(bad) -> None:
    with pytest.raises(InputError) as e:
        caption_level(bad)
    assert_clear(str(e.value), "captions must be")

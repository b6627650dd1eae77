"""Chunking: chunks join back to the text, none exceeds its limit, empty input works."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inference.text.chunking import chunk_text, max_chunk_bytes, nbytes

WORDS = st.lists(
    st.one_of(
        st.sampled_from(["Hello", "world", "你好", "世界", "ça", "va", "x" * 40]),
        st.text(alphabet=st.characters(categories=["L", "N"]), min_size=1, max_size=12),
    ),
    max_size=60,
)
PUNCT = st.sampled_from(["", "", ".", ",", "!", "?", ";", "。", "，", "！"])


@st.composite
def texts(draw: st.DrawFn) -> str:
    words = draw(WORDS)
    return " ".join(w + draw(PUNCT) for w in words)


def squash(text: str) -> str:
    return "".join(text.split())


@settings(max_examples=300, deadline=None)
@given(text=texts(), limit=st.integers(min_value=4, max_value=300))
def test_chunks_join_back_and_respect_the_limit(text: str, limit: int) -> None:
    chunks = chunk_text(text, max_bytes=limit)
    assert squash("".join(chunks)) == squash(text)  # nothing lost, nothing added, order kept
    assert all(nbytes(c) <= limit for c in chunks)
    assert all(c.strip() == c and c for c in chunks)


@settings(max_examples=100, deadline=None)
@given(text=texts(), first=st.integers(min_value=10, max_value=60))
def test_short_first_chunk(text: str, first: int) -> None:
    """The first chunk keeps to its own, shorter limit, unless it is a single clause with no place to cut (then it
    is that clause alone); the others keep to the general limit."""
    from inference.text.chunking import _SENTENCE, _pieces, _units

    chunks = chunk_text(text, max_bytes=200, first_max_bytes=first)
    if not chunks:
        return
    assert squash("".join(chunks)) == squash(text)
    units = [u for s in _pieces(text.strip(), _SENTENCE) for u, _ in _units(" ".join(s.split()), 200)]
    assert nbytes(chunks[0]) <= first or chunks[0] == units[0], (chunks[0], units[0])
    assert all(nbytes(c) <= 200 for c in chunks[1:])


def test_the_first_chunk_is_short_on_real_text() -> None:
    text = "Hello there, my friend. " + "This sentence is one of many that make the text long enough. " * 8
    chunks = chunk_text(text, max_bytes=200, first_max_bytes=30)
    assert chunks[0] == "Hello there, my friend." and all(nbytes(c) <= 200 for c in chunks) and len(chunks) > 2


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_input_gives_no_chunks(text: str) -> None:
    assert chunk_text(text) == []


def test_splits_at_sentences_first() -> None:
    assert chunk_text("Hello there. How are you? Fine.", max_bytes=20) == ["Hello there.", "How are you? Fine."]
    assert chunk_text("One. Two. Three.", max_bytes=100) == ["One. Two. Three."]


def test_chinese_counts_bytes_and_joins_without_spaces() -> None:
    chunks = chunk_text("你好。今天天气很好。", max_bytes=100)
    assert chunks == ["你好。今天天气很好。"]


def test_max_chunk_bytes_follows_the_reference_rate() -> None:
    assert max_chunk_bytes("x" * 30, 3.0) == 190  # 10 bytes/s * 19 s left of 22
    assert max_chunk_bytes("x" * 30, 3.0, speed=2.0) == 380
    assert max_chunk_bytes("x", 21.9) == 20  # never below a useful floor


STORY = (
    "The old lighthouse stood at the edge of the cliff, its white paint peeling after a hundred winters of salt. "
    "Every evening the keeper climbed the narrow stairs, counted the steps out loud, and lit the great lamp. "
    "Ships far out at sea would see the beam sweep across the water and know that the rocks were near. "
    "One night a storm came in from the west, louder than any the keeper could remember from his childhood. "
    "The wind howled through the railings, and the rain struck the glass so hard that it seemed to shake. "
    "Still the lamp turned, slow and steady, throwing its light into the dark as it had always done."
)


@pytest.mark.parametrize("limit", [80, 120, 160, 200, 300])
def test_no_more_chunks_than_the_official_chunker(limit: int) -> None:
    """Each chunk repeats the whole reference in the model's input: an extra chunk is wasted compute. (Below ~60
    bytes the official chunker keeps an over-long clause whole, over its limit; ours splits it, so it may make
    more chunks there.)"""
    from f5_tts.infer.utils_infer import chunk_text as official_chunk_text

    ours = chunk_text(STORY, limit)
    assert len(ours) <= len(official_chunk_text(STORY, max_chars=limit))
    assert all(nbytes(c) <= limit for c in ours)


def test_among_equal_counts_it_cuts_at_sentence_ends() -> None:
    # Two chunks either way; packing greedily would cut after "Dd ee," (a clause), we cut after "cc." (a sentence).
    assert chunk_text("Aa bb cc. Dd ee, ff gg. Hh.", max_bytes=20) == ["Aa bb cc.", "Dd ee, ff gg. Hh."]
    # A clause before a word: two chunks, cut at the comma rather than between "gg" and "hh".
    assert chunk_text("Aa bb cc dd, ee ff gg hh ii.", max_bytes=20) == ["Aa bb cc dd,", "ee ff gg hh ii."]


@settings(max_examples=200, deadline=None)
@given(text=texts(), limit=st.integers(min_value=4, max_value=200))
def test_fewest_chunks(text: str, limit: int) -> None:
    """Greedy packing of the same units is optimal in count; ours must match it (and may cut elsewhere)."""
    from inference.text.chunking import _SENTENCE, _joiner, _pieces, _units

    units = [u for s in _pieces(text.strip(), _SENTENCE) for u, _ in _units(" ".join(s.split()), limit)]
    greedy, cur = 0, ""
    for u in units:
        cand = cur + _joiner(cur, u) + u if cur else u
        if cur and nbytes(cand) > limit:
            greedy, cur = greedy + 1, u
        else:
            cur = cand
    greedy += bool(cur)
    assert len(chunk_text(text, limit)) == greedy

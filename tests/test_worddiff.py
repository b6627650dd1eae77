"""inference.text.worddiff: property tests (applying the edits to the old words gives the new words) and examples."""

from __future__ import annotations

import doctest

from hypothesis import given, settings
from hypothesis import strategies as st

from inference.text import worddiff
from inference.text.worddiff import ADDED, REMOVED, apply_edits, diff_markup, diff_words, key, split_words

# A small vocabulary makes repeats, and so interesting diffs, likely; punctuation and capitals vary the spelling.
PLAIN = st.sampled_from(["some", "call", "me", "nature", "others", "mother", "a", "the", "optimist", "realist"])
SPELLED = st.builds(
    lambda w, upper, punct: (w.capitalize() if upper else w) + punct,
    PLAIN,
    st.booleans(),
    st.sampled_from(["", ",", ".", "!", "?", "…"]),
)
UNICODE_WORDS = st.text(st.characters(blacklist_categories=("Zs", "Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=6)


def keys(words: list[str]) -> list[str]:
    return [key(w) for w in words]


def test_examples() -> None:
    result = doctest.testmod(worddiff)
    assert result.attempted >= 10 and result.failed == 0


@settings(max_examples=400, deadline=None)
@given(st.lists(PLAIN, max_size=25), st.lists(PLAIN, max_size=25))
def test_applying_the_edits_gives_the_new_words(old: list[str], new: list[str]) -> None:
    assert apply_edits(old, diff_words(old, new)) == new


@settings(max_examples=300, deadline=None)
@given(st.lists(SPELLED, max_size=20), st.lists(SPELLED, max_size=20))
def test_applying_the_edits_gives_words_that_sound_like_the_new_ones(old: list[str], new: list[str]) -> None:
    assert keys(apply_edits(old, diff_words(old, new))) == keys(new)


@settings(max_examples=300, deadline=None)
@given(st.lists(UNICODE_WORDS, max_size=12), st.lists(UNICODE_WORDS, max_size=12))
def test_any_words_round_trip(old: list[str], new: list[str]) -> None:
    assert keys(apply_edits(old, diff_words(old, new))) == keys(new)


@settings(max_examples=300, deadline=None)
@given(st.lists(SPELLED, max_size=20), st.lists(SPELLED, max_size=20))
def test_edits_are_ordered_disjoint_and_of_their_kind(old: list[str], new: list[str]) -> None:
    edits = diff_words(old, new)
    for a, b in zip(edits, edits[1:], strict=False):
        assert a.old_end <= b.old_start and a.new_end <= b.new_start
    for e in edits:
        assert e.old_words == tuple(old[e.old_start : e.old_end]) and e.new_words == tuple(new[e.new_start : e.new_end])
        assert (
            e.kind
            == {(True, True): "replace", (False, True): "insert", (True, False): "delete"}[
                (bool(e.old_words), bool(e.new_words))
            ]
        )
    # what no edit touches is the same words, in the same order, on both sides
    kept_old = [key(w) for i, w in enumerate(old) if not any(e.old_start <= i < e.old_end for e in edits)]
    kept_new = [key(w) for i, w in enumerate(new) if not any(e.new_start <= i < e.new_end for e in edits)]
    assert kept_old == kept_new


@settings(max_examples=200, deadline=None)
@given(st.lists(SPELLED, max_size=20), st.lists(SPELLED, max_size=20))
def test_markup_reads_as_both_texts(old: list[str], new: list[str]) -> None:
    pieces = diff_markup(old, new)
    assert " ".join(t for t, kind in pieces if kind != ADDED).split() == old
    assert keys(" ".join(t for t, kind in pieces if kind != REMOVED).split()) == keys(new)


@given(st.lists(SPELLED, max_size=20))
def test_the_same_words_respelled_are_no_edit(words: list[str]) -> None:
    respelled = [w.upper().rstrip(",.!?…") + ";" for w in words]
    assert diff_words(words, words) == [] and diff_words(words, respelled) == []


@given(st.text(max_size=60))
def test_split_words_keeps_every_character_but_whitespace(text: str) -> None:
    words = split_words(text)
    assert "".join(words) == "".join(text.split())
    assert all(w and not any(ch.isspace() for ch in w) for w in words)


def test_the_issue_example() -> None:
    old = split_words("Some call me nature, others call me mother nature.")
    new = split_words("Some call me optimist, others call me realist. I insist.")
    edits = diff_words(old, new)
    assert [(e.kind, e.old_text, e.new_text) for e in edits] == [
        ("replace", "nature,", "optimist,"),
        ("replace", "mother nature.", "realist. I insist."),
    ]
    deleted = diff_words(old, split_words("Some call me nature, others call me nature."))
    assert [(e.kind, e.old_start, e.old_end, e.old_text) for e in deleted] == [("delete", 7, 8, "mother")]
    inserted = diff_words(old, split_words("Some people call me nature, others call me mother nature."))
    assert [(e.kind, e.old_start, e.old_end, e.new_text) for e in inserted] == [("insert", 1, 1, "people")]

"""Every word said right, the text side: normalization (table and properties), the pronunciation dictionary (whole
words, case, punctuation, pinyin, the files on the volume), the duration rule for very short text, and the one text
pipeline in the engine (the spoken text on every result)."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inference import Engine, InputError, Reference, SynthesisOptions, SynthesisRequest
from inference.model.duration import MIN_SPEECH_S, frames
from inference.model.sampling import HOP_LENGTH, frames_for, ref_text_for_model
from inference.names import VOICE_SUFFIX
from inference.text.normalize import language, normalize
from inference.text.pronounce import (
    GLOBAL_FILE,
    MAX_ENTRIES,
    MAX_SPOKEN,
    MAX_WORD,
    Dictionary,
    Entry,
    PronunciationStore,
    check_entry,
    pinyin_to_characters,
)
from tests.conftest import REF_TEXT
from tests.normalize_cases import CASES, SYMBOLS

DIGIT = re.compile(r"\d")


# ---- normalization ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("lang", "category", "written", "must"), CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_normalization_table(lang: str, category: str, written: str, must: tuple[str, ...]) -> None:
    spoken = normalize(written)
    assert not DIGIT.search(spoken), spoken
    assert not [c for c in SYMBOLS if c in spoken], spoken
    assert all(word.lower() in spoken.lower() for word in must), (spoken, must)
    assert language(written) == lang


def test_the_table_covers_both_languages_and_every_category() -> None:
    assert len(CASES) >= 50
    assert sum(c[0] == "zh" for c in CASES) >= 15
    wanted = {"cardinal", "ordinal", "decimal", "fraction", "currency", "percent", "date", "time", "year", "phone"}
    assert wanted | {"unit", "abbreviation", "url", "email"} <= {c[1] for c in CASES}


def test_the_issue_example_has_no_digits_and_no_symbols() -> None:
    spoken = normalize("On 12/01/2026 I paid $3.50 for 2 coffees at 5:30 pm, 25% off.")
    assert not re.search(r"[\d$%/:]", spoken), spoken


def test_text_without_written_forms_is_left_alone() -> None:
    for text in ("Hello there, my friend.", "你好，世界。", "Hi.", "OK!", "Привет, мир!", "Hello 🙂 there."):
        assert normalize(text) == text


def test_each_sentence_is_read_in_its_own_language() -> None:
    spoken = normalize("I have 3 cats. 我有3个苹果。 And 4 dogs!")
    assert "three" in spoken and "三" in spoken and "four" in spoken and not DIGIT.search(spoken)
    assert normalize("我有3个苹果", lang="en") != normalize("我有3个苹果")  # forcing one grammar is honoured


def test_what_the_grammar_cannot_read_is_kept_and_its_digits_still_read() -> None:
    spoken = normalize("Item #7; v2.0 and 1e5, x2 at ３５ and २३.")
    assert not DIGIT.search(spoken) and "Item" in spoken and "and" in spoken, spoken


def test_normalizing_a_thousand_characters_is_fast() -> None:
    text = ("On 12/01/2026 I paid $3.50 for 2 coffees at 5:30 pm, 25% off. " * 16)[:1000]
    normalize(text)  # the grammars load once
    start = time.perf_counter()
    normalize(text)
    assert time.perf_counter() - start < 2.0


WORDS = st.sampled_from(["the", "cat", "paid", "at", "for", "on", "is", "we", "Dr.", "km", "pm", "off", "and"])
NUMBERS = st.one_of(
    st.integers(0, 10**9).map(str),
    st.decimals(0, 10_000, places=2, allow_nan=False).map(str),
    st.integers(1, 99).map(lambda n: f"{n}%"),
    st.integers(1, 999).map(lambda n: f"${n}.{n % 100:02d}"),
    st.tuples(st.integers(1, 12), st.integers(0, 59)).map(lambda t: f"{t[0]}:{t[1]:02d}"),
    st.tuples(st.integers(1, 12), st.integers(1, 28), st.integers(1900, 2100)).map(lambda t: f"{t[0]}/{t[1]}/{t[2]}"),
    st.integers(1, 100).map(lambda n: f"{n}{['st', 'nd', 'rd', 'th'][min(n % 10, 4) - 1] if n % 10 else 'th'}"),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(WORDS, NUMBERS), min_size=1, max_size=12))
def test_no_digits_remain_in_english(tokens: list[str]) -> None:
    spoken = normalize(" ".join(tokens) + ".")
    assert not DIGIT.search(spoken), spoken


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(["我", "有", "买了", "今天", "的"]), NUMBERS), min_size=1, max_size=8))
def test_no_digits_remain_in_chinese(tokens: list[str]) -> None:
    spoken = normalize("".join(tokens) + "。")
    assert not DIGIT.search(spoken), spoken


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(WORDS, NUMBERS), min_size=1, max_size=10))
def test_normalizing_twice_changes_nothing_more(tokens: list[str]) -> None:
    """Idempotence holds once every written form is spoken: the spoken form is a fixed point."""
    once = normalize(" ".join(tokens) + ".")
    assert normalize(once) == once


@pytest.mark.parametrize("written", [c[2] for c in CASES if c[1] not in ("abbreviation", "url", "email")])
def test_the_tables_spoken_forms_are_fixed_points(written: str) -> None:
    once = normalize(written)
    assert normalize(once) == once


# ---- the pronunciation dictionary --------------------------------------------------------------------------------
def test_whole_words_case_and_punctuation() -> None:
    d = Dictionary.parse("Nguyen = win\nUS == you ess\nNew York = noo york\nC++ = see plus plus\nC# = see sharp # lang")
    assert d.apply("Mr. Nguyen's team, US and us.") == "Mr. win's team, you ess and us."
    assert d.apply("NGUYEN! nguyen? (Nguyen)") == "win! win? (win)"
    assert d.apply("Nguyenx and xNguyen stay.") == "Nguyenx and xNguyen stay."
    assert d.apply("I love new   york and C++.") == "I love noo york and see plus plus."
    assert d.apply("USA is not US.") == "USA is not you ess."
    assert d.apply("I write C#, not C.") == "I write see sharp, not C."


def test_longer_entries_win_and_replacements_are_not_replaced_again() -> None:
    d = Dictionary([Entry("New", "noo"), Entry("New York", "big apple"), Entry("apple", "pear")])
    assert d.apply("New York and New shoes, an apple.") == "big apple and noo shoes, an pear."


def test_a_case_sensitive_entry_wins_over_a_case_insensitive_one() -> None:
    d = Dictionary([Entry("us", "uss"), Entry("US", "you ess", case_sensitive=True)])
    assert d.apply("US, us, Us.") == "you ess, uss, uss."


def test_chinese_words_match_inside_a_sentence_and_pinyin_is_read_exactly() -> None:
    from f5_tts.model.utils import convert_char_to_pinyin

    d = Dictionary.parse("重庆 = chong2 qing4\n行长 = 航长")
    spoken = d.apply("我在重庆见了行长。")
    assert "重庆" not in spoken and "航长" in spoken
    tokens = [t for t in convert_char_to_pinyin([spoken])[0] if t.strip()]
    assert tokens[2:4] == ["chong2", "qing4"], tokens  # what the model reads: exactly the syllables asked for
    assert pinyin_to_characters("lv3 nü3 ma5") is not None
    assert pinyin_to_characters("not pinyin") is None
    with pytest.raises(InputError, match="not a Mandarin syllable"):
        pinyin_to_characters("xq1")


def test_the_file_format_names_the_bad_line() -> None:
    text = "# comment\nGIF = jif   # the animal\n\nbad line without an equals sign\n"
    with pytest.raises(InputError, match="Line 4 of words.txt"):
        Dictionary.parse(text, "words.txt")
    assert Dictionary.parse(text.rsplit("\n", 2)[0]).apply("A GIF.") == "A jif."
    round_trip = Dictionary.parse("Nguyen = win\nUS == you ess")
    assert Dictionary.parse(round_trip.text()).entries == round_trip.entries


@pytest.mark.parametrize(
    ("word", "spoken", "words"),
    [
        ("", "x", "empty"),
        ("!!", "x", "empty"),
        ("GIF", "", "empty"),
        ("GIF", "...", "empty"),
        ("#GIF", "x", "cannot be a dictionary word"),
        ("a #b", "x", "cannot be a dictionary word"),
        ("a=b", "x", "cannot be a dictionary word"),
        ("GIF", "j #f", "# after a space"),
        ("x" * (MAX_WORD + 1), "x", "too long"),
        ("GIF", "x" * (MAX_SPOKEN + 1), "too long"),
    ],
)
def test_bad_entries_are_refused_with_what_to_do(word: str, spoken: str, words: str) -> None:
    with pytest.raises(InputError, match=words) as info:
        check_entry(word, spoken)
    assert info.value.hint


def test_entries_at_their_limits_work() -> None:
    assert check_entry("w" * MAX_WORD, "s" * MAX_SPOKEN).spoken == "s" * MAX_SPOKEN
    text = "\n".join(f"word{i} = spoken{i}" for i in range(MAX_ENTRIES))
    start = time.perf_counter()
    d = Dictionary.parse(text)
    assert d.apply("say word1999 and word7.") == "say spoken1999 and spoken7."
    assert time.perf_counter() - start < 3
    with pytest.raises(InputError, match=f"more than {MAX_ENTRIES}"):
        Dictionary.parse(text + "\nlast = one")


def test_the_store_keeps_plain_files_next_to_the_voices(tmp_path: Path) -> None:
    store = PronunciationStore(tmp_path)
    store.set(Entry("Nguyen", "win"))
    store.set(Entry("Nguyen", "nwin"), voice="alice")
    store.set(Entry("GIF", "jif"))
    assert (tmp_path / GLOBAL_FILE).read_text().splitlines()[-2:] == ["Nguyen = win", "GIF = jif"]
    assert (tmp_path / f"alice{VOICE_SUFFIX}").is_file()
    assert store.for_voice("alice").apply("Nguyen, GIF") == "nwin, jif"  # the voice's own entry wins
    assert store.for_voice(None).apply("Nguyen, GIF") == "win, jif"
    (tmp_path / GLOBAL_FILE).write_text("GIF = gif by hand\n", encoding="utf-8")  # edited by hand: seen at once
    assert store.for_voice(None).apply("GIF") == "gif by hand"
    assert store.delete("gif").entries == ()
    with pytest.raises(InputError, match="not in the global dictionary"):
        store.delete("GIF")
    assert not list(tmp_path.glob(".tmp-*"))  # written atomically, nothing left over


def test_a_broken_file_changes_nothing_and_is_named(tmp_path: Path) -> None:
    store = PronunciationStore(tmp_path)
    store.set(Entry("GIF", "jif"))
    with pytest.raises(InputError, match="Line 1"):
        store.save_text("no equals here")
    assert store.load().apply("GIF") == "jif"
    (tmp_path / GLOBAL_FILE).write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(InputError, match="cannot be read|is not an entry"):
        store.load()


def test_concurrent_edits_keep_every_entry(tmp_path: Path) -> None:
    store = PronunciationStore(tmp_path)
    threads = [threading.Thread(target=store.set, args=(Entry(f"w{i}", f"s{i}"),)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(store.load().entries) == 20


def test_a_voices_dictionary_follows_it_when_renamed_and_goes_when_deleted(tmp_path: Path, short_ref: Path) -> None:
    from inference.voices import VoiceLibrary

    voices, store = VoiceLibrary(tmp_path), PronunciationStore(tmp_path)
    voices.save("bob", short_ref.read_bytes(), REF_TEXT)
    store.set(Entry("Nguyen", "win"), voice="bob")
    voices.rename("bob", "robert")
    assert store.for_voice("robert").apply("Nguyen") == "win" and not store.path("bob").exists()
    voices.delete("robert")
    assert not store.path("robert").exists()
    assert voices.names() == []  # the dictionary files are never taken for voices


# ---- very short text ----------------------------------------------------------------------------------------------
REF_SAMPLES = 128_000  # 5.33 s at 24 kHz, as basic_ref_en.wav
MODEL_REF = ref_text_for_model(REF_TEXT)


def seconds(n_frames: int) -> float:
    return (n_frames - REF_SAMPLES // HOP_LENGTH) * HOP_LENGTH / 24000


@pytest.mark.parametrize("text", ["Hi.", "Yes.", "OK!", "Hi there.", "Thank you.", "Yes, please."])
def test_short_text_gets_at_least_the_floor_and_never_the_jump(text: str) -> None:
    ours, official = frames(REF_SAMPLES, MODEL_REF, text, 1.0), frames_for(REF_SAMPLES, MODEL_REF, text, 1.0)
    by_rate = REF_SAMPLES / HOP_LENGTH / len(MODEL_REF.encode()) * len(text.encode()) * HOP_LENGTH / 24000
    assert seconds(ours) >= MIN_SPEECH_S - 0.02
    assert seconds(ours) <= max(by_rate, MIN_SPEECH_S) + 0.02
    print(f"{text!r}: reference rate {by_rate:.2f} s, F5-TTS {seconds(official):.2f} s, ours {seconds(ours):.2f} s")


def test_the_rule_is_continuous_and_off_is_the_official_one() -> None:
    lengths = [seconds(frames(REF_SAMPLES, MODEL_REF, "x" * n, 1.0)) for n in range(1, 40)]
    assert all(b >= a for a, b in zip(lengths, lengths[1:], strict=False))  # no jump down at 10 bytes
    official = [seconds(frames_for(REF_SAMPLES, MODEL_REF, "x" * n, 1.0)) for n in (9, 10)]
    assert official[0] > 2.5 * official[1]  # the official rule's jump, which the studio's removes
    for text in ("Hi.", "Hello there, this is long enough.", "你好。"):
        for speed in (0.3, 1.0, 3.0):
            assert frames(REF_SAMPLES, MODEL_REF, text, speed, min_duration=False) == frames_for(
                REF_SAMPLES, MODEL_REF, text, speed
            )


def test_short_text_through_the_engine(engine: Engine, short_ref: Path) -> None:
    ref = Reference(short_ref, "Some call me nature.")
    for text in ("Hi.", "Yes.", "OK!"):
        on = engine.synthesize(SynthesisRequest(text, ref, SynthesisOptions(nfe_step=4, seed=3)))
        off = engine.synthesize(SynthesisRequest(text, ref, SynthesisOptions(nfe_step=4, seed=3, min_duration=False)))
        assert on.duration == pytest.approx(MIN_SPEECH_S, abs=0.02), (text, on.duration)
        assert off.duration != pytest.approx(on.duration, abs=0.01)


# ---- the pipeline in the engine -----------------------------------------------------------------------------------
def test_the_spoken_text_travels_on_every_result(engine: Engine, short_ref: Path) -> None:
    ref = Reference(short_ref, "Some call me nature.")
    result = engine.synthesize(SynthesisRequest("I paid $3.50 at 5:30 pm.", ref, SynthesisOptions(nfe_step=4, seed=1)))
    assert not DIGIT.search(result.spoken_text) and "dollar" in result.spoken_text
    assert " ".join(result.chunks) == result.spoken_text  # what was chunked is what is reported
    plain = engine.synthesize(
        SynthesisRequest("I paid $3.50 at 5:30 pm.", ref, SynthesisOptions(nfe_step=4, seed=1, normalize=False))
    )
    assert plain.spoken_text == "I paid $3.50 at 5:30 pm."
    parts = list(engine.stream(SynthesisRequest("I have 2 cats.", ref, SynthesisOptions(nfe_step=4, seed=1))))
    assert all(p.spoken_text == "I have two cats." for p in parts)
    assert result.ref_text == "Some call me nature."  # the reference transcript keeps the model's convention


def test_the_dictionary_applies_in_the_engine_global_and_per_voice(engine: Engine, short_ref: Path) -> None:
    engine.voices.save("Dict voice", short_ref.read_bytes(), "Some call me nature.", overwrite=True)
    try:
        engine.pronunciations.set(Entry("Nguyen", "win"))
        engine.pronunciations.set(Entry("Nguyen", "nuh win"), voice="Dict voice")
        options = SynthesisOptions(nfe_step=4, seed=1)
        uploaded = engine.synthesize(SynthesisRequest("Hello Nguyen.", Reference(short_ref, "Some call me."), options))
        saved = engine.synthesize(SynthesisRequest("Hello Nguyen.", engine.reference(voice="Dict voice"), options))
        assert uploaded.spoken_text == "Hello win." and saved.spoken_text == "Hello nuh win."
        assert engine.spoken_text("Nguyen has 2 cats.", voice="Dict voice") == "nuh win has two cats."
    finally:
        engine.pronunciations.delete("Nguyen")
        engine.voices.delete("Dict voice")


PROSE = st.sampled_from(
    ["the", "Cat", "walked", "home", "Dr", "Mr", "St", "Jan", "etc", "vs", "NATO", "US", "e-mail", "quietly", "Anna"]
)


@settings(max_examples=150, deadline=None)
@given(st.lists(PROSE, min_size=1, max_size=8), st.sampled_from([".", "!", "?", ",", ""]))
def test_sentences_that_skip_the_grammar_are_ones_it_leaves_alone(words: list[str], end: str) -> None:
    from inference.text.normalize import _plain, _run

    sentence = " ".join(words) + end
    if _plain(sentence):
        assert _run(sentence, "en") == sentence


def test_plain_prose_skips_the_grammar(monkeypatch: pytest.MonkeyPatch) -> None:
    from inference.text import normalize as module

    calls: list[str] = []
    run = module._run
    prose = "The morning began quietly, with a pale light. Nobody could remember a spring as warm as this one!"
    normalize(prose + " Dr. Smith has 2 cats.")  # capitalised words are asked about once: "The", "Nobody", "Smith"
    monkeypatch.setattr(module, "_run", lambda text, lang: calls.append(text) or run(text, lang))
    assert normalize(prose) == prose and calls == []
    normalize("Dr. Smith has 2 cats.")
    assert calls == ["Doctor Smith has 2 cats."]  # titles are spelled before the text is cut at full stops

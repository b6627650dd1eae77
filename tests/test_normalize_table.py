"""The number reader against the normalization table (tests/normalize_table.py): every category at 100%, save the
few cases the table lists as knowingly read otherwise; and properties: any whole number up to a billion, with or
without thousands separators, reads back to the same value, in English and in Chinese."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inference.text import chinese
from inference.text.normalize import normalize
from tests.normalize_table import CASES, CATEGORIES, KNOWN_MISREADINGS, Case, accepts, canonical

WANTED_EN = {"cardinal", "year", "phone", "short_code", "version", "money", "time", "date", "ordinal", "fraction"}
WANTED_EN |= {"percent", "decimal", "negative", "unit", "range", "decade", "abbreviation", "roman"}


def test_the_table_has_every_category_with_fifteen_cases_or_more() -> None:
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for case in CASES:
        counts[case.language, case.category] += 1
    assert set(CATEGORIES["en"]) == WANTED_EN
    assert set(CATEGORIES["zh"]) >= WANTED_EN - {"abbreviation", "roman"}
    assert min(counts.values()) >= 15, counts
    assert len(CASES) >= 500
    assert set(KNOWN_MISREADINGS) <= {c.written for c in CASES}


def test_the_comparison_rule() -> None:
    case = Case("time", "en", "14:00", ("fourteen hundred",), "")
    assert accepts(case, "Fourteen-hundred.") and not accepts(case, "fourteen o'clock")
    assert canonical("One hundred and fifty-five o'clock, a.m.") == "one hundred fifty five oclock am"
    assert canonical("I paid $3") == "i paid $3"  # symbols and digits stay: a form left unread never passes
    assert canonical("拨打 幺幺零，5至10。", "zh") == "拨打一一零5到10"


@pytest.mark.parametrize("category", [f"{lang} {c}" for lang in ("en", "zh") for c in CATEGORIES[lang]])
def test_every_category_reads_as_a_narrator_would(category: str) -> None:
    lang, name = category.split()
    cases = [c for c in CASES if c.language == lang and c.category == name]
    wrong = [
        f"{c.written!r} -> {normalize(c.written)!r} (want {c.readings[0]!r})"
        for c in cases
        if c.written not in KNOWN_MISREADINGS and not accepts(c, normalize(c.written))
    ]
    assert not wrong, "\n".join(wrong)


# ---- properties: numbers read back to themselves --------------------------------------------------------------------
_ONES = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen".split()
_ONES += "seventeen eighteen nineteen".split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_WORD_VALUE = {w: i for i, w in enumerate(_ONES)} | {w: 10 * i for i, w in enumerate(_TENS) if w != "_"}
_SCALE = {"thousand": 10**3, "million": 10**6, "billion": 10**9}


def english_value(words: str) -> int:
    """The inverse of an English cardinal: 'one thousand two hundred and fifty' -> 1250."""
    total = group = 0
    for word in canonical(words).split():
        if word == "hundred":
            group *= 100
        elif word in _SCALE:
            total, group = total + group * _SCALE[word], 0
        else:
            group += _WORD_VALUE[word]
    return total + group


_ZH_DIGIT = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"两": 2}
_ZH_PLACE = {"十": 10, "百": 100, "千": 1000}
_ZH_SCALE = {"万": 10**4, "亿": 10**8}


def chinese_value(said: str) -> int:
    """The inverse of a Chinese cardinal: '一百二十三万四千五百六十七' -> 1234567, '十五' -> 15."""
    total = section = digit = 0
    for ch in said:
        if ch in _ZH_DIGIT:
            digit = _ZH_DIGIT[ch]
        elif ch in _ZH_PLACE:
            section += (digit or 1) * _ZH_PLACE[ch]
            digit = 0
        else:  # 万 or 亿: everything so far is counted in it (亿 after 万 raises the whole)
            scale = _ZH_SCALE[ch]
            if scale > 10**4 and total:
                total = (total + section + digit) * scale
            else:
                total += (section + digit) * scale
            section = digit = 0
    return total + section + digit


def test_the_inverses() -> None:
    assert english_value("one thousand two hundred and fifty") == 1250
    assert english_value("nine hundred ninety-nine million one") == 999_000_001
    assert chinese_value("一百二十三万四千五百六十七") == 1_234_567 and chinese_value("十亿") == 10**9


# (the sentence around the number, the number's inverse): a neutral context, where a four-digit number is a count
CONTEXTS = [("We counted {} birds.", english_value), ("一共有{}只鸟。", chinese_value)]


@pytest.mark.parametrize(("sentence", "value"), CONTEXTS, ids=["en", "zh"])
@settings(max_examples=200, deadline=None)
@given(n=st.integers(0, 10**9), separated=st.booleans())
def test_any_number_reads_back_to_itself(sentence: str, value: Callable[[str], int], n: int, separated: bool) -> None:
    spoken = normalize(sentence.format(f"{n:,}" if separated else n))
    head, tail = sentence.split("{}")
    assert spoken.startswith(head) and spoken.endswith(tail), spoken
    assert value(spoken[len(head) : len(spoken) - len(tail)]) == n, spoken


def test_the_chinese_cardinal() -> None:
    numbers = (0, 10, 15, 110, 1001, 20300, 35000, 1234567, 100000001, 3004005006)
    said = ["零", "十", "十五", "一百一十", "一千零一", "二万零三百", "三万五千", "一百二十三万四千五百六十七"]
    said += ["一亿零一", "三十亿零四百万五千零六"]
    assert [chinese.cardinal(n) for n in numbers] == said


@given(st.integers(0, 10**12 - 1))
def test_the_chinese_cardinal_reads_back(n: int) -> None:
    assert chinese_value(chinese.cardinal(n)) == n

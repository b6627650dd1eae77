"""Written forms become spoken forms before synthesis: numbers, dates, times, money, units, abbreviations, URLs.

The grammars are WeTextProcessing's, prebuilt, run by the `wetext` package (kaldifst; nothing is compiled or
downloaded at run time): chosen by measurement over nemo-text-processing and num2words + cn2an (docs/DESIGN.md,
`python -m bench.normalizers`). What they misread on the normalization table (tests/normalize_table.py) our rules
spell out first: english.py (with num2words) and chinese.py. The language is decided per sentence: one with Chinese
characters goes through the Chinese rules and grammar, any other through the English ones, so mixed text reads each
part in its own language. Abbreviations ("Dr.", "Prof.", "p. 5") are spelled before the text is cut into sentences.

    normalize("On 12/01/2026 I paid $3.50 for 2 coffees at 5:30 pm, 25% off.")
    -> "On the first of december twenty twenty six I paid three dollars and fifty cents for two coffees at five
        thirty PM, twenty five percent off."
    normalize("Call 555-1234 or dial 911; 1,250 people, 1234 apples, in 1984.")
    -> "Call five five five, one two three four or dial nine one one; one thousand two hundred and fifty people, one
        thousand two hundred and thirty four apples, in nineteen eighty four."
    normalize("2026年3月5日，我花了3.5元。")  -> "二零二六年三月五日，我花了三点五元。"
    normalize("Hello there.")               -> "Hello there."           (nothing to change: the same text)

A piece the grammar cannot read is retried word by word, then digit run by digit run; it is never dropped.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
import unicodedata
from typing import Any

from inference.text.chinese import after, chinese
from inference.text.english import abbreviations, english

log = logging.getLogger(__name__)

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# Sentence ends: . ! ? … then a space, or a CJK full stop (no space needed). The separators are kept.
_SENTENCE = re.compile(r"((?<=[.!?…])\s+|(?<=[。！？；]))")
_DIGITS = re.compile(r"\d+")
# A sentence of plain words (letters, spaces, plain punctuation, a full stop only at its end, after a lower-case word
# of 4 letters or more: not an abbreviation such as "Dr.") has nothing to normalize, once its capitalised words are
# ones the grammar keeps: it skips the grammar, whose time goes on tagging (about 30 ms a sentence on one core).
_PLAIN = re.compile(r"[^\W\d_]+(?:[\s,;!?'\"()\-]+[^\W\d_]+)*[\s,;!?'\".…()\-]*")
_WORD = re.compile(r"[^\W\d_]+")
_LAST_WORD = re.compile(r"([^\W\d_]+)[\s,;!?'\"()\-]*\.[\s\"')…]*$")
_lock = threading.Lock()
_normalizers: dict[str, Any] = {}


def language(text: str) -> str:
    """'zh' for text with Chinese characters, else 'en': language("你好 world") -> 'zh'."""
    return "zh" if _CJK.search(text) else "en"


def _ascii_digits(text: str) -> str:
    """Digits of any script as ASCII, from Unicode's own data: '３５' -> '35', '२३' -> '23'."""
    if text.isascii():
        return text
    return "".join(str(unicodedata.decimal(ch)) if ch.isdecimal() else ch for ch in text)


def _grammar(lang: str) -> Any:
    normalizer = _normalizers.get(lang)
    if normalizer is None:
        from wetext import Normalizer

        normalizer = _normalizers[lang] = Normalizer(lang=lang, operator="tn")
    return normalizer


def _run(text: str, lang: str) -> str | None:
    """The grammar's reading of `text`, or None when it has none."""
    core = text.strip()
    if not core:
        return text
    head, tail = text[: len(text) - len(text.lstrip())], text[len(text.rstrip()) :]
    try:
        with _lock:
            return head + str(_grammar(lang).normalize(core)) + tail
    except Exception as e:  # the grammar found no path (e.g. "#1"): the caller retries in smaller pieces
        log.debug("no %s reading for %r: %s", lang, text[:80], type(e).__name__)
        return None


@functools.lru_cache(maxsize=4096)
def _kept(word: str) -> bool:
    """Whether the English grammar leaves a word with capitals as it is, asked once per word ("Mr" -> "Mister": no)."""
    probe = f"the {word} is here"
    return _run(probe, "en") == probe


def _plain(sentence: str) -> bool:
    """Whether a sentence has nothing to normalize (see _PLAIN; its capitalised words are ones the grammar keeps):
    _plain("Hello there.") -> True, _plain("Dr.") -> False, _plain("Mr Smith") -> False, _plain("It is 5.") -> False."""
    if not _PLAIN.fullmatch(sentence):
        return False
    last = _LAST_WORD.search(sentence)
    if last is not None and (len(last[1]) < 4 or not last[1].islower()):
        return False
    return all(word.islower() or _kept(word) for word in _WORD.findall(sentence))


def _piece(text: str, lang: str) -> str:
    """One sentence: our rules for what the grammar misreads (english.py, chinese.py), then the whole sentence, or
    failing that each word, or failing that each run of digits, through the grammar."""
    text = english(text) if lang == "en" else chinese(text)
    if _plain(text.strip()):
        return text
    whole = _run(text, lang)
    if whole is not None:
        return whole if lang == "en" else after(whole)
    words = []
    for word in re.split(r"(\s+)", text):
        read = _run(word, lang) if word.strip() else word
        if read is None:
            read = _DIGITS.sub(lambda m: _run(m.group(0), lang) or m.group(0), word)
        words.append(read)
    return "".join(words)


def normalize(text: str, lang: str | None = None) -> str:
    """The text with every written form spelled as it is spoken (see the module docstring); `lang` ('en' or 'zh')
    forces one grammar for the whole text instead of deciding per sentence. Sentence by sentence: the grammar's
    time grows faster than the length of what it is given."""
    parts = _SENTENCE.split(abbreviations(_ascii_digits(text)))  # sentence, separator, sentence, ...
    return "".join(part if i % 2 else _piece(part, lang or language(part)) for i, part in enumerate(parts))

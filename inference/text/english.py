"""English written forms the grammar misreads, spelled out before it runs (num2words says the numbers).

The grammar (wetext) reads most forms right and is kept for them; these rules take the forms it gets wrong, each
measured on tests/normalize_table.py: thousands separators, plain four-digit numbers (it reads every one as a year),
phone numbers and short codes (digit by digit), versions and IP addresses, money with cents, ranges, decades, 24-hour
times on the hour, a few units and abbreviations, and roman numerals after a name or a word such as "Chapter".

    english("Call 555-1234 or 911.")        -> "Call five five five, one two three four or nine one one."
    english("It cost $3.50 for 1,250 people.") -> "It cost three dollars and fifty cents for one thousand two
                                                   hundred and fifty people."
    english("Henry VIII read 1234 pages.")  -> "Henry the eighth read one thousand two hundred and thirty four pages."
"""

from __future__ import annotations

import re
from collections.abc import Callable

from num2words import num2words

_DIGIT = dict(enumerate("zero one two three four five six seven eight nine".split()))
_NUMBER = r"(?:\d{1,3}(?:,\d{3})+|\d+)"  # 1,250 or 1250
# What may follow a number for the grammar to read it as a measure: a unit, percent, degrees, an ordinal ending.
_MEASURE = re.compile(
    r"\s?(?:%|°|percent|per\b|st\b|nd\b|rd\b|th\b|'?s\b|(?:k|c|m)?m\b|(?:k|m)?g\b|mph|ft|lbs?\b|mi\b|oz\b|ml\b|"
    r"[KMGT]B\b|[KMG]?Hz|rpm|kW|W\b|L\b|h\b|min\b|sec\b)"
)
_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|"
    r"Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)
_AFTER_MONTH = re.compile(_MONTH + r"\.?\s+(?:\d{1,2}(?:st|nd|rd|th)?,?\s+)?$")
_YEAR_ALWAYS = {"year", "born", "since", "circa", "until", "till", "before", "after", "during", "around", "c"}
_PEOPLE = {"people", "men", "women", "children", "staff", "police"}
_YEAR_IF_CLAUSE = {"in", "by", "from", "to", "of", "and", "or", "early", "late", "mid", "between", "summer", "winter"}
# Words that may follow a year that starts a clause ("in 1984 we"): a noun there ("of 1500 people") makes it a count.
_CLAUSE = set(
    "we they it he she i you the a an and or but when there this that was were is are had has have to in on at by "
    "with for as so then until while which who after before".split()
)


# Words that may follow a number that is dialled ("call 911 now"); any other ("call 1000 people") makes it a count.
_DIGIT_WORD = "(?:zero|one|two|three|four|five|six|seven|eight|nine)"  # a digit said: "call 911 or 999"
_AFTER_CODE = "now|for|to|in|and|or|twice|again|from|if|immediately|today|at|on|right|then|when|with|instead"
_CODE_END = rf"(?=\s*$|[.,;:!?)]|\s+(?:{_AFTER_CODE})\b)"  # where a dialled number ends


def cardinal(n: int) -> str:
    """1250 -> 'one thousand two hundred and fifty' (num2words, without its commas and hyphens)."""
    return str(num2words(n)).replace(",", "").replace("-", " ")


def year(n: int) -> str:
    """1905 -> 'nineteen oh five', 2010 -> 'twenty ten', 2005 -> 'two thousand and five'."""
    return str(num2words(n, to="year")).replace(",", "").replace("-", " ")


def digits(text: str) -> str:
    """'555-0100' -> 'five five five zero one zero zero': every digit, one by one."""
    return " ".join(_DIGIT[int(c)] for c in text if c.isdigit())


def _int(text: str) -> int:
    return int(text.replace(",", ""))


def _decimal(whole: str, fraction: str) -> str:
    """('1,234', '56') -> 'one thousand two hundred and thirty four point five six'."""
    return f"{cardinal(_int(whole))} point {digits(fraction)}"


# ---- money ---------------------------------------------------------------------------------------------------------
_CURRENCY = {"$": ("dollar", "dollars", "cent", "cents"), "€": ("euro", "euros", "cent", "cents")}
_CURRENCY |= {"£": ("pound", "pounds", "penny", "pence"), "¥": ("yen", "yen", "", "")}
_CODE = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}
_CODED = re.compile(rf"({_NUMBER}(?:\.\d+)?)\s?({'|'.join(_CODE)})\b")
_MONEY = re.compile(
    rf"([$€£¥])\s?({_NUMBER})(?:\.(\d{{1,2}}))?(?:\s?[-–]\s?[$€£¥]?({_NUMBER}))?(?:\s(thousand|million|billion|trillion)\b)?"
)


def _money(m: re.Match[str]) -> str:
    """'$3.50' -> 'three dollars and fifty cents', '$0.99' -> 'ninety nine cents', '$5-10' -> 'five to ten dollars',
    '$2.5 billion' -> 'two point five billion dollars'."""
    one, many, sub_one, sub_many = _CURRENCY[m[1]]
    whole, cents, upper, scale = _int(m[2]), m[3], m[4], m[5]
    if scale or upper:
        amount = _decimal(m[2], cents) if cents else cardinal(whole)
        amount += f" to {cardinal(_int(upper))}" if upper else ""
        return f"{amount} {scale} {many}" if scale else f"{amount} {many}"
    said = f"{cardinal(whole)} {one if whole == 1 else many}"
    small = int(cents.ljust(2, "0")) if cents else 0
    if not small or not sub_one:
        return said
    small_said = f"{cardinal(small)} {sub_one if small == 1 else sub_many}"
    return small_said if whole == 0 else f"{said} and {small_said}"


# ---- phone numbers, short codes, addresses, versions --------------------------------------------------------------
def _groups(m: re.Match[str]) -> str:
    """'+1 (212) 555-0147' -> 'plus one, two one two, five five five, zero one four seven'."""
    said = ", ".join(digits(g) for g in re.findall(r"\d+", m[0]))
    return f"plus {said}" if m[0].startswith("+") else said


def _address(m: re.Match[str]) -> str:
    """'192.168.1.1' -> 'one nine two dot one six eight dot one dot one'; parts of one or two digits as numbers."""
    parts = m[0].split(".")
    if any(int(p) > 255 for p in parts):
        return m[0]
    return " dot ".join(digits(p) if len(p) == 3 else cardinal(int(p)) for p in parts)


def _version(m: re.Match[str]) -> str:
    """'v3.11.7' -> 'version three point eleven point seven'."""
    said = " point ".join(cardinal(int(p)) for p in m[2].split("."))
    return f"version {said}" if m[1] else said


def _dotted_date(m: re.Match[str]) -> str:
    """'31.12.1999' -> '1999-12-31', which the grammar reads as a date."""
    day, month = int(m[1]), int(m[2])
    return f"{m[3]}-{month:02d}-{day:02d}" if day <= 31 and month <= 12 else m[0]


# ---- ranges, plain numbers, years, decades, times -----------------------------------------------------------------
def _range(m: re.Match[str]) -> str:
    """'5-10' -> '5 to 10' (the grammar reads each side in its context), '1939-1945' -> 'nineteen thirty nine to
    nineteen forty five', '2020-21' -> 'twenty twenty to twenty one'."""
    low, high = m[1], m[2]
    if re.fullmatch(r"1\d{3}|20\d\d", low) and re.fullmatch(r"\d\d|1\d{3}|20\d\d", high):
        return f"{year(int(low))} to {year(int(high)) if len(high) == 4 else cardinal(int(high))}"
    return f"{low} to {high}"


def _separated(m: re.Match[str]) -> str:
    """'1,250' -> 'one thousand two hundred and fifty'; before a unit or '%' only the commas go (the grammar reads
    '1250 kg' right); '1,234.56' -> 'one thousand ... point five six'."""
    whole, fraction = m[1], m[2]
    if _MEASURE.match(m.string, m.end()):
        return m[0].replace(",", "")
    return _decimal(whole, fraction) if fraction else cardinal(_int(whole))


def _is_year(before: str, after: str) -> bool:
    """Whether a four-digit number is a year, from the word before it and the word after it (see _YEAR_ALWAYS)."""
    previous = re.findall(r"[A-Za-z]+", before[-20:])
    word = previous[-1].lower() if previous else ""
    following = re.match(r"\s*([A-Za-z]*)", after)
    next_word = following[1] if following else ""
    if word in _YEAR_ALWAYS:
        return True
    if word == "the":  # "the 2024 election", but "the 1500 people", "the 1200 soldiers"
        return next_word.islower() and not next_word.endswith("s") and next_word not in _PEOPLE
    return word in _YEAR_IF_CLAUSE and (not next_word or next_word.lower() in _CLAUSE or next_word[0].isupper())


def _four_digits(m: re.Match[str]) -> str:
    """'in 1984 we' -> year; '1234 apples', 'Page 1000' -> cardinal; after a month or before a unit: left to the
    grammar."""
    before, after = m.string[max(0, m.start() - 40) : m.start()], m.string[m.end() : m.end() + 40]
    if _AFTER_MONTH.search(before) or _MEASURE.match(after):
        return m[0]
    n = int(m[0])
    return year(n) if 1000 <= n <= 2099 and _is_year(before, after) else cardinal(n)


def _decade(m: re.Match[str]) -> str:
    """'1990s' -> 'nineteen nineties', '1800s' -> 'eighteen hundreds', '2000s' -> 'two thousands'."""
    said = year(int(m[1]))
    return said[:-1] + "ies" if said.endswith("y") else said + "s"


def _on_the_hour(m: re.Match[str]) -> str:
    """'14:00' -> 'fourteen hundred' (the 24-hour clock, read as written)."""
    return f"{cardinal(int(m[1]))} hundred"


# ---- roman numerals -------------------------------------------------------------------------------------------------
_ROMAN_VALUE = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}
_ROMAN = r"(?=[IVXLCDM])M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})"
_NUMBERED = r"Chapter|Part|Volume|Vol\.|Book|Act|Scene|Section|War|Bowl|Phase|Article|Title|Episode|Season|Stage"
_NUMBERED += r"|Type|Class|Grade|Level|Round|Tier|Category|Appendix|Unit|Schedule|Division|Group|Step|Psalm|Canto"


def roman(text: str) -> int:
    """'XIV' -> 14."""
    values = [_ROMAN_VALUE[c] for c in text]
    return sum(-v if i + 1 < len(values) and v < values[i + 1] else v for i, v in enumerate(values))


def _ordinal(n: int) -> str:
    return str(num2words(n, to="ordinal")).replace(",", "").replace("-", " ")


# ---- the rules, in order --------------------------------------------------------------------------------------------
Rule = tuple[re.Pattern[str], Callable[[re.Match[str]], str]]
RULES: list[Rule] = [
    (_CODED, lambda m: f"{_CODE[m[2]]}{m[1]}"),
    (_MONEY, _money),
    (re.compile(r"\+\d[\d\s().-]{6,}\d"), _groups),
    (re.compile(r"(?<![\d.-])(?:\d{1,3}[-.])?(?:\(\d{3}\)\s?|\d{3}[-.])?\d{3}[-.]\d{4}(?![\d.-]\d)"), _groups),
    (re.compile(r"(?<![\d.])0\d{2,4}(?:\s\d{3,6}){1,2}(?!\d)"), _groups),
    (
        re.compile(
            rf"\b((?:call(?:ed|ing)?|dial(?:l?ed|l?ing)?|text(?:ed|ing)?|ring|phone)\s+)(\d{{3,6}}){_CODE_END}",
            re.I,
        ),
        lambda m: m[1] + digits(m[2]),
    ),
    (re.compile(r"\b(\d{3})(?=\s+calls?\b)"), lambda m: digits(m[1])),
    (
        re.compile(rf"((?:{_DIGIT_WORD} ){{2}}{_DIGIT_WORD}\s+(?:or|and)\s+)(\d{{3,6}}){_CODE_END}"),
        lambda m: m[1] + digits(m[2]),
    ),
    (re.compile(r"(?<![\d/])9/11(?![\d/])"), lambda m: "nine eleven"),
    (re.compile(r"\b(\d{1,2})\.(\d{1,2})\.(\d{4})\b"), _dotted_date),
    (re.compile(rf"\b([1-9]|[12]\d|3[01])\s+(?={_MONTH}\b)"), lambda m: f"the {_ordinal(int(m[1]))} of "),
    (re.compile(r"(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?!\d|\.\d)"), _address),
    (re.compile(r"\b(v)?(\d+(?:\.\d+){2,})(?![\d]|\.\d)"), _version),
    (re.compile(r"\b(v)(\d+\.\d+)(?![\d]|\.\d)"), _version),
    (
        re.compile(r"\b((?:Python|Node|[Vv]ersion|[Rr]elease|Java|PHP|Ruby|iOS|Android|macOS)\s+)(\d+)\.([1-9]\d+)\b"),
        lambda m: f"{m[1]}{cardinal(int(m[2]))} point {cardinal(int(m[3]))}",
    ),
    (re.compile(r"(?<!\d)(\d{3}0)'?s\b"), _decade),
    (re.compile(r"\b(1[3-9]|2[0-3]):00\b(?!\s*[AaPp]\.?[Mm])"), _on_the_hour),
    (re.compile(rf"(?<![\d.,:/-])({_NUMBER})\s?[-–—]\s?({_NUMBER})(?![\d/:-]|[.,]\d|\s*=)"), _range),
    (re.compile(r"(?<![\w.-])-(?=\d{1,3}(?:,\d{3})+(?!\d))"), lambda m: "minus "),
    (re.compile(rf"(?<![\d.,$€£¥-])({_NUMBER})\.(\d+)(?!\d|\.\d)"), _separated),
    (re.compile(r"(?<![\d.,$€£¥-])(\d{1,3}(?:,\d{3})+)()(?!\d|[.,]\d)"), _separated),
    (re.compile(r"(?<![\d.,/:$€£¥-])\d{4}(?![\d/:]|[.,-]\d)"), _four_digits),
    (re.compile(r"(?<=\d)\s?m\b(?![/²³])"), lambda m: " meters"),
    (re.compile(r"(?<=\d)\s?W\b"), lambda m: " watts"),
    (re.compile(r"(?<=\d)p\b"), lambda m: " pence"),
    (re.compile(r"(?<=\d)\s?L\b"), lambda m: " liters"),
    (re.compile(rf"\b({_NUMBERED})\s+({_ROMAN})\b"), lambda m: f"{m[1]} {cardinal(roman(m[2]))}"),
    (re.compile(rf"\b([A-Z][a-z]+)\s+(?=[IVX]{{2}})({_ROMAN})\b"), lambda m: f"{m[1]} the {_ordinal(roman(m[2]))}"),
    (re.compile(r"(?<!\w)#(?=\d)"), lambda m: "number "),
]


# ---- abbreviations: run on the whole text, before it is cut into sentences at their full stops -----------------------
_TITLES = {"Dr": "Doctor", "Mr": "Mister", "Mrs": "Missus", "Ms": "Miz", "Prof": "Professor", "Sen": "Senator"}
_TITLES |= {"Gen": "General", "Capt": "Captain", "Lt": "Lieutenant", "Sgt": "Sergeant", "Rev": "Reverend"}
_TITLES |= {"Gov": "Governor", "Rep": "Representative", "Mt": "Mount"}
_BEFORE_NUMBER = {"No": "number", "Fig": "figure", "p": "page", "pp": "pages", "Vol": "volume"}
_TITLES |= {"vs": "versus", "approx": "approximately", "Approx": "Approximately"}
_ANYWHERE = {"etc": "et cetera", "Jr": "Junior", "Sr": "Senior"}
ABBREVIATIONS: list[Rule] = [
    (re.compile(rf"\b({'|'.join(_TITLES)})\.(?=\s)"), lambda m: _TITLES[m[1]]),
    (re.compile(r"\b([A-Z][a-z]+\s+)St\.(?=\s+[a-z])"), lambda m: f"{m[1]}Street"),
    (re.compile(r"\b([A-Z][a-z]+\s+)St\.(?=\s|$)"), lambda m: f"{m[1]}Street."),
    (re.compile(r"\bSt\.(?=\s+[A-Z])"), lambda m: "Saint"),
    (re.compile(rf"\b({'|'.join(_BEFORE_NUMBER)})\.\s?(?=\d)"), lambda m: _BEFORE_NUMBER[m[1]] + " "),
    (re.compile(rf"\b({'|'.join(_ANYWHERE)})\.(?=\s+[a-z])"), lambda m: _ANYWHERE[m[1]]),
    (re.compile(rf"\b({'|'.join(_ANYWHERE)})\.(?=\s|$)"), lambda m: _ANYWHERE[m[1]] + "."),
    (re.compile(rf"\b({_MONTH})\.(?=\s+\d)"), lambda m: m[1]),
]


def abbreviations(text: str) -> str:
    """'Prof. Brown vs. Dr. Smith, Main St.' -> 'Professor Brown versus Doctor Smith, Main Street.': spelled out
    before the text is cut into sentences, so that their full stops do not end one."""
    for pattern, say in ABBREVIATIONS:
        text = pattern.sub(say, text)
    return text


def english(text: str) -> str:
    """The text with the forms above spelled out; the rest is left for the grammar (see the module docstring)."""
    text = text.replace("−", "-")
    for pattern, say in RULES:
        text = pattern.sub(say, text)
    return text

"""Chinese written forms the grammar misreads, spelled out before it runs (and one it says wrong, put right after).

Measured on tests/normalize_table.py, the grammar (wetext) reads most Chinese forms right; these rules take the
rest: phone numbers and short codes after 电话/拨打/... (digit by digit), versions and addresses (3.11.7), fractions
after a character (约2/5), times (0:30 is not a score), dates written 2024-03-05 or 2024.03.05, ranges (3-5 is not a
subtraction), decimals it takes for dates (10.1), thousands separators, a few units, and 第两 -> 第二.

    chinese("请拨打110，约2/5的人在0:30到。") -> "请拨打一一零，约五分之二的人在零点三十分到。"
"""

from __future__ import annotations

import re
from collections.abc import Callable

_DIGIT = "零一二三四五六七八九"
_PLACES = ((1000, "千"), (100, "百"), (10, "十"), (1, ""))


def _below_10000(n: int) -> str:
    """1..9999: 1001 -> '一千零一', 110 -> '一百一十'."""
    said, gap = "", False
    for place, name in _PLACES:
        d = n // place % 10
        if d:
            said += ("零" if gap else "") + _DIGIT[d] + name
            gap = False
        elif said:
            gap = True
    return said


def cardinal(n: int) -> str:
    """A whole number below 10^12 in characters: 0 -> '零', 15 -> '十五', 110 -> '一百一十', 35000 -> '三万五千',
    1234567 -> '一百二十三万四千五百六十七'."""
    if n == 0:
        return "零"
    said, gap = "", False
    for place, name in ((10**8, "亿"), (10**4, "万"), (1, "")):
        part = n // place % 10**4
        if part:
            said += ("零" if gap or (said and part < 1000) else "") + _below_10000(part) + name
            gap = False
        elif said:
            gap = True
    return said[1:] if said.startswith("一十") else said


def digits(text: str) -> str:
    """'010-1234' -> '零一零一二三四': every digit, one by one ('+' is 加)."""
    return "".join(_DIGIT[int(c)] if c.isdigit() else "加" for c in text if c.isdigit() or c == "+")


def _time(m: re.Match[str]) -> str:
    """'0:30' -> '零点三十分', '8:05' -> '八点零五分', '14:00' -> '十四点', '2:00' -> '两点'."""
    hour, minute = int(m[1]), int(m[2])
    if hour > 24 or minute > 59:
        return m[0]
    said = ("两" if hour == 2 else cardinal(hour)) + "点"
    if minute:
        said += ("零" if minute < 10 else "") + cardinal(minute) + "分"
    return said


def _date(m: re.Match[str]) -> str:
    """'2024-03-05' -> '2024年3月5日' (which the grammar reads)."""
    month, day = int(m[2]), int(m[3])
    return f"{m[1]}年{month}月{day}日" if 1 <= month <= 12 and 1 <= day <= 31 else m[0]


_PHONE_WORDS = r"(?:电话|号码|手机号?|热线|拨打|拨|打|传真|致电|联系|座机|报警)"
_MEASURE_WORDS = "台个人只件本辆家次条名位"
RULES: list[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]] = [
    (re.compile(r"(?<=\d),(?=\d{3}(?!\d))"), ""),
    (re.compile(r"(?<!\d)(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)"), _date),
    (
        re.compile(rf"({_PHONE_WORDS}(?:是|为)?[:：]?\s*)(\+?\d[\d\s-]*\d)"),
        lambda m: m[1] + digits(m[2]) if len(re.sub(r"\D", "", m[2])) >= 3 else m[0],
    ),
    (re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)"), lambda m: digits(m[0])),
    (
        re.compile(r"(?<![\d.])\d+(?:\.\d+){2,}(?![\d]|\.\d)"),
        lambda m: "点".join(cardinal(int(p)) for p in m[0].split(".")),
    ),
    (re.compile(r"(?<![\d/])(\d+)/(\d+)(?![\d/])"), lambda m: f"{cardinal(int(m[2]))}分之{cardinal(int(m[1]))}"),
    (re.compile(r"(?<=[\d%])\s?[-~～–—]\s?(?=\d)"), "到"),
    (re.compile(r"(?<![\d:])(\d{1,2}):(\d{2})(?![\d:])"), _time),
    (re.compile(r"(?<!\d)2(?=点)"), "两"),
    (
        re.compile(r"(?<![\d.¥￥$€£-])(\d+)\.(\d+)(?![\d.%℃°A-Za-z])"),
        lambda m: f"{cardinal(int(m[1]))}点{digits(m[2])}",
    ),
    (re.compile(rf"(?<![\d.])(1\d\d)(?=[{_MEASURE_WORDS}])"), lambda m: cardinal(int(m[1]))),
    (re.compile(r"(?<=\d)\s?g(?![A-Za-z])"), "克"),
    (re.compile(r"(?<=\d)\s?W(?![A-Za-z])"), "瓦"),
]


def chinese(text: str) -> str:
    """The text with the forms above spelled out; the rest is left for the grammar (see the module docstring)."""
    for pattern, say in RULES:
        text = pattern.sub(say, text)
    return text


def after(spoken: str) -> str:
    """What the grammar says wrong, put right: '第两名' -> '第二名' (an ordinal is 第二, never 第两)."""
    return spoken.replace("第两", "第二")

"""Subtitle files in and out, SRT and WebVTT, through kept libraries: `srt` (SRT) and `webvtt-py` (WebVTT).

    cues = parse_subtitles("1\\n00:00:01,000 --> 00:00:02,500\\nHello.\\n")
    -> [Cue(start=1.0, end=2.5, text='Hello.', line=2)]
    to_srt(cues)  -> '1\\n00:00:01,000 --> 00:00:02,500\\nHello.\\n\\n'
    to_vtt(cues)  -> 'WEBVTT\\n\\n00:00:01.000 --> 00:00:02.500\\nHello.\\n'

Reading is strict: a malformed timestamp, a block that is not a cue, or a file that is not subtitles at all is an
InputError naming the line (the libraries say where parsing stopped; this module turns that into a line number and
the line's text). Cue text loses its markup (<i>, {\\an8}, &amp; entities); a WebVTT voice span `<v Guest>` becomes
the speaker tag `[Guest]`, as the Dialogue tab writes it.
"""

from __future__ import annotations

import datetime
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import InputError

MAX_SUBTITLE_BYTES = 2_000_000  # a subtitle file larger than this is refused before it is parsed
FORMATS = ("srt", "vtt")
TIMING_HINT = "Write each cue's times as 00:01:02,500 --> 00:01:04,000 (SRT) or 00:01:02.500 --> 00:01:04.000 (VTT)."
NOT_SUBTITLES_HINT = "Upload an SRT or WebVTT (.vtt) subtitle file: numbered cues with times such as " + (
    "00:00:01,000 --> 00:00:02,500, each followed by its text."
)

_MARKUP = re.compile(r"<[^>\n]*>|\{\\[^}\n]*\}")  # <i>, </font>, {\an8}
_SPACES = re.compile(r"[ \t]+")


@dataclass(frozen=True)
class Cue:
    """One subtitle: when it is shown (seconds) and its text; `line` is where its times are in the file (0: made
    here, not read)."""

    start: float
    end: float
    text: str
    line: int = 0


def check_size(size: int) -> None:
    """Refuse a subtitle file of more than MAX_SUBTITLE_BYTES (before reading it)."""
    if size > MAX_SUBTITLE_BYTES:
        raise InputError(
            f"The subtitle file is {size / 1e6:.1f} MB; the limit is {MAX_SUBTITLE_BYTES / 1e6:g} MB.",
            "Split it into parts.",
        )


def decode_subtitles(data: bytes) -> str:
    """A subtitle file's text: UTF-8 (with or without BOM), else UTF-16 with a BOM; refuses binary files."""
    check_size(len(data))
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("The subtitle file is not UTF-8 text.", "Save it as UTF-8 (with any text editor).") from None
    if "\x00" in text:
        raise InputError("The file is not subtitles (it holds binary data).", NOT_SUBTITLES_HINT)
    return text


def parse_subtitles(text: str) -> list[Cue]:
    """The cues of an SRT or WebVTT text, in file order (the format is told by the WEBVTT header)."""
    if not isinstance(text, str):
        raise InputError("The subtitles must be text.", NOT_SUBTITLES_HINT)
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise InputError("The subtitle file is empty.", NOT_SUBTITLES_HINT)
    if text.lstrip().startswith("WEBVTT"):
        cues = _parse_vtt(text)
    elif "-->" in text:
        cues = _parse_srt(text)
    else:
        first = next(line for line in text.split("\n") if line.strip())
        raise InputError(f"The file is not subtitles: it has no cue times (it starts {first[:60]!r}).", TIMING_HINT)
    if not cues:
        raise InputError("The file has no subtitle cues.", NOT_SUBTITLES_HINT)
    return cues


def _timing_lines(text: str) -> list[int]:
    """1-based numbers of the lines holding cue times ('-->'), in order."""
    return [n for n, line in enumerate(text.split("\n"), start=1) if "-->" in line]


def _with_lines(text: str, cues: list[Cue]) -> list[Cue]:
    lines = _timing_lines(text)
    if len(lines) != len(cues):
        return cues
    return [Cue(c.start, c.end, c.text, line) for c, line in zip(cues, lines, strict=True)]


def _bad_block(text: str, offset: int) -> InputError:
    """The error for the first line from `offset` on that the parser could not read as part of a cue."""
    lines = text.split("\n")
    first = text.count("\n", 0, offset)  # 0-based line of offset
    rest = [(n, lines[n]) for n in range(first, len(lines)) if lines[n].strip()]
    number, line = next(((n, s) for n, s in rest if "-->" in s), rest[0] if rest else (first, ""))
    if "-->" in line:
        return InputError(f"Line {number + 1} has malformed cue times: {line.strip()[:80]!r}.", TIMING_HINT)
    return InputError(f"Line {number + 1} is not part of a subtitle cue: {line.strip()[:80]!r}.", TIMING_HINT)


def _parse_srt(text: str) -> list[Cue]:
    import srt

    try:
        subs = list(srt.parse(text))
    except srt.SRTParseError as e:
        raise _bad_block(text, e.expected_start) from None
    except (ValueError, OverflowError) as e:  # a time the library matched but cannot hold
        raise InputError(f"The subtitle file has a time that cannot be read ({e}).", TIMING_HINT) from None
    cues = [Cue(s.start.total_seconds(), s.end.total_seconds(), clean_cue_text(s.content)) for s in subs]
    return _with_lines(text, cues)


def _parse_vtt(text: str) -> list[Cue]:
    import webvtt
    from webvtt.errors import MalformedCaptionError, MalformedFileError

    try:
        captions = webvtt.from_string(text, strict=True).captions
    except MalformedCaptionError as e:
        block = re.search(r"\['(.*?)'", str(e))  # "Invalid cue block ['00:0x.000 --> ...', ...]"
        line = next((n for n, s in enumerate(text.split("\n"), 1) if block and s == block.group(1)), None)
        if line is None:
            raise InputError(f"The WebVTT file has a malformed cue ({e}).", TIMING_HINT) from None
        raise _bad_block(text, sum(len(s) + 1 for s in text.split("\n")[: line - 1])) from None
    except MalformedFileError as e:
        raise InputError(f"The file is not valid WebVTT ({e}).", NOT_SUBTITLES_HINT) from None
    cues = []
    for c in captions:
        body = clean_cue_text("\n".join(c.lines))
        voice = _SPACES.sub(" ", c.voice or "").strip()
        if voice and not body.startswith("["):
            body = f"[{voice}] {body}"
        cues.append(Cue(c.start_time.in_milliseconds() / 1000, c.end_time.in_milliseconds() / 1000, body))
    return _with_lines(text, cues)


def clean_cue_text(text: str) -> str:
    """Cue text as it is spoken: markup and entities gone, lines joined.

    >>> clean_cue_text("<i>Hello</i> &amp;\\n{\\\\an8}goodbye")
    'Hello & goodbye'
    """
    plain = html.unescape(_MARKUP.sub("", text))
    return " ".join(plain.split())


# ---- writing ----------------------------------------------------------------------------------------------------
def _delta(seconds: float) -> datetime.timedelta:
    return datetime.timedelta(milliseconds=round(max(0.0, seconds) * 1000))


def to_srt(cues: Sequence[Cue]) -> str:
    """An SRT file of the cues, numbered from 1 (srt.compose)."""
    import srt

    subs = [srt.Subtitle(i, _delta(c.start), _delta(c.end), c.text) for i, c in enumerate(cues, start=1)]
    return srt.compose(subs, reindex=False)


def to_vtt(cues: Sequence[Cue]) -> str:
    """A WebVTT file of the cues (webvtt-py); text is escaped, so '<' and '&' stay text."""
    import webvtt

    def stamp(seconds: float) -> str:
        return str(webvtt.models.Timestamp.from_seconds(round(max(0.0, seconds), 3)))

    captions = [
        webvtt.Caption(start=stamp(c.start), end=stamp(c.end), text=html.escape(c.text, quote=False)) for c in cues
    ]
    return webvtt.WebVTT(captions=captions).content

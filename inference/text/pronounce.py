"""The pronunciation dictionary: words the model says wrong, and how to say them.

Stored as plain text on the volume, next to the voices, so that people can edit it by hand: `_pronunciations.txt`
in VOICES_DIR for every voice (the underscore keeps it apart from any voice's transcript), and
`<voice>.pronunciations.txt` beside one saved voice (its entries win; renamed and deleted with the voice). One entry
a line::

    # comments start with #
    Nguyen = win               # `=` ignores case: "nguyen", "NGUYEN" and "Nguyen," all match
    US == you ess              # `==` matches the case exactly: "us" is left alone
    重庆 = chong2 qing4          # Chinese: pinyin with tone numbers (1-5), or other characters

Entries match whole words (a word is not matched inside a longer one; punctuation next to it is kept); Chinese
words, written without spaces, match wherever they appear. Longer entries win over shorter ones that overlap.

    d = Dictionary.parse("Nguyen = win\\nUS == you ess")
    d.apply("Mr. Nguyen's team, US and us.")  -> "Mr. win's team, you ess and us."
"""

from __future__ import annotations

import functools
import logging
import os
import re
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from ..errors import InputError, reason
from ..names import VOICE_SUFFIX, sanitize_name

log = logging.getLogger(__name__)
GLOBAL_FILE = "_pronunciations.txt"  # no voice name starts with _
MAX_ENTRIES = 2000  # per file: refused when writing; a longer file (a hand edit) is read up to this many
MAX_WORD = 64  # characters of a word (or phrase)
MAX_SPOKEN = 200  # characters of its spoken form
MAX_CACHED_FILES = 256  # parsed files kept, each until it changes on disk
HEADER = """# Pronunciations: one entry a line, `word = spoken form`.
# `=` ignores case, `==` matches the case exactly. Whole words only; punctuation next to a word is kept.
# Chinese: the spoken form may be pinyin with tone numbers 1-5, e.g. 重庆 = chong2 qing4.
"""
_LINE = re.compile(r"^(?P<word>.+?)\s*(?P<op>==|=)\s*(?P<spoken>.*)$")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_SYLLABLE = re.compile(r"^([a-zü:]+)([1-5])$")


@dataclass(frozen=True)
class Entry:
    word: str
    spoken: str
    case_sensitive: bool = False

    def line(self) -> str:
        return f"{self.word} {'==' if self.case_sensitive else '='} {self.spoken}"

    def as_dict(self) -> dict[str, object]:
        return {"word": self.word, "spoken": self.spoken, "case_sensitive": self.case_sensitive}


def check_entry(word: str, spoken: str, case_sensitive: bool = False, where: str = "") -> Entry:
    """An entry, or InputError saying what is wrong with it: check_entry(" GIF ", "jif") -> Entry("GIF", "jif")."""
    if not isinstance(word, str) or not isinstance(spoken, str):
        raise InputError(f"{where}A word and its spoken form must be text.", "Type both, e.g. Nguyen = win.")
    if not isinstance(case_sensitive, bool):
        raise InputError(f"{where}case_sensitive must be true or false.", "Tick it only to match the exact case.")
    word, spoken = " ".join(word.split()), " ".join(spoken.split())
    if not word or not any(ch.isalnum() for ch in word):
        raise InputError(f"{where}The word to replace is empty.", "Type the word as it is written, e.g. Nguyen.")
    if not spoken or not any(ch.isalnum() for ch in spoken):
        raise InputError(f"{where}The spoken form of {word!r} is empty.", "Type how to say it, e.g. win.")
    if len(word) > MAX_WORD or len(spoken) > MAX_SPOKEN:
        raise InputError(
            f"{where}The entry for {word[:40]!r} is too long.",
            f"Keep a word under {MAX_WORD} characters and its spoken form under {MAX_SPOKEN}.",
        )
    if word.startswith("#") or " #" in word or "=" in word or not word.isprintable() or not spoken.isprintable():
        raise InputError(
            f"{where}{word!r} cannot be a dictionary word.", "Leave out =, control characters, and # after a space."
        )
    if " #" in f" {spoken}":
        raise InputError(
            f"{where}The spoken form of {word!r} has a # after a space.", "Leave it out: it starts a comment."
        )
    if _CJK.search(word) and re.search(r"[a-z]\d", spoken.lower()) and pinyin_to_characters(spoken) is None:
        raise InputError(
            f"{where}{spoken!r} is not pinyin with tone numbers.",
            "Write each syllable with its tone 1-5: chong2 qing4.",
        )
    return Entry(word, spoken, case_sensitive)


@functools.cache
def _homophones() -> dict[str, str]:
    """pinyin with tone number -> a common character always read that way (from pypinyin's own dictionary; GB2312
    level-1 characters first, as the most common), so the model's own pinyin step reads exactly that syllable."""
    from pypinyin.contrib.tone_convert import to_tone3
    from pypinyin.pinyin_dict import pinyin_dict

    ranked: dict[str, tuple[int, str]] = {}
    for code, readings in pinyin_dict.items():
        char = chr(code)
        if not 0x4E00 <= code <= 0x9FFF:
            continue
        single = "," not in readings
        try:
            common = 0 if char.encode("gb2312")[0] < 0xD8 else 1
        except UnicodeEncodeError:
            common = 2
        rank = (0 if single else 3) + common
        syllable = to_tone3(readings.split(",")[0])
        if syllable not in ranked or rank < ranked[syllable][0]:
            ranked[syllable] = (rank, char)
    return {syllable: char for syllable, (_, char) in ranked.items()}


def pinyin_to_characters(spoken: str) -> str | None:
    """'chong2 qing4' -> characters read exactly so ('崇庆'); None when `spoken` is not pinyin with tone numbers.
    Tone 5 is the neutral tone; ü may be written v, ü or u:."""
    syllables = spoken.lower().split()
    if not syllables or not all(_SYLLABLE.match(s) for s in syllables):
        return None
    table, out = _homophones(), []
    for syllable in syllables:
        letters, tone = _SYLLABLE.match(syllable).groups()  # type: ignore[union-attr]
        key = letters.replace("ü", "v").replace("u:", "v") + ("" if tone == "5" else tone)
        if key not in table:
            raise InputError(
                f"{syllable!r} is not a Mandarin syllable.", "Write pinyin with tone numbers: chong2 qing4."
            )
        out.append(table[key])
    return "".join(out)


@functools.lru_cache(maxsize=256)
def _pattern(entries: tuple[Entry, ...]) -> re.Pattern[str]:
    """One regex for these entries, longest first: whole words (Chinese: anywhere), each with its case rule."""
    alternatives = []
    for e in sorted(entries, key=lambda e: -len(e.word)):
        body = r"\s+".join(re.escape(part) for part in e.word.split())
        if not _CJK.search(e.word):
            body = rf"(?<!\w){body}(?!\w)"
        alternatives.append(body if e.case_sensitive else f"(?i:{body})")
    return re.compile("|".join(alternatives))


class Dictionary:
    """Entries matched as whole words, longest first, in one pass (a replacement is never replaced again). Only the
    entries whose first word occurs in a text go into the regex that replaces them, so a long dictionary costs little
    for a text that uses few of its words."""

    def __init__(self, entries: Iterable[Entry] = ()) -> None:
        by_key: dict[tuple[str, bool], Entry] = {}
        for e in entries:  # a later entry for the same word (and case rule) replaces an earlier one
            by_key[(e.word if e.case_sensitive else e.word.casefold(), e.case_sensitive)] = e
        self.entries = tuple(by_key.values())
        self._exact = {e.word: e for e in self.entries if e.case_sensitive}
        self._folded = {e.word.casefold(): e for e in self.entries if not e.case_sensitive}
        self._probes = [(e.word.split()[0].casefold(), e) for e in self.entries]
        self.problems: tuple[str, ...] = ()  # lines skipped when read leniently (see parse)

    @classmethod
    def parse(cls, text: str, source: str = "the dictionary", strict: bool = True) -> Dictionary:
        """Entries from the file format (see the module docstring). Strict (what is written): InputError names the
        line that is wrong, or says there are more than MAX_ENTRIES. Not strict (a file as found on disk): wrong
        lines are skipped and said in `problems`, and every entry is kept (`usable()` holds the first MAX_ENTRIES),
        so that a hand-edited file never stops generation and can still be listed and trimmed."""
        entries, problems = [], []
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.split(" #", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
            if not line:
                continue
            match = _LINE.match(line)
            where = f"Line {number} of {source}: "
            try:
                if not match:
                    raise InputError(
                        f"{where}{line[:60]!r} is not an entry.", "Write one entry a line: word = spoken form."
                    )
                entries.append(check_entry(match["word"], match["spoken"], match["op"] == "==", where))
            except InputError as e:
                if strict:
                    raise
                problems.append(str(e))
            if strict and len(entries) > MAX_ENTRIES:
                raise InputError(f"{source} has more than {MAX_ENTRIES} entries.", _full(source)[1])
        parsed = cls(entries)
        parsed.problems = tuple(problems)
        return parsed

    def usable(self) -> Dictionary:
        """What a generation applies: the first MAX_ENTRIES entries (all of them, in a file written here)."""
        return self if len(self.entries) <= MAX_ENTRIES else Dictionary(self.entries[:MAX_ENTRIES])

    def text(self) -> str:
        """The file's text: the header, then one line per entry."""
        return HEADER + "".join(e.line() + "\n" for e in self.entries)

    def merged(self, other: Dictionary) -> Dictionary:
        """These entries, with `other`'s added (and winning for the same word)."""
        return Dictionary([*self.entries, *other.entries])

    def apply(self, text: str) -> str:
        """Replace every entry's word in `text` by its spoken form (see the class docstring)."""
        folded = text.casefold()
        present = tuple(e for probe, e in self._probes if probe in folded)
        if not present:
            return text

        def spoken(m: re.Match[str]) -> str:
            found = " ".join(m.group(0).split())
            entry = self._exact.get(found) or self._folded.get(found.casefold())
            if entry is None:
                return m.group(0)
            if _CJK.search(entry.word):
                return pinyin_to_characters(entry.spoken) or entry.spoken
            return entry.spoken

        return _pattern(present).sub(spoken, text)


class PronunciationStore:
    """The dictionary files in VOICES_DIR: the global one and each voice's own, looked at when used (so a hand edit
    is seen by the next generation; a file is parsed again only when its time or size changed) and written
    atomically."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._lock = threading.Lock()
        self._parsed: dict[Path, tuple[tuple[int, int], Dictionary]] = {}  # path -> ((mtime, size), entries)

    def path(self, voice: str | None = None) -> Path:
        if not voice:
            return self.root / GLOBAL_FILE
        return self.root / f"{sanitize_name(voice)}{VOICE_SUFFIX}"

    def load(self, voice: str | None = None) -> Dictionary:
        """One file's entries (none when it does not exist)."""
        path = self.path(voice)
        try:
            stat = path.stat()
            stamp = (stat.st_mtime_ns, stat.st_size)
            cached = self._parsed.get(path)
            if cached is not None and cached[0] == stamp:  # unchanged since it was last read
                return cached[1]
            text = path.read_text(encoding="utf-8-sig")
        except (FileNotFoundError, NotADirectoryError):  # no file (or no voices folder): no entries
            return Dictionary()
        except (OSError, UnicodeDecodeError) as e:
            message = f"The pronunciation file {path.name} cannot be read ({reason(e)})."
            raise InputError(message, "Fix or delete it.") from e
        parsed = Dictionary.parse(text, path.name, strict=False)
        _warn(path, parsed)
        if len(self._parsed) >= MAX_CACHED_FILES:
            self._parsed.pop(next(iter(self._parsed)))
        self._parsed[path] = (stamp, parsed)
        return parsed

    def for_voice(self, voice: str | None = None) -> Dictionary:
        """What a generation with `voice` uses: the global entries, and the voice's own on top."""
        merged = self.load().usable()
        return merged.merged(self.load(voice).usable()) if voice else merged

    def set(self, entry: Entry, voice: str | None = None) -> Dictionary:
        """Add or change an entry; returns the file's entries."""
        with self._lock:
            current = self.load(voice)
            kept = [e for e in current.entries if not _same(e, entry)]
            if len(kept) >= MAX_ENTRIES:
                raise InputError(*_full(self.path(voice).name))
            updated = Dictionary([*kept, entry])
            self._write(voice, updated)
        return updated

    def delete(self, word: str, voice: str | None = None) -> Dictionary:
        """Remove a word's entries (either case rule); InputError when there is none."""
        with self._lock:
            current = self.load(voice)
            probe = replace(check_entry(word, "x"), case_sensitive=False)
            kept = [e for e in current.entries if e.word.casefold() != probe.word.casefold()]
            if len(kept) == len(current.entries):
                where = f"the voice {voice!r}'s" if voice else "the global"
                raise InputError(f"{probe.word!r} is not in {where} dictionary.", "List the entries to see the words.")
            updated = Dictionary(kept)
            self._write(voice, updated)
        return updated

    def save_text(self, text: str, voice: str | None = None) -> Dictionary:
        """Replace a file with text in the file format (checked first: a bad line changes nothing)."""
        parsed = Dictionary.parse(text, self.path(voice).name)
        with self._lock:
            self._write(voice, parsed)
        return parsed

    def _write(self, voice: str | None, dictionary: Dictionary) -> None:
        path = self.path(voice)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".tmp-", suffix=".part")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    f.write(dictionary.text())
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as e:
            raise InputError(
                f"The pronunciation file {path.name} could not be saved ({reason(e)}).",
                "Check that the voices folder is writable and has room; nothing was changed.",
            ) from e


def _same(a: Entry, b: Entry) -> bool:
    """Whether `b` replaces `a`: the same word under the same case rule (a case-insensitive one replaces both)."""
    if not b.case_sensitive:
        return a.word.casefold() == b.word.casefold()
    return a.word == b.word if a.case_sensitive else False


def _full(source: str) -> tuple[str, str]:
    """The message for a dictionary that may not grow (InputError's message and hint)."""
    return (
        f"{source} already has {MAX_ENTRIES} entries, the most a dictionary holds.",
        "Delete words that no longer need it, or put voice-specific words in that voice's own dictionary.",
    )


def _warn(path: Path, parsed: Dictionary) -> None:
    """Tell the operator (in the log) what a file read from disk has that generation will not use."""
    for problem in parsed.problems[:20]:
        log.warning("%s (the line is skipped)", problem)
    if len(parsed.problems) > 20:
        log.warning("%s: %d more lines skipped", path.name, len(parsed.problems) - 20)
    if len(parsed.entries) > MAX_ENTRIES:
        log.warning(
            "%s has %d entries; only the first %d are used. Delete entries (Words tab, /delete_pronunciation) "
            "or edit the file to bring it under the limit.",
            path,
            len(parsed.entries),
            MAX_ENTRIES,
        )

"""Dialogue scripts: parse a script into turns and give each turn its voice, checking everything that can be checked
before anything is generated.

Script syntax
-------------
Bracket tags (anywhere; the text after a tag, up to the next tag, is that speaker's turn)::

    [Narrator] It was late. [Guest] Hello?
    [Guest speed=1.2 seed=7] Is anyone there?

One speaker per line, `Name: text` (only when the script has no [tags]; a name is 1 to 3 words starting with a letter,
and an ASCII colon must be followed by a space; a full-width colon `：` needs none)::

    Narrator: It was late.
    Guest speed=1.2: Hello?
    旁白：夜深了。

- Options go after the name, as `key=value` separated by spaces or commas: `speed` (0.3 to 3, this turn's speaking
  rate) and `seed` (0 to 2**31-1, this turn's seed). They apply to that one turn only.
- Lines without a tag continue the current turn; whitespace and line breaks inside a turn are collapsed.
- Text before the first tag belongs to the speaker mapped as "default"; without one it is an error.
- Square brackets always mark a tag; an unmatched [ or ] is an error. Tags and mapping keys match ignoring case.
- A tag that is not in the mapping but is the name of a known voice is spoken by that voice.

Parsing and planning only (pure text, no engine); dialogue.py speaks the planned turns.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from ..errors import InputError, over_limit
from ..options import SynthesisOptions

DEFAULT_SPEAKER = "default"  # the mapping key for text before the first tag
MAX_TURNS = 200  # turns in one dialogue
MAX_NAME_WORDS = 3  # in `Name: text` lines
MAX_NAME_CHARS = 40
OPTION_KEYS = ("speed", "seed")
SYNTAX_HINT = "Write turns such as: [Narrator] It was late. [Guest speed=1.2 seed=7] Hello?"

_TAG = re.compile(r"\[([^\[\]\n]*)\]")
TAG = _TAG  # a speaker tag: [Name key=value ...]
_EQUALS = re.compile(r"\s*=\s*")
_SEPARATORS = re.compile(r"[\s,]+")
_NAME_WORD = re.compile(r"[\w'’.\-]+")


@dataclass(frozen=True)
class Turn:
    """One speaker's turn. `speaker` is the tag as written ('' = text before any tag); `voice` is set by plan()."""

    speaker: str
    text: str
    speed: float | None = None  # None = the dialogue's speed
    seed: int | None = None  # None = base seed + turn index
    line: int = 1  # where the turn starts in the script, for messages
    voice: str = ""  # the voice that speaks it (filled in by plan)

    @property
    def label(self) -> str:
        return f"[{self.speaker}]" if self.speaker else "text before the first tag"


# ---- parsing ----------------------------------------------------------------------------------------------------
def name_key(name: str) -> str:
    """How names are compared: NFC, whitespace collapsed, case folded, surrounding [ ] dropped."""
    return " ".join(unicodedata.normalize("NFC", str(name)).strip().strip("[]").split()).casefold()


def _line_of(script: str, pos: int) -> int:
    return script.count("\n", 0, pos) + 1


def _clean(text: str) -> str:
    return " ".join(text.split())


def _parse_head(head: str, line: int) -> tuple[str, float | None, int | None]:
    """'Guest speed=1.2 seed=7' -> ('Guest', 1.2, 7); raises InputError for a missing name or a bad option."""
    shown = f"[{head.strip()}] on line {line}"
    words, speed, seed = [], None, None
    for token in _SEPARATORS.split(_EQUALS.sub("=", head.strip())):
        if not token:
            continue
        if "=" not in token:
            if speed is not None or seed is not None:
                raise InputError(f"Put the speaker's name before the options in {shown}.", SYNTAX_HINT)
            words.append(token)
            continue
        key, _, value = token.partition("=")
        key = key.casefold()
        if key not in OPTION_KEYS:
            raise InputError(
                f"Unknown option {key!r} in {shown}.", "A tag takes speed=… and seed=…, e.g. [Guest speed=1.2 seed=7]."
            )
        try:
            if key == "speed":
                speed = float(value)
                if not math.isfinite(speed):
                    raise ValueError(value)
            else:
                seed = int(value)
        except ValueError:
            kind = "a number such as 1.2" if key == "speed" else "a whole number such as 7"
            raise InputError(f"{key}={value} in {shown} is not {kind}.", SYNTAX_HINT) from None
    name = unicodedata.normalize("NFC", " ".join(words))
    if not any(ch.isalnum() for ch in name):
        raise InputError(f"The tag {shown} has no speaker name.", SYNTAX_HINT)
    return name, speed, seed


def _colon_head(line: str) -> tuple[str, str] | None:
    """'Guest speed=1.2: Hello' -> ('Guest speed=1.2', 'Hello'); None when the line does not start with a name."""
    match = re.search(r":(?=\s|$)|：", line)
    if not match:
        return None
    head, text = line[: match.start()].strip(), line[match.end() :]
    if not head or len(head) > MAX_NAME_CHARS + 40:
        return None
    tokens = _SEPARATORS.split(_EQUALS.sub("=", head))
    words = [t for t in tokens if "=" not in t]
    options = [t for t in tokens if "=" in t]
    if not 1 <= len(words) <= MAX_NAME_WORDS or tokens[: len(words)] != words:
        return None  # options must come after the name
    name = " ".join(words)
    if len(name) > MAX_NAME_CHARS or not words[0][0].isalpha() or not all(_NAME_WORD.fullmatch(w) for w in words):
        return None
    if any(not o.partition("=")[0] for o in options):
        return None
    return head, text


def _check_brackets(segment: str, script: str, offset: int) -> None:
    for i, ch in enumerate(segment):
        if ch in "[]":
            line = _line_of(script, offset + i)
            raise InputError(
                f"Unmatched '{ch}' on line {line}.",
                "Tags are written [Name] on one line; square brackets cannot be spoken.",
            )


def max_script_chars(max_text_chars: int) -> int:
    """The longest script worth parsing: the most text a dialogue may speak (F5_MAX_TEXT_CHARS) and a tag of the
    longest kind for each of MAX_TURNS turns (a name, its options and brackets)."""
    return max_text_chars + MAX_TURNS * (MAX_NAME_CHARS + 40 + 4)


def parse_script(script: str, max_chars: int | None = None) -> list[Turn]:
    """Split a dialogue script into turns, in order (see the module docstring for the syntax).

    >>> [(t.speaker, t.text) for t in parse_script("[Narrator] It was late. [Guest] Hello?")]
    [('Narrator', 'It was late.'), ('Guest', 'Hello?')]
    >>> parse_script("[Guest speed=1.2 seed=7]  Is   anyone\\n there?")[0]
    Turn(speaker='Guest', text='Is anyone there?', speed=1.2, seed=7, line=1, voice='')
    >>> [(t.speaker, t.text, t.line) for t in parse_script("Narrator: It was late.\\nGuest: Hello?\\nAnyone?")]
    [('Narrator', 'It was late.', 1), ('Guest', 'Hello? Anyone?', 2)]
    >>> [(t.speaker, t.text) for t in parse_script("Once upon a time. [Zoë] Bonjour !")]
    [('', 'Once upon a time.'), ('Zoë', 'Bonjour !')]
    >>> [(t.speaker, t.text) for t in parse_script("旁白：夜深了。\\n客人：你好？")]
    [('旁白', '夜深了。'), ('客人', '你好？')]
    >>> parse_script("   ")
    []

    Raises InputError for a malformed tag (no name, unknown option, a value that is not a number), an unmatched
    bracket, or a script longer than `max_chars` (see max_script_chars; checked before parsing). Turns may have empty
    text here; plan() refuses them. Parsing takes time in proportion to the script's length.
    """
    if not isinstance(script, str):
        raise InputError("The script must be text.", SYNTAX_HINT)
    if max_chars is not None and len(script) > max_chars:
        raise over_limit(
            f"The script is {len(script):,} characters long; a dialogue takes at most {max_chars:,}.",
            "Split it into parts and generate them one after another.",
            "F5_MAX_TEXT_CHARS",
            max_chars,
        )
    script = "".join(ch if ch.isprintable() or ch == "\n" else " " for ch in script.replace("\r\n", "\n"))
    if _TAG.search(script):
        return _parse_brackets(script)
    return _parse_colons(script)


def _parse_brackets(script: str) -> list[Turn]:
    turns: list[Turn] = []
    head: tuple[str, float | None, int | None] | None = None
    line, pos, counted = 1, 0, 0  # `line` is the line at `counted`: newlines are counted once, parsing stays linear
    for match in [*_TAG.finditer(script), None]:
        end = match.start() if match else len(script)
        segment = script[pos:end]
        _check_brackets(segment, script, pos)
        text = _clean(segment)
        if head is not None:
            turns.append(Turn(head[0], text, head[1], head[2], line))
        elif text:
            turns.append(Turn("", text, line=1 + segment[: len(segment) - len(segment.lstrip())].count("\n")))
        if match:
            line, counted = line + script.count("\n", counted, match.start()), match.start()
            head = _parse_head(match.group(1), line)
            pos = match.end()
    return turns


def _parse_colons(script: str) -> list[Turn]:
    _check_brackets(script, script, 0)
    turns: list[Turn] = []
    current: list[Any] | None = None  # [speaker, speed, seed, line, [texts]]
    for number, raw in enumerate(script.split("\n"), start=1):
        found = _colon_head(raw)
        if found:
            if current:
                turns.append(Turn(current[0], _clean(" ".join(current[4])), current[1], current[2], current[3]))
            name, speed, seed = _parse_head(found[0], number)
            current = [name, speed, seed, number, [found[1]]]
        elif raw.strip():
            if current is None:
                current = ["", None, None, number, []]
            current[4].append(raw)
    if current:
        turns.append(Turn(current[0], _clean(" ".join(current[4])), current[1], current[2], current[3]))
    return turns


def speakers(turns: Iterable[Turn]) -> list[str]:
    """The distinct tags in order of first use (case-insensitive; '' for text before the first tag)."""
    seen: dict[str, str] = {}
    for turn in turns:
        seen.setdefault(name_key(turn.speaker), turn.speaker)
    return list(seen.values())


# ---- mapping and planning ---------------------------------------------------------------------------------------
def parse_mapping(value: Any) -> dict[str, str]:
    """Tags -> voice names, from what a client sends.

    Accepted: a dict; a JSON object or list as a string; a list of [tag, voice] pairs, of {"tag": …, "voice": …}
    objects, or of "tag=voice" strings; or text with "tag=voice" pairs separated by commas or new lines.

    >>> parse_mapping('{"Narrator": "alice", "Guest": "bob"}')
    {'Narrator': 'alice', 'Guest': 'bob'}
    >>> parse_mapping([["Narrator", "alice"], {"tag": "Guest", "voice": "bob"}, "Host = carol"])
    {'Narrator': 'alice', 'Guest': 'bob', 'Host': 'carol'}
    >>> parse_mapping("Narrator=alice, Guest=bob")
    {'Narrator': 'alice', 'Guest': 'bob'}
    """
    hint = 'Send a JSON object such as {"Narrator": "alice", "Guest": "bob"}.'
    if value is None:
        return {}
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return {}
        if text[0] in '{["':
            try:
                value = json.loads(text)
            except json.JSONDecodeError as e:
                raise InputError(f"The voices mapping is not valid JSON ({e.msg} at character {e.pos}).", hint) from e
            if isinstance(value, str):
                return parse_mapping(value) if value.strip() and value.strip()[0] not in '{["' else {}
        else:
            value = [p for p in re.split(r"[,\n]", text) if p.strip()]
    mapping: dict[str, str] = {}
    for tag, voice in _pairs(value, hint):
        if not isinstance(tag, str) or not isinstance(voice, str):
            raise InputError(f"The voices mapping entry {tag!r}: {voice!r} must be a tag and a voice name.", hint)
        tag, voice = " ".join(tag.strip().strip("[]").split()), voice.strip()
        if not tag or not voice:
            continue  # an empty row in a table: nothing to map
        previous = next((v for t, v in mapping.items() if name_key(t) == name_key(tag)), None)
        if previous is not None and name_key(previous) != name_key(voice):
            raise InputError(
                f"The tag [{tag}] is mapped twice, to {previous!r} and to {voice!r}.", "Keep one voice per tag."
            )
        mapping.setdefault(tag, voice)
    return mapping


def _pairs(value: Any, hint: str) -> list[tuple[Any, Any]]:
    """(tag, voice) pairs, unchecked, from a mapping or a list of pairs, objects or "tag=voice" strings."""
    if isinstance(value, Mapping):
        return list(value.items())
    if isinstance(value, (list, tuple)):
        pairs: list[tuple[Any, Any]] = []
        for item in value:
            if isinstance(item, Mapping) and "tag" in item:
                pairs.append((item.get("tag"), item.get("voice")))
            elif isinstance(item, (list, tuple)) and len(item) == 2:
                pairs.append((item[0], item[1]))
            elif isinstance(item, str) and "=" in item:
                tag, _, voice = item.partition("=")
                pairs.append((tag.strip(), voice.strip()))
            else:
                raise InputError(f"The voices mapping entry {item!r} is not a tag and a voice.", hint)
        return pairs
    raise InputError(f"The voices mapping must be an object, not {type(value).__name__}.", hint)


def _lines(lines: list[int]) -> str:
    """[3, 1, 3] -> 'lines 1, 3'; [2] -> 'line 2'."""
    numbers = sorted(set(lines))
    return f"line{'s' if len(numbers) > 1 else ''} {', '.join(map(str, numbers))}"


def known_list(known: Iterable[str]) -> str:
    names = list(known)
    return ", ".join(names) if names else "none yet (save a voice or upload one)"


def plan(
    turns: list[Turn], mapping: Mapping[str, str], known_voices: Iterable[str], max_turns: int = MAX_TURNS
) -> list[Turn]:
    """Give every turn its voice, checking everything that can be checked before generating.

    `mapping` sends tags to voice names (ignoring case; the key "default" voices text before the first tag); a tag
    that is not mapped but names a known voice uses it. Every problem raises InputError: an empty script, too many
    turns, untagged text without a default, unknown tags (all of them named, with the known voices), a mapping to a
    voice that does not exist, a turn with nothing to say, a speed or seed out of range.

    >>> [t.voice for t in plan(parse_script("[N] Hi. [bob] Yo."), {"N": "alice"}, ["alice", "bob"])]
    ['alice', 'bob']
    """
    if not turns:
        raise InputError("The script is empty.", SYNTAX_HINT)
    if len(turns) > max_turns:
        raise InputError(f"The script has {len(turns)} turns; the limit is {max_turns}.", "Split it into parts.")
    planned = _voiced(turns, mapping, list(known_voices))
    _check_turns(planned)
    return planned


def _voiced(turns: list[Turn], mapping: Mapping[str, str], known_voices: list[str]) -> list[Turn]:
    """The turns with their voices; every unknown tag and every missing voice named at once (InputError)."""
    known = {name_key(v): v for v in reversed(known_voices)}
    known.update({v: v for v in known_voices})  # an exact match wins over a case-insensitive one
    keys = {name_key(t): v for t, v in mapping.items()}
    unknown: dict[str, tuple[str, list[int]]] = {}  # key -> (tag as first written, lines)
    missing: dict[str, str] = {}
    planned = []
    for turn in turns:
        if not turn.speaker:
            target = keys.get(DEFAULT_SPEAKER)
            if target is None:
                raise InputError(
                    f"The script starts with text before any speaker tag (line {turn.line}: {turn.text[:40]!r}).",
                    'Start it with a tag such as [Narrator], or map a voice to "default" for untagged text.',
                )
        else:
            target = keys.get(name_key(turn.speaker))
            if target is None and name_key(turn.speaker) in known:
                target = turn.speaker
            if target is None:
                unknown.setdefault(name_key(turn.speaker), (turn.speaker, []))[1].append(turn.line)
                continue
        voice = known.get(target) or known.get(name_key(target))
        if voice is None:
            missing.setdefault(turn.label, target)
            continue
        planned.append(replace(turn, voice=voice))
    if unknown:
        names = ", ".join(f"[{tag}] ({_lines(lines)})" for tag, lines in unknown.values())
        raise InputError(
            f"Unknown speaker tag{'s' if len(unknown) > 1 else ''}: {names}.",
            f"Map each tag to a voice, or use a voice's name as the tag. Known voices: {known_list(known_voices)}.",
        )
    if missing:
        names = ", ".join(f"{label} -> {voice!r}" for label, voice in missing.items())
        raise InputError(
            f"No voice called {', '.join(repr(v) for v in dict.fromkeys(missing.values()))} ({names}).",
            f"Known voices: {known_list(known_voices)}.",
        )
    return planned


def _check_turns(planned: list[Turn]) -> None:
    """Each turn has words to say, and its own speed and seed are in range."""
    for turn in planned:
        if not any(ch.isalnum() for ch in turn.text):
            raise InputError(
                f"The turn of {turn.label} on line {turn.line} has nothing to say.",
                "Write its words after the tag, or remove the tag.",
            )
        try:
            SynthesisOptions(speed=1.0 if turn.speed is None else turn.speed, seed=turn.seed)
        except InputError as e:
            raise InputError(f"In the tag {turn.label} on line {turn.line}: {e.message}", e.hint) from None

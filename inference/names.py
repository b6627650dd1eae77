"""The rules for a saved voice's name, which names its files in VOICES_DIR (the voice library's audio and transcript,
and the voice's own pronunciations): see voices.py for the library, text/pronounce.py for the dictionaries."""

from __future__ import annotations

import re
import unicodedata

from .errors import InputError

MAX_NAME = 64  # characters
MAX_NAME_BYTES = 200  # UTF-8 bytes: with the longest suffix (VOICE_SUFFIX, 19 bytes) a file name stays under 255
VOICE_SUFFIX = ".pronunciations.txt"  # a voice's own pronunciations: <name>.pronunciations.txt
_UNSAFE = re.compile(r"[^\w\- ]+")  # \w is Unicode-aware: letters and digits of any script, and _
_EMPTY_HINT = "Letters, digits, spaces, - and _ work, e.g. 'Alice'."


def sanitize_name(raw: str) -> str:
    """A safe file stem: 'My Voice!' -> 'My Voice', '../../etc/passwd' -> 'etc passwd', '.hidden' -> 'hidden'.
    Refused: '' ("Type a name"), nothing usable left ('💥'), too long ('x' * 65, '𠀀' * 51: 204 bytes)."""
    if not isinstance(raw, str):
        raise InputError("A voice name must be text.", "Type a name such as 'Alice'.")
    if not raw.strip():
        raise InputError("Type a name for the voice.", _EMPTY_HINT)
    name = unicodedata.normalize("NFC", raw)
    name = _UNSAFE.sub(" ", name)
    name = " ".join(name.split()).strip(" ._-")
    if not name:
        raise InputError(f"{shown(raw)} cannot be used as a voice name.", "Use letters, digits, spaces, - or _.")
    if len(name) > MAX_NAME:
        raise InputError(
            f"A voice name can be at most {MAX_NAME} characters; this one has {len(name)}.", "Pick a shorter name."
        )
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        raise InputError(
            f"This voice name is too long to be a file name ({len(name.encode('utf-8'))} bytes, at most "
            f"{MAX_NAME_BYTES}; letters outside the Latin alphabet take 2 to 4 bytes each).",
            "Pick a shorter name.",
        )
    return name


def shown(name: str) -> str:
    """A name as an error quotes it, at most MAX_NAME characters: 'alice', 'aaaa…' (a name may be any length)."""
    return repr(name if len(name) <= MAX_NAME else name[:MAX_NAME] + "…")

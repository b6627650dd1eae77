"""Text before the model sees it: cleaned and checked here, split into chunks in chunking.py."""

from __future__ import annotations

from ..errors import InputError, over_limit

TEXT_LIMIT_SETTING = "F5_MAX_TEXT_CHARS"  # the operator's setting behind max_chars (inference/settings.py)


def too_long(what: str, size: int, limit: int) -> InputError:
    """The refusal of text over the limit: the visitor is told what to do, the operator's log names the setting.

    >>> too_long("The text", 6000, 5000).hint
    'Split it into parts of at most 5,000 characters and generate them one after another.'
    """
    return over_limit(
        f"{what} is {size:,} characters long; the limit is {limit:,}.",
        f"Split it into parts of at most {limit:,} characters and generate them one after another.",
        TEXT_LIMIT_SETTING,
        limit,
    )


def clean_text(text: str | None) -> str:
    """Control characters and lone surrogates (JSON can carry them, UTF-8 cannot encode them) become spaces:
    clean_text(" a\x00b ") -> "a b"."""
    return "".join(ch if ch.isprintable() else " " for ch in str(text or "")).strip()


def validate_text(text: str, max_chars: int) -> str:
    """Normalise whitespace and control characters; refuse text with nothing to say or beyond the limit."""
    if not isinstance(text, str):
        raise InputError("The text must be a string.", "Type what the voice should say.")
    cleaned = clean_text(text)
    if not cleaned:
        raise InputError("There is no text to speak.", "Type what the voice should say.")
    if len(cleaned) > max_chars:
        raise too_long("The text", len(cleaned), max_chars)
    if not any(ch.isalnum() for ch in cleaned):
        raise InputError("The text has no words to speak (only punctuation or symbols).", "Type some words.")
    return cleaned


def check_spoken(spoken: str, typed_chars: int, max_chars: int) -> str:
    """Refuse a text that grows past `max_chars` once spoken (numbers as words, pronunciations applied)."""
    if len(spoken) > max_chars:
        raise over_limit(
            f"The text, as it will be spoken ({typed_chars:,} characters typed, {len(spoken):,} once numbers and "
            f"pronunciations are written out), is longer than the limit of {max_chars:,}.",
            "Shorten the text or split it into parts (the spoken text shows how it will be read).",
            "F5_MAX_SPOKEN_CHARS",
            max_chars,
        )
    return spoken

"""Errors meant for users. Each adapter (UI, REST, serverless) translates them once."""

from __future__ import annotations

import logging


class StudioError(Exception):
    """Base class: `message` says what went wrong, `hint` says what to do about it."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip()


class InputError(StudioError):
    """Something the user sent cannot be used (no reference, empty text, unreadable audio...)."""


def over_limit(message: str, hint: str, setting: str, limit: float) -> InputError:
    """A refusal over an operator's limit: the visitor reads what to do (`hint`); the setting's name goes to the
    operator's log (and the docs), never to a visitor, who cannot change it.

    >>> over_limit("The text is 6,000 characters long.", "Split it into parts.", "F5_MAX_TEXT_CHARS", 5000).hint
    'Split it into parts.'
    """
    logging.getLogger("inference.limits").info("refused: %s (over %s=%s)", message, setting, limit)
    return InputError(message, hint)


class ModelUnavailable(StudioError):
    """The model, vocoder or ASR cannot be loaded: what was missing, where we looked, how to fix it."""


def reason(e: BaseException) -> str:
    """Why an operation failed, for a user: an OSError's reason without the server path it carries.

    >>> reason(PermissionError(13, "Permission denied", "/srv/voices/alice.wav"))
    'Permission denied'
    """
    if isinstance(e, OSError):
        return e.strerror or type(e).__name__
    return str(e)

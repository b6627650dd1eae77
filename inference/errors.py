"""Errors meant for users. Each adapter (UI, REST, serverless) translates them once."""

from __future__ import annotations


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

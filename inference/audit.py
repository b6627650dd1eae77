"""The audit log: who made what. With a login set (or F5_AUDIT=on), every generation adds one JSON line to a file on
the volume (F5_AUDIT_DIR, else `audit` beside the voices):

    {"time": "2026-12-05T05:20:11.532+00:00", "user": "ann", "interface": "rest", "operation": "speech",
     "voice": "alice", "text_sha256": "9f86d0...", "seconds": 3.42, "mark_id": "5f0c2a9e41b7d3c8"}

`user` is the login's user name ("token" for the bearer token, "runpod" on a serverless worker); `interface` and
`mark_id` come from the request's `provenance.acting` block, and the mark id is the one in the output files' tags.
`voice` is a saved voice's name or "recording:<first 16 hex digits of the recording's SHA-256>". The text itself
is written only with F5_AUDIT_TEXT=1. A line is one stream of the engine (a take, a dialogue turn, a dubbed cue, a
variation, a project segment) or one edit: the lines of one request share its mark id. A stream closed early is
recorded with the seconds it had delivered; one that delivered nothing is not recorded.

Writing is the standard library's `RotatingFileHandler` (one lock, a line written and flushed; rotated at
F5_AUDIT_MAX_MB, F5_AUDIT_FILES older files kept): safe from any number of threads, and about the cost of one small
file write per generation (bench/audit_cost.py). Each process writes its own file (`<name>.jsonl`): the studio's
and each serverless worker's, so that two processes never rotate one file.
"""

from __future__ import annotations

import hashlib
import json
import logging
import logging.handlers
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .audio.decode import content_hash
from .provenance import Caller, current
from .settings import EngineSettings
from .types import Reference, SynthesisRequest

Done = Callable[[float], None]  # called once a generation ends, with the seconds of audio it delivered
Witness = Callable[[SynthesisRequest], Done]  # called as a generation starts, in its caller's context
VOICE_HASH_CHARS = 16
log = logging.getLogger(__name__)

_operation: ContextVar[str] = ContextVar("audit_operation", default="speech")


def unwitnessed(request: SynthesisRequest) -> Done:
    """The engine's witness when no audit log is kept: records nothing."""
    return _nothing


def _nothing(seconds: float) -> None:
    return None


@contextmanager
def doing(operation: str) -> Iterator[None]:
    """The generations inside this block are parts of `operation` (dialogue, dub, variations...); else "speech"."""
    token = _operation.set(operation)
    try:
        yield
    finally:
        _operation.reset(token)


def voice_of(reference: Reference) -> str:
    """A saved voice's name, or "recording:<sha256 prefix>" for a recording (never the recording itself)."""
    if reference.voice:
        return reference.voice
    try:
        return "recording:" + content_hash(reference.audio)[:VOICE_HASH_CHARS]
    except Exception as e:  # a recording that cannot be read fails the generation itself, not its record
        log.warning("the audit log could not hash a recording (%s: %s)", type(e).__name__, e)
        return "recording:?"


def enabled(settings: EngineSettings, login: bool) -> bool:
    """F5_AUDIT: auto keeps the log when a login is set; on and off decide alone."""
    return settings.audit == "on" or (settings.audit == "auto" and login)


class AuditLog:
    """One process's audit file, rotated by size; `witness` is what the engine calls as each generation starts."""

    def __init__(self, folder: Path, name: str, max_bytes: int, backups: int, keep_text: bool = False) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / f"{name}.jsonl"
        self.keep_text = keep_text
        self._handler = logging.handlers.RotatingFileHandler(
            self.path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8"
        )
        self._handler.setFormatter(logging.Formatter("%(message)s"))
        self._logger = logging.Logger(f"inference.audit.{name}", logging.INFO)  # its own: never the root's handlers
        self._logger.propagate = False
        self._logger.addHandler(self._handler)

    @classmethod
    def from_settings(cls, settings: EngineSettings, name: str) -> AuditLog:
        max_bytes = max(1, int(settings.audit_max_mb * 1024 * 1024))
        return cls(settings.audit_folder, name, max_bytes, settings.audit_files, settings.audit_text)

    def witness(self, request: SynthesisRequest) -> Done:
        """Who asks for `request`, read now (in the caller's context): the returned function writes the line."""
        caller, operation, voice = current(), _operation.get(), voice_of(request.reference)

        def done(seconds: float) -> None:
            if seconds > 0:
                self.record(caller, operation, voice, request.text, seconds)

        return done

    def record(self, caller: Caller, operation: str, voice: str, text: str, seconds: float) -> None:
        entry: dict[str, Any] = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "user": caller.user,
            "interface": caller.interface,
            "operation": operation,
            "voice": voice,
            "text_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
            "seconds": round(seconds, 3),
            "mark_id": caller.mark_id,
        }
        if self.keep_text:
            entry["text"] = text
        self._logger.info(json.dumps(entry, ensure_ascii=False))

    def close(self) -> None:
        self._logger.removeHandler(self._handler)
        self._handler.close()

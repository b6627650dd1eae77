"""The project store's schema: its migrations, in order, and the rows it gives back (see store.py)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STATES = ("pending", "rendering", "done", "failed", "stale", "locked")  # a segment's states (see store.py)
_STATE_CHECK = "CHECK (state IN ('pending', 'rendering', 'done', 'failed', 'stale', 'locked'))"  # as released in 1
# Migration N brings the schema from version N to N + 1. Append steps; never edit a released one.
MIGRATIONS: tuple[str, ...] = (
    # 1: projects, their chapters, their segments
    f"""
    CREATE TABLE projects (id INTEGER PRIMARY KEY, name TEXT NOT NULL, created REAL NOT NULL,
        settings TEXT NOT NULL DEFAULT '{{}}');
    CREATE TABLE chapters (project INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        position INTEGER NOT NULL, title TEXT NOT NULL, PRIMARY KEY (project, position)) WITHOUT ROWID;
    CREATE TABLE segments (id INTEGER PRIMARY KEY,
        project INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        chapter INTEGER NOT NULL, position INTEGER NOT NULL, text TEXT NOT NULL, spoken TEXT NOT NULL DEFAULT '',
        speaker TEXT NOT NULL DEFAULT '', voice TEXT, seed INTEGER,
        state TEXT NOT NULL DEFAULT 'pending' {_STATE_CHECK},
        audio TEXT, duration REAL, scores TEXT, updated REAL NOT NULL, UNIQUE (project, chapter, position));
    CREATE INDEX segments_by_state ON segments (project, state, chapter, position);
    """,
    # 2: takes (every render of a segment, one of them kept), a revision that edits bump, the last failure's reason.
    # A segment that had audio gets it as its first, kept take.
    """
    CREATE TABLE takes (id INTEGER PRIMARY KEY, segment INTEGER NOT NULL REFERENCES segments(id) ON DELETE CASCADE,
        seed INTEGER, text TEXT NOT NULL, audio TEXT NOT NULL, duration REAL, scores TEXT,
        kept INTEGER NOT NULL DEFAULT 0, created REAL NOT NULL);
    CREATE INDEX takes_by_segment ON takes (segment);
    ALTER TABLE segments ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE segments ADD COLUMN error TEXT;
    INSERT INTO takes (segment, seed, text, audio, duration, scores, kept, created)
        SELECT id, seed, text, audio, duration, scores, 1, updated FROM segments WHERE audio IS NOT NULL;
    """,
    # 3: the kept take an edit of a few words fixes in place (fix.py); NULL: the segment renders whole
    """
    ALTER TABLE segments ADD COLUMN fix_from INTEGER;
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


def statements(script: str) -> Iterable[str]:
    """A migration's statements, one by one (executescript would commit on its own)."""
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            yield buffer.strip()
            buffer = ""


@dataclass(frozen=True)
class SegmentRow:
    id: int
    project: int
    chapter: int  # the chapter's position, from 0
    position: int  # in its chapter, from 0
    text: str  # as typed
    spoken: str  # as spoken ("" until rendered)
    speaker: str  # the dialogue tag; "" = the narrator
    voice: str | None  # None: the project's voice for the speaker
    seed: int | None  # None: a seed is drawn when it renders (then recorded here)
    state: str
    audio: Path | None  # the kept take's file
    duration: float | None  # seconds
    scores: dict[str, Any] | None  # the checks' scores
    updated: float  # unix time
    revision: int  # bumped by every edit: a render of an older revision is dropped
    error: str | None  # why the last render failed
    fix_from: int | None = None  # the take its next render edits in place (fix.py); None: it renders whole


@dataclass(frozen=True)
class Take:
    id: int
    segment: int
    seed: int | None
    text: str
    audio: Path
    duration: float | None
    scores: dict[str, Any] | None
    kept: bool
    created: float


@dataclass(frozen=True)
class ChapterProgress:
    position: int
    title: str
    total: int  # segments
    done: int  # done or locked
    failed: int
    duration: float  # seconds of audio done


@dataclass(frozen=True)
class ProjectInfo:
    id: int
    name: str
    created: float
    settings: dict[str, Any]
    total: int
    done: int  # done or locked
    failed: int
    rendering: int

    @property
    def status(self) -> str:
        """'done' once every segment is rendered (or locked), else 'rendering'."""
        return "done" if self.done == self.total else "rendering"

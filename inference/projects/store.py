"""The project store: one SQLite database per volume folder, audio files beside it, one writing process.

    <folder>/projects.db                        projects, chapters, segments, takes (WAL journal beside it)
    <folder>/projects.lock                      flock()ed by the one process that writes; it holds that process's id
    <folder>/audio/<project>/<segment>-<x>.wav  one file per take, never rewritten; a segment plays its kept take

Rules
    - Single writer. Opening for writing takes an exclusive OS lock (fcntl.flock) on projects.lock; a second process
      is refused with StoreLocked, which names the holder. The kernel drops the lock when its process dies, even by
      SIGKILL. Any number of processes may open the store read-only meanwhile.
    - Durable. A take's audio is written to a temporary name, fsynced and renamed (and its folder fsynced) before the
      transaction that records it commits; a segment changed while it rendered keeps its new state and the late
      result is dropped. Opening for writing runs recover(): segments left `rendering` by a dead process go back to
      `pending`, and files no row names (a temporary file, a take whose commit never came) are removed.
    - Claims. claim() moves the next pending segments, in reading order, to `rendering` in one transaction, so two
      threads never render one segment twice.
    - Schema. PRAGMA user_version counts the MIGRATIONS applied; opening for writing applies the missing ones in
      order, each in its own transaction. A database from a newer version is refused, never changed.

States: pending -> rendering -> done | failed; done -> stale (a pronunciation changed) -> pending on request;
done <-> locked (kept as it is: no edit, no re-render). An edit (text, voice, seed) puts one segment back to pending.
"""

# long: one class owns every write and the durability rule of each (a split would scatter the transactions)
from __future__ import annotations

import fcntl
import json
import os
import secrets
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import InputError, StudioError
from ..options import MAX_SEED
from ..text.pronounce import Dictionary, Entry, check_entry
from .schema import MIGRATIONS, SCHEMA_VERSION, ChapterProgress, ProjectInfo, SegmentRow, Take, statements
from .source import MAX_PROJECT_CHARS, Chapter, clean

DB_NAME = "projects.db"
LOCK_NAME = "projects.lock"
AUDIO_DIR = "audio"
MAX_NAME_CHARS = 200
MAX_SEGMENT_CHARS = 5_000  # an edited segment's text, at most: what one Generate takes by default
PAGE_MAX = 1_000  # segments in one page

_SEGMENT_COLUMNS = (
    "id, project, chapter, position, text, spoken, speaker, voice, seed, state, audio, duration, scores, updated, "
    "revision, error, fix_from"
)


class StoreLocked(StudioError):
    """Another process writes this store."""


class ProjectStore:
    """The projects in `folder` (created when missing). readonly=True opens without the writer's lock."""

    def __init__(self, folder: Path | str, readonly: bool = False) -> None:
        self.folder = Path(folder)
        self.readonly = readonly
        self._lock = threading.RLock()
        self._lock_file: Any = None
        try:
            self._open()
        except sqlite3.DatabaseError as e:  # "file is not a database", "database disk image is malformed"...
            self.close()
            raise InputError(
                f"The project store {self.folder / DB_NAME} cannot be read ({e}).",
                "Restore it from a backup, or move it away to start a new store.",
            ) from e
        except BaseException:
            self.close()
            raise

    def _open(self) -> None:
        if self.readonly:
            if not (self.folder / DB_NAME).exists():
                raise InputError(f"There is no project store in {self.folder}.", "Open it for writing once first.")
            self._db = sqlite3.connect(f"file:{self.folder / DB_NAME}?mode=ro", uri=True, check_same_thread=False)
            self._db.execute("PRAGMA busy_timeout = 5000")
            self._check_version(writable=False)
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        self._take_lock()
        self._db = sqlite3.connect(self.folder / DB_NAME, isolation_level=None, check_same_thread=False)
        for pragma in ("journal_mode = WAL", "synchronous = FULL", "foreign_keys = ON", "busy_timeout = 5000"):
            self._db.execute(f"PRAGMA {pragma}")
        self._migrate()
        self.recover()

    # ---- opening, locking, schema -----------------------------------------------------------------------------
    def _take_lock(self) -> None:
        f = open(self.folder / LOCK_NAME, "a+")
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip() or "another process"
            f.close()
            raise StoreLocked(
                f"The project store in {self.folder} is in use by {holder}; one process at a time may write it.",
                "Stop that process first, or open the store read-only to look at its projects.",
            ) from None
        f.seek(0)
        f.truncate()
        f.write(f"process {os.getpid()} on {socket.gethostname()} (since {time.strftime('%Y-%m-%d %H:%M:%S')})")
        f.flush()
        self._lock_file = f

    def _version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def _check_version(self, writable: bool) -> int:
        version = self._version()
        if version > SCHEMA_VERSION:
            raise InputError(
                f"The project store in {self.folder} was written by a newer version of the studio "
                f"(schema {version}; this one knows up to {SCHEMA_VERSION}).",
                "Run the newer version, or point this one at another folder.",
            )
        if not writable and version < SCHEMA_VERSION:
            raise InputError(
                f"The project store in {self.folder} has an older schema ({version}).",
                "Open it for writing once: it is upgraded in place.",
            )
        return version

    def _migrate(self) -> None:
        for version in range(self._check_version(writable=True), SCHEMA_VERSION):
            with self._tx() as db:  # each step and its version number commit together, or not at all
                for statement in statements(MIGRATIONS[version]):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {version + 1}")

    def close(self) -> None:
        with self._lock:
            if hasattr(self, "_db"):
                self._db.close()
            if self._lock_file is not None:
                self._lock_file.close()  # releases the flock
                self._lock_file = None

    def __enter__(self) -> ProjectStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE: the write lock is taken at once)."""
        if self.readonly:
            raise InputError("This project store is open read-only.", "Open it for writing to change projects.")
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _rows(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def recover(self) -> int:
        """Segments left rendering go back to pending; files no row names are removed. Returns the segments
        recovered. Opening for writing runs it; run it again only while nothing renders."""
        with self._tx() as db:
            count = db.execute("UPDATE segments SET state = 'pending' WHERE state = 'rendering'").rowcount
        named = {r[0] for r in self._rows("SELECT audio FROM takes UNION SELECT audio FROM segments")}
        root = self.folder / AUDIO_DIR
        for path in root.glob("*/*") if root.is_dir() else ():
            if path.relative_to(self.folder).as_posix() not in named:
                path.unlink(missing_ok=True)
        return count

    # ---- projects ---------------------------------------------------------------------------------------------
    def create(self, name: str, chapters: Sequence[Chapter], settings: dict[str, Any] | None = None) -> int:
        """A new project from source.read_text/read_file's chapters, all segments pending; returns its id."""
        name = " ".join(clean(str(name or "")).split())
        if not name or len(name) > MAX_NAME_CHARS:
            raise InputError("A project needs a name.", f"Give it a name of at most {MAX_NAME_CHARS} characters.")
        size = sum(len(s.text) for c in chapters for s in c.segments)
        if not size:
            raise InputError("The project has no text to read.", "Give it a text with words in it.")
        if size > MAX_PROJECT_CHARS:
            raise InputError(
                f"The project's text is {size:,} characters long; a project holds at most {MAX_PROJECT_CHARS:,}.",
                "Split the book into several projects.",
            )
        try:
            settings_json = json.dumps(settings or {})
        except (TypeError, ValueError) as e:
            raise InputError("The project's settings cannot be saved.", f"Give plain values ({e}).") from e
        now = time.time()
        with self._tx() as db:
            cur = db.execute(
                "INSERT INTO projects (name, created, settings) VALUES (?, ?, ?)", (name, now, settings_json)
            )
            pid = int(cur.lastrowid or 0)
            db.executemany(
                "INSERT INTO chapters (project, position, title) VALUES (?, ?, ?)",
                ((pid, i, c.title) for i, c in enumerate(chapters)),
            )
            db.executemany(
                "INSERT INTO segments (project, chapter, position, text, speaker, updated) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    (pid, ci, si, s.text, s.speaker, now)
                    for ci, c in enumerate(chapters)
                    for si, s in enumerate(c.segments)
                ),
            )
        return pid

    def projects(self) -> list[ProjectInfo]:
        """Every project, oldest first, with its progress."""
        return self._infos("SELECT id, name, created, settings FROM projects ORDER BY id")

    def project(self, project_id: int) -> ProjectInfo:
        found = self._infos("SELECT id, name, created, settings FROM projects WHERE id = ?", (project_id,))
        if not found:
            raise InputError(f"There is no project {project_id}.", "List the projects to see their ids.")
        return found[0]

    def _infos(self, sql: str, args: Sequence[Any] = ()) -> list[ProjectInfo]:
        counts: dict[int, dict[str, int]] = {}
        for pid, state, n in self._rows("SELECT project, state, COUNT(*) FROM segments GROUP BY project, state"):
            counts.setdefault(pid, {})[state] = n
        out = []
        for pid, name, created, settings in self._rows(sql, args):
            c = counts.get(pid, {})
            done = c.get("done", 0) + c.get("locked", 0)
            out.append(
                ProjectInfo(
                    pid, name, created, json.loads(settings), sum(c.values()), done, c.get("failed", 0),
                    c.get("rendering", 0),
                )
            )  # fmt: skip
        return out

    def delete(self, project_id: int) -> None:
        """The project, its rows and its audio files."""
        self.project(project_id)
        with self._tx() as db:
            db.execute("DELETE FROM projects WHERE id = ?", (project_id,))
        folder = self.folder / AUDIO_DIR / str(project_id)
        for path in folder.glob("*") if folder.is_dir() else ():
            path.unlink(missing_ok=True)
        if folder.is_dir():
            folder.rmdir()

    def chapters(self, project_id: int) -> list[ChapterProgress]:
        """Each chapter's progress, in order."""
        sql = (
            "SELECT chapter, COUNT(*), SUM(state IN ('done', 'locked')), SUM(state = 'failed'), "
            "TOTAL(CASE WHEN state IN ('done', 'locked') THEN duration END) FROM segments WHERE project = ? "
            "GROUP BY chapter"
        )
        stats = {r[0]: r[1:] for r in self._rows(sql, (project_id,))}
        rows = self._rows("SELECT position, title FROM chapters WHERE project = ? ORDER BY position", (project_id,))
        return [ChapterProgress(pos, title, *stats.get(pos, (0, 0, 0, 0.0))) for pos, title in rows]

    # ---- segments ---------------------------------------------------------------------------------------------
    def _segment_row(self, row: tuple[Any, ...]) -> SegmentRow:
        values = list(row)
        values[10] = self.folder / values[10] if values[10] else None
        values[12] = json.loads(values[12]) if values[12] else None
        return SegmentRow(*values)

    def segments(
        self, project_id: int, chapter: int | None = None, offset: int = 0, limit: int = 100
    ) -> list[SegmentRow]:
        """A page of a project's segments (of one chapter, or all) in reading order."""
        limit, offset = max(0, min(int(limit), PAGE_MAX)), max(0, int(offset))
        where, args = ("project = ? AND chapter = ?", [project_id, chapter]) if chapter is not None else (
            "project = ?", [project_id],
        )  # fmt: skip
        rows = self._rows(
            f"SELECT {_SEGMENT_COLUMNS} FROM segments WHERE {where} ORDER BY chapter, position LIMIT ? OFFSET ?",
            [*args, limit, offset],
        )
        return [self._segment_row(r) for r in rows]

    def segment(self, segment_id: int) -> SegmentRow:
        rows = self._rows(f"SELECT {_SEGMENT_COLUMNS} FROM segments WHERE id = ?", (segment_id,))
        if not rows:
            raise InputError(f"There is no segment {segment_id}.", "List the project's segments to see their ids.")
        return self._segment_row(rows[0])

    def claim(self, project_id: int, count: int = 1) -> list[SegmentRow]:
        """The next `count` pending segments in reading order, now `rendering` (one transaction)."""
        with self._tx() as db:
            ids = [
                r[0]
                for r in db.execute(
                    "SELECT id FROM segments WHERE project = ? AND state = 'pending' ORDER BY chapter, position "
                    "LIMIT ?",
                    (project_id, count),
                )
            ]
            db.executemany(
                "UPDATE segments SET state = 'rendering', updated = ? WHERE id = ?", ((time.time(), i) for i in ids)
            )
        return [self.segment(i) for i in ids]

    def finish(
        self, claimed: SegmentRow, audio: bytes, duration: float, seed: int, spoken: str = "",
        scores: dict[str, Any] | None = None, suffix: str = ".wav",
    ) -> int | None:  # fmt: skip
        """Record a claimed segment's render as its kept take and mark it done; returns the take's id, or None when
        the segment changed since it was claimed (the late result is dropped)."""
        return self._record(claimed.id, claimed.revision, audio, duration, seed, spoken, scores, suffix, keep=True)

    def add_take(
        self, segment_id: int, audio: bytes, duration: float, seed: int, scores: dict[str, Any] | None = None,
        suffix: str = ".wav", claimed: SegmentRow | None = None,
    ) -> int | None:  # fmt: skip
        """Another take of a segment (another seed, say), not kept: the segment plays what it played. With
        `claimed` (the row claim() gave), nothing is recorded (None) once the segment changed since."""
        revision = None if claimed is None else claimed.revision
        take = self._record(segment_id, revision, audio, duration, seed, None, scores, suffix, keep=False)
        if take is None and claimed is None:  # the segment was deleted meanwhile
            raise InputError(f"There is no segment {segment_id}.", "List the project's segments to see their ids.")
        return take

    def _record(
        self, segment_id: int, revision: int | None, audio: bytes, duration: float, seed: int, spoken: str | None,
        scores: dict[str, Any] | None, suffix: str, keep: bool,
    ) -> int | None:  # fmt: skip
        seg = self.segment(segment_id)
        rel = f"{AUDIO_DIR}/{seg.project}/{seg.id}-{secrets.token_hex(6)}{suffix}"
        self._write_durably(rel, audio)
        scores_json = json.dumps(scores) if scores is not None else None
        now = time.time()
        with self._tx() as db:
            row = db.execute("SELECT state, revision, text FROM segments WHERE id = ?", (seg.id,)).fetchone()
            stale = row is None or ((keep or revision is not None) and (row[0] != "rendering" or row[1] != revision))
            take = None
            if not stale:
                cur = db.execute(
                    "INSERT INTO takes (segment, seed, text, audio, duration, scores, kept, created) "
                    "VALUES (?, ?, ?, ?, ?, ?, 0, ?)",
                    (seg.id, seed, row[2], rel, duration, scores_json, now),
                )
                take = int(cur.lastrowid or 0)
                if keep:
                    self._keep(db, take, spoken=spoken)
        if stale:
            (self.folder / rel).unlink(missing_ok=True)
            return None
        return take

    def _write_durably(self, rel: str, data: bytes) -> None:
        """Write to a temporary name, fsync, rename, fsync the folder: the file is whole or absent."""
        path = self.folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def fail(self, claimed: SegmentRow, error: str) -> bool:
        """A claimed segment could not be rendered: `failed`, with the reason (unless it changed meanwhile)."""
        with self._tx() as db:
            return bool(
                db.execute(
                    "UPDATE segments SET state = 'failed', error = ?, updated = ? "
                    "WHERE id = ? AND state = 'rendering' AND revision = ?",
                    (str(error)[:2000], time.time(), claimed.id, claimed.revision),
                ).rowcount
            )

    # ---- edits and takes --------------------------------------------------------------------------------------
    def edit(
        self, segment_id: int, text: str | None = None, voice: str | None = None, seed: int | None = None,
        fix_from: int | None = None,
    ) -> SegmentRow:  # fmt: skip
        """Change a segment's text, voice ("" = the project's) or seed; it alone goes back to pending. None leaves a
        field as it is. `fix_from`: the take its render edits in place (fix.py); None: it renders whole."""
        seg = self.segment(segment_id)
        if seg.state == "locked":
            raise InputError(f"Segment {segment_id} is locked.", "Unlock it first to change it.")
        changes: dict[str, Any] = {}
        if text is not None:
            text = clean(str(text)).strip()
            if not any(ch.isalnum() for ch in text):
                raise InputError("The new text has no words to speak.", "Type what the segment should say.")
            if len(text) > MAX_SEGMENT_CHARS:
                raise InputError(
                    f"The new text is {len(text):,} characters long; a segment takes at most {MAX_SEGMENT_CHARS:,}.",
                    "Put the rest in the next segments.",
                )
            changes.update(text=text, spoken="")
        if voice is not None:
            changes["voice"] = str(voice).strip() or None
        if seed is not None:
            if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
                raise InputError(f"The seed must be a whole number from 0 to {MAX_SEED}.", "Leave it empty for any.")
            changes["seed"] = seed
        if changes:
            changes["fix_from"] = fix_from
            sets = ", ".join(f"{k} = ?" for k in changes)
            with self._tx() as db:
                db.execute(
                    f"UPDATE segments SET {sets}, state = 'pending', error = NULL, revision = revision + 1, "
                    "updated = ? WHERE id = ? AND state != 'locked'",
                    [*changes.values(), time.time(), segment_id],
                )
        return self.segment(segment_id)

    def review(self, project_id: int, limit: int = 100) -> list[SegmentRow]:
        """The segments to listen to again, worst first: failed ones, then rendered ones whose scores say
        `"flagged": true`, the lowest `"quality"` first."""
        self.project(project_id)
        rows = self._rows(
            f"SELECT {_SEGMENT_COLUMNS} FROM segments WHERE project = ? AND (state = 'failed' OR "
            "json_extract(scores, '$.flagged') = 1) ORDER BY state != 'failed', json_extract(scores, '$.quality'), "
            "chapter, position LIMIT ?",
            (project_id, max(0, min(int(limit), PAGE_MAX))),
        )
        return [self._segment_row(r) for r in rows]

    def takes(self, segment_id: int) -> list[Take]:
        rows = self._rows(
            "SELECT id, segment, seed, text, audio, duration, scores, kept, created FROM takes WHERE segment = ? "
            "ORDER BY id",
            (segment_id,),
        )
        return [
            Take(r[0], r[1], r[2], r[3], self.folder / r[4], r[5], json.loads(r[6]) if r[6] else None, bool(r[7]), r[8])
            for r in rows
        ]

    def keep(self, take_id: int) -> SegmentRow:
        """Make a take the one its segment plays (the segment becomes done). A take of an earlier text is refused."""
        row = self._rows("SELECT segment, text FROM takes WHERE id = ?", (take_id,))
        if not row:
            raise InputError(f"There is no take {take_id}.", "List the segment's takes to see their ids.")
        seg = self.segment(row[0][0])
        if seg.state == "locked":
            raise InputError(f"Segment {seg.id} is locked.", "Unlock it first to choose another take.")
        if row[0][1] != seg.text:
            raise InputError(
                f"Take {take_id} says an earlier text of segment {seg.id}.",
                "Keep a take of the segment's text as it is now, or edit the text back first.",
            )
        with self._tx() as db:
            self._keep(db, take_id)
        return self.segment(seg.id)

    def _keep(self, db: sqlite3.Connection, take_id: int, spoken: str | None = None) -> None:
        segment, seed, audio, duration, scores = db.execute(
            "SELECT segment, seed, audio, duration, scores FROM takes WHERE id = ?", (take_id,)
        ).fetchone()
        db.execute("UPDATE takes SET kept = (id = ?) WHERE segment = ?", (take_id, segment))
        db.execute(
            "UPDATE segments SET state = 'done', seed = ?, audio = ?, duration = ?, scores = ?, error = NULL, "
            "spoken = COALESCE(?, spoken), fix_from = NULL, updated = ? WHERE id = ?",
            (seed, audio, duration, scores, spoken, time.time(), segment),
        )

    def lock(self, segment_id: int, locked: bool = True) -> SegmentRow:
        """Lock a rendered segment as it is (no edit, no re-render), or unlock it (done again)."""
        seg = self.segment(segment_id)
        if locked and seg.state not in ("done", "locked", "stale"):
            raise InputError(f"Segment {segment_id} has no audio to keep yet.", "Render it before locking it.")
        with self._tx() as db:
            db.execute(
                "UPDATE segments SET state = ?, updated = ? WHERE id = ? AND state IN ('done', 'locked', 'stale')",
                ("locked" if locked else "done", time.time(), segment_id),
            )
        return self.segment(segment_id)

    # ---- pronunciations ---------------------------------------------------------------------------------------
    def mark_stale(self, project_id: int, word: str, case_sensitive: bool = False) -> list[SegmentRow]:
        """A pronunciation of `word` changed: the project's segments whose text (typed or spoken) contains it, as
        the dictionary matches words (whole words; Chinese anywhere). Rendered ones become `stale`; pending and
        locked ones stay as they are. Returns them all, in reading order."""
        entry = check_entry(word, "x", case_sensitive)  # the dictionary's own checks: refuses an empty word
        probe = Dictionary([Entry(entry.word, "\x00", case_sensitive)])  # \x00: never in a segment's text
        hits = [
            sid
            for sid, text, spoken in self._rows(
                "SELECT id, text, spoken FROM segments WHERE project = ? ORDER BY chapter, position", (project_id,)
            )
            if "\x00" in probe.apply(text) or (spoken and "\x00" in probe.apply(spoken))
        ]
        with self._tx() as db:
            db.executemany(
                "UPDATE segments SET state = 'stale', updated = ? WHERE id = ? AND state IN ('done', 'failed')",
                ((time.time(), sid) for sid in hits),
            )
        return [self.segment(sid) for sid in hits]

    def stale(self, project_id: int) -> list[SegmentRow]:
        rows = self._rows(
            f"SELECT {_SEGMENT_COLUMNS} FROM segments WHERE project = ? AND state = 'stale' ORDER BY chapter, position",
            (project_id,),
        )
        return [self._segment_row(r) for r in rows]

    def queue_stale(self, project_id: int) -> int:
        """Render the stale segments again: they go back to pending. Returns how many."""
        with self._tx() as db:
            return db.execute(
                "UPDATE segments SET state = 'pending', spoken = '', revision = revision + 1, updated = ? "
                "WHERE project = ? AND state = 'stale'",
                (time.time(), project_id),
            ).rowcount

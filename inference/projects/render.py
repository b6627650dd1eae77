"""Durable rendering: one background thread per studio process renders the projects' pending segments through the
engine, in reading order, and records each take in the store (store.py) as it comes.

    projects = Projects(engine, Path("/workspace/projects"))   # cheap: opens nothing
    projects.start()             # opens the store (for writing when it can) and starts the renderer thread
    pid = projects.create("Book", "Chapter 1\\nIt was a dark night.", voice="alice")
    projects.status(pid)         # ProjectStatus(status='rendering', done=0, total=1, ...)

Rules
    - One writer. The process that holds the store's lock renders; another one (a second studio on the same volume)
      serves the projects read-only, says so in its log and in every project's status (`note`), and refuses edits.
    - Idle capacity only. Every segment renders inside `scheduler.background()`: its chunks start only when no live
      visitor's chunk waits, and a visitor's chunk preempts it between sampling steps (inference/scheduler.py).
    - Resumable. Segments are claimed one at a time; the store puts a segment left `rendering` by a dead process back
      to `pending` when the next process opens it, so a restart resumes where the last take was recorded.
    - Per segment: its text, its voice (the segment's own, else the voice mapped to its dialogue tag, else the
      narrator), its seed (the segment's, else one drawn once and recorded with its take), the project's options.
      A failure is recorded with its reason and rendering goes on with the next segment.
    - Pause lets the segment in progress finish; cancel stops it at once (it stays pending). Both last until resume,
      across restarts (kept in `paused.json` beside the database).
"""

# long: the renderer thread and the few project operations that must go through it (pause, cancel, edit) together
from __future__ import annotations

import dataclasses
import io
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import CancelledError
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import soundfile as sf

from ..audio import SAMPLE_RATE
from ..audio.encode import encode_audio
from ..audit import doing
from ..cancel import Stop, stopping
from ..check import summary
from ..engine import Engine
from ..errors import InputError
from ..options import SynthesisOptions, resolve_seed
from ..scheduler import background
from ..types import SynthesisRequest, SynthesisResult
from . import fix
from .export import Export, ExportBook, ExportChapter, ExportSegment, export
from .quality import Review, VoicePrints, best, reference_key, score_take, split_options
from .remote import Endpoint, RemoteRenderer
from .schema import ChapterProgress, ProjectInfo, SegmentRow
from .source import read_file, read_text
from .store import PAGE_MAX, ProjectStore, StoreLocked

log = logging.getLogger(__name__)
PAUSED_NAME = "paused.json"  # {"<project id>": "paused" | "cancelled"}, beside the database
RETRY_S = 5.0  # the renderer's wait after an unexpected error (the model failed to load, say) before it tries again
RATE_WEIGHT = 0.2  # how much the latest segment moves the estimate of seconds per character


@dataclass(frozen=True)
class ProjectStatus:
    """A project as an interface shows it: its progress and what its renderer is doing."""

    id: int
    name: str
    status: str  # rendering, paused, cancelled, done, failed (some segments failed, none left), stale, read-only
    done: int
    total: int
    failed: int
    stale: int
    chapters: tuple[ChapterProgress, ...]
    seconds_left: float | None  # estimated from this process's rendering rate; None until it has rendered one
    note: str = ""  # why this process does not render (another one writes the store), or ""
    settings: dict[str, Any] = field(default_factory=dict)  # voice, voices, options, review (quality.py)


class Projects:
    """The projects in `folder`, rendered by this process's engine when it holds the store."""

    def __init__(
        self, engine: Engine, folder: Path, endpoint: Callable[[], Endpoint] | None = None,
        edit: fix.EditPath | None = None,
    ) -> None:  # fmt: skip
        self.engine, self.folder = engine, Path(folder)
        self.endpoint = endpoint  # set: segments render on a RunPod queue endpoint (remote.py), not here
        self._remote: RemoteRenderer | None = None
        self.edit_path = edit  # the speech-editing path, for fixes in place (fix.py); None: every render is whole
        self.note = ""  # set when another process writes the store
        self._store: ProjectStore | None = None
        self._open_lock = threading.Lock()
        self._wake = threading.Condition()
        self._paused: dict[int, str] = {}
        self._current: tuple[int, Stop] | None = None  # the project rendering now and how to stop it
        self._seconds_per_char: float | None = None
        self._thread: threading.Thread | None = None
        self._closed = False
        self.prints = VoicePrints()  # speaker similarity to each voice's reference (quality.py)

    # ---- the store and the thread -----------------------------------------------------------------------------
    @property
    def store(self) -> ProjectStore:
        """The store, opened on first use: for writing, or read-only when another process writes it."""
        with self._open_lock:
            if self._store is None:
                try:
                    self._store = ProjectStore(self.folder)
                    self._paused = {int(k): v for k, v in self._read_paused().items()}
                except StoreLocked as e:
                    self.note = f"{e.message} This studio shows its projects read-only and renders none."
                    log.warning(self.note)
                    self._store = ProjectStore(self.folder, readonly=True)
            return self._store

    @property
    def writable(self) -> bool:
        return not self.store.readonly

    def start(self) -> Projects:
        """Open the store and start the renderer (once); a read-only process starts none."""
        if self.writable and self.endpoint is not None and self._remote is None:
            settings = self.engine.settings
            self._remote = RemoteRenderer(self, self.endpoint, settings.render_batch, settings.render_jobs)
            self._remote.start()
        elif self.writable and self.endpoint is None and self._thread is None:
            self._thread = threading.Thread(target=self._work, name="project-renderer", daemon=True)
            self._thread.start()
        return self

    def close(self) -> None:
        """Stop the renderer (the segment in progress stays pending) and close the store."""
        with self._wake:
            self._closed = True
            if self._current:
                self._current[1].cancel()
            self._wake.notify_all()
        if self._thread is not None:
            self._thread.join(60)
        if self._remote is not None:
            self._remote.join(60)
        if self._store is not None:
            self._store.close()

    def _writer(self) -> ProjectStore:
        store = self.store
        if store.readonly:
            raise InputError(self.note or "The project store is open read-only.", "Make this change in that studio.")
        return store

    def _poke(self) -> None:
        with self._wake:
            self._wake.notify_all()

    # ---- the renderer ---------------------------------------------------------------------------------------------
    def _work(self) -> None:
        while not self._closed:
            try:
                claimed = self._claim()
                if claimed is None:
                    with self._wake:
                        if not self._closed:
                            self._wake.wait(60)
                    continue
                self._render(*claimed)
            except Exception:  # the model failed to load, the disk is full...: say so, wait, try again
                log.exception("the project renderer could not go on; it tries again in %s s", RETRY_S)
                with self._wake:
                    self._wake.wait(RETRY_S)

    def _claim(self) -> tuple[ProjectInfo, SegmentRow, Stop] | None:
        """The next pending segment of the oldest project not paused, now `rendering`."""
        store = self.store
        for info in store.projects():
            if info.id in self._paused or info.done + info.failed >= info.total:
                continue
            with self._wake:  # a pause or cancel between claim and start is seen by _render
                if self._closed or info.id in self._paused:
                    return None
                rows = store.claim(info.id, 1)
                if rows:
                    stop = Stop()
                    self._current = (info.id, stop)
                    return info, rows[0], stop
        return None

    def _render(self, info: ProjectInfo, seg: SegmentRow, stop: Stop) -> None:
        """Render one claimed segment and record its takes; it stays the current one until they are recorded (a
        pause or a delete that waits for the current segment sees its take, or its failure, already there)."""
        try:
            self._render_one(info, seg, stop)
        finally:
            with self._wake:
                self._current = None
                self._wake.notify_all()

    def _render_one(self, info: ProjectInfo, seg: SegmentRow, stop: Stop) -> None:
        store = self.store
        t0 = time.perf_counter()
        try:
            request = self._request(info.settings, seg)
            with background(), stopping(stop):
                review = Review.from_settings(info.settings)
                fixed = fix.fixed_takes(self.edit_path, store, seg, request, lambda r: self._score(r, request, review))
                takes = fixed or self._takes(info.settings, seg, request)
        except CancelledError:  # cancelled or closing: back to pending, to be rendered when resumed
            store.fail(seg, "cancelled")
            self._requeue(seg)
            return
        except Exception as e:
            reason = str(e) if isinstance(e, InputError) else f"{type(e).__name__}: {e}"
            log.warning("project %s, segment %s failed: %s", info.id, seg.id, reason)
            store.fail(seg, reason)
            return
        self._record(seg, takes)
        rate = (time.perf_counter() - t0) / max(1, len(seg.text))
        old = self._seconds_per_char
        self._seconds_per_char = rate if old is None else old + RATE_WEIGHT * (rate - old)

    def _takes(
        self, settings: Mapping[str, Any], seg: SegmentRow, request: SynthesisRequest
    ) -> list[tuple[SynthesisResult, dict[str, Any]]]:
        """The segment's takes with their scores: the first, then one with a new seed after each flagged one, up to
        the project's retry budget (none when the seed was chosen: the segment's own, or the project's)."""
        review = Review.from_settings(settings)
        pinned = seg.seed is not None or (settings.get("options") or {}).get("seed") is not None
        takes: list[tuple[SynthesisResult, dict[str, Any]]] = []
        while True:
            with doing("project"):  # the audit log's operation (the background renderer is no request: no user)
                result = self.engine.synthesize(request)
            takes.append((result, self._score(result, request, review)))
            if pinned or not takes[-1][1]["flagged"] or len(takes) > review.retries:
                return takes
            options = dataclasses.replace(request.options, seed=resolve_seed(None))
            request = dataclasses.replace(request, options=options)

    def _score(self, result: SynthesisResult, request: SynthesisRequest, review: Review) -> dict[str, Any]:
        """The take's check summary (when the check ran), its similarity to the voice's reference, quality, flag."""
        check = summary(result.checks) if result.checks else None
        return self._score_wave(result.wave, request, check, review)

    def _score_wave(
        self, wave: Any, request: SynthesisRequest, check: dict[str, Any] | None, review: Review
    ) -> dict[str, Any]:
        ref = request.reference.audio

        def load() -> tuple[Any, int]:
            prepared = self.engine.prepare(ref)[1]
            return prepared.wave, prepared.sample_rate

        similarity = self.prints.similarity(wave, SAMPLE_RATE, reference_key(ref), load)
        return score_take(check, similarity, review, request.options.check_threshold)

    def score_remote(
        self, settings: Mapping[str, Any], seg: SegmentRow, wav: bytes, check: dict[str, Any] | None
    ) -> dict[str, Any] | None:
        """The scores of a take rendered elsewhere (a render endpoint's WAV) for a project with `settings`, as a local
        take gets them (no retries: a flagged one is listed for review); the worker's own check alone when it cannot
        be scored here."""
        try:
            wave, _ = sf.read(io.BytesIO(wav), dtype="float32")
            return self._score_wave(wave, self._request(settings, seg), check, Review.from_settings(settings))
        except Exception as e:  # a voice deleted meanwhile, an unreadable file: the take is kept, unscored
            log.warning("segment %s: its remote take is not scored (%s: %s)", seg.id, type(e).__name__, e)
            return check

    def _record(self, seg: SegmentRow, takes: list[tuple[SynthesisResult, dict[str, Any]]]) -> None:
        """Record the other takes, then keep the best (the segment is done once all its takes are listed); nothing
        when the segment changed while it rendered."""
        kept = best([scores for _, scores in takes])
        for i in [*(i for i in range(len(takes)) if i != kept), kept]:
            result, scores = takes[i]
            audio = encode_audio(result.wave, SAMPLE_RATE, "wav")
            scores = {"made": fix.MADE_RENDER, **scores, "takes": len(takes)}
            if i == kept:
                self.store.finish(seg, audio, result.duration, result.seed, result.spoken_text, scores)
            elif self.store.add_take(seg.id, audio, result.duration, result.seed, scores, claimed=seg) is None:
                return  # the segment changed while it rendered: its new revision renders anew

    def _requeue(self, seg: SegmentRow) -> None:
        """A cancelled segment goes back to pending as it was (an edit of nothing but its own seed bumps its
        revision and clears its failure)."""
        row = self.store.segment(seg.id)
        if row.state == "failed":
            self.store.edit(seg.id, text=row.text, fix_from=row.fix_from)

    def _request(self, settings: Mapping[str, Any], seg: SegmentRow) -> SynthesisRequest:
        options = SynthesisOptions.from_loose(settings.get("options") or {})
        voices = settings.get("voices") or {}
        voice = seg.voice or voices.get(seg.speaker) or settings.get("voice")
        if not voice:
            raise InputError("This segment has no voice.", "Give the project a narrator voice, or the segment one.")
        seed = seg.seed if seg.seed is not None else resolve_seed(options.seed)
        options = dataclasses.replace(options, seed=seed)
        return SynthesisRequest(seg.text, self.engine.reference(voice=voice), options)

    # ---- pause, resume, cancel ------------------------------------------------------------------------------------
    def _read_paused(self) -> dict[str, str]:
        try:
            return json.loads((self.folder / PAUSED_NAME).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def _set_paused(self, project_id: int, state: str | None) -> None:
        self._writer().project(project_id)
        with self._wake:
            if state is None:
                self._paused.pop(project_id, None)
            else:
                self._paused[project_id] = state
                if state == "cancelled" and self._current and self._current[0] == project_id:
                    self._current[1].cancel()
            self._save_paused()
            self._wake.notify_all()

    def _save_paused(self) -> None:
        tmp = self.folder / (PAUSED_NAME + ".tmp")
        tmp.write_text(json.dumps({str(k): v for k, v in self._paused.items()}), encoding="utf-8")
        os.replace(tmp, self.folder / PAUSED_NAME)

    def pause(self, project_id: int) -> None:
        """No more segments of this project start (the one rendering now finishes)."""
        self._set_paused(project_id, "paused")

    def cancel(self, project_id: int) -> None:
        """Stop this project now: the segment rendering is dropped (it stays pending); resume starts again."""
        self._set_paused(project_id, "cancelled")

    def resume(self, project_id: int) -> None:
        self._set_paused(project_id, None)

    # ---- projects ---------------------------------------------------------------------------------------------
    def create(
        self,
        name: str,
        text: str | tuple[str, bytes],
        voice: str,
        voices: Mapping[str, str] | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> int:
        """A new project from pasted text or a (file name, bytes) upload (.txt, .md, .epub); it starts rendering."""
        if voices is not None and not isinstance(voices, Mapping):
            raise InputError("The voices must map each dialogue tag to a saved voice.", 'Give {"Guest": "alice"}.')
        chapters = read_file(*text) if isinstance(text, tuple) else read_text(str(text or ""))
        for v in {voice, *(voices or {}).values()}:
            if not v:
                raise InputError("A project needs a narrator voice.", "Choose one of the saved voices.")
            self.engine.voices.get(v)  # VoiceNotFound names the saved ones
        synthesis, review = split_options(options)
        opts = dataclasses.asdict(SynthesisOptions.from_loose(synthesis))
        settings = {"voice": voice, "voices": dict(voices or {}), "options": opts, "review": dataclasses.asdict(review)}
        project_id = self._writer().create(name, chapters, settings)
        self._poke()
        return project_id

    def status(self, project_id: int) -> ProjectStatus:
        store = self.store
        return self._status(store.project(project_id))

    def all(self) -> list[ProjectStatus]:
        return [self._status(info) for info in self.store.projects()]

    def _status(self, info: ProjectInfo) -> ProjectStatus:
        store = self.store
        stale = len(store.stale(info.id))
        pending = info.total - info.done - info.failed - info.rendering - stale
        if info.done == info.total:
            state = "done"
        elif pending + info.rendering == 0:
            state = "failed" if info.failed else "stale"
        elif store.readonly:
            state = "read-only"
        else:
            state = self._paused.get(info.id, "rendering")
        left_chars = sum(len(s.text) for s in self._unrendered(info.id)) if self._seconds_per_char else 0
        eta = left_chars * self._seconds_per_char if self._seconds_per_char else None
        note = self.note or (self._remote.note if self._remote else "")
        return ProjectStatus(
            info.id, info.name, state, info.done, info.total, info.failed, stale,
            tuple(store.chapters(info.id)), eta, note, info.settings,
        )  # fmt: skip

    def _unrendered(self, project_id: int) -> Iterator[SegmentRow]:
        for seg in self._pages(project_id):
            if seg.state in ("pending", "rendering"):
                yield seg

    def _pages(self, project_id: int, chapter: int | None = None) -> Iterator[SegmentRow]:
        offset = 0
        while page := self.store.segments(project_id, chapter, offset, PAGE_MAX):
            yield from page
            offset += len(page)

    def delete(self, project_id: int) -> None:
        """The project, its segments and their audio (its rendering stops first)."""
        self.cancel(project_id)
        with self._wake:  # wait for the segment in progress to be dropped
            while self._current and self._current[0] == project_id:
                self._wake.wait(0.1)
        self._writer().delete(project_id)
        with self._wake:
            self._paused.pop(project_id, None)
            self._save_paused()

    # ---- segments -------------------------------------------------------------------------------------------------
    def segment_of(self, project_id: int, segment_id: int) -> SegmentRow:
        """Segment `segment_id`, refused unless it belongs to `project_id`."""
        seg = self.store.segment(segment_id)
        if seg.project != project_id:
            raise InputError(f"Project {project_id} has no segment {segment_id}.", "List its segments to see them.")
        return seg

    def segment_audio(self, project_id: int, segment_id: int) -> Path:
        seg = self.segment_of(project_id, segment_id)
        if seg.audio is None or not seg.audio.is_file():
            raise InputError(f"Segment {segment_id} has no audio yet.", "Wait until it is rendered.")
        return seg.audio

    def edit(
        self, project_id: int, segment_id: int, text: str | None = None, voice: str | None = None,
        seed: int | None = None, whole: bool = False,
    ) -> SegmentRow:  # fmt: skip
        """Change one segment; it alone renders again (a few words of a long one are fixed in place: fix.py, unless
        `whole`)."""
        seg = self.segment_of(project_id, segment_id)
        if voice:
            self.engine.voices.get(voice)
        source = fix.fix_source(self.store, seg, text, voice, seed, whole)
        row = self._writer().edit(segment_id, text=text, voice=voice, seed=seed, fix_from=source)
        self._poke()
        return row

    def rerender_stale(self, project_id: int) -> int:
        self._writer().project(project_id)
        count = self._writer().queue_stale(project_id)
        self._poke()
        return count

    def mark_stale(self, word: str, case_sensitive: bool = False) -> int:
        """A pronunciation of `word` changed: every project's rendered segments that say it become stale."""
        store = self.store
        if store.readonly:
            return 0
        return sum(
            sum(1 for s in store.mark_stale(info.id, word, case_sensitive) if s.state == "stale")
            for info in store.projects()
        )

    # ---- export ---------------------------------------------------------------------------------------------------
    def export(self, project_id: int, fmt: str, chapter: int | None = None) -> Export:
        """The project (or chapter number `chapter`, from 1) in `fmt`, streamed from its rendered segments."""
        store = self.store
        info = store.project(project_id)
        chapters = [ExportChapter(c.title, self._rendered(project_id, c.position)) for c in store.chapters(project_id)]
        return export(ExportBook(info.name, "", chapters), fmt, chapter)

    def _rendered(self, project_id: int, chapter: int) -> Iterator[ExportSegment]:
        for seg in self._pages(project_id, chapter):
            if seg.audio is not None and seg.state in ("done", "locked", "stale"):
                yield ExportSegment(seg.audio, seg.duration or 0.0, seg.text)

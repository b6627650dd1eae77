"""Rendering projects on a RunPod queue endpoint that runs this image's serverless worker (its `segments` job,
serverless/segments.py), for when one GPU is not enough: the endpoint's autoscaler adds workers, the studio keeps
the project's state.

    projects = Projects(engine, folder, endpoint=connect)   # connect() -> an Endpoint (run a job, read it back)
    projects.start()                                        # this dispatcher renders; the local thread does not

Rules
    - The store stays the one owner of every segment's state. Batches of up to `batch` pending segments are claimed
      (store.claim: atomic, reading order, the oldest project not paused first), grouped by voice, and sent as one
      `segments` job each: the voice's recording (ref_audio_base64) with its transcript, the project's options, and
      each segment's seed (its own, else one drawn here, sent again with it, and recorded with its take). At most
      `jobs` are in flight.
    - A returned segment is recorded with store.finish (its WAV bytes as they come); the store drops a late result
      of an older revision (an edit meanwhile). A segment returned with an error fails with that reason, unless the
      worker says to send it again (its output was full): then it goes back to pending.
    - A job that FAILED, was CANCELLED or TIMED_OUT (its worker died), or whose status cannot be read for LOST_S,
      puts its segments back to pending (with a new revision, so that a late answer of that job is dropped): they
      are sent again. A segment sent MAX_SENDS times without an answer fails, saying so.
    - Pause stops sending the project's batches (the jobs in flight finish and are recorded); cancel and delete also
      cancel its jobs on the endpoint; close cancels every job in flight. Their segments go back to pending. The
      jobs in flight are kept in JOBS_NAME beside the database, so that after a crash the next process cancels them.
    - A refusal by the endpoint (a bad API key, no such endpoint, unreachable) is logged and shown in every project's
      status note with what to do; the dispatcher tries again after RETRY_S.
    - While an endpoint is set, this process renders nothing itself: its own device stays for its visitors, and the
      endpoint's queue holds the whole book (its autoscaler sizes to it). The audio is the same either way.
    - Known difference: the worker applies its own pronunciations, not this studio's (a voice's own pronunciations
      are this studio's only); a project that relies on them renders here (unset the endpoint).
"""

from __future__ import annotations

import base64
import dataclasses
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..errors import InputError, StudioError
from ..options import SynthesisOptions, resolve_seed
from .schema import ProjectInfo, SegmentRow

log = logging.getLogger(__name__)
POLL_S = 1.0  # between two reads of the jobs in flight (a poke reads them sooner)
LOST_S = 120.0  # a job whose status cannot be read this long is given up and its segments sent again
RETRY_S = 30.0  # after the endpoint refused a job, before the next try
MAX_SENDS = 5  # sends of one segment without an answer, before it fails
JOBS_NAME = "remote_jobs.json"  # {"<job id>": <project id>}: the jobs in flight, beside the database
FINAL_FAILED = ("FAILED", "CANCELLED", "TIMED_OUT")
# the worker's words for a segment left out of a full output (serverless/segments.py, SegmentsJob._over)
SEND_AGAIN = "Send this segment again in another job"


class RemoteJob(Protocol):
    """A job on the endpoint, as the runpod SDK's Job offers it."""

    job_id: str

    def status(self) -> str: ...

    def output(self) -> Any: ...

    def cancel(self) -> Any: ...


class Endpoint(Protocol):
    """A queue endpoint, as the runpod SDK's Endpoint offers it; a refusal it can explain is an InputError."""

    def run(self, request_input: dict[str, Any]) -> RemoteJob: ...

    def cancel(self, job_id: str) -> Any: ...


@dataclass
class Sent:
    """A job in flight: its project, and each segment as claimed with the seed it was sent with."""

    project: int
    job: RemoteJob
    segments: dict[int, tuple[SegmentRow, int]]
    read_at: float = field(default_factory=time.monotonic)  # the last time its status was read


class RemoteRenderer:
    """The dispatcher thread of one Projects (render.py; `projects`: it holds the store, the pause table and the
    condition that wakes its threads): claims, sends, reads back, records."""

    def __init__(self, projects: Any, connect: Callable[[], Endpoint], batch: int, jobs: int) -> None:
        self.projects, self.connect, self.batch, self.jobs = projects, connect, batch, jobs
        self.note = ""  # why the endpoint refused the last job, and what to do; "" when it takes them
        self.sent: list[Sent] = []
        self.sends: dict[int, int] = {}  # segment id -> times sent without an answer
        self.drawn: dict[int, int] = {}  # segment id -> the seed drawn for it, sent again with it until recorded
        self.rounds = 0  # dispatcher rounds done (tests wait on it through projects._wake)
        self._endpoint: Endpoint | None = None
        self._saved: dict[str, int] = {}  # the jobs JOBS_NAME holds
        self._thread: threading.Thread | None = None

    @property
    def _wake(self) -> threading.Condition:
        return self.projects._wake

    def start(self) -> None:
        self._thread = threading.Thread(target=self._work, name="project-dispatcher", daemon=True)
        self._thread.start()

    def join(self, timeout: float) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    # ---- the loop -------------------------------------------------------------------------------------------------
    def _work(self) -> None:
        while not self.projects._closed:
            pause = POLL_S
            try:
                if self._endpoint is None:
                    self._endpoint = self.connect()
                    self._cancel_orphans(self._endpoint)
                self._drop_stopped()
                self._collect()
                self._send(self._endpoint)
                self._save_jobs()
            except StudioError as e:  # the endpoint refused: a bad key, no such endpoint, no runpod package
                self.note = f"The render endpoint refused the work: {e}"
                log.error("%s (trying again in %s s)", self.note, RETRY_S)
                pause = RETRY_S
            except Exception as e:  # unreachable, a bad answer: say so, wait, try again
                self.note = f"The render endpoint cannot be reached ({type(e).__name__}: {e}); retrying."
                log.exception("the project dispatcher could not go on; it tries again in %s s", RETRY_S)
                pause = RETRY_S
            with self._wake:
                self.rounds += 1
                self._wake.notify_all()
                if not self.projects._closed:
                    self._wake.wait(pause)
        self._stop_all()
        self._save_jobs()

    def _send(self, endpoint: Endpoint) -> None:
        """Fill the free places with batches of the oldest projects not paused."""
        while len(self.sent) < self.jobs:
            claimed = self._claim()
            if claimed is None:
                return
            info, rows = claimed
            groups = list(_by_voice(info.settings, rows).items())
            for i, (voice, group) in enumerate(groups):
                try:
                    self._send_group(endpoint, info, voice, group)
                except BaseException:  # the groups not sent yet go back to pending too
                    for _, rest in groups[i + 1 :]:
                        self._requeue(rest, "not sent")
                    raise

    def _claim(self) -> tuple[ProjectInfo, list[SegmentRow]] | None:
        projects, store = self.projects, self.projects.store
        for info in store.projects():
            if info.id in projects._paused or info.done + info.failed >= info.total:
                continue
            with self._wake:  # a pause or cancel after this is seen by _drop_stopped
                if projects._closed or info.id in projects._paused:
                    return None
                rows = store.claim(info.id, self.batch)
            if rows:
                return info, rows
        return None

    def _send_group(self, endpoint: Endpoint, info: ProjectInfo, voice: str | None, rows: list[SegmentRow]) -> None:
        store = self.projects.store
        try:
            if not voice:
                raise InputError("This segment has no voice.", "Give the project a narrator voice, or the segment one.")
            saved = self.projects.engine.voices.get(voice)
            recording = base64.b64encode(saved.audio.read_bytes()).decode()
        except (StudioError, OSError) as e:
            for seg in rows:
                store.fail(seg, str(e))
            return
        options = SynthesisOptions.from_loose(info.settings.get("options") or {})
        seeds = {seg.id: seg.seed for seg in rows if seg.seed is not None}
        for seg in rows:
            if seg.seed is None:
                seeds[seg.id] = self.drawn.setdefault(seg.id, resolve_seed(options.seed))
        shared = {k: v for k, v in dataclasses.asdict(options).items() if k != "seed"}
        job_input = {
            "segments": [{"id": seg.id, "text": seg.text, "seed": seeds[seg.id]} for seg in rows],
            "ref_audio_base64": recording,
            **({"ref_text": saved.text} if saved.text else {}),
            **shared,
            "response_format": "wav",
        }
        try:
            job = endpoint.run({"input": job_input})
        except BaseException:
            self._requeue(rows, "not sent")
            raise
        self.note = ""
        for seg in rows:
            self.sends[seg.id] = self.sends.get(seg.id, 0) + 1
        self.sent.append(Sent(info.id, job, {seg.id: (seg, seeds[seg.id]) for seg in rows}))
        log.info("project %s: %d segments sent in job %s", info.id, len(rows), getattr(job, "job_id", "?"))

    # ---- reading jobs back -----------------------------------------------------------------------------------------
    def _collect(self) -> None:
        for sent in list(self.sent):
            try:
                state = sent.job.status()
                output = sent.job.output() if state == "COMPLETED" else None
            except Exception as e:
                if time.monotonic() - sent.read_at < LOST_S:
                    continue
                log.warning("a job's status could not be read for %s s (%s); its segments are sent again", LOST_S, e)
                self._give_up(sent, f"its job's status could not be read ({type(e).__name__})")
                continue
            sent.read_at = time.monotonic()
            if state == "COMPLETED":
                self.sent.remove(sent)
                self._record(sent, output)
            elif state in FINAL_FAILED:
                log.warning("a job of project %s ended %s; its segments are sent again", sent.project, state)
                self.sent.remove(sent)
                self._requeue([row for row, _ in sent.segments.values()], f"its job ended {state}")

    def _record(self, sent: Sent, output: Any) -> None:
        store = self.projects.store
        entries = output.get("segments") if isinstance(output, Mapping) else None
        got = {e.get("id"): e for e in entries or () if isinstance(e, Mapping)}
        settings: Mapping[str, Any] | None = None  # the project's, read once for the job's takes
        again = []
        for first, (seg_id, (row, seed)) in enumerate(sent.segments.items()):
            entry = got.get(seg_id)
            try:
                if entry is None:
                    again.append(row)
                elif "audio_base64" in entry:
                    audio = base64.b64decode(entry["audio_base64"])
                    spoken = str(entry.get("spoken_text") or "")
                    duration, seed = float(entry["duration"]), int(entry.get("seed", seed))
                    settings = settings if settings is not None else store.project(sent.project).settings
                    scores = self.projects.score_remote(settings, row, audio, entry.get("check"))
                    store.finish(row, audio, duration, seed, spoken, scores)
                    self._done(seg_id)
                elif SEND_AGAIN in str(entry.get("error")) and first:
                    again.append(row)
                else:
                    store.fail(row, str(entry.get("error")))
                    self._done(seg_id)
            except StudioError as e:  # deleted meanwhile
                log.info("segment %s: its result is dropped (%s)", seg_id, e)
            except (ValueError, TypeError, KeyError) as e:  # an answer that is not what the worker sends
                store.fail(row, f"The render endpoint's answer for this segment cannot be read ({e!r}).")
        self._requeue(again, "the job did not return it")

    def _done(self, seg_id: int) -> None:
        self.sends.pop(seg_id, None)
        self.drawn.pop(seg_id, None)

    def _requeue(self, rows: list[SegmentRow], why: str) -> None:
        """Back to pending with a new revision; a segment sent MAX_SENDS times fails instead."""
        store = self.projects.store
        for row in rows:
            try:
                if self.sends.get(row.id, 0) >= MAX_SENDS:
                    reason = f"Sent to the render endpoint {MAX_SENDS} times without an answer ({why})."
                    store.fail(row, f"{reason} Check the endpoint's workers and logs, then edit the segment again.")
                    self._done(row.id)
                elif store.fail(row, why):
                    self.projects._requeue(row)
            except StudioError as e:  # deleted meanwhile
                log.info("segment %s: not put back (%s)", row.id, e)

    # ---- stopping ---------------------------------------------------------------------------------------------------
    def _give_up(self, sent: Sent, why: str) -> None:
        self.sent.remove(sent)
        try:
            sent.job.cancel()
        except Exception as e:  # the endpoint is unreachable: the job times out there
            log.info("a job could not be cancelled: %s", e)
        self._requeue([row for row, _ in sent.segments.values()], why)

    def _save_jobs(self) -> None:
        """The jobs in flight, kept beside the database (written by rename) so that the next process cancels them
        when this one dies: their segments are sent again anyway (the store puts them back to pending)."""
        jobs = {sent.job.job_id: sent.project for sent in self.sent}
        if jobs == self._saved:
            return
        path = self.projects.folder / JOBS_NAME
        tmp = path.with_name(JOBS_NAME + ".tmp")
        tmp.write_text(json.dumps(jobs), encoding="utf-8")
        os.replace(tmp, path)
        self._saved = jobs

    def _cancel_orphans(self, endpoint: Endpoint) -> None:
        """The jobs a process that died left in flight are cancelled: nobody reads their results."""
        try:
            orphans = json.loads((self.projects.folder / JOBS_NAME).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        for job_id in orphans:
            try:
                endpoint.cancel(job_id)
            except Exception as e:  # gone, or the endpoint is unreachable: it times out there
                log.info("job %s left by an earlier process could not be cancelled: %s", job_id, e)
        self._saved = {"": 0}  # written again on this round, with this process's jobs
        log.info("%d jobs left in flight by an earlier process were cancelled", len(orphans))

    def _drop_stopped(self) -> None:
        """The jobs of a cancelled (or deleted) project are cancelled on the endpoint."""
        with self._wake:
            cancelled = {pid for pid, state in self.projects._paused.items() if state == "cancelled"}
        existing = {info.id for info in self.projects.store.projects()} if self.sent else set()
        for sent in [s for s in self.sent if s.project in cancelled or s.project not in existing]:
            self._forget(sent)
            self._give_up(sent, "cancelled")

    def _stop_all(self) -> None:
        for sent in list(self.sent):
            self._forget(sent)
            self._give_up(sent, "the studio closed")

    def _forget(self, sent: Sent) -> None:
        """A job stopped on purpose does not count as a send without an answer."""
        for seg_id in sent.segments:
            self.sends.pop(seg_id, None)


def _by_voice(settings: Mapping[str, Any], rows: list[SegmentRow]) -> dict[str | None, list[SegmentRow]]:
    """The claimed segments grouped by the voice each speaks in (the segment's, its tag's, the narrator's)."""
    voices = settings.get("voices") or {}
    groups: dict[str | None, list[SegmentRow]] = {}
    for seg in rows:
        groups.setdefault(seg.voice or voices.get(seg.speaker) or settings.get("voice"), []).append(seg)
    return groups

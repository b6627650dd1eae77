"""Fair turns for many visitors at once: the one place where the engine's concurrency policy lives.

Every chunk of every request becomes a job. One worker thread runs them, one sampling step at a time, so that it can
switch between runs at any step:

- Turns. A request's first chunk goes before everything else (it is what a visitor waits for before hearing
  anything); later chunks take turns across requests, round-robin: chunk i of a request that arrived when the clock
  stood at c is due at c + i, and the clock follows the chunks that start. A request's own chunks stay in order.
- Preemption. When a job that is due sooner arrives while a run is in progress, the run is paused after its current
  step, the new job runs, and the paused run resumes where it was. So a newcomer's first chunk starts within one
  sampling step of arriving, whatever else is running, and a long text no longer holds a short one back.
- Batching. Waiting jobs that share sampling settings (steps, guidance, sway) go into one run, up to `max_batch`,
  taken in turn order, so a batch draws from several requests (on a GPU; on a CPU `max_batch` is 1).
- Background. Requests opened with `open(background=True)` (a project's segments) take only idle capacity: their
  jobs rank after every live job, so they start only when no live job waits, fill a live batch's empty places, and
  a live newcomer preempts a background run between steps as above. Background jobs never move the clock.
- Cancellation. A job whose future is cancelled (a closed stream, a closed tab) is dropped before it runs; a run all
  of whose jobs are cancelled is stopped at its next step.

The scheduler knows nothing of models: `begin(key, items)` returns a run whose `step()` does one step and returns
the results (one per item, in order) once the last step is done.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Hashable, Iterator, Sequence
from concurrent.futures import Future, InvalidStateError
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

log = logging.getLogger(__name__)
MAX_PAUSED = 4  # runs that may wait half-done while sooner jobs run (each holds only its small state)


class Run(Protocol):
    def step(self) -> list[Any] | None:
        """One step; the results, one per item, once the last step is done (None before)."""


K = TypeVar("K", bound=Hashable)  # what a run's items share (the engine's: model.sampling.SamplingKey)
Begin = Callable[[K, list[Any]], Run]


class Observer(Protocol):
    """What the scheduler reports, for metrics (inference/metrics.py)."""

    def chunk_started(self, wait_s: float) -> None: ...
    def batch_started(self, size: int) -> None: ...
    def chunk_finished(self, run_s: float) -> None: ...
    def queue(self, waiting: int, running: int) -> None: ...


@dataclass(eq=False)
class Owner:
    """One request: its chunks are due from `start` on the scheduler's clock."""

    start: int
    background: bool = False  # idle capacity only (see the module's docstring)


_background: ContextVar[bool] = ContextVar("background", default=False)


@contextmanager
def background() -> Iterator[None]:
    """Requests opened inside this block (in this thread or context) go in the background lane:
    `with background(): engine.synthesize(request)` renders without ever holding a live visitor back."""
    token = _background.set(True)
    try:
        yield
    finally:
        _background.reset(token)


def in_background() -> bool:
    """Whether this thread (or context) is inside `background()`."""
    return _background.get()


@dataclass(eq=False)  # jobs are compared by identity (their items hold tensors)
class _Job(Generic[K]):
    owner: Owner
    index: int  # the chunk's place in its request
    key: K  # jobs with equal keys may share a run
    item: Any
    seq: int
    submitted: float = field(default_factory=time.perf_counter)
    future: Future = field(default_factory=Future)

    @property
    def rank(self) -> tuple[int, int, int, int]:
        """Sooner first: live before background, then first chunks, then by due time, then by arrival."""
        return (int(self.owner.background), 0 if self.index == 0 else 1, self.owner.start + self.index, self.seq)


@dataclass(eq=False)
class _Running(Generic[K]):
    jobs: list[_Job[K]]
    run: Run
    started: float = field(default_factory=time.perf_counter)

    @property
    def rank(self) -> tuple[int, int, int, int]:
        return min(job.rank for job in self.jobs)


class Scheduler(Generic[K]):
    def __init__(self, begin: Begin[K], max_batch: int = 1, observer: Observer | None = None) -> None:
        self.begin, self.max_batch, self.observer = begin, max(1, max_batch), observer
        self.batches_run = 0  # how many runs were made (tests and benchmarks read it)
        self.largest_batch = 0
        self._clock = 0  # the due time of the latest chunk that started
        self._seq = itertools.count()
        self._waiting: list[_Job[K]] = []
        self._running: list[_Running[K]] = []
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def open(self, background: bool | None = None) -> Owner:
        """A new request, due from now on; in the background lane when `background` is true (None: when opened
        inside a `background()` block)."""
        with self._cond:
            return Owner(self._clock, _background.get() if background is None else background)

    def submit(self, owner: Owner, index: int, key: K, item: Any) -> Future:
        """Queue chunk `index` of `owner`; the future resolves to its result (or raises what its run raised)."""
        return self.submit_many(owner, [(index, key, item)])[0]

    def submit_many(self, owner: Owner, jobs: Sequence[tuple[int, K, Any]]) -> list[Future]:
        """Queue several (index, key, item) of `owner` at once, so that they can share a run where batching pays
        (queued one by one, the worker may start the first before the others arrive)."""
        queued = [_Job(owner, index, key, item, next(self._seq)) for index, key, item in jobs]
        with self._cond:
            self._waiting.extend(queued)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._work, name="generation-scheduler", daemon=True)
                self._thread.start()
            self._report()
            self._cond.notify()
        return [job.future for job in queued]

    @property
    def waiting(self) -> int:
        """Chunks waiting to start."""
        return len(self._waiting)

    @property
    def running(self) -> int:
        """Runs started and not finished (at most one steps at a time; the others are paused)."""
        return len(self._running)

    # ---- the worker ---------------------------------------------------------------------------------------------
    def _next(self) -> tuple[list[_Job[K]] | None, _Running[K] | None]:
        """Under the lock: jobs to begin (the soonest waiting job and its batch), or the running run to step."""
        self._waiting = [j for j in self._waiting if not j.future.cancelled()]
        for running in [r for r in self._running if all(j.future.cancelled() for j in r.jobs)]:
            self._running.remove(running)  # nobody is waiting for it any more: stop computing it
        soonest = min(self._running, key=lambda r: r.rank, default=None)
        first = min(self._waiting, key=lambda j: j.rank, default=None)
        if first is not None and (soonest is None or (first.rank < soonest.rank and self.running <= MAX_PAUSED)):
            same = sorted((j for j in self._waiting if j.key == first.key), key=lambda j: j.rank)
            batch = same[: self.max_batch]
            self._waiting = [j for j in self._waiting if j not in batch]
            self._clock = max([self._clock, *(j.owner.start + j.index for j in batch if not j.owner.background)])
            return batch, None
        return None, soonest

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._waiting and not self._running:
                    self._cond.wait()
                batch, running = self._next()
                self._report()
            try:
                if batch is not None:
                    self._begin(batch)
                elif running is not None:
                    self._step(running)
            except Exception:  # never lose the worker
                log.exception("the scheduler could not run a step")

    def _begin(self, batch: list[_Job[K]]) -> None:
        now = time.perf_counter()
        try:
            run = self.begin(batch[0].key, [j.item for j in batch])
        except BaseException as e:
            self._fail(batch, e)
            return
        if self.observer:
            self.observer.batch_started(len(batch))
            for job in batch:
                self.observer.chunk_started(now - job.submitted)
        self.batches_run += 1
        self.largest_batch = max(self.largest_batch, len(batch))
        with self._cond:
            self._running.append(_Running(batch, run, now))

    def _step(self, running: _Running[K]) -> None:
        try:
            results = running.run.step()
        except BaseException as e:  # every waiting request hears about it; the worker carries on
            self._finish(running)
            self._fail(running.jobs, e)
            return
        if results is None:
            return
        self._finish(running)
        run_s = time.perf_counter() - running.started
        for job, result in zip(running.jobs, results, strict=True):
            if self.observer:
                self.observer.chunk_finished(run_s)
            _resolve(job.future, result)

    def _finish(self, running: _Running[K]) -> None:
        with self._cond:
            if running in self._running:
                self._running.remove(running)
            self._report()

    @staticmethod
    def _fail(jobs: list[_Job[K]], error: BaseException) -> None:
        for job in jobs:
            _resolve(job.future, error=error)

    def _report(self) -> None:
        if self.observer:
            self.observer.queue(len(self._waiting), len(self._running))


def _resolve(future: Future, result: Any = None, error: BaseException | None = None) -> None:
    """Give `future` its result (or error) unless its visitor is gone. A cancel may land at any moment from another
    thread (a closed tab), even between a check and the set; so try, and take "already done" as "nobody waits", so
    that the other futures of the same run (other visitors' chunks) are still resolved."""
    try:
        if error is None:
            future.set_result(result)
        else:
            future.set_exception(error)
    except InvalidStateError:
        pass  # cancelled meanwhile


def cancel(future: Future) -> None:
    """Cancel a job's future and wake whoever waits on it with `concurrent.futures.wait` (a plain `cancel()` only
    wakes `result()`: `wait` hears of a cancel when the future is also marked notified, which executors do and this
    scheduler, which never marks jobs running, does here). Safe from any thread, any number of times."""
    if future.cancelled():  # cancelled (and notified) before: a second notify would be logged as an error
        return
    if future.cancel():
        try:
            future.set_running_or_notify_cancel()
        except RuntimeError:  # notified already (another thread got there first)
            pass

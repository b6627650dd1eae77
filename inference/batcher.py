"""Cross-request batching: generations waiting together go through one batched sampling call.

Every chunk of every request becomes a job. One worker thread takes the oldest job, gathers the other waiting
jobs that share its sampling settings (steps, guidance, sway), up to `max_batch`, and runs them in one forward
pass: different references, texts, durations and seeds, each with its own noise. With `max_batch=1` jobs simply
run one at a time, in order (the CPU default: batching adds padding there and saves nothing).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)
RunBatch = Callable[[Hashable, list[Any]], list[Any]]  # (key, items) -> one result per item


@dataclass(eq=False)  # jobs are compared by identity (their items hold tensors)
class _Job:
    key: Hashable
    item: Any
    future: Future = field(default_factory=Future)


class Batcher:
    def __init__(self, run_batch: RunBatch, max_batch: int = 1) -> None:
        self.run_batch, self.max_batch = run_batch, max(1, max_batch)
        self.batches_run = 0  # how many forward passes were made (tests and benchmarks read it)
        self.largest_batch = 0
        self._pending: list[_Job] = []
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def submit(self, key: Hashable, item: Any) -> Future:
        """Queue one item; the future resolves to its result (or raises what its batch raised)."""
        job = _Job(key, item)
        with self._cond:
            self._pending.append(job)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._work, name="generation-batcher", daemon=True)
                self._thread.start()
            self._cond.notify()
        return job.future

    def run(self, key: Hashable, item: Any) -> Any:
        return self.submit(key, item).result()

    def _take(self) -> list[_Job]:
        """The oldest job and the waiting jobs with the same key, in arrival order."""
        with self._cond:
            while not self._pending:
                self._cond.wait()
            first = self._pending[0]
            batch = [j for j in self._pending if j.key == first.key][: self.max_batch]
            self._pending = [j for j in self._pending if j not in batch]
            return batch

    def _work(self) -> None:
        while True:
            try:
                batch = [j for j in self._take() if j.future.set_running_or_notify_cancel()]
            except Exception:  # never lose the worker: the jobs it took are failed below, the rest wait
                log.exception("batcher could not take jobs")
                continue
            if not batch:
                continue
            try:
                results = self.run_batch(batch[0].key, [j.item for j in batch])
            except BaseException as e:  # every waiting request hears about it; the worker carries on
                for job in batch:
                    job.future.set_exception(e)
                continue
            self.batches_run += 1
            self.largest_batch = max(self.largest_batch, len(batch))
            for job, result in zip(batch, results, strict=True):
                job.future.set_result(result)

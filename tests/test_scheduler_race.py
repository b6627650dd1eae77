"""A cancel that lands while a run's results are being handed out (a closed tab, from another thread) must not keep
the rest of that run, other visitors' chunks, from resolving. The race is made deterministic: one future is
cancelled exactly when the scheduler is about to give it its result, after any check it may have made."""

from __future__ import annotations

import threading
from concurrent.futures import CancelledError, Future
from dataclasses import dataclass, field

import pytest

from inference import scheduler as scheduler_module
from inference.scheduler import Scheduler, _Job


class CancelledJustBeforeSet(Future):
    """A visitor who leaves at the worst moment: between the scheduler's look and its set."""

    def set_result(self, result) -> None:
        self.cancel()
        super().set_result(result)

    def set_exception(self, exception) -> None:
        self.cancel()
        super().set_exception(exception)


@dataclass(eq=False)
class RacyJob(_Job):
    future: Future = field(default_factory=CancelledJustBeforeSet)


def one_step_run(fail: bool, gate: threading.Event):
    def begin(key, items):
        class Run:
            def step(self):
                if key == "blocker":  # holds the worker while the batch under test is queued
                    gate.wait(10)
                    return ["done"]
                if fail:
                    raise RuntimeError("the model failed")
                return [f"{item}!" for item in items]

        return Run()

    return begin


@pytest.mark.parametrize("fail", [False, True], ids=["results", "error"])
def test_a_cancel_between_check_and_set_leaves_the_rest_of_the_batch_resolved(monkeypatch, fail: bool) -> None:
    gate = threading.Event()
    s = Scheduler(one_step_run(fail, gate), max_batch=3)
    blocker = s.submit(s.open(), 0, "blocker", "x")
    monkeypatch.setattr(scheduler_module, "_Job", RacyJob)
    leaving = s.submit(s.open(), 0, "k", "a0")  # the visitor who closes the tab
    monkeypatch.setattr(scheduler_module, "_Job", _Job)
    others = [s.submit(s.open(), 0, "k", name) for name in ("b0", "c0")]  # other visitors, same batch
    gate.set()
    assert blocker.result(timeout=10) == "done"
    for future, name in zip(others, ("b0", "c0"), strict=True):
        if fail:
            with pytest.raises(RuntimeError, match="the model failed"):
                future.result(timeout=10)
        else:
            assert future.result(timeout=10) == f"{name}!"
    with pytest.raises(CancelledError):
        leaving.result(timeout=10)
    assert s.largest_batch == 3  # the three visitors shared one run, the leaving one first

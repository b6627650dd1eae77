"""The scheduler's turns, preemption, batching and cancellation, with fake runs (no model): each run records every
step it takes, so the order in which work happened can be read back exactly."""

from __future__ import annotations

import threading
import time
from concurrent.futures import CancelledError

import pytest

from inference.scheduler import Scheduler


class Recorder:
    """begin(key, items) -> a run of `steps` steps; every step appends (batch label, step index) to `log`. A step
    can be held until `gate` is set, so tests can queue work while a run is in progress."""

    def __init__(self, steps: int = 3, step_s: float = 0.0) -> None:
        self.steps, self.step_s = steps, step_s
        self.log: list[tuple[str, int]] = []
        self.batches: list[list[str]] = []
        self.gate = threading.Event()
        self.gate.set()
        self.fail_on: set[str] = set()

    def begin(self, key, items):
        recorder = self
        label = "+".join(items)
        self.batches.append(list(items))

        class Run:
            done = 0

            def step(self):
                recorder.gate.wait(10)
                if set(items) & recorder.fail_on:
                    raise RuntimeError(f"boom in {label}")
                time.sleep(recorder.step_s)
                recorder.log.append((label, self.done))
                self.done += 1
                return [f"{item}!" for item in items] if self.done == recorder.steps else None

        return Run()


def wait_for(condition, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_one_request_runs_its_chunks_in_order() -> None:
    rec = Recorder()
    s = Scheduler(rec.begin)
    owner = s.open()
    futures = [s.submit(owner, i, "k", f"a{i}") for i in range(4)]
    assert [f.result(10) for f in futures] == ["a0!", "a1!", "a2!", "a3!"]
    assert [label for label, step in rec.log if step == 0] == ["a0", "a1", "a2", "a3"]


def test_a_newcomer_preempts_a_long_request_at_the_next_step() -> None:
    """A long request's chunk is in progress; a second request's first chunk starts after that run's current step,
    runs to the end, and then the paused run resumes where it was."""
    rec = Recorder(steps=4)
    s = Scheduler(rec.begin)
    long = s.open()
    assert s.submit(long, 0, "k", "L0").result(10) == "L0!"
    rec.gate.clear()  # L1's first step will wait here
    rest = [s.submit(long, i, "k", f"L{i}") for i in range(1, 4)]
    wait_for(lambda: s.running == 1)
    short = s.submit(s.open(), 0, "k", "S0")
    rec.gate.set()
    assert short.result(10) == "S0!"
    for f in rest:
        f.result(10)
    order = [label for label, _ in rec.log]
    first_short = order.index("S0")
    assert order[:first_short] == ["L0"] * 4 + ["L1"]  # only the step that was running when S0 arrived
    assert order[first_short : first_short + 4] == ["S0"] * 4  # S0 ran whole, uninterrupted
    assert order[first_short + 4 : first_short + 7] == ["L1"] * 3  # then the paused run resumed where it was
    assert order.count("L1") == 4


def test_a_first_chunk_does_not_preempt_another_first_chunk() -> None:
    """First chunks are short and equal in standing: they run in arrival order, each whole."""
    rec = Recorder(steps=3)
    s = Scheduler(rec.begin)
    rec.gate.clear()
    a = s.submit(s.open(), 0, "k", "a0")
    wait_for(lambda: s.running == 1)
    b = s.submit(s.open(), 0, "k", "b0")
    rec.gate.set()
    a.result(10), b.result(10)
    assert [label for label, _ in rec.log] == ["a0"] * 3 + ["b0"] * 3


def test_later_chunks_take_turns_across_requests() -> None:
    """Two long requests that arrived together: after their first chunks, their chunks alternate, each request's
    own chunks in order."""
    rec = Recorder(steps=1)
    s = Scheduler(rec.begin)
    rec.gate.clear()
    a, b = s.open(), s.open()
    futures = [s.submit(a, 0, "k", "a0"), s.submit(b, 0, "k", "b0")]
    futures += [s.submit(a, i, "k", f"a{i}") for i in range(1, 4)] + [s.submit(b, i, "k", f"b{i}") for i in range(1, 4)]
    rec.gate.set()
    for f in futures:
        f.result(10)
    order = [label for label, _ in rec.log]
    assert order == ["a0", "b0", "a1", "b1", "a2", "b2", "a3", "b3"]


def test_a_batch_draws_from_several_requests_in_turn_order() -> None:
    rec = Recorder(steps=1)
    s = Scheduler(rec.begin, max_batch=3)
    rec.gate.clear()
    blocker = s.submit(s.open(), 0, "k", "x0")
    wait_for(lambda: s.running == 1)
    a, b, c = s.open(), s.open(), s.open()
    futures = [s.submit(o, 0, "k", f"{name}0") for o, name in ((a, "a"), (b, "b"), (c, "c"))]
    other_key = s.submit(s.open(), 0, "other", "z0")
    rec.gate.set()
    for f in [blocker, *futures, other_key]:
        f.result(10)
    assert ["a0", "b0", "c0"] in rec.batches and ["z0"] in rec.batches  # one run for three requests; keys apart
    assert s.largest_batch == 3


def test_cancelled_jobs_never_run_and_a_run_nobody_waits_for_stops() -> None:
    rec = Recorder(steps=50, step_s=0.01)
    s = Scheduler(rec.begin)
    rec.gate.clear()
    owner = s.open()
    running = s.submit(owner, 0, "k", "r0")
    wait_for(lambda: s.running == 1)
    queued = [s.submit(owner, i, "k", f"r{i}") for i in range(1, 5)]
    for f in queued:
        assert f.cancel()
    assert running.cancel()  # a job in progress can be given up too
    rec.gate.set()
    wait_for(lambda: s.running == 0 and s.waiting == 0)
    time.sleep(0.1)
    labels = {label for label, _ in rec.log}
    assert labels <= {"r0"} and len(rec.log) < 50  # the queued chunks never ran; the running one stopped early
    with pytest.raises(CancelledError):
        running.result(1)


def test_a_failing_run_fails_its_own_jobs_only_and_the_worker_carries_on() -> None:
    rec = Recorder(steps=2)
    rec.fail_on = {"bad"}
    s = Scheduler(rec.begin)
    bad = s.submit(s.open(), 0, "k", "bad")
    good = s.submit(s.open(), 0, "k", "good")
    with pytest.raises(RuntimeError, match="boom in bad"):
        bad.result(10)
    assert good.result(10) == "good!"
    assert s.submit(s.open(), 0, "k", "after").result(10) == "after!"


def test_a_failing_begin_is_reported_to_its_jobs() -> None:
    def begin(key, items):
        raise ValueError("cannot begin")

    s = Scheduler(begin)
    with pytest.raises(ValueError, match="cannot begin"):
        s.submit(s.open(), 0, "k", "x").result(10)


class Observed:
    def __init__(self) -> None:
        self.waits, self.sizes, self.runs, self.queues = [], [], [], []

    def chunk_started(self, wait_s: float) -> None:
        self.waits.append(wait_s)

    def batch_started(self, size: int) -> None:
        self.sizes.append(size)

    def chunk_finished(self, run_s: float) -> None:
        self.runs.append(run_s)

    def queue(self, waiting: int, running: int) -> None:
        self.queues.append((waiting, running))


def test_the_observer_hears_waits_batches_runs_and_the_queue() -> None:
    obs = Observed()
    rec = Recorder(steps=2, step_s=0.01)
    s = Scheduler(rec.begin, max_batch=2, observer=obs)
    owner = s.open()
    futures = [s.submit(owner, i, "k", f"q{i}") for i in range(3)]
    for f in futures:
        f.result(10)
    assert len(obs.waits) == len(obs.runs) == 3 and sum(obs.sizes) == 3
    assert all(r >= 0.015 for r in obs.runs)  # two steps of 10 ms each
    assert max(w for w, _ in obs.queues) >= 1 and obs.queues[-1] == (0, 0)

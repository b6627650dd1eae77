"""What the engine measures, in Prometheus's terms (prometheus_client), for GET /metrics.

One registry per engine (not the process-wide default), so that every engine, in tests too, counts only its own.
The scheduler reports chunk waits, runs and batch sizes; the engine reports the model's state, time to first audio
and the real-time factor; each adapter counts its requests by outcome with `track(interface)`.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Enum, Gauge, Histogram

from .errors import InputError, ModelUnavailable, StudioError

STATES = ("not_loaded", "loading", "ready", "failed")
COMPILE_STATES = ("off", "compiling", "compiled", "failed")  # F5_COMPILE's (model/compiled.py)
SECONDS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160, 320)
RATIOS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20)


RETRY_AFTER_S = 5  # s: what a busy answer (REST's 429, the UI queue's 503) tells the client to wait


class Busy(StudioError):
    """Too many generations at once: the visitor is told to try again (REST 429)."""


def outcome(error: BaseException | None) -> str:
    """ok, refused (the input), busy, unavailable (the model), cancelled (the client went away) or failed. An
    adapter's own error raised from an engine error counts as the engine error."""
    if error is None:
        return "ok"
    while not isinstance(error, StudioError) and isinstance(error.__cause__, StudioError):
        error = error.__cause__
    if isinstance(error, Busy):
        return "busy"
    if isinstance(error, InputError):
        return "refused"
    if isinstance(error, ModelUnavailable):
        return "unavailable"
    if isinstance(error, (GeneratorExit, KeyboardInterrupt)) or type(error).__name__ in ("CancelledError",):
        return "cancelled"
    return "failed"


class Metrics:
    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        self.live_generations, self._live_lock = 0, threading.Lock()  # a visitor's generations in progress
        self.requests = Counter(
            "studio_requests", "Generation requests, by interface and outcome", ["interface", "outcome"], registry=r
        )
        self.in_progress = Gauge(
            "studio_generations_in_progress", "Generations started in the engine and not finished", registry=r
        )
        self.background = Gauge(
            "studio_background_generations_in_progress",
            "Background generations (project segments) started in the engine and not finished",
            registry=r,
        )
        self.waiting = Gauge("studio_chunks_waiting", "Chunks waiting for their turn in the engine", registry=r)
        self.running = Gauge(
            "studio_runs_active", "Sampling runs started and not finished (one steps at a time)", registry=r
        )
        self.chunk_wait = Histogram(
            "studio_chunk_wait_seconds",
            "From a chunk's submission to the start of its run",
            buckets=SECONDS,
            registry=r,
        )
        self.chunk_run = Histogram(
            "studio_chunk_run_seconds", "From the start of a chunk's run to its audio", buckets=SECONDS, registry=r
        )
        self.batch_size = Histogram(
            "studio_batch_size", "Chunks per sampling run", buckets=(1, 2, 4, 8, 16, 32, 64), registry=r
        )
        self.first_audio = Histogram(
            "studio_time_to_first_audio_seconds", "From a request to its first audio", buckets=SECONDS, registry=r
        )
        self.rtf = Histogram(
            "studio_real_time_factor", "Generation time / audio duration, per request", buckets=RATIOS, registry=r
        )
        self.model_state = Enum("studio_model_state", "The model's state", states=list(STATES), registry=r)
        self.compile_state = Enum(
            "studio_compile_state", "The compiled model's state (F5_COMPILE)", states=list(COMPILE_STATES), registry=r
        )
        self.load_seconds = Gauge("studio_model_load_seconds", "How long the model took to load", registry=r)

    @contextlib.contextmanager
    def track(self, interface: str) -> Iterator[None]:
        """Count one request of `interface` (ui, gradio_api, openai, serverless) by its outcome."""
        error: BaseException | None = None
        try:
            yield
        except BaseException as e:
            error = e
            raise
        finally:
            self.count(interface, error)

    def count(self, interface: str, error: BaseException | None = None) -> None:
        self.requests.labels(interface, outcome(error)).inc()

    def count_generation(self, change: int, background: bool) -> None:
        """A generation starts (+1) or ends (-1). Background ones (a project's segments) are counted apart, so that
        visitors are not told to wait for them: they give way to visitors."""
        if background:
            self.background.inc(change)
            return
        with self._live_lock:
            self.live_generations += change
            self.in_progress.set(self.live_generations)

    # ---- the scheduler's observer -------------------------------------------------------------------------------
    def chunk_started(self, wait_s: float) -> None:
        self.chunk_wait.observe(wait_s)

    def batch_started(self, size: int) -> None:
        self.batch_size.observe(size)

    def chunk_finished(self, run_s: float) -> None:
        self.chunk_run.observe(run_s)

    def queue(self, waiting: int, running: int) -> None:
        self.waiting.set(waiting)
        self.running.set(running)

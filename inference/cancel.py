"""Stopping a generation whose caller has gone away (a dropped HTTP request, a gradio_client `job.cancel()`).

The caller that waits (an async handler) holds a `Stop`; the work runs in a worker thread under `stopping(stop)`.
Every generation started there registers how to cancel its chunks, so `stop.cancel()` from any thread cancels the
chunks queued or running in the scheduler at once, and the worker thread's wait ends with `CancelledError` instead
of running the whole take to the end:

    stop = Stop()
    # worker thread:   with stopping(stop): engine.synthesize(request)   -> raises CancelledError once stopped
    # waiting side:    stop.cancel()                                     (the client went away)
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar


class Stop:
    """A cancel button for the work done under `stopping(self)`: thread-safe, and a cancel that comes before the
    work registers still reaches it (the registration then cancels at once)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cancels: list[Callable[[], None]] = []
        self.cancelled = False

    def on_cancel(self, cancel: Callable[[], None]) -> None:
        with self._lock:
            if not self.cancelled:
                self._cancels.append(cancel)
                return
        cancel()

    def cancel(self) -> None:
        with self._lock:
            self.cancelled, cancels, self._cancels = True, self._cancels, []
        for cancel in cancels:
            cancel()


_current: ContextVar[Stop | None] = ContextVar("stop", default=None)


@contextmanager
def stopping(stop: Stop) -> Iterator[Stop]:
    """Generations started inside this block (in this thread or context) are cancelled by `stop.cancel()`."""
    token = _current.set(stop)
    try:
        yield stop
    finally:
        _current.reset(token)


def current_stop() -> Stop | None:
    """The Stop of the enclosing `stopping` block, if any."""
    return _current.get()

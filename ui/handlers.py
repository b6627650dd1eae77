"""What every tab's handlers share: engine errors become gr.Error here, once; the model's state line; the spectrogram
picture; the seed a Generate uses."""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable, Iterator
from concurrent.futures import CancelledError
from contextlib import AbstractContextManager
from typing import Any, TypeVar

import gradio as gr
import numpy as np

from api.auth import account_of
from inference import Caller, InputError, Stop, Studio, StudioError, acting, acting_as, current_caller, stopping

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])
STATE_LABELS = {
    "not_loaded": "⚪ Model not loaded yet: it loads on the first Generate (or starts now with --preload).",
    "loading": "🟡 Model loading…",
    "ready": "🟢 Model ready on {device} (loaded in {seconds:.1f} s).",
    "failed": "🔴 Model failed to load: {error}",
}
COMPILE_LABELS = {  # F5_COMPILE's state, after the model's (nothing when compiling is off)
    "off": "",
    "compiling": " Compiling it in the background (generating uncompiled meanwhile)…",
    "compiled": " Compiled.",
    "failed": " Compiling failed: generating uncompiled (see the server log).",
}
MAX_PICTURE_WIDTH = 4000  # px: a longer take's spectrogram is averaged down to this (images stop at 16383 px)
# How Gradio writes the picture into its cache on every answer (Gradio's default, webp, takes about 3x longer to
# encode: 23 ms against 9 ms for a 4-second take, 106 against 34 ms for 20 seconds); what /synthesize returns.
PICTURE_FORMAT = "png"


def as_gr_error(e: Exception, where: str) -> gr.Error:
    """A plain sentence for the visitor; unexpected errors are logged with their traceback, never shown. A refused
    input is one log line (Gradio would print a traceback for every gr.Error)."""
    if isinstance(e, gr.Error):
        return e
    if isinstance(e, StudioError):
        log.info("%s refused: %.300s", where, e)
        return gr.Error(str(e), print_exception=False)
    if isinstance(e, CancelledError):  # its caller went away (stops_when_cancelled): nobody reads this
        return gr.Error("Cancelled.", print_exception=False)
    log.exception("unexpected error in %s", where)
    return gr.Error(
        f"Something went wrong on the server ({type(e).__name__}). It is still running: try again, "
        "and if it keeps failing, check the server log."
    )


def visitor() -> str | None:
    """Who the Gradio event being handled is for: the login's user name (STUDIO_AUTH), "token" for a bearer token
    (STUDIO_API_TOKEN alone guards the UI with it), None without a login. Gradio sets the event's request in a
    context variable before calling a handler, in the worker thread that runs it, at each step of a generator."""
    from gradio.context import LocalContext

    request = LocalContext.request.get(None)
    if request is None:
        return None
    return request.username or account_of(request.headers.get("authorization"))


def as_visitor() -> AbstractContextManager[Caller]:
    """The event's caller: the one already set when a handler calls another (one event, one mark id), else a new
    one for the visitor."""
    caller = current_caller()
    return acting_as(caller) if caller.interface == "ui" else acting(visitor(), "ui")


def user_errors(fn: F) -> F:
    """Every handler's wrapper: it runs as its visitor (inference.acting, for the audit log and the marks' ids), and
    engine errors become gr.Error with a plain sentence; never a bare 'Error' or a traceback. A generator handler
    runs each step as the same visitor: Gradio runs each step in a worker thread of its own."""
    if inspect.isgeneratorfunction(fn):
        return _steps(fn)

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            with as_visitor():
                return fn(*args, **kwargs)
        except Exception as e:
            raise as_gr_error(e, fn.__name__) from e

    return wrapper  # type: ignore[return-value]


def _steps(fn: F) -> F:
    @functools.wraps(fn)
    def steps(*args: Any, **kwargs: Any) -> Iterator[Any]:
        with as_visitor() as caller:
            parts = fn(*args, **kwargs)
        try:
            while True:
                with acting_as(caller):
                    try:
                        part = next(parts)
                    except StopIteration:
                        return
                    except Exception as e:
                        raise as_gr_error(e, fn.__name__) from e
                yield part
        finally:
            parts.close()  # Gradio stopped reading: the work under it stops too

    return steps  # type: ignore[return-value]


def stops_when_cancelled(fn: F) -> F:
    """For a handler that returns its result whole: when Gradio cancels the event (gradio_client's `job.cancel()`, a
    closed tab), the engine work under it stops too, as a streamed Generate's does when Gradio stops reading it.
    Gradio cancels the event's task; a plain function in a worker thread would run on to the end, so the function
    runs in a worker thread under a Stop (inference/cancel.py) that the cancelled task cancels."""
    import anyio

    @functools.wraps(fn)
    async def handler(*args: Any, **kwargs: Any) -> Any:
        stop = Stop()

        def work() -> Any:
            with stopping(stop):
                return fn(*args, **kwargs)

        try:
            return await anyio.to_thread.run_sync(work, abandon_on_cancel=True)
        except anyio.get_cancelled_exc_class():
            stop.cancel()
            raise

    return handler  # type: ignore[return-value]


def status_markdown(studio: Studio) -> str:
    s = studio.status()
    label = STATE_LABELS[s.state].format(device=s.device, seconds=s.load_seconds or 0.0, error=s.error)
    return label + COMPILE_LABELS[s.compile]


def spectrogram_image(mel: np.ndarray | None) -> np.ndarray | None:
    """(n_mels, frames) log-mel -> an RGB picture, low frequencies at the bottom, at most MAX_PICTURE_WIDTH wide
    (a 5-minute take has 28,000 frames: neighbouring frames are averaged). Never raises: a picture that cannot be
    drawn is left out (logged), so that the audio is never lost to it."""
    if mel is None or mel.size == 0:
        return None
    try:
        from matplotlib import colormaps

        frames = mel.shape[1]
        if frames > MAX_PICTURE_WIDTH:
            step = -(-frames // MAX_PICTURE_WIDTH)  # ceil
            padded = np.pad(mel, ((0, 0), (0, -frames % step)), mode="edge")
            mel = padded.reshape(mel.shape[0], -1, step).mean(axis=2)
        lo, hi = np.percentile(mel, [1, 99])
        scaled = np.clip((mel - lo) / max(hi - lo, 1e-6), 0, 1)[::-1]
        rgb = colormaps["magma"](scaled)[..., :3]
        return (np.repeat(rgb, 2, axis=0) * 255).astype(np.uint8)
    except Exception:
        log.exception("the spectrogram of a %s mel could not be drawn; the take is returned without it", mel.shape)
        return None


def preparing(studio: Studio) -> str:
    """What a visitor sees before the first chunk: whether the model still has to load, and how many generations
    share it right now (they take turns, chunk by chunk)."""
    state, others = studio.status().state, studio.active
    waiting = f" · taking turns with {others} other generation{'s' if others != 1 else ''}" if others else ""
    if state != "ready":
        return f"Preparing (the first generation also loads the model)…{waiting}"
    return f"Preparing…{waiting}"


def pick_seed(seed: float | None, randomize: bool) -> int:
    """The seed the next generation uses: a fresh one when `randomize` is on or the seed is empty/-1. Anything
    unusable (NaN, 7.5, out of range) is refused here, with the valid range: never passed on."""
    return Studio.seed(seed, randomize)


def check_markdown(checks: Any) -> str:
    """The per-chunk check of a take, for the page: one row per chunk (error rate, tries, seed kept, what Whisper
    heard), or why it could not run; '' when the check was off."""
    if not checks:
        return ""
    note = next((c.note for c in checks if c.note), "")
    if all(c.wer is None for c in checks):
        return f"**Check:** {note or 'not run.'} The take was made without it."
    worst = max(c.wer for c in checks if c.wer is not None)
    lines = [
        f"**Check:** worst error rate {worst:.0%}, {sum(c.tries > 1 for c in checks)} of {len(checks)} chunks "
        "generated again.",
        "",
        "| chunk | error rate | tries | seed kept | heard |",
        "|---|---|---|---|---|",
    ]
    for c in checks:
        heard = " ".join(c.heard.split())[:80].replace("|", "/")
        rate = "not checked" if c.wer is None else f"{c.wer:.0%}"
        lines.append(f"| {c.index + 1} | {rate} | {c.tries} | {c.seed} | {heard} |")
    return "\n".join(lines)


def require(value: Any, message: str, hint: str) -> Any:
    if not value:
        raise InputError(message, hint)
    return value

"""Variations: the same text with N seeds, to listen to side by side and keep one.

The N takes are generated at once, each in its own thread, so their chunks wait in the scheduler together: on a GPU
they share runs (batched, one item per take), on a CPU they take turns. Take k uses seed + k (its chunk i then
seed + k + i, as any take). With the per-chunk check on, the takes are ranked by their worst chunk's error rate,
best first; otherwise they keep their seed order.

    takes = synthesize_variations(engine, request, 3)      # request.options.seed None: a random base seed
    [t.seed for t in takes]                                # e.g. [7, 8, 9], or ranked by score with the check
"""

from __future__ import annotations

import dataclasses
import math
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextvars import copy_context
from typing import TYPE_CHECKING

from ..errors import InputError
from ..options import resolve_seed, seed_after
from ..text import clean_text
from ..types import SynthesisRequest, SynthesisResult

if TYPE_CHECKING:
    from ..engine import Engine

MAX_VARIATIONS = 4  # takes per call
Progress = Callable[[int, int], None]  # (chunks done, chunks total) over every take


def score(result: SynthesisResult) -> float | None:
    """A take's score for ranking: its worst chunk's error rate (None when it was not checked)."""
    scored = [c.wer for c in result.checks if c.wer is not None]
    return max(scored) if scored else None


def check_count(n: object) -> int:
    """The number of variations asked for, as a whole number from 1 to MAX_VARIATIONS (Gradio's 3.0 is 3)."""
    if isinstance(n, float) and n.is_integer():
        n = int(n)
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_VARIATIONS:
        raise InputError(
            f"The number of variations must be a whole number from 1 to {MAX_VARIATIONS}, not {n!r}.",
            f"Ask for 1 to {MAX_VARIATIONS} takes.",
        )
    return n


def synthesize_variations(
    engine: Engine, request: SynthesisRequest, n: object, progress: Progress | None = None
) -> list[SynthesisResult]:
    """N takes of `request` with seeds base, base + 1, ... (base: the request's seed, or a random one), generated
    together and ranked (see the module docstring). Everything is checked before anything is generated."""
    count = check_count(n)
    engine.spoken_text(request.text, request.options.normalize, request.reference.voice or None)  # errors first
    reference = request.reference
    if not clean_text(reference.text):  # transcribe once, not once per take
        reference = dataclasses.replace(reference, text=engine.transcribe(reference.audio))
    base = resolve_seed(request.options.seed)
    requests = [
        dataclasses.replace(
            request,
            reference=reference,
            options=dataclasses.replace(request.options, seed=seed_after(base, k)),
        )
        for k in range(count)
    ]
    done, lock = [0] * count, threading.Lock()

    def run(k: int) -> SynthesisResult:
        def report(d: int, t: int) -> None:
            with lock:
                done[k] = d
                if progress:
                    progress(sum(done), t * count)

        return engine.synthesize(requests[k], progress=report)

    contexts = [copy_context() for _ in range(count)]  # each take runs as its caller (who asked, its cancel signal)
    with ThreadPoolExecutor(max_workers=count, thread_name_prefix="variation") as pool:
        results = list(pool.map(lambda k: contexts[k].run(run, k), range(count)))
    scores = [score(r) for r in results]
    order = sorted(range(count), key=lambda k: (math.inf if scores[k] is None else scores[k], k))
    return [results[k] for k in order]

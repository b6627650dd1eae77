"""The per-chunk check: each generated chunk is transcribed and compared with its text; a chunk that was not said
right is generated again with the next seed, up to `check_tries` times, and the best try is kept.

The comparison is jiwer's word error rate after Whisper's own text normalizer (`whisper-normalizer`: the one made for
scoring Whisper, so "twenty five percent" and "25%" compare equal, as do case and punctuation); Chinese is scored by
characters (CER), since it has no spaces. Whisper is the engine's lazy one (F5_ASR_MODEL), loaded on first use.

Retries go to the scheduler as soon as a chunk's score is known, all the retries known at that moment together, so
on a GPU the retries of different chunks share a run. Without Whisper weights the check says so on every chunk
(`note`) and the take is still made, unchecked.

    takes = ChunkTakes(submit, chunks, options, seed, scorer)   # submit([(i, seed), ...]) -> futures
    takes.start([0]); ...; wave, mel, check = takes.result(i)
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .audio import SAMPLE_RATE
from .errors import ModelUnavailable
from .options import SynthesisOptions, seed_after
from .scheduler import cancel
from .text.normalize import language
from .types import ChunkCheck

if TYPE_CHECKING:
    from .model.asr import Transcriber

log = logging.getLogger(__name__)

# (wave, sample rate, text) -> (error rate, what was heard). Tests inject their own; the default is Whisper's.
Scorer = Callable[[np.ndarray, int, str], tuple[float, str]]
# [(chunk index, seed), ...] -> the futures of their generations, (wave, mel) each, queued together
Submit = Callable[[list[tuple[int, int]]], list[Future]]


def chunk_seed(seed: int, index: int, attempt: int = 0) -> int:
    """Chunk i's seed: seed + i, and the next seed for each retry: chunk_seed(41, 2, 1) -> 44."""
    return seed_after(seed, index + attempt)


@functools.cache
def _normalizers() -> tuple[Any, Any]:
    from whisper_normalizer.basic import BasicTextNormalizer
    from whisper_normalizer.english import EnglishTextNormalizer

    return EnglishTextNormalizer(), BasicTextNormalizer()


def error_rate(text: str, heard: str) -> float:
    """WER of `heard` against `text` after Whisper's normalizer (CER for Chinese), 0 when they say the same:
    error_rate("I paid twenty five percent.", "i paid 25%") -> 0.0; error_rate("Hello there.", "hello") -> 0.5."""
    import jiwer

    english, basic = _normalizers()
    if language(text) == "zh":
        ref, hyp = ("".join(basic(t).split()) for t in (text, heard))
        if not ref:
            return 0.0 if not hyp else 1.0
        return float(jiwer.cer(ref, hyp or " "))
    ref, hyp = english(text), english(heard)
    if not ref.strip():
        return 0.0 if not hyp.strip() else 1.0
    return float(jiwer.wer(ref, hyp if hyp.strip() else "<nothing>"))


def whisper_scorer(transcriber: Transcriber) -> Scorer:
    """The default scorer: the engine's Whisper, told the text's language, its output capped to what the text can
    need (a random or confused model stops there rather than at Whisper's 224 tokens)."""

    def score(wave: np.ndarray, sample_rate: int, text: str) -> tuple[float, str]:
        cap = min(224, len(text.encode("utf-8")) // 2 + 16)
        heard = transcriber.transcribe(wave, sample_rate, language=language(text), max_new_tokens=cap)
        return error_rate(text, heard), heard

    return score


@dataclass
class _Chunk:
    text: str
    first_seed: int
    future: Future | None = None  # the try in progress
    tries: list[tuple[float, str, int, Any]] = field(default_factory=list)  # (score, heard, seed, (wave, mel))
    done: bool = False


class ChunkTakes:
    """The takes of one request's chunks. Without the check, chunk i is its one generation; with it, see the
    module docstring. `result(i)` returns (wave, mel, ChunkCheck or None) once chunk i is final."""

    def __init__(
        self, submit: Submit, chunks: Sequence[str], options: SynthesisOptions, seed: int, scorer: Scorer | None
    ) -> None:
        self.submit, self.options, self.scorer = submit, options, scorer if options.check else None
        self.chunks = [_Chunk(text, chunk_seed(seed, i)) for i, text in enumerate(chunks)]
        self.unavailable = ""  # why the check cannot run, once known
        self.cancelled = False  # once cancelled (from any thread), tries queued later are cancelled too

    def _submit(self, jobs: list[tuple[int, int]]) -> list[Future]:
        futures = self.submit(jobs)
        for (i, _), future in zip(jobs, futures, strict=True):
            self.chunks[i].future = future
        if self.cancelled:  # a cancel that came while these were being queued
            for future in futures:
                cancel(future)
        return futures

    def start(self, indices: Iterable[int]) -> None:
        """Queue the first try of these chunks, together."""
        indices = list(indices)
        if indices:
            self._submit([(i, self.chunks[i].first_seed) for i in indices])

    def cancel(self) -> None:
        """Cancel every chunk not finished, and any try queued from now on. Safe from another thread."""
        self.cancelled = True
        for chunk in self.chunks:
            if chunk.future is not None:
                cancel(chunk.future)

    def result(self, index: int) -> tuple[np.ndarray, np.ndarray, ChunkCheck | None]:
        chunk = self.chunks[index]
        if self.scorer is None:
            assert chunk.future is not None, "start(i) comes before result(i)"
            wave, mel = chunk.future.result()
            return wave, mel, None
        while not chunk.done:
            running = {c.future: i for i, c in enumerate(self.chunks) if c.future is not None and not c.done}
            if chunk.future is None:
                raise RuntimeError(f"chunk {index} was never started")  # start(i) comes before result(i)
            finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
            retries = [i for i in sorted(running[f] for f in finished) if self._score(i)]
            if retries:  # queued together: on a GPU they share a run
                jobs = [(i, chunk_seed(self.chunks[i].first_seed, 0, len(self.chunks[i].tries))) for i in retries]
                self._submit(jobs)
        return self._kept(index)

    def _score(self, index: int) -> bool:
        """Score chunk `index`'s finished try; True when it should be tried again."""
        chunk = self.chunks[index]
        assert chunk.future is not None
        wave, mel = chunk.future.result()  # a failed generation raises here, as without the check
        seed = chunk_seed(chunk.first_seed, 0, len(chunk.tries))
        chunk.future = None
        if self.unavailable:
            chunk.tries.append((float("nan"), "", seed, (wave, mel)))
            chunk.done = True
            return False
        try:
            score, heard = self.scorer(wave, SAMPLE_RATE, chunk.text)  # type: ignore[misc]
        except ModelUnavailable as e:
            self.unavailable = f"Not checked: {e}"
            log.warning("the per-chunk check cannot run: %s", e)
            chunk.tries.append((float("nan"), "", seed, (wave, mel)))
            chunk.done = True
            return False
        chunk.tries.append((score, heard, seed, (wave, mel)))
        chunk.done = score <= self.options.check_threshold or len(chunk.tries) >= self.options.check_tries
        return not chunk.done

    def _kept(self, index: int) -> tuple[np.ndarray, np.ndarray, ChunkCheck]:
        chunk = self.chunks[index]
        scored = [t for t in chunk.tries if t[0] == t[0]]  # NaN: not checked
        if not scored:
            _, _, seed, (wave, mel) = chunk.tries[0]
            note = self.unavailable or "Not checked."
            unchecked = ChunkCheck(
                index=index, text=chunk.text, heard="", wer=None, seed=seed, tries=len(chunk.tries), note=note
            )
            return wave, mel, unchecked
        score, heard, seed, (wave, mel) = min(scored, key=lambda t: t[0])  # the first of the best
        scores = tuple(t[0] for t in scored)
        kept = ChunkCheck(
            index=index, text=chunk.text, heard=heard, wer=score, seed=seed, tries=len(chunk.tries), scores=scores
        )
        return wave, mel, kept


def summary(checks: Sequence[ChunkCheck]) -> dict[str, Any]:
    """The take's check in one object (the API's extension field, the X-Check header, the serverless output):
    {"checked": bool, "worst_wer": float | None, "retried": chunks tried more than once, "chunks": [...]}."""
    scored = [c.wer for c in checks if c.wer is not None]
    note = next((c.note for c in checks if c.note), "")
    return {
        "checked": bool(scored),
        "worst_wer": round(max(scored), 3) if scored else None,
        "retried": sum(1 for c in checks if c.tries > 1),
        "chunks": [c.as_dict() for c in checks],
        **({"note": note} if note else {}),
    }

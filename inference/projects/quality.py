"""Voice consistency of a project's takes: each take's speaker similarity to its voice's reference, one quality number,
the thresholds that flag a take, and the retry budget that renders a flagged segment again with a new seed.

    review = Review.from_settings(project.settings)     # Review(min_similarity=0.75, max_wer=None, retries=2)
    prints = VoicePrints()                              # reference embeddings, one per voice file and mtime
    scores = score_take(check_summary, prints.similarity(wave, 24000, reference_key(path), load), review, 0.25)
    -> {"checked": ..., "similarity": 0.83, "quality": 0.83, "flagged": False, ...}

Rules
    - quality = similarity x (1 - worst WER): lower is worse. Without the per-chunk check (WER unknown) it is the
      similarity alone; without a similarity it is 1 - WER; with neither it is None, and nothing is flagged.
    - flagged: the similarity is below `min_similarity`, or the worst WER above `max_wer` (default: the project's
      own check threshold, `check_threshold`). An unknown score flags nothing.
    - Unknown similarity: resemblyzer missing, or a take (or reference) with less than half a second of speech (a
      two-word segment, a chapter title; the tiny random test model's output, which holds no speech at all). The
      scores say why (`similarity_note`).
    - Retries: a flagged take is rendered again with a new seed, up to `retries` more takes; the best take is kept
      (not flagged before flagged, then the highest quality, then the first). A segment whose seed was chosen (an
      edit's seed, or a seed in the project's options) is rendered with that seed only.

The threshold, measured with bench/projects_quality.py (bench/RESULTS.md): a person's own recording scores 0.83-0.93
against their reference, another person 0.38-0.62 (f5-tts's five example speakers); espeak-ng's voices score
0.91-0.96 against themselves and 0.66-0.79 against each other (variants of one synthetic speaker). 0.75 sits above
every pair of real people, with room for a clone to sound a little less like its reference than the person does.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import InputError, ModelUnavailable
from ..options import Spec

MIN_SIMILARITY = 0.75  # cosine, [-1, 1]: below it a take sounds like another voice (see the module's docstring)
RETRIES = 2  # takes rendered again at most, per segment, when the first is flagged
PRINTS_KEPT = 64  # reference embeddings cached (one per voice file)


def _field(default: Any, spec: Spec) -> Any:
    return field(default=default, metadata={"spec": spec})


@dataclass(frozen=True)
class Review:
    """A project's thresholds and retry budget; set at creation among the project's options."""

    min_similarity: float = _field(
        MIN_SIMILARITY, Spec("Review: lowest voice similarity", "a take below it is flagged", 0.0, 1.0, 0.01)
    )
    # None: the project's check_threshold (the per-chunk check's own limit)
    max_wer: float | None = _field(
        None, Spec("Review: highest word error rate", "a take above it is flagged", 0.0, 1.0, 0.05)
    )
    retries: int = _field(
        RETRIES, Spec("Review: retries per segment", "takes rendered again when flagged", 0, 5, 1, whole=True)
    )

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))

    @classmethod
    def from_loose(cls, values: Mapping[str, Any]) -> Review:
        """From a project's options (null keeps the default); a value out of range raises InputError naming it."""
        given = {}
        for f in dataclasses.fields(cls):
            value = values.get(f.name)
            if value is None:
                continue
            spec: Spec = f.metadata["spec"]
            if spec.whole and isinstance(value, float) and value.is_integer():
                value = int(value)
            spec.check(f.name, value)
            given[f.name] = value
        return cls(**given)

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Review:
        """A project's, as recorded at its creation (a project made before reviews existed gets the defaults)."""
        return cls.from_loose(settings.get("review") or {})


def split_options(options: Mapping[str, Any] | None) -> tuple[dict[str, Any], Review]:
    """A project's options: the synthesis ones, and its Review (its keys are taken out).
    split_options({"nfe_step": 8, "retries": 0}) -> ({"nfe_step": 8}, Review(retries=0))"""
    options = dict(options or {})
    review = {name: options.pop(name) for name in Review.names() if name in options}
    return options, Review.from_loose(review)


class VoicePrints:
    """Speaker similarity of takes to their voice's reference. The reference's embedding is computed once per key
    (a voice file and its mtime: a re-saved voice is embedded again) and kept, PRINTS_KEPT at most; a reference
    that cannot be embedded is remembered with its reason. `embed` is inference.model.speaker.embedding."""

    def __init__(self, embed: Callable[[np.ndarray, int], np.ndarray] | None = None) -> None:
        self._embed = embed
        self._refs: OrderedDict[Hashable, np.ndarray | str] = OrderedDict()
        self._lock = threading.Lock()

    def embed(self, wave: np.ndarray, sample_rate: int) -> np.ndarray:
        if self._embed is None:
            from ..model.speaker import embedding

            self._embed = embedding
        return self._embed(wave, sample_rate)

    def reference(self, key: Hashable, load: Callable[[], tuple[np.ndarray, int]]) -> np.ndarray | str:
        """The reference's embedding, or why there is none."""
        with self._lock:
            if key in self._refs:
                self._refs.move_to_end(key)
                return self._refs[key]
        try:
            found: np.ndarray | str = self.embed(*load())
        except ModelUnavailable as e:  # resemblyzer is not installed
            found = e.message
        except InputError as e:  # too little speech
            found = f"The voice's reference: {e.message}"
        with self._lock:
            self._refs[key] = found
            while len(self._refs) > PRINTS_KEPT:
                self._refs.popitem(last=False)
        return found

    def similarity(
        self, wave: np.ndarray, sample_rate: int, key: Hashable, load: Callable[[], tuple[np.ndarray, int]]
    ) -> tuple[float | None, str]:
        """(cosine similarity of the take to the reference, "") or (None, why it is unknown)."""
        ref = self.reference(key, load)
        if isinstance(ref, str):
            return None, ref
        try:
            take = self.embed(wave, sample_rate)
        except (InputError, ModelUnavailable) as e:
            return None, e.message
        cos = float(np.dot(take, ref) / (np.linalg.norm(take) * np.linalg.norm(ref)))
        return round(float(np.clip(cos, -1.0, 1.0)), 3), ""


def reference_key(audio: Any) -> Hashable:
    """What a reference's embedding is cached by: a file's path and mtime, or the bytes' hash."""
    if isinstance(audio, (bytes, bytearray)):
        return hashlib.sha256(audio).hexdigest()
    stat = audio.stat()
    return str(audio), stat.st_mtime_ns, stat.st_size


def score_take(
    check: Mapping[str, Any] | None, similarity: tuple[float | None, str], review: Review, check_threshold: float
) -> dict[str, Any]:
    """A take's scores: the check's summary (when it ran) with similarity, quality and flagged added.
    score_take(None, (0.6, ""), Review(), 0.25) -> {"similarity": 0.6, "quality": 0.6, "flagged": True}"""
    sim, why = similarity
    wer = (check or {}).get("worst_wer")
    parts = ([] if sim is None else [sim]) + ([] if wer is None else [1.0 - min(float(wer), 1.0)])
    quality = round(math.prod(parts), 3) if parts else None
    max_wer = check_threshold if review.max_wer is None else review.max_wer
    flagged = (sim is not None and sim < review.min_similarity) or (wer is not None and wer > max_wer)
    out = {**(check or {}), "similarity": sim, "quality": quality, "flagged": bool(flagged)}
    if why:
        out["similarity_note"] = why
    return out


def best(scores: list[dict[str, Any]]) -> int:
    """The index of the take to keep: not flagged before flagged, then the highest quality (unknown lowest), then
    the first. best([{"flagged": True, "quality": 0.7}, {"flagged": False, "quality": 0.6}]) -> 1"""
    return min(
        range(len(scores)),
        key=lambda i: (scores[i]["flagged"], -(scores[i]["quality"] if scores[i]["quality"] is not None else -2), i),
    )

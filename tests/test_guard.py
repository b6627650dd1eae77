"""The per-chunk check: its mechanics through an injected scorer (tries, the best take kept, the seed reported,
retries of different chunks batched), the real Whisper path on the tiny random Whisper, and a take made anyway
when Whisper's weights are missing."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from inference import Engine, Reference, SynthesisOptions, SynthesisRequest, check_summary
from inference.check import chunk_seed, error_rate
from inference.engine import EngineHooks
from tests.conftest import SharedHooks

SHORT_TEXT = "Some call me nature."
ONE_CHUNK = "Hello there, my friend."
# The short reference speaks ~8.6 bytes/s: the first chunk is kept under 60 bytes, the others under ~165.
THREE_CHUNKS = (
    "The first sentence is the short one here. "
    "The second sentence is a good deal longer than the first one was, and it keeps going for quite a while. "
    "The third sentence comes last, and it is about as long as the second one, more or less, give or take."
)


class Scores:
    """An injected scorer: per chunk text, the error rates to give its tries, in order (the last one repeats)."""

    def __init__(self, plan: dict[str, list[float]] | None = None, default: float = 0.0) -> None:
        self.plan, self.default = plan or {}, default
        self.calls: dict[str, int] = defaultdict(int)
        self.waves: dict[str, list[np.ndarray]] = defaultdict(list)

    def __call__(self, wave: np.ndarray, sample_rate: int, text: str) -> tuple[float, str]:
        assert sample_rate == 24000 and wave.ndim == 1
        planned = self.plan.get(text, [self.default])
        score = planned[min(self.calls[text], len(planned) - 1)]
        self.calls[text] += 1
        self.waves[text].append(wave.copy())
        return score, f"heard try {self.calls[text]}"


@pytest.fixture
def scored(engine: Engine, engine_hooks: SharedHooks) -> Iterator[Engine]:
    yield engine
    engine_hooks.check_scorer = None


def ref(short_ref: Path) -> Reference:
    return Reference(short_ref, SHORT_TEXT)


def test_error_rate_uses_whispers_normalizer() -> None:
    assert error_rate("I paid twenty five percent.", "i paid 25%") == 0.0
    assert error_rate("Hello, there!", "hello there") == 0.0
    assert error_rate("Hello there.", "hello") == pytest.approx(0.5)
    assert error_rate("Hello there.", "") == 1.0
    assert error_rate("我有三个苹果。", "我有三个苹果") == 0.0
    assert error_rate("我有三个苹果。", "我有个苹果") == pytest.approx(1 / 6)
    assert error_rate("!!!", "") == 0.0


def test_a_chunk_said_right_is_kept_at_once(scored: Engine, engine_hooks: SharedHooks, short_ref: Path) -> None:
    engine_hooks.check_scorer = scores = Scores(default=0.1)
    options = SynthesisOptions(nfe_step=4, seed=10, check=True)
    result = scored.synthesize(SynthesisRequest(ONE_CHUNK, ref(short_ref), options))
    (check,) = result.checks
    assert (check.tries, check.seed, check.wer, check.scores) == (1, 10, 0.1, (0.1,))
    assert check.heard == "heard try 1" and sum(scores.calls.values()) == 1


def test_retries_use_the_next_seed_and_the_best_take_is_kept(
    scored: Engine, engine_hooks: SharedHooks, short_ref: Path
) -> None:
    engine_hooks.check_scorer = scores = Scores({ONE_CHUNK: [0.9, 0.2, 0.5]})
    options = SynthesisOptions(nfe_step=4, seed=20, check=True, check_threshold=0.1, check_tries=3)
    result = scored.synthesize(SynthesisRequest(ONE_CHUNK, ref(short_ref), options))
    (check,) = result.checks
    assert check.tries == 3 and check.scores == (0.9, 0.2, 0.5)
    assert check.seed == 21 and check.wer == 0.2 and check.heard == "heard try 2"
    # the kept audio is the try with seed 21, exactly as a plain generation with that seed
    plain = scored.synthesize(SynthesisRequest(ONE_CHUNK, ref(short_ref), SynthesisOptions(nfe_step=4, seed=21)))
    np.testing.assert_array_equal(result.wave, plain.wave)
    np.testing.assert_array_equal(scores.waves[ONE_CHUNK][1], plain.wave)
    assert not np.array_equal(scores.waves[ONE_CHUNK][0], plain.wave)
    assert result.seed == 20  # the take's seed stays the one asked for; each chunk reports its own


def test_the_most_tries_allowed(scored: Engine, engine_hooks: SharedHooks, short_ref: Path) -> None:
    limit = SynthesisOptions.specs()["check_tries"].high
    engine_hooks.check_scorer = Scores(default=1.0)
    options = SynthesisOptions(nfe_step=4, seed=5, check=True, check_threshold=0.0, check_tries=int(limit))
    (check,) = scored.synthesize(SynthesisRequest(ONE_CHUNK, ref(short_ref), options)).checks
    assert check.tries == limit == 5 and check.seed == 5  # all equally bad: the first is kept


def test_each_chunk_is_checked_and_only_the_bad_ones_retried(
    scored: Engine, engine_hooks: SharedHooks, short_ref: Path
) -> None:
    request = SynthesisRequest(THREE_CHUNKS, ref(short_ref), SynthesisOptions(nfe_step=4, seed=100, check=True))
    chunks = scored.synthesize(request).chunks  # the check is off by default: learn how the text is split
    assert len(chunks) == 3
    engine_hooks.check_scorer = Scores({chunks[1]: [0.8, 0.0]})
    result = scored.synthesize(request)
    assert [(c.index, c.tries, c.seed) for c in result.checks] == [(0, 1, 100), (1, 2, 102), (2, 1, 102)]
    summary = check_summary(result.checks)
    assert summary["checked"] and summary["retried"] == 1 and summary["worst_wer"] == 0.0
    assert [c["chunk"] for c in summary["chunks"]] == [0, 1, 2]


def test_retries_of_different_chunks_share_a_run_where_batching_pays(tiny_settings, short_ref: Path) -> None:
    scores = Scores()  # passes every chunk until told otherwise
    batched = Engine(tiny_settings.replace(batch_size=4), hooks=EngineHooks(check_scorer=scores))
    runs: list[list[int]] = []
    begin = batched.scheduler.begin

    def record(key, jobs):
        runs.append([item.seed for item, _ in jobs])
        return begin(key, jobs)

    batched.scheduler.begin = record
    request = SynthesisRequest(THREE_CHUNKS, ref(short_ref), SynthesisOptions(nfe_step=4, seed=100, check=True))
    chunks = batched.synthesize(SynthesisRequest(THREE_CHUNKS, ref(short_ref), SynthesisOptions(nfe_step=4))).chunks
    scores.plan = {chunks[1]: [0.9, 0.0], chunks[2]: [0.9, 0.0]}
    runs.clear()
    result = batched.synthesize(request)
    assert [c.seed for c in result.checks] == [100, 102, 103]
    assert runs == [[100], [101, 102], [102, 103]], runs  # the two retries in one run


def test_the_real_whisper_path(engine: Engine, short_ref: Path) -> None:
    """The tiny random Whisper hears noise: every chunk is scored, retried up to the limit, and reported."""
    options = SynthesisOptions(nfe_step=4, seed=7, check=True, check_tries=2)
    result = engine.synthesize(SynthesisRequest(ONE_CHUNK, ref(short_ref), options))
    (check,) = result.checks
    assert check.wer is not None and check.wer > 0.25 and check.heard  # noise text, heard and scored
    assert check.tries == 2 and len(check.scores) == 2 and check.seed in (7, 8)
    assert check.wer == min(check.scores)


def test_without_whisper_weights_the_take_is_made_and_says_why_unchecked(
    tiny_settings, short_ref: Path, tmp_path: Path
) -> None:
    blind = Engine(tiny_settings.replace(asr_model=str(tmp_path / "no-whisper-here")))
    options = SynthesisOptions(nfe_step=4, seed=3, check=True)
    result = blind.synthesize(SynthesisRequest(THREE_CHUNKS, ref(short_ref), options))
    assert result.duration > 1 and len(result.checks) == 3
    for check in result.checks:
        assert check.wer is None and check.tries == 1 and check.seed == chunk_seed(3, check.index)
        assert "Not checked" in check.note and "does not exist" in check.note
    summary = check_summary(result.checks)
    assert not summary["checked"] and "no-whisper-here" in summary["note"]


def test_check_off_scores_nothing(scored: Engine, engine_hooks: SharedHooks, short_ref: Path) -> None:
    engine_hooks.check_scorer = scores = Scores()
    result = scored.synthesize(SynthesisRequest(ONE_CHUNK, ref(short_ref), SynthesisOptions(nfe_step=4, seed=1)))
    assert result.checks == () and not scores.calls

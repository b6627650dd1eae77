"""Voice consistency and the review list (inference/projects/quality.py, render.py's retries, REST /review).

Case table (what users meet):
| case                                          | input                              | expected                        |
|-----------------------------------------------|------------------------------------|---------------------------------|
| a take in the voice's own voice (real speech) | en-us reference, another en-us line| similarity > 0.75, not flagged  |
| a take in another voice (real speech)         | en-us reference, an en-us+f3 line  | similarity < 0.75, flagged      |
| the check ran (WER known)                     | similarity 0.9, worst WER 0.5      | quality 0.45, flagged           |
| the check is off (WER unknown)                | similarity alone                   | quality = similarity            |
| resemblyzer missing                           | the encoder raises ModelUnavailable| unknown, says why, not flagged  |
| a take too short to tell a voice              | 0.2 s of speech                    | unknown, says why, not flagged  |
| many segments of one voice                    | one voice file, several takes      | reference embedded once (again  |
|                                               |                                    | once the voice is re-saved)     |
| thresholds and budget at creation             | options {"retries": 0, ...}        | kept; out of range refused      |
| a flagged segment (tiny engine, stub scores)  | 0.5, 0.7, 0.6; budget 2            | 3 takes, the 0.7 kept, flagged  |
| a flagged segment, then a good take           | 0.5, 0.9                           | 2 takes, the 0.9 kept           |
| a good segment                                | 0.9                                | 1 take                          |
| retries while visitors generate               | any of the above                   | all in the background lane      |
| budget 0, or the project's seed chosen        | 0.5                                | 1 take, flagged                 |
| the tiny random model (its noise: no speech)  | real scoring                       | unknown: 1 take, not flagged    |
| the review list over REST (the real app)      | failed, 0.9, 0.7, 0.5              | failed, 0.5, 0.7; limit; 404    |
"""

from __future__ import annotations

import os
from collections.abc import Callable, Hashable
from pathlib import Path

import numpy as np
import pytest

from inference import Engine, InputError, Studio
from inference.engine import EngineHooks
from inference.errors import ModelUnavailable
from inference.projects.quality import MIN_SIMILARITY, Review, VoicePrints, best, score_take, split_options
from inference.projects.render import Projects
from inference.scheduler import _background
from tests.conftest import REF_TEXT, wait_until
from tests.speech import SENTENCES, silence, speak

FAST = {"nfe_step": 4}
RATE = 24000


# ---- scoring on real speech ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def reference() -> tuple[np.ndarray, int]:
    pytest.importorskip("resemblyzer", reason="pip install --no-deps resemblyzer==0.1.4 (see requirements.txt)")
    return np.concatenate(
        [speak(SENTENCES[0], "en-us", RATE), silence(0.3, RATE), speak(SENTENCES[1], "en-us", RATE)]
    ), RATE


def test_the_voice_itself_passes_and_another_voice_is_flagged(reference) -> None:
    prints = VoicePrints()
    scores = {}
    for voice in ("en-us", "en-us+f3"):
        similarity = prints.similarity(speak(SENTENCES[2], voice, RATE), RATE, "ref", lambda: reference)
        scores[voice] = score_take(None, similarity, Review(), 0.25)
    same, other = scores["en-us"], scores["en-us+f3"]
    print(f"same voice {same['similarity']}, other voice {other['similarity']}")
    assert same["similarity"] > MIN_SIMILARITY and not same["flagged"] and same["quality"] == same["similarity"]
    assert other["similarity"] < MIN_SIMILARITY and other["flagged"] and other["quality"] < same["quality"]


def test_a_take_too_short_to_tell_is_not_flagged(reference) -> None:
    short = speak("Yes.", "en-us", RATE)[: int(0.2 * RATE)]
    scores = score_take(None, VoicePrints().similarity(short, RATE, "ref", lambda: reference), Review(), 0.25)
    assert scores["similarity"] is None and scores["quality"] is None and not scores["flagged"]
    assert "too little to tell a voice" in scores["similarity_note"]


# ---- scoring rules (no encoder) -----------------------------------------------------------------------------------
def test_quality_joins_similarity_and_the_checks_worst_wer() -> None:
    check = {"checked": True, "worst_wer": 0.5, "retried": 0, "chunks": []}
    joined = score_take(check, (0.9, ""), Review(), 0.25)
    assert joined["quality"] == 0.45 and joined["flagged"] and joined["worst_wer"] == 0.5
    assert not score_take(check, (0.9, ""), Review(max_wer=0.6), 0.25)["flagged"]  # the project's own limit
    assert score_take(None, (0.8, ""), Review(), 0.25) == {"similarity": 0.8, "quality": 0.8, "flagged": False}
    assert score_take({"worst_wer": 0.1}, (None, "why"), Review(), 0.25)["quality"] == 0.9


def test_without_the_encoder_scores_say_so_and_flag_nothing() -> None:
    def missing(wave: np.ndarray, sr: int) -> np.ndarray:
        raise ModelUnavailable("Speaker similarity is unavailable: resemblyzer is not installed.", "Install it.")

    prints = VoicePrints(embed=missing)
    similarity = prints.similarity(np.ones(RATE), RATE, "ref", lambda: (np.ones(RATE), RATE))
    scores = score_take(None, similarity, Review(), 0.25)
    assert scores["similarity"] is None and not scores["flagged"] and "resemblyzer" in scores["similarity_note"]


def test_the_reference_is_embedded_once_per_voice_file(tmp_path: Path) -> None:
    calls: list[int] = []

    def embed(wave: np.ndarray, sr: int) -> np.ndarray:
        calls.append(wave.size)
        return np.array([1.0, 0.0]) if wave.size == 7 else np.array([0.6, 0.8])

    from inference.projects.quality import reference_key

    voice = tmp_path / "alice.wav"
    voice.write_bytes(b"x")
    prints = VoicePrints(embed=embed)
    load: Callable[[], tuple[np.ndarray, int]] = lambda: (np.zeros(7), RATE)  # noqa: E731
    for _ in range(3):
        assert prints.similarity(np.zeros(5), RATE, reference_key(voice), load) == (0.6, "")
    assert calls == [7, 5, 5, 5]
    os.utime(voice, ns=(1, 1))  # the voice saved again
    prints.similarity(np.zeros(5), RATE, reference_key(voice), load)
    assert calls == [7, 5, 5, 5, 7, 5]


def test_the_best_take_is_kept() -> None:
    takes = [{"flagged": True, "quality": 0.5}, {"flagged": True, "quality": 0.7}, {"flagged": True, "quality": 0.6}]
    assert best(takes) == 1
    assert best([{"flagged": True, "quality": 0.9}, {"flagged": False, "quality": 0.6}]) == 1
    assert best([{"flagged": False, "quality": None}, {"flagged": False, "quality": 0.6}]) == 1
    assert best([{"flagged": False, "quality": 0.6}, {"flagged": False, "quality": 0.6}]) == 0


def test_thresholds_and_budget_come_with_the_project_options() -> None:
    assert split_options({"nfe_step": 8, "retries": 0.0, "min_similarity": 0.8}) == (
        {"nfe_step": 8},
        Review(min_similarity=0.8, retries=0),
    )
    assert Review.from_settings({}) == Review() and Review().retries == 2
    for bad, name in (({"retries": 9}, "retries"), ({"min_similarity": "high"}, "min_similarity")):
        with pytest.raises(InputError, match=name):
            split_options(bad)


# ---- retries within the budget (the tiny engine, scripted similarities) --------------------------------------------
class Scripted(VoicePrints):
    """Similarities given in order, one per take scored; records whether each take was scored (and so the next one
    rendered) inside the scheduler's background lane."""

    def __init__(self, values: list[float]) -> None:
        super().__init__()
        self.values = list(values)
        self.lanes: list[bool] = []

    def similarity(self, wave: np.ndarray, sample_rate: int, key: Hashable, load: Callable) -> tuple[float | None, str]:
        self.lanes.append(_background.get())
        return self.values.pop(0), ""


class Faults:
    def __init__(self) -> None:
        self.fail_on: str | None = None

    def __call__(self, item) -> None:
        if self.fail_on and self.fail_on in item.text:
            raise RuntimeError("the model broke on purpose")


@pytest.fixture(scope="module")
def studio(tiny_settings, tmp_path_factory, short_ref: Path) -> Studio:
    engine = Engine(tiny_settings.replace(voices_dir=tmp_path_factory.mktemp("quality-voices")))
    engine.save_voice("narrator", short_ref, REF_TEXT)
    engine.load()
    return Studio(engine)


@pytest.fixture
def projects(studio: Studio, tmp_path: Path):
    studio._projects = None
    p = studio.start_projects(tmp_path / "projects")
    yield p
    p.close()
    studio._projects = None


def rendered(studio: Studio, pid: int):
    assert wait_until(lambda: studio.project(pid).status in ("done", "failed"), 120)
    return studio.segments(pid)


@pytest.mark.parametrize(
    "values, options, takes, kept, flagged",
    [
        ([0.5, 0.7, 0.6], {}, 3, 1, True),
        ([0.5, 0.9], {}, 2, 1, False),
        ([0.9], {}, 1, 0, False),
        ([0.5], {"retries": 0}, 1, 0, True),
        ([0.5], {"seed": 7}, 1, 0, True),
    ],
    ids=["still-low", "then-good", "good", "budget-0", "seed-chosen"],
)
def test_a_flagged_segment_is_rendered_again_within_the_budget(
    studio: Studio, projects: Projects, values, options, takes, kept, flagged
) -> None:
    projects.prints = Scripted(values)
    pid = studio.create_project("Retries", "One line to render here.", "narrator", None, {**FAST, **options})
    (seg,) = rendered(studio, pid)
    recorded = studio.takes(pid, seg.id)
    assert len(recorded) == takes and not projects.prints.values  # no more takes than the budget
    by_similarity = {t.scores["similarity"]: t for t in recorded}
    keep = by_similarity[values[kept]]
    assert keep.kept and [t.id for t in recorded if t.kept] == [keep.id]
    assert (seg.seed, seg.audio, seg.scores) == (keep.seed, keep.audio, keep.scores)
    assert seg.scores["flagged"] is flagged and seg.scores["takes"] == takes
    assert len({t.seed for t in recorded}) == takes  # each take a new seed
    assert projects.prints.lanes == [True] * takes  # retries leave live visitors first, as the first take does


def test_the_tiny_models_noise_is_not_retried(studio: Studio, projects: Projects) -> None:
    """Its output holds no speech the encoder can hear: the similarity is unknown, so nothing is flagged."""
    pytest.importorskip("resemblyzer")
    pid = studio.create_project("Noise", "One line of noise.", "narrator", None, FAST)
    (seg,) = rendered(studio, pid)
    assert seg.scores["similarity"] is None and "speech" in seg.scores["similarity_note"]
    assert not seg.scores["flagged"] and len(studio.takes(pid, seg.id)) == 1


# ---- the review list over REST -------------------------------------------------------------------------------------
def test_the_review_list_over_rest(tiny_settings, tmp_path: Path, short_ref: Path) -> None:
    from fastapi.testclient import TestClient

    from app import ServerSettings, create_app

    faults = Faults()
    faults.fail_on = "Broken"
    settings = tiny_settings.replace(voices_dir=tmp_path / "voices", projects_dir=tmp_path / "projects")
    engine = Engine(settings, hooks=EngineHooks(fault=faults))
    engine.save_voice("narrator", short_ref, REF_TEXT)
    studio = Studio(engine)
    app, _ = create_app(ServerSettings(api_token="t"), studio)
    auth = {"Authorization": "Bearer t"}
    text = "A fine line.\n\nBroken line here.\n\nA fair line.\n\nA poor line."
    with TestClient(app) as client:
        studio.start_projects().prints = Scripted([0.9, 0.7, 0.5])
        body = {"name": "Review", "text": text, "voice": "narrator", "options": {**FAST, "retries": 0}}
        pid = client.post("/v1/projects", json=body, headers=auth).json()["id"]
        segs = rendered(studio, pid)
        review = client.get(f"/v1/projects/{pid}/review", headers=auth)
        assert review.status_code == 200, review.text
        listed = review.json()
        assert [s["text"] for s in listed] == ["Broken line here.", "A poor line.", "A fair line."]
        assert listed[0]["status"] == "failed" and "broke on purpose" in listed[0]["error"]
        assert [s["scores"]["similarity"] for s in listed[1:]] == [0.5, 0.7]
        assert all(s["scores"]["flagged"] for s in listed[1:])
        assert set(listed[1]) == set(client.get(f"/v1/projects/{pid}/segments", headers=auth).json()[0])
        assert [s["id"] for s in client.get(f"/v1/projects/{pid}/review?limit=1", headers=auth).json()] == [segs[1].id]
        assert client.get(f"/v1/projects/{pid + 1}/review", headers=auth).status_code == 404
        assert client.get(f"/v1/projects/{pid}/review").status_code == 401
    studio.start_projects().close()

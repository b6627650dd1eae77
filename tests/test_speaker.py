"""inference.model.speaker on real speech: espeak-ng voices through resemblyzer's trained speaker encoder.

Cases:
| what                          | input                                            | expected                          |
|-------------------------------|--------------------------------------------------|-----------------------------------|
| same voice                    | en-us saying three different sentences           | every pair > 0.75                 |
| another voice                 | en-us against en-us+f3 (espeak's female variant) | every pair < 0.75, 0.08 below the |
|                               | on other sentences                               | lowest same-voice pair            |
| rates                         | the same clip at 16 and 24 kHz                   | > 0.95                            |
| too little speech             | 0.2 s of a tone, or silence                      | InputError saying so              |
| not mono                      | a (2, n) array                                   | InputError                        |
| cheap import                  | import inference.model.speaker                   | resemblyzer not imported          |

Measured (en-us and en-us+f3, three sentences each, every pair of different sentences): same voice 0.87-0.93,
other voice 0.58-0.69 (four sentences, before sox's dither was turned off: 0.81-0.92 and 0.62-0.69). espeak-ng's
language voices (en-gb, de, fr) share en-us's synthetic speaker and score as the same voice (0.81-0.93); its +m7
variant sits in between (0.74-0.85).
"""

from __future__ import annotations

import subprocess
import sys
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest

from inference.errors import InputError
from inference.model.speaker import embedding, similarity
from tests.speech import SENTENCES, speak

pytest.importorskip("resemblyzer", reason="pip install --no-deps resemblyzer==0.1.4 (see requirements.txt)")

SAME_MIN = 0.75
MARGIN = 0.08


@pytest.fixture(scope="module")
def embeddings() -> dict[tuple[str, int], np.ndarray]:
    return {
        (v, i): embedding(speak(SENTENCES[i], voice=v, rate=24000), 24000)
        for v in ("en-us", "en-us+f3")
        for i in range(3)
    }


def test_the_same_voice_scores_high_and_another_measurably_lower(embeddings: dict) -> None:
    same = [float(embeddings["en-us", i] @ embeddings["en-us", j]) for i, j in combinations(range(3), 2)]
    other = [float(embeddings["en-us", i] @ embeddings["en-us+f3", j]) for i in range(3) for j in range(3) if i != j]
    print(f"same voice {min(same):.3f}-{max(same):.3f}, other voice {min(other):.3f}-{max(other):.3f}")
    assert min(same) > SAME_MIN, same
    assert max(other) < SAME_MIN and min(same) - max(other) > MARGIN, (same, other)


def test_similarity_is_the_cosine_and_rate_independent() -> None:
    text = SENTENCES[0]
    score = similarity(speak(text, rate=16000), 16000, speak(text, rate=24000), 24000)
    assert 0.95 < score <= 1.0


@pytest.mark.parametrize(
    "wave",
    [
        np.sin(np.arange(3200) / 16000 * 2 * np.pi * 220).astype(np.float32),  # 0.2 s
        np.zeros(32000, dtype=np.float32),
    ],
    ids=["short", "silence"],
)
@pytest.mark.filterwarnings("error")  # and quietly: no division by zero on the way
def test_too_little_speech_is_refused(wave: np.ndarray) -> None:
    with pytest.raises(InputError, match="too little to tell a voice"):
        similarity(wave, 16000, speak(SENTENCES[0]), 16000)


def test_stereo_is_refused() -> None:
    with pytest.raises(InputError, match="mono"):
        embedding(np.zeros((2, 16000), dtype=np.float32), 16000)


def test_importing_does_not_load_the_encoder() -> None:
    code = "import sys, inference.model.speaker; print('resemblyzer' in sys.modules, 'torch' in sys.modules)"
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]

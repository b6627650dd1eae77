"""The serverless worker's timed speech: `captions` on a synthesis job (srt and vtt in the output, the last streamed
item for the streaming worker) and `subtitles` (a dubbed track with its report), through the handlers and the RunPod
SDK's --test_input mode."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import srt
import webvtt

from inference import Engine
from inference.studio.dubbing import MAX_CUES, MAX_SPEEDUP, TAIL_S
from tests.badinputs import BAD_SUBTITLES as MALFORMED
from tests.badinputs import assert_clear, report_tried, srt_text, tried  # noqa: F401 - report_tried: autouse tally
from tests.conftest import REF_TEXT, serverless_worker
from tests.test_dubbing import THREE, TOO_LONG
from tests.test_serverless import _worker, voices_dir, worker_env  # noqa: F401 - fixtures: the tiny model, "bob"

FAST = {"nfe_step": 4, "seed": 11}
LONG = " ".join(["This is one sentence of a text long enough to be spoken in several chunks."] * 8)


@pytest.fixture(scope="module")
def worker(engine: Engine, short_ref: Path):
    engine.save_voice("dub-bob", short_ref, REF_TEXT, overwrite=True)
    return serverless_worker(engine)


def run(worker, **inputs) -> dict:
    return worker.handler({"id": "timed", "input": inputs})


def wave_of(output: dict) -> np.ndarray:
    return sf.read(io.BytesIO(base64.b64decode(output["audio_base64"])), dtype="float32")[0]


def test_captions_true_adds_srt_and_vtt(worker) -> None:
    out = run(worker, text=LONG, voice="dub-bob", captions=True, **FAST)
    assert {"srt", "vtt", "cues", "audio_base64", "seed"} <= set(out), out.get("error")
    subs = list(srt.parse(out["srt"]))
    vtt = webvtt.from_string(out["vtt"], strict=True).captions
    assert len(subs) == len(vtt) == len(out["cues"]) > 1
    assert abs(subs[-1].end.total_seconds() - len(wave_of(out)) / 24000) <= 0.05
    assert " ".join(s.content for s in subs).split() == LONG.split()
    plain = run(worker, text=LONG, voice="dub-bob", **FAST)
    assert not {"srt", "vtt", "cues"} & set(plain)
    assert np.array_equal(wave_of(plain), wave_of(out))  # captions change nothing in the audio


def test_the_streaming_worker_puts_captions_on_the_last_item(worker) -> None:
    items = worker.stream_handler({"id": "s", "input": {"text": LONG, "voice": "dub-bob", "captions": True, **FAST}})
    assert len(items) > 1 and all("srt" not in i for i in items[:-1]), [set(i) for i in items]
    last = items[-1]
    seconds = sum(i["duration"] for i in items)
    assert abs(list(srt.parse(last["srt"]))[-1].end.total_seconds() - seconds) <= 0.05


def test_subtitles_give_the_dubbed_track_and_its_report(worker) -> None:
    out = run(worker, subtitles=THREE, voice="dub-bob", clips=True, **FAST)
    assert set(out) == {"audio_base64", "sample_rate", "duration", "seed", "cues", "clips_zip_base64"}, out
    wave = wave_of(out)
    assert len(wave) == round((6.0 + TAIL_S) * 24000) and out["duration"] == 6.5
    assert np.abs(wave[round(1.6 * 24000) : round(2.4 * 24000)]).max() < 1e-3  # a gap (16-bit WAV)
    assert [(c["cue"], c["start"], c["end"], c["note"]) for c in out["cues"]] == [
        (1, 0.5, 1.5, "fits"),
        (2, 2.5, 3.5, "fits"),
        (3, 5.0, 6.0, "fits"),
    ]
    with zipfile.ZipFile(io.BytesIO(base64.b64decode(out["clips_zip_base64"]))) as archive:
        assert len([n for n in archive.namelist() if n.endswith(".wav")]) == 3
        assert json.loads(archive.read("report.json"))[0]["cue"] == 1


def test_subtitles_with_tags_an_uploaded_voice_and_the_largest_speedup(worker, short_ref: Path) -> None:
    ref = base64.b64encode(short_ref.read_bytes()).decode()
    text = srt_text((0.5, 1.0, TOO_LONG), (4.0, 5.0, "[dub-bob] Hello there, my friend."))
    out = run(worker, subtitles=text, ref_audio_base64=ref, ref_text=REF_TEXT, max_speedup=MAX_SPEEDUP, **FAST)
    first, second = out["cues"]
    assert first["voice"] == "uploaded voice" and first["speed"] == pytest.approx(MAX_SPEEDUP, rel=0.02)
    assert first["overflow"] > 0 and "too long" in first["note"]
    assert second["voice"] == "dub-bob" and second["speaker"] == "dub-bob"


BAD = {  # inputs -> what the error says
    "text-and-subtitles": ({"text": "Hi.", "subtitles": THREE, "voice": "dub-bob"}, "Both 'text' and 'subtitles'"),
    "subtitles-not-text": ({"subtitles": 5, "voice": "dub-bob"}, "'subtitles' must be a string"),
    "dub-keys-without-subtitles": ({"text": "Hi.", "voice": "dub-bob", "max_speedup": 2}, "goes with 'subtitles'"),
    "captions-with-subtitles": ({"subtitles": THREE, "voice": "dub-bob", "captions": True}, "does not go with"),
    "stream-with-subtitles": ({"subtitles": THREE, "voice": "dub-bob", "stream": True}, "does not go with"),
    "bad-clips": ({"subtitles": THREE, "voice": "dub-bob", "clips": "yes"}, "'clips' must be true or false"),
    "bad-max-speedup": ({"subtitles": THREE, "voice": "dub-bob", "max_speedup": 9}, "maximum speed-up"),
    "bad-captions": ({"text": "Hi.", "voice": "dub-bob", "captions": "letters"}, "captions must be"),
    "untagged-without-voice": ({"subtitles": THREE}, "no speaker tag, and no voice"),
    "voices-not-a-mapping": ({"subtitles": THREE, "voice": "dub-bob", "voices": 5}, "must be an object"),
    "tag-mapped-to-a-missing-voice": (
        {"subtitles": srt_text((0.5, 1.5, "[X] Hello.")), "voice": "dub-bob", "voices": {"X": "nobody"}},
        "No voice called 'nobody'",
    ),
    "too-many-cues": (
        {"subtitles": srt_text(*[(i, i + 0.5, "Hi.") for i in range(MAX_CUES + 1)]), "voice": "dub-bob"},
        "limit is",
    ),
    **{f"subtitles-{k}": ({"subtitles": v[0], "voice": "dub-bob"}, v[1]) for k, v in MALFORMED.items()},
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_timed_input_is_a_clear_error(worker, name: str) -> None:
    inputs, expect = BAD[name]
    tried("serverless", "subtitles", name)
    out = run(worker, **inputs, **FAST)
    assert set(out) == {"error"}, out.keys()
    assert_clear(out["error"], expect)


def test_a_dub_through_the_sdk_test_input_mode(worker_env: dict[str, str]) -> None:  # noqa: F811
    job = {"input": {"subtitles": THREE, "voice": "bob", "response_format": "flac", **FAST}}
    proc = _worker(worker_env, "--test_input", json.dumps(job))
    out = proc.communicate(timeout=180)[0]
    assert proc.returncode == 0, out[-3000:]
    assert "completed successfully" in out and "'cues': [{'cue': 1, 'line': 2, 'start': 0.5" in out

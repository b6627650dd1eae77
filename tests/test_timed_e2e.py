"""Timed speech in the launched app through gradio_client: /synthesize_captions (the take with SRT and VTT) and /dub
(subtitles in, one track out, the per-cue report and the ZIP), with their bad inputs; /synthesize keeps its four
outputs."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import srt
import webvtt

from inference.studio.dubbing import MAX_SPEEDUP, TAIL_S
from tests.badinputs import BAD_SUBTITLES as MALFORMED
from tests.badinputs import assert_clear, report_tried, srt_text, tried  # noqa: F401 - report_tried: autouse tally
from tests.conftest import REF_TEXT
from tests.test_dubbing import THREE, TOO_LONG

LONG = " ".join(["This is one sentence of a text long enough to be spoken in several chunks."] * 8)


@pytest.fixture(scope="module")
def client(app_url: str):
    from gradio_client import Client

    return Client(app_url, verbose=False)


@pytest.fixture(scope="module")
def voice(client, short_ref: Path) -> str:
    from gradio_client import handle_file

    client.predict(handle_file(str(short_ref)), "e2e-dub", REF_TEXT, api_name="/save_voice")
    return "e2e-dub"


def subtitle_file(folder: Path, name: str, text: str) -> object:
    from gradio_client import handle_file

    path = folder / name
    path.write_text(text, encoding="utf-8")
    return handle_file(str(path))


def test_the_endpoints_and_their_parameters(client) -> None:
    info = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    assert len(info["/synthesize"]["returns"]) == 4  # unchanged: scripts unpack four outputs
    captions = [p["parameter_name"] for p in info["/synthesize_captions"]["parameters"]]
    synthesize = [p["parameter_name"] for p in info["/synthesize"]["parameters"]]
    assert captions == [*synthesize, "words"]  # /synthesize's parameters, in its order, then `words`
    assert len(info["/synthesize_captions"]["returns"]) == 5
    dub = [p["parameter_name"] for p in info["/dub"]["parameters"]]
    assert dub[:6] == ["subtitles", "voice", "ref_audio", "ref_text", "voices", "max_speedup"]


def test_synthesize_captions(client, short_ref: Path) -> None:
    from gradio_client import handle_file

    audio, srt_path, vtt_path, cues, seed = client.predict(
        handle_file(str(short_ref)), REF_TEXT, LONG, 9, nfe_step=7, api_name="/synthesize_captions"
    )
    wave, sr = sf.read(audio)
    subs = list(srt.parse(Path(srt_path).read_text("utf-8")))
    vtt = webvtt.read(vtt_path).captions
    assert seed == 9 and sr == 24000 and len(subs) == len(vtt) == len(cues) > 1
    assert abs(subs[-1].end.total_seconds() - len(wave) / sr) <= 0.05 and Path(srt_path).suffix == ".srt"
    assert [c["text"] for c in cues] == [s.content for s in subs]
    plain, *_ = client.predict(handle_file(str(short_ref)), REF_TEXT, LONG, 9, nfe_step=7, api_name="/synthesize")
    np.testing.assert_array_equal(sf.read(plain)[0], wave)  # the same take


def test_dub_with_a_saved_voice(client, voice: str, tmp_path: Path) -> None:
    audio, report, zipped, seed = client.predict(
        subtitle_file(tmp_path, "three.srt", THREE), voice=voice, nfe_step=7, seed=5, api_name="/dub"
    )
    wave, sr = sf.read(audio, dtype="float32")
    assert sr == 24000 and len(wave) == round((6.0 + TAIL_S) * sr) and seed == 5
    assert np.abs(wave[round(1.6 * sr) : round(2.4 * sr)]).max() < 1e-3  # the gap is silent (16-bit WAV)
    assert [(r["cue"], r["start"], r["end"], r["voice"], r["note"]) for r in report] == [
        (1, 0.5, 1.5, voice, "fits"),
        (2, 2.5, 3.5, voice, "fits"),
        (3, 5.0, 6.0, voice, "fits"),
    ]
    with zipfile.ZipFile(zipped) as archive:
        assert sorted(archive.namelist()) == ["cue-001.wav", "cue-002.wav", "cue-003.wav", "report.json"]
        assert json.loads(archive.read("report.json")) == report


def test_dub_vtt_with_an_uploaded_voice_tags_and_an_overflow(client, voice: str, short_ref: Path, tmp_path) -> None:
    from gradio_client import handle_file

    vtt = f"WEBVTT\n\n00:00.500 --> 00:01.000\n{TOO_LONG}\n\n00:04.000 --> 00:05.000\n[Guest] Hello there, my friend.\n"
    audio, report, _, _ = client.predict(
        subtitle_file(tmp_path, "two.vtt", vtt),
        ref_audio=handle_file(str(short_ref)),
        ref_text=REF_TEXT,
        voices={"Guest": voice},
        max_speedup=MAX_SPEEDUP,
        nfe_step=7,
        api_name="/dub",
    )
    assert report[0]["voice"] == "uploaded voice" and report[0]["speed"] == pytest.approx(MAX_SPEEDUP, rel=0.02)
    assert report[0]["overflow"] > 0 and "too long" in report[0]["note"]
    assert report[1]["speaker"] == "Guest" and report[1]["voice"] == voice
    assert len(sf.read(audio)[0]) == round(5.5 * 24000)


BAD = {  # name -> (subtitle text or None, keyword arguments, what the message says)
    **{name: (text, {}, expect) for name, (text, expect) in MALFORMED.items()},
    "no-file": (None, {}, "No subtitle file"),
    "no-voice": (THREE, {"voice": None}, "no speaker tag, and no voice"),
    "unknown-voice": (THREE, {"voice": "nobody-at-all"}, "No voice called 'nobody-at-all'"),
    "speedup-too-high": (THREE, {"max_speedup": MAX_SPEEDUP + 1}, "maximum speed-up"),
    "speedup-below-1": (THREE, {"max_speedup": 0.5}, "maximum speed-up"),
    "bad-nfe": (THREE, {"nfe_step": 7.5}, r"nfe_step must be a whole number|list of choices: \[7, 16, 32\]"),
    "bad-mapping": (srt_text((0.5, 1.5, "[Guest] Hi.")), {"voices": "{not json"}, "not valid JSON"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_dub_input_reaches_the_client_as_a_sentence(client, voice: str, tmp_path: Path, name: str) -> None:
    from gradio_client.exceptions import AppError

    text, kwargs, expect = BAD[name]
    tried("gradio_client", "subtitles", name)
    subtitles = subtitle_file(tmp_path, f"{name}.srt", text) if text is not None else None
    with pytest.raises(AppError) as e:
        client.predict(subtitles, **{"voice": voice, "nfe_step": 7, **kwargs}, api_name="/dub")
    assert_clear(str(e.value), expect)


def test_a_binary_file_is_not_subtitles(client, voice: str, tmp_path: Path) -> None:
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    tried("gradio_client", "subtitles", "binary-file")
    path = tmp_path / "picture.srt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    with pytest.raises(AppError) as e:
        client.predict(handle_file(str(path)), voice=voice, api_name="/dub")
    assert_clear(str(e.value), "not UTF-8|binary")
    sf.write(tmp_path / "sound.srt", np.zeros(2400, np.float32), 24000, format="WAV")
    with pytest.raises(AppError) as e:
        client.predict(handle_file(str(tmp_path / "sound.srt")), voice=voice, api_name="/dub")
    assert_clear(str(e.value), "not UTF-8|binary|not subtitles")

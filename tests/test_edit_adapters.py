"""Speech editing through every way in: the tab's handlers, gradio_client's /edit_speech on the launched app, and the
serverless `edit` job, on the tiny random model."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import gradio as gr
import numpy as np
import pytest
import soundfile as sf

from inference import Engine, Studio
from inference.audio.prepare import decode_audio
from inference.studio.editing import MAX_RECORDING_S
from tests.conftest import REF_TEXT, mark_id_blanked, serverless_worker
from tests.test_editing import NEW_TEXT, KnownWords
from ui.edit import EditHandlers, EditTab, diff_pieces

SPANS = [{"start": 1.42, "end": 2.44, "text": "optimist,"}, {"start": 4.04, "end": 4.9, "text": "realist."}]
FAST = {"nfe_step": 4, "seed": 5}


def no_progress(*args, **kwargs) -> None:
    return None


@pytest.fixture(scope="module")
def known(tiny_settings) -> Engine:
    return Engine(tiny_settings, transcriber=KnownWords())


# ---- the tab and its handlers ----------------------------------------------------------------------------------
def test_the_word_diff_shown_before_generating() -> None:
    pieces = diff_pieces(REF_TEXT, NEW_TEXT)
    assert [p for p in pieces if p[1]] == [
        ("nature,", "removed"),
        ("optimist,", "added"),
        ("mother nature.", "removed"),
        ("realist.", "added"),
    ]
    assert "".join(t for t, kind in pieces if kind != "added").split() == REF_TEXT.split()
    assert diff_pieces(REF_TEXT, REF_TEXT.upper()) == [(REF_TEXT, None)], "capitals alone change nothing"
    assert diff_pieces("", "") == [] and diff_pieces(None, "Hello") == [("Hello", "added")]


def test_edit_speech_handler_with_spans_as_json_text(known: Engine, ref_wav: Path) -> None:
    h = EditHandlers(Studio(known))
    take, applied, seed = h.edit_speech(str(ref_wav), "", NEW_TEXT, json.dumps(SPANS), 5, 4, progress=no_progress)
    wave, sr = sf.read(take, dtype="float32")  # the studio's own WAV file, tagged
    assert sr == 24000 and wave.dtype == np.float32 and seed == 5
    assert [(e["kind"], e["text"]) for e in applied] == [("replace", "optimist,"), ("replace", "realist.")]
    assert all(set(e) == {"kind", "start", "end", "old", "text", "new_start", "new_end"} for e in applied)
    again = sf.read(h.edit_speech(str(ref_wav), "", NEW_TEXT, SPANS, 5, 4, progress=no_progress)[0], dtype="float32")[0]
    assert np.array_equal(wave, again), "a list and its JSON text are the same spans; the same seed, the same edit"


def test_edit_speech_handler_errors_are_sentences(known: Engine, ref_wav: Path) -> None:
    h = EditHandlers(Studio(known))
    for args, words in [
        ((None, "", NEW_TEXT), "No recording"),
        ((str(ref_wav), REF_TEXT, REF_TEXT), "Nothing changed"),
        ((str(ref_wav), "", NEW_TEXT, "[{nope"), "not valid JSON"),
        ((str(ref_wav), "", NEW_TEXT, None, 7.5), "seed must be a whole number"),
    ]:
        with pytest.raises(gr.Error, match=words):
            h.edit_speech(*args, progress=no_progress)
    with pytest.raises(gr.Error, match="nfe_step"):
        h.edit_speech(str(ref_wav), "", NEW_TEXT, SPANS, 1, nfe_step=1000, progress=no_progress)


def test_the_tab_generates_from_its_components(known: Engine, ref_wav: Path) -> None:
    with gr.Blocks():
        tab = EditTab(Studio(known))
    data = {
        tab.audio: str(ref_wav),
        tab.transcript: "",
        tab.new_text: NEW_TEXT,
        tab.spans: "",
        tab.seed: 5,
        **{c: {"nfe_step": 4, "speed": 1.0, "cfg_strength": 2.0}[name] for name, c in tab.options.items()},
    }
    filled = tab.transcribed(data)
    assert filled[tab.transcript] == REF_TEXT and filled[tab.new_text] == NEW_TEXT, "a typed new text is kept"
    assert ("optimist,", "added") in filled[tab.diff]
    out = tab.generate(data, progress=no_progress)
    result = Path(out[tab.result])  # a WAV named for download: edit-<recording>-<first new words>-seed-N
    assert result.name == "edit-basic_ref_en-some-call-me-optimist-others-seed-5.wav", result.name
    assert sf.info(result).samplerate == 24000 and out[tab.original][1].shape == decode_audio(ref_wav)[0].shape
    assert [row[:3] for row in out[tab.table]] == [
        ["replace", "nature,", "optimist,"],
        ["replace", "mother nature.", "realist."],
    ]
    assert out[tab.seed_used]["value"] == 5 and out[tab.transcript] == REF_TEXT  # the transcript heard is shown


# ---- serverless ----------------------------------------------------------------------------------------------------
def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def test_serverless_edit_job(known: Engine, ref_wav: Path) -> None:
    w = serverless_worker(known)
    edit = {"audio_base64": b64(ref_wav.read_bytes()), "new_text": NEW_TEXT, **FAST}
    out = w.handler({"id": "e", "input": {"edit": edit}})
    assert set(out) == {"audio_base64", "sample_rate", "duration", "seed", "transcript", "edits"}, out
    wave, sr = sf.read(io.BytesIO(base64.b64decode(out["audio_base64"])), dtype="float32")
    assert sr == 24000 and len(wave) / sr == pytest.approx(out["duration"], abs=1e-3)
    assert out["transcript"] == REF_TEXT and [e["text"] for e in out["edits"]] == ["optimist,", "realist."]
    explicit = w.handler({"id": "e", "input": {"edit": {**edit, "edits": SPANS, "response_format": "mp3"}}})
    assert base64.b64decode(explicit["audio_base64"]).startswith((b"ID3", b"\xff\xfb", b"\xff\xf3", b"\xff\xe3"))
    (item,) = w.stream_handler({"id": "s", "input": {"edit": edit}})
    same = {**item, "audio_base64": mark_id_blanked(base64.b64decode(item["audio_base64"]))}
    assert same == {**out, "audio_base64": mark_id_blanked(base64.b64decode(out["audio_base64"]))}, (
        "the streaming worker yields the whole edit as its one item (each job's file carries its own mark id)"
    )


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"edit": "x"}, "'edit' must be a JSON object"),
        ({"edit": {}, "text": "Hi."}, "holds only 'edit'"),
        ({"edit": {"new_text": "Hi."}}, "has no 'audio_base64'"),
        ({"edit": {"audio_base64": "UklGRg=="}}, "has no 'new_text'"),
        ({"edit": {"audio_base64": "@@@", "new_text": "Hi."}}, "'audio_base64' is not valid base64"),
        ({"edit": {"audio_base64": "", "new_text": "Hi."}}, "'audio_base64' is empty"),
        ({"edit": {"audio": "x", "new_text": "Hi."}}, "Unknown key in 'edit': 'audio'"),
        ({"edit": {"audio_base64": "UklGRg==", "new_text": 5}}, "'new_text' must be a string"),
        ({"edit": {"audio_base64": "UklGRg==", "new_text": "Hi.", "cross_fade": 0.1}}, "Unknown key"),
        ({"edit": {"audio_base64": "UklGRg==", "new_text": "Hi.", "edits": {"start": 1}}}, "must be a list"),
    ],
)
def test_serverless_edit_errors(known: Engine, inputs: dict, message: str) -> None:
    out = serverless_worker(known).handler({"id": "bad", "input": inputs})
    assert set(out) == {"error"} and message in out["error"], out


def test_serverless_edit_over_the_payload_limit_names_the_edit_limit(known: Engine, ref_wav: Path) -> None:
    out = serverless_worker(known, max_payload_mb=0.05).handler(
        {"id": "big", "input": {"edit": {"audio_base64": b64(ref_wav.read_bytes()), "new_text": NEW_TEXT}}}
    )
    assert "'audio_base64'" in out["error"] and f"at most {MAX_RECORDING_S:g} s can be edited" in out["error"]


# ---- gradio_client, on the launched app ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def client(app_url: str):
    from gradio_client import Client

    client = Client(app_url, verbose=False)
    yield client
    client.close()


def test_edit_speech_through_gradio_client(client, ref_wav: Path) -> None:
    from gradio_client import handle_file

    info = client.view_api(return_format="dict", print_info=False)["named_endpoints"]["/edit_speech"]
    params = [p["parameter_name"] for p in info["parameters"]]
    assert params == ["audio", "transcript", "new_text", "edits", "seed", "nfe_step", "speed", "cfg_strength"]
    audio, applied, seed = client.predict(
        handle_file(str(ref_wav)), "", NEW_TEXT, SPANS, 5, nfe_step=7, api_name="/edit_speech"
    )
    wave, sr = sf.read(audio, dtype="float32")
    assert sr == 24000 and seed == 5 and [e["text"] for e in applied] == ["optimist,", "realist."]
    assert len(wave) / sr == pytest.approx(
        len(decode_audio(ref_wav)[0]) / sr
        + sum((e["new_end"] - e["new_start"]) - (e["end"] - e["start"]) for e in applied),
        abs=2e-3,
    )

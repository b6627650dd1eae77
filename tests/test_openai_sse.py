"""stream_format "sse" on POST /v1/audio/speech, through the real openai oai's streaming API, on the launched app:
OpenAI's event shapes, deltas that join to the non-streamed audio for the same seed, captions as an extension event,
and errors before the first event in OpenAI's JSON shape."""

from __future__ import annotations

import base64
import json

import httpx
import openai
import pytest
import srt
import webvtt
from openai import OpenAI

from tests.badinputs import assert_clear, report_tried, tried  # noqa: F401 - report_tried: autouse tally
from tests.conftest import mark_id_blanked
from tests.test_faults import LONG_TEXT, VOICE, ChunkCounter, faulty, rest  # noqa: F401 - in-process REST
from tests.test_openai_api import (  # noqa: F401 - fixtures: the app with a saved voice "alice"
    EXTRA,
    TEXT,
    assert_openai_error,
    base,
    decode,
    speak,
    voices_dir,
)


@pytest.fixture(scope="module")
def oai(base: str) -> OpenAI:  # noqa: F811 - `base` is the imported fixture
    return OpenAI(base_url=f"{base}/v1", api_key="x", max_retries=0, timeout=120)


LONG = " ".join(["This is one sentence of a text long enough to be spoken in several chunks."] * 8)


def sse(oai: OpenAI, **kwargs) -> list[dict]:
    """The events of one streamed request, parsed from the `data:` lines as they arrive."""
    args = {"model": "f5-tts", "voice": "alice", "input": TEXT, "response_format": "pcm", "extra_body": EXTRA}
    args.update(kwargs)
    with oai.audio.speech.with_streaming_response.create(**args, stream_format="sse") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["x-seed"] == str(args["extra_body"]["seed"])
        return [json.loads(line[5:]) for line in response.iter_lines() if line.startswith("data:")]


def joined(events: list[dict]) -> bytes:
    return b"".join(base64.b64decode(e["audio"]) for e in events if e["type"] == "speech.audio.delta")


@pytest.mark.parametrize("fmt", ["pcm", "wav", "mp3", "flac"])
def test_deltas_join_to_the_non_streamed_audio(oai: OpenAI, fmt: str) -> None:
    events = sse(oai, response_format=fmt)
    kinds = [e["type"] for e in events]
    assert kinds[-1] == "speech.audio.done" and set(kinds[:-1]) == {"speech.audio.delta"}
    for e in events[:-1]:
        assert set(e) == {"type", "audio"} and e["audio"]
    whole = speak(oai, fmt).content
    if fmt == "mp3":  # the encoder's bytes may differ in padding; the audio does not
        assert abs(decode(fmt, joined(events))[0] - decode(fmt, whole)[0]) < 0.06
    else:
        assert mark_id_blanked(joined(events)) == mark_id_blanked(whole)  # each request has its own mark id


def test_done_carries_usage(oai: OpenAI) -> None:
    done = sse(oai)[-1]
    usage = done["usage"]
    assert set(done) == {"type", "usage"} and set(usage) == {"input_tokens", "output_tokens", "total_tokens"}
    assert usage["input_tokens"] == len(TEXT) and usage["output_tokens"] > 0
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]


def test_long_text_streams_one_delta_per_chunk(oai: OpenAI) -> None:
    events = sse(oai, input=LONG, extra_body={"seed": 2, "nfe_step": 4})
    deltas = [e for e in events if e["type"] == "speech.audio.delta"]
    assert len(deltas) > 1
    assert joined(events) == speak(oai, "pcm", input=LONG, extra_body={"seed": 2, "nfe_step": 4}).content


def test_captions_event(oai: OpenAI) -> None:
    events = sse(oai, input=LONG, extra_body={"seed": 2, "nfe_step": 4, "captions": True})
    assert [e["type"] for e in events[-2:]] == ["speech.captions", "speech.audio.done"]
    captions = events[-2]
    seconds = len(joined(events)) / 2 / 24000
    assert captions["level"] == "sentence" and captions["cues"]
    assert abs(captions["cues"][-1]["end"] - seconds) <= 0.05
    subs = list(srt.parse(captions["srt"]))
    assert len(subs) == len(captions["cues"]) == len(webvtt.from_string(captions["vtt"], strict=True).captions)
    assert " ".join(s.content for s in subs).split() == LONG.split()


@pytest.mark.parametrize(
    "name, kwargs, status, param",
    [
        ("sse-unknown-voice", {"voice": "nobody"}, 404, "voice"),
        ("sse-nfe-1000", {"extra_body": {"nfe_step": 1000}}, 400, "nfe_step"),
        ("sse-empty-input", {"input": "  "}, 400, "input"),
        ("sse-captions-letters", {"extra_body": {"captions": "letters"}}, 400, "captions"),
        ("sse-captions-number", {"extra_body": {"captions": 3}}, 400, "captions"),
        ("sse-bad-format", {"response_format": "ogg"}, 400, "response_format"),
    ],
)
def test_errors_before_the_first_event_keep_the_json_shape(oai: OpenAI, name, kwargs, status, param) -> None:
    tried("rest", "sse", name)
    with pytest.raises(openai.APIStatusError) as e:
        sse(oai, **kwargs)
    error = assert_openai_error(e.value, status, param)
    assert_clear(error["message"])


def test_captions_without_sse_are_refused_with_the_way_to_get_them(oai: OpenAI) -> None:
    tried("rest", "sse", "captions-without-sse")
    with pytest.raises(openai.BadRequestError) as e:
        speak(oai, extra_body={**EXTRA, "captions": True})
    error = assert_openai_error(e.value, 400, "captions")
    assert "stream_format" in error["message"] and "sse" in error["message"]


# ---- failures after the first event, and a client that leaves (the REST routes in this process) ---------------------
def test_a_failure_mid_stream_ends_with_an_error_event(rest: str, faulty) -> None:  # noqa: F811
    calls = []

    def second_chunk_fails(_item) -> None:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("failure in chunk 2 with secret internals")

    tried("rest", "fault", "sse-exception-mid-stream")
    faulty(second_chunk_fails)
    body = {"voice": VOICE, "input": LONG_TEXT[:1500], "response_format": "pcm", "nfe_step": 4, "seed": 1}
    with httpx.stream("POST", f"{rest}/v1/audio/speech", timeout=60, json={**body, "stream_format": "sse"}) as r:
        assert r.status_code == 200
        events = [json.loads(line[5:]) for line in r.iter_lines() if line.startswith("data:")]
    assert events[0]["type"] == "speech.audio.delta" and events[-1]["type"] == "error"
    assert "speech.audio.done" not in [e["type"] for e in events]  # the audio is known to be incomplete
    error = events[-1]["error"]
    assert set(error) == {"message", "type", "param", "code"} and error["type"] == "server_error"
    assert "secret" not in error["message"] and error["code"] == "internal_error"
    faulty(None)


def test_a_client_that_leaves_stops_the_generation(rest: str, faulty) -> None:  # noqa: F811
    counter = ChunkCounter(delay=0.3)
    faulty(counter)
    tried("rest", "fault", "sse-client-disconnect")
    body = {"voice": VOICE, "input": LONG_TEXT, "response_format": "pcm", "nfe_step": 4, "seed": 1}
    with httpx.Client(timeout=60) as http:
        with http.stream("POST", f"{rest}/v1/audio/speech", json={**body, "stream_format": "sse"}) as r:
            assert r.status_code == 200
            next(r.iter_lines())  # the first event arrived: now hang up
    stopped_at = counter.settle()
    assert stopped_at <= 4, f"{stopped_at} chunks were generated after the client left"
    faulty(None)

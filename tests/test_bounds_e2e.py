"""No road around a limit, through the launched app (docs/LIMITS.md): gradio_client, the OpenAI endpoint and raw
HTTP against /gradio_api/*. The engine-level checks are in test_bounds.py."""

from __future__ import annotations

import re
import time

import httpx
import pytest

from inference.text.pronounce import MAX_ENTRIES, PronunciationStore
from tests import test_words_e2e
from tests.test_bounds import LONG_SPOKEN, full_file
from tests.test_words_e2e import app_error

pytestmark = pytest.mark.e2e
live, client = test_words_e2e.live, test_words_e2e.client  # the same app (voice alice), launched for this module


def sampling_runs(base: str) -> float:
    """How many sampling runs the app's engine has made (its /metrics)."""
    found = re.search(r"^studio_batch_size_count (\S+)$", httpx.get(f"{base}/metrics", timeout=10).text, re.M)
    return float(found[1]) if found else 0.0


# ---- the pronunciation dictionary (#21.1) ---------------------------------------------------------------------------
def test_set_pronunciation_refuses_the_entry_past_the_limit_and_nothing_stops(client, live: dict) -> None:
    store = PronunciationStore(live["voices"])  # the bulk straight through the store; the refusal through the app
    store.save_text(full_file(MAX_ENTRIES))
    try:
        message = app_error(client, "Nguyen", "win", False, "", api_name="/set_pronunciation")
        assert f"already has {MAX_ENTRIES} entries" in message and "Delete" in message
        assert client.predict("word5 has cats.", "", False, api_name="/normalize_text") == "spoken5 has cats."
        assert len(client.predict("", api_name="/list_pronunciations")) == MAX_ENTRIES
        assert len(client.predict("word5", "", api_name="/delete_pronunciation")) == MAX_ENTRIES - 1
        speech = httpx.post(f"{live['base']}/v1/audio/speech", timeout=120, json={"voice": "alice", "input": "Hi."})
        assert speech.status_code == 200, speech.text
    finally:
        store.save_text("")


def test_a_hand_edited_file_over_the_limit_is_used_and_can_be_fixed(client, live: dict) -> None:
    path = live["voices"] / "_pronunciations.txt"
    path.write_text(full_file(MAX_ENTRIES + 3), encoding="utf-8")
    try:
        assert client.predict("word0 word2002.", "", False, api_name="/normalize_text") == "spoken0 word2002."
        assert len(client.predict("", api_name="/list_pronunciations")) == MAX_ENTRIES + 3
        assert len(client.predict("word2002", "", api_name="/delete_pronunciation")) == MAX_ENTRIES + 2
        assert "only the first 2000 are used" in live["log"].read_text(encoding="utf-8")
    finally:
        path.unlink()


# ---- what is spoken, through OpenAI (#21.3) -------------------------------------------------------------------------
def test_openai_refuses_text_that_a_pronunciation_expands_past_the_limit_at_once(client, live: dict) -> None:
    client.predict("a", LONG_SPOKEN, False, "", api_name="/set_pronunciation")
    try:
        runs = sampling_runs(live["base"])
        start = time.perf_counter()
        answer = httpx.post(
            f"{live['base']}/v1/audio/speech", timeout=60, json={"voice": "alice", "input": " ".join(["a"] * 300)}
        )
        elapsed = time.perf_counter() - start
        assert answer.status_code == 400, answer.text
        message = answer.json()["error"]["message"]
        assert "60,299 once numbers and pronunciations are written out" in message and "Shorten" in message
        assert elapsed < 5  # refused before generating (60,000 characters would take many minutes here)
        assert sampling_runs(live["base"]) == runs  # nothing was generated
    finally:
        client.predict("a", "", api_name="/delete_pronunciation")


# ---- request bodies (#21.9) -----------------------------------------------------------------------------------------
def test_a_large_json_body_to_gradio_api_answers_413(live: dict) -> None:
    url = f"{live['base']}/gradio_api/queue/join"
    body = b'{"data": ["' + b"x" * (2 * 1024 * 1024) + b'"], "fn_index": 0, "session_hash": "abc"}'
    start = time.perf_counter()
    declared = httpx.post(url, content=body, headers={"content-type": "application/json"}, timeout=30)
    detail = declared.json()["detail"]
    assert declared.status_code == 413 and "too large" in detail and "F5_" not in detail  # the setting: in the log

    def chunks():  # no Content-Length: counted as it streams in
        for _ in range(64):
            yield b"x" * 65536

    streamed = httpx.post(url, content=chunks(), headers={"content-type": "application/json"}, timeout=30)
    assert streamed.status_code == 413
    assert time.perf_counter() - start < 10
    assert httpx.get(f"{live['base']}/health", timeout=5).status_code == 200
    small = httpx.post(url, json={"data": ["x"], "fn_index": 10_000, "session_hash": "abc"}, timeout=30)
    assert small.status_code != 413  # an ordinary body goes through (and is judged by Gradio)


# ---- work outside the queue, the browser's own calls (#21.9) --------------------------------------------------------
def browser_call(base: str, api_name: str, values: dict[str, str]) -> httpx.Response:
    """An event called as the page calls it (/gradio_api/run/predict): every input's current value from /config,
    with `values` (by label) in place."""
    config = httpx.get(f"{base}/config", timeout=30).json()
    components = {c["id"]: c.get("props", {}) for c in config["components"]}
    dep = next(d for d in config["dependencies"] if d.get("api_name") == api_name)
    data = [values.get(components[i].get("label"), components[i].get("value")) for i in dep["inputs"]]
    body = {"data": data, "fn_index": dep["id"], "session_hash": "bounds"}
    return httpx.post(f"{base}/gradio_api/run/predict", json=body, timeout=60)


@pytest.mark.parametrize(
    "script", ["x" * 240_000, "Plain words, no speaker tags at all."], ids=["over-the-bound", "no-tags"]
)
def test_find_speakers_answers_a_script_it_cannot_use_quickly_and_without_error(live: dict, script: str) -> None:
    start = time.perf_counter()
    r = browser_call(live["base"], "find_speakers", {"Script": script})
    assert r.status_code == 200, r.text  # nothing to fill in: every row left as it is
    assert time.perf_counter() - start < 5

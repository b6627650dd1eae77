"""Fixing in place (inference/projects/fix.py): a few words changed in a long segment are regenerated alone, through
the speech-editing path, in the segment's kept take; on the tiny model, through the Studio and REST.

The tiny random Whisper hears noise, so the engine here hears a segment's take as the words of `Hears.text`,
spread evenly over the recording (where a real Whisper would find them in real speech).

Case table (what users meet):
| case                                                     | expected                                                  |
|----------------------------------------------------------|-----------------------------------------------------------|
| one word changed in a long segment                       | a new take made by editing ("made": "edit"); outside the  |
|                                                          | change its samples are the old take's; other segments'    |
|                                                          | files byte for byte as they were; the old take stays and  |
|                                                          | is kept again when the text is edited back                |
| most words changed / a short segment / the seed or the   | the segment renders whole ("made": "render")              |
| voice changed too / whole=True / a stale segment         |                                                           |
| the new text has numbers (normalized, pronunciations)    | the fix speaks it as a render would (its spoken text)     |
| the edit path fails (words not aligned, take too long)   | the segment renders whole; the reason is logged           |
| the segment is edited again while its fix renders        | the fix is dropped; the new revision renders whole        |
| the project is cancelled while a fix renders             | the segment stays a fix, made when the project resumes    |
| a locked segment is edited                               | refused                                                   |
| REST PATCH {"text"} / {"text", "whole": true}            | fixed in place / rendered whole; "whole": "yes" is a 400  |
| a store of the previous schema (2) is opened             | upgraded in place: segments have no fix; edits record one |
"""

from __future__ import annotations

import io
import logging
import sqlite3
import threading
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from inference import Engine, InputError, Studio
from inference.engine import EngineHooks
from inference.model.asr import Transcriber, Word
from inference.projects import fix
from inference.projects.schema import MIGRATIONS, SCHEMA_VERSION
from inference.projects.store import DB_NAME, ProjectStore
from inference.studio import editing
from inference.text.pronounce import Entry
from inference.text.worddiff import split_words
from tests.conftest import REF_TEXT, wait_until

SR = 24000
FADE = round(editing.SPLICE_FADE_S * SR)
TOKEN = "fix-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
FAST = {"nfe_step": 4}
LONG = "The quiet harbour town woke slowly as the fishing boats came home with the morning tide."
FIXED = "The quiet harbour town woke slowly as the fishing boats came home with the evening tide."
SHORT = "A short line here."


class Hears(Transcriber):
    """Hears the words of `text`, spread evenly over whatever it is given."""

    def __init__(self) -> None:
        super().__init__("hears-text")
        self.text = ""

    def words(self, wave: np.ndarray, sample_rate: int, language: str | None = None) -> list[Word]:
        words = split_words(self.text)
        step = (len(wave) / sample_rate - 0.2) / max(1, len(words))
        return [Word(w, 0.1 + i * step, 0.1 + (i + 1) * step) for i, w in enumerate(words)]


class Gate:
    """Fault hook: an edit's sampling call (its item has a conditioning) waits at the gate while `closed`."""

    def __init__(self) -> None:
        self.closed = False
        self.reached = threading.Event()
        self.opened = threading.Event()

    def __call__(self, item) -> None:
        if self.closed and getattr(item, "cond", None) is not None:
            self.reached.set()
            self.opened.wait(60)


@pytest.fixture(scope="module")
def gate() -> Gate:
    return Gate()


@pytest.fixture(scope="module")
def served(tiny_settings, tmp_path_factory, short_ref: Path, gate: Gate):
    """(studio, REST client, the engine's transcriber), the renderer started with the server."""
    from fastapi.testclient import TestClient

    from app import ServerSettings, create_app

    root = tmp_path_factory.mktemp("fix-projects")
    hears = Hears()
    settings = tiny_settings.replace(voices_dir=root / "voices", projects_dir=root / "projects")
    engine = Engine(settings, transcriber=hears, hooks=EngineHooks(fault=gate))
    engine.save_voice("narrator", short_ref, REF_TEXT)
    engine.save_voice("guest", short_ref, REF_TEXT)
    studio = Studio(engine)
    app, _ = create_app(ServerSettings(api_token=TOKEN), studio)
    with TestClient(app) as client:
        yield studio, client, hears
    studio.start_projects().close()


@pytest.fixture
def studio(served) -> Studio:
    return served[0]


@pytest.fixture
def hears(served) -> Hears:
    served[2].text = LONG
    return served[2]


def rendered(studio: Studio, pid: int) -> dict[int, bytes]:
    """Every segment's kept file, once the project is done."""
    assert wait_until(lambda: studio.project(pid).status == "done", 120), studio.project(pid)
    return {s.id: s.audio.read_bytes() for s in studio.segments(pid) if s.audio is not None}


def book(studio: Studio, name: str) -> tuple[int, int, int, dict[int, bytes]]:
    """A rendered project of a long and a short segment: (its id, the long one's, the short one's, the files)."""
    pid = studio.create_project(name, f"{LONG}\n\n{SHORT}", "narrator", None, FAST)
    files = rendered(studio, pid)
    long, short = studio.segments(pid)
    return pid, long.id, short.id, files


def samples(data: bytes) -> np.ndarray:
    return sf.read(io.BytesIO(data), dtype="int16")[0]


def kept(studio: Studio, pid: int, sid: int):
    return next(t for t in studio.takes(pid, sid) if t.kept)


# ---- the rule ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("old", "new", "small"),
    [
        (LONG, FIXED, True),
        (LONG, LONG.replace("morning tide", "tide at dawn and dusk"), True),  # 4 of 16 words
        (LONG, "Five words are new here" + LONG.split("woke", 1)[1], True),  # 5 of 16: at most a third
        (LONG, "Six words are all new here" + LONG.split("woke", 1)[1], False),  # 6 of 16: more than a third
        (LONG, "Nothing of the sort happened that day in the harbour, nor the next, nor ever.", False),
        (LONG, LONG, False),  # no change of words
        (SHORT, "A short line there.", False),  # too few words
    ],
    ids=["one-word", "a-few-words", "a-third", "over-a-third", "most-words", "same-words", "short"],
)
def test_the_rule_is_a_few_words_of_a_long_segment(old: str, new: str, small: bool) -> None:
    assert fix.small_change(old, new) is small


# ---- fixing in place -------------------------------------------------------------------------------------------------
def test_a_small_change_in_a_long_segment_is_fixed_in_place(studio: Studio, hears: Hears) -> None:
    pid, long, short, before = book(studio, "Harbour")
    old = kept(studio, pid, long)
    row = studio.edit_segment(pid, long, text=FIXED)
    assert row.fix_from == old.id and row.state == "pending"
    after = rendered(studio, pid)
    assert after[short] == before[short] and len(studio.takes(pid, short)) == 1  # the other segment: untouched
    new = kept(studio, pid, long)
    assert new.id != old.id and new.text == FIXED and new.scores is not None
    assert (new.scores["made"], new.scores["from_take"]) == ("edit", old.id) and old.scores["made"] == "render"
    [change] = new.scores["edits"]
    assert (change["old"], change["text"]) == ("morning", "evening")
    was, now = samples(before[long]), samples(after[long])
    head = round(change["start"] * SR) - FADE  # well before the change: the old take's own samples
    assert head > SR // 2 and np.array_equal(now[:head], was[:head])
    tail = len(was) - round(change["end"] * SR) - 2 * FADE  # after it, to the end (times are rounded to ms)
    assert tail > SR // 10 and np.array_equal(now[-tail:], was[-tail:])
    assert not np.array_equal(now, was)
    assert studio.segments(pid)[0].fix_from is None
    # the old take stays, and is kept again once the text says what it says
    studio.pause(pid)
    studio.edit_segment(pid, long, text=LONG)
    assert studio.keep(pid, long, old.id).audio == old.audio and studio.segments(pid)[0].state == "done"
    studio.resume(pid)
    assert studio.lock(pid, long).state == "locked"
    with pytest.raises(InputError, match="locked"):
        studio.edit_segment(pid, long, text=FIXED)


def test_a_fix_speaks_the_new_text_as_a_render_would(studio: Studio, hears: Hears) -> None:
    text = "The 12 fishing boats came home to the quiet harbour town with the morning tide."
    pid = studio.create_project("Numbers", text, "narrator", None, FAST)
    rendered(studio, pid)
    [seg] = studio.segments(pid)
    hears.text = seg.spoken  # what the take says: the number as words
    assert "12" not in seg.spoken
    new_text = text.replace("morning", "evening")
    assert studio.edit_segment(pid, seg.id, text=new_text).fix_from is not None
    rendered(studio, pid)
    [fixed] = studio.segments(pid)
    assert fixed.scores and fixed.scores["made"] == "edit"
    assert fixed.spoken == studio.engine.spoken_text(new_text, voice="narrator") and "12" not in fixed.spoken
    assert [(e["old"], e["text"]) for e in fixed.scores["edits"]] == [("morning", "evening")]


@pytest.mark.parametrize(
    "change",
    [
        {"text": "Nothing of the sort happened that day in the harbour, nor the next, nor ever."},
        {"segment": "short", "text": "A short line there."},
        {"text": FIXED, "seed": "other"},
        {"text": FIXED, "voice": "guest"},
        {"text": FIXED, "whole": True},
        {"text": FIXED, "stale": True},
    ],
    ids=["most-words", "short-segment", "seed-too", "voice-too", "whole", "stale"],
)
def test_other_changes_render_the_segment_whole(studio: Studio, hears: Hears, change: dict) -> None:
    pid, long, short, before = book(studio, "Whole " + "-".join(change))
    sid = short if change.pop("segment", None) else long
    if change.get("seed") == "other":
        change["seed"] = (studio.segment(pid, sid).seed or 0) + 1
    if change.pop("stale", None):  # a pronunciation changed since the take: the kept words would say it the old way
        studio.pause(pid)
        try:
            studio.set_pronunciation(Entry("harbour", "harbor"))
        finally:
            studio.delete_pronunciation("harbour")
        assert studio.segment(pid, sid).state == "stale"
        studio.resume(pid)
    row = studio.edit_segment(pid, sid, **change)
    assert row.fix_from is None
    after = rendered(studio, pid)
    assert {k: v for k, v in after.items() if k != sid} == {k: v for k, v in before.items() if k != sid}
    new = kept(studio, pid, sid)
    assert new.text == change["text"] and new.scores and new.scores["made"] == "render"


@pytest.mark.parametrize("failure", ["words-not-aligned", "take-too-long"])
def test_when_the_edit_path_fails_the_segment_renders_whole(
    studio: Studio, hears: Hears, failure: str, monkeypatch, caplog
) -> None:
    pid, long, short, before = book(studio, "Fails " + failure)
    if failure == "words-not-aligned":
        hears.text = "Zebras juggle quantum marmalade beneath violet thunder every other leap year."
    else:
        monkeypatch.setattr(editing, "MAX_RECORDING_S", 0.5)
    caplog.set_level(logging.WARNING, logger=fix.__name__)
    assert studio.edit_segment(pid, long, text=FIXED).fix_from is not None
    after = rendered(studio, pid)
    new = kept(studio, pid, long)
    assert new.text == FIXED and new.scores and new.scores["made"] == "render"
    assert after[short] == before[short]
    reason = "does not match" if failure == "words-not-aligned" else "longer than 0.5 s"
    assert any("fixing in place failed" in r.getMessage() and reason in r.getMessage() for r in caplog.records)


def test_an_edit_while_the_fix_renders_drops_the_fix(studio: Studio, hears: Hears, gate: Gate) -> None:
    pid, long, _, _ = book(studio, "Late")
    old = kept(studio, pid, long)
    gate.reached.clear()
    gate.opened.clear()
    gate.closed = True
    try:
        studio.edit_segment(pid, long, text=FIXED)
        assert gate.reached.wait(60)  # the fix is sampling now
        studio.edit_segment(pid, long, text=FIXED.replace("evening", "night"), whole=True)
    finally:
        gate.closed = False
        gate.opened.set()
    rendered(studio, pid)
    takes = studio.takes(pid, long)
    assert [t.id for t in takes if t.scores and t.scores["made"] == "edit"] == []  # the late fix: not recorded
    assert takes[0].id == old.id and takes[-1].kept and takes[-1].text == FIXED.replace("evening", "night")


def test_a_cancelled_fix_stays_a_fix(studio: Studio, hears: Hears, gate: Gate) -> None:
    pid, long, _, _ = book(studio, "Cancelled")
    old = kept(studio, pid, long)
    gate.reached.clear()
    gate.opened.clear()
    gate.closed = True
    try:
        studio.edit_segment(pid, long, text=FIXED)
        assert gate.reached.wait(60)  # the fix is sampling now
        studio.cancel(pid)
    finally:
        gate.closed = False
        gate.opened.set()
    projects = studio.start_projects()
    assert wait_until(lambda: projects._current is None and studio.segment(pid, long).state == "pending", 60)
    assert studio.segment(pid, long).fix_from == old.id
    studio.resume(pid)
    rendered(studio, pid)
    new = kept(studio, pid, long)
    assert new.scores and (new.scores["made"], new.scores["from_take"]) == ("edit", old.id)


# ---- REST ----------------------------------------------------------------------------------------------------------
def test_rest_patch_fixes_in_place_unless_whole(served, hears: Hears) -> None:
    studio, client, _ = served
    pid, long, _, _ = book(studio, "Rest")
    url = f"/v1/projects/{pid}/segments/{long}"
    r = client.patch(url, json={"text": FIXED, "whole": "yes"}, headers=AUTH)
    assert r.status_code == 400 and r.json()["error"]["param"] == "whole"
    r = client.patch(url, json={"text": FIXED}, headers=AUTH)
    assert r.status_code == 200 and r.json()["status"] == "pending"
    rendered(studio, pid)
    segs = client.get(f"/v1/projects/{pid}/segments", headers=AUTH).json()
    assert segs[0]["text"] == FIXED and segs[0]["scores"]["made"] == "edit"
    r = client.patch(url, json={"text": LONG, "whole": True}, headers=AUTH)
    assert r.status_code == 200
    rendered(studio, pid)
    segs = client.get(f"/v1/projects/{pid}/segments", headers=AUTH).json()
    assert segs[0]["text"] == LONG and segs[0]["scores"]["made"] == "render"


# ---- schema upgrade --------------------------------------------------------------------------------------------------
def test_a_store_of_the_previous_schema_is_upgraded_in_place(tmp_path: Path) -> None:
    folder = tmp_path / "old"
    (folder / "audio" / "1").mkdir(parents=True)
    (folder / "audio" / "1" / "1-a.wav").write_bytes(b"old audio")
    db = sqlite3.connect(folder / DB_NAME)
    db.executescript(MIGRATIONS[0])
    db.executescript(MIGRATIONS[1])  # the previous schema, exactly as version 2 wrote it
    db.executescript(
        f"""
        INSERT INTO projects VALUES (1, 'Old book', 1.0, '{{"voice": "alice"}}');
        INSERT INTO chapters VALUES (1, 0, 'One');
        INSERT INTO segments (id, project, chapter, position, text, spoken, speaker, voice, seed, state, audio,
            duration, scores, updated, revision) VALUES
            (1, 1, 0, 0, '{LONG}', '{LONG}', '', NULL, 42, 'done', 'audio/1/1-a.wav', 4.5, '{{}}', 2.0, 3);
        INSERT INTO takes (id, segment, seed, text, audio, duration, scores, kept, created) VALUES
            (7, 1, 42, '{LONG}', 'audio/1/1-a.wav', 4.5, '{{}}', 1, 2.0);
        PRAGMA user_version = 2;
        """
    )
    db.close()
    with ProjectStore(folder) as store:
        assert store._version() == SCHEMA_VERSION == 3
        [seg] = store.segments(1)
        assert (seg.text, seg.state, seg.revision, seg.fix_from) == (LONG, "done", 3, None)
        assert seg.audio is not None and seg.audio.read_bytes() == b"old audio"
        assert fix.fix_source(store, seg, FIXED, None, None, whole=False) == 7
        assert store.edit(1, text=FIXED, fix_from=7).fix_from == 7
    with ProjectStore(folder) as store:  # opening again changes nothing
        assert store._version() == 3 and store.segment(1).fix_from == 7

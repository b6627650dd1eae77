"""The project store (inference/projects/store.py): one SQLite database per folder, one writer, durable takes."""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from inference.errors import InputError
from inference.projects.schema import MIGRATIONS, SCHEMA_VERSION
from inference.projects.source import read_text
from inference.projects.store import DB_NAME, ProjectStore, StoreLocked

ROOT = Path(__file__).resolve().parents[1]
BOOK = "Chapter 1\n\nIt was late. The rain fell.\n\nNguyen came in. [Guest] Hello?\n\nChapter 2\n\nMorning came."


def chapters(text: str = BOOK):
    return read_text(text)


@pytest.fixture
def store(tmp_path: Path):
    with ProjectStore(tmp_path / "projects") as s:
        yield s


def render_all(store: ProjectStore, pid: int) -> dict[int, bytes]:
    """Claim and finish every pending segment with audio made of its id; returns id -> audio."""
    audio = {}
    while claimed := store.claim(pid, 2):
        for seg in claimed:
            audio[seg.id] = f"RIFF-{seg.id}-{seg.revision}".encode()
            assert store.finish(seg, audio[seg.id], 1.5, seed=seg.seed or 7, spoken=seg.text) is not None
    return audio


def digest(path: Path | None) -> str:
    assert path is not None
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---- create, list, browse --------------------------------------------------------------------------------------
def test_create_list_and_browse(store: ProjectStore):
    pid = store.create("My book", chapters(), {"voice": "alice", "voices": {"Guest": "bob"}, "options": {"nfe": 32}})
    [info] = store.projects()
    assert (info.id, info.name, info.total, info.done, info.status) == (pid, "My book", 6, 0, "rendering")
    assert info.settings["voices"] == {"Guest": "bob"}
    assert [(c.title, c.total, c.done) for c in store.chapters(pid)] == [("Chapter 1", 4, 0), ("Chapter 2", 2, 0)]
    page = store.segments(pid, offset=2, limit=2)
    assert [(s.chapter, s.position, s.text, s.speaker) for s in page] == [
        (0, 2, "Nguyen came in.", ""),
        (0, 3, "Hello?", "Guest"),
    ]
    assert [s.text for s in store.segments(pid, chapter=1)] == ["Chapter 2", "Morning came."]
    assert all(s.state == "pending" and s.audio is None for s in store.segments(pid))
    with pytest.raises(InputError, match="no project 99"):
        store.project(99)


def test_claim_in_order_one_transaction(store: ProjectStore):
    pid = store.create("b", chapters())
    first = store.claim(pid, 3)
    assert [(s.chapter, s.position, s.state) for s in first] == [
        (0, 0, "rendering"),
        (0, 1, "rendering"),
        (0, 2, "rendering"),
    ]
    got: list[int] = []
    threads = [threading.Thread(target=lambda: got.extend(s.id for s in store.claim(pid, 1))) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == len(set(got)) == 3  # each pending segment claimed once, never twice


def test_finish_writes_whole_files_and_progress(store: ProjectStore):
    pid = store.create("b", chapters())
    audio = render_all(store, pid)
    segs = store.segments(pid)
    assert all(s.state == "done" and s.audio and s.audio.read_bytes() == audio[s.id] for s in segs)
    assert not list(store.folder.rglob("*.tmp"))
    assert store.project(pid).status == "done"
    assert [(c.done, c.duration) for c in store.chapters(pid)] == [(4, 6.0), (2, 3.0)]


def test_a_result_for_an_edited_segment_is_dropped(store: ProjectStore):
    pid = store.create("b", chapters())
    [seg] = store.claim(pid, 1)
    store.edit(seg.id, text="It was very late.")
    assert store.finish(seg, b"old", 1.0, seed=1) is None
    assert store.segment(seg.id).state == "pending" and store.segment(seg.id).audio is None
    assert not [p for p in (store.folder / "audio").rglob("*") if p.is_file()]  # the late file is gone too
    assert store.fail(seg, "boom") is False


# ---- edits, takes, locks -----------------------------------------------------------------------------------------
def test_an_extra_take_for_an_edited_segment_is_dropped(store: ProjectStore):
    """A retry's take recorded after the segment was edited mid-render: no take, no file, the new text pending."""
    pid = store.create("b", chapters())
    (claimed,) = store.claim(pid, 1)
    store.edit(claimed.id, text="A new sentence.")
    assert store.add_take(claimed.id, b"old audio", 1.0, seed=5, claimed=claimed) is None
    assert store.takes(claimed.id) == [] and not list((store.folder / "audio").glob("*/*"))
    assert store.segment(claimed.id).state == "pending"
    (again,) = store.claim(pid, 1)
    assert store.add_take(again.id, b"new audio", 1.0, seed=6, claimed=again) is not None


def test_an_edit_renders_that_segment_alone(store: ProjectStore):
    pid = store.create("b", chapters())
    render_all(store, pid)
    before = {s.id: (s, digest(s.audio)) for s in store.segments(pid)}
    target = store.segments(pid)[1].id
    for change in ({"text": "It was very late."}, {"voice": "carol"}, {"seed": 1234}):
        edited = store.edit(target, **change)
        assert edited.state == "pending"
        assert [s.id for s in store.claim(pid, 10)] == [target]  # the others stay done
        assert store.finish(store.segment(target), b"new", 2.0, seed=edited.seed or 5) is not None
    after = store.segment(target)
    assert (after.text, after.voice, after.seed, after.revision) == ("It was very late.", "carol", 1234, 3)
    for s in store.segments(pid):
        if s.id != target:
            assert s == before[s.id][0] and digest(s.audio) == before[s.id][1]  # byte for byte as it was
    with pytest.raises(InputError, match="no words"):
        store.edit(target, text=" ... ")
    with pytest.raises(InputError, match="seed must be"):
        store.edit(target, seed=-1)


def test_takes_keep_and_lock(store: ProjectStore):
    pid = store.create("b", chapters())
    render_all(store, pid)
    seg = store.segments(pid)[0]
    t2 = store.add_take(seg.id, b"second", 1.1, seed=22, scores={"wer": 0.1})
    store.add_take(seg.id, b"third", 1.2, seed=33)
    assert store.segment(seg.id).audio == seg.audio  # another take does not replace what plays
    takes = store.takes(seg.id)
    assert [(t.seed, t.kept) for t in takes] == [(7, True), (22, False), (33, False)]
    kept = store.keep(t2)
    assert (
        kept.audio is not None
        and kept.audio.read_bytes() == b"second"
        and (kept.seed, kept.scores) == (22, {"wer": 0.1})
    )
    assert [t.kept for t in store.takes(seg.id)] == [False, True, False]
    assert store.lock(seg.id).state == "locked"
    with pytest.raises(InputError, match="locked"):
        store.edit(seg.id, seed=1)
    with pytest.raises(InputError, match="locked"):
        store.keep(takes[0].id)
    assert store.lock(seg.id, False).state == "done"
    pending = store.edit(store.segments(pid)[1].id, seed=3)
    with pytest.raises(InputError, match="no audio"):
        store.lock(pending.id)
    store.edit(seg.id, text="Chapter one.")  # the takes so far say "Chapter 1"
    with pytest.raises(InputError, match="earlier text"):
        store.keep(t2)


def test_pronunciation_change_marks_stale(store: ProjectStore):
    pid = store.create("b", chapters("Nguyen came.\n\nMr. NGUYEN left.\n\nNguyenville is far.\n\n重庆很大。\n\nOther."))
    render_all(store, pid)
    locked = store.segments(pid)[1]
    store.lock(locked.id)
    hits = store.mark_stale(pid, "nguyen")
    assert [(s.text, s.state) for s in hits] == [("Nguyen came.", "stale"), ("Mr. NGUYEN left.", "locked")]
    assert [s.text for s in store.stale(pid)] == ["Nguyen came."]
    assert [s.text for s in store.mark_stale(pid, "Nguyen", case_sensitive=True)] == ["Nguyen came."]
    assert [s.text for s in store.mark_stale(pid, "重庆")] == ["重庆很大。"]  # Chinese words match anywhere
    assert store.queue_stale(pid) == 2
    assert [s.text for s in store.claim(pid, 10)] == ["Nguyen came.", "重庆很大。"]


def test_delete_removes_rows_and_files(store: ProjectStore):
    keep, gone = store.create("a", chapters()), store.create("b", chapters())
    render_all(store, keep)
    render_all(store, gone)
    store.delete(gone)
    assert [p.id for p in store.projects()] == [keep]
    assert not (store.folder / "audio" / str(gone)).exists()
    assert all(s.audio and s.audio.exists() for s in store.segments(keep))


def test_limits_and_names(store: ProjectStore):
    with pytest.raises(InputError, match="needs a name"):
        store.create("  ", chapters())
    big = read_text("word. " * 100_000)
    with pytest.raises(InputError, match="at most 1,000,000"):
        store.create("big", big + big)


# ---- schema upgrade ------------------------------------------------------------------------------------------------
def test_a_database_of_the_previous_schema_is_upgraded_in_place(tmp_path: Path):
    folder = tmp_path / "old"
    (folder / "audio" / "1").mkdir(parents=True)
    (folder / "audio" / "1" / "1-a.wav").write_bytes(b"old audio")
    db = sqlite3.connect(folder / DB_NAME)
    db.executescript(MIGRATIONS[0])  # the previous schema, exactly as version 1 wrote it
    db.executescript(
        """
        INSERT INTO projects VALUES (1, 'Old book', 1.0, '{"voice": "alice"}');
        INSERT INTO chapters VALUES (1, 0, 'One');
        INSERT INTO segments (id, project, chapter, position, text, spoken, speaker, voice, seed, state, audio,
            duration, scores, updated) VALUES
            (1, 1, 0, 0, 'Hello there.', 'Hello there.', '', NULL, 42, 'done', 'audio/1/1-a.wav', 1.25,
                '{"wer": 0}', 2.0),
            (2, 1, 0, 1, 'Goodbye.', '', 'Guest', 'bob', NULL, 'pending', NULL, NULL, NULL, 2.0);
        PRAGMA user_version = 1;
        """
    )
    db.close()
    with ProjectStore(folder) as store:
        assert store._version() == SCHEMA_VERSION
        [info] = store.projects()
        assert (info.name, info.settings, info.total, info.done) == ("Old book", {"voice": "alice"}, 2, 1)
        one, two = store.segments(1)
        assert (one.text, one.seed, one.state, one.duration, one.scores, one.revision) == (
            "Hello there.", 42, "done", 1.25, {"wer": 0}, 0,
        )  # fmt: skip
        assert one.audio is not None and one.audio.read_bytes() == b"old audio"  # not swept: a take names it
        assert (two.speaker, two.voice, two.state) == ("Guest", "bob", "pending")
        [take] = store.takes(1)
        assert (take.seed, take.kept, take.audio) == (42, True, one.audio)
    with ProjectStore(folder) as store:  # opening again changes nothing
        assert store._version() == SCHEMA_VERSION and len(store.takes(1)) == 1


def test_a_newer_schema_is_refused_untouched(tmp_path: Path):
    folder = tmp_path / "new"
    folder.mkdir()
    db = sqlite3.connect(folder / DB_NAME)
    db.execute("PRAGMA user_version = 99")
    db.close()
    with pytest.raises(InputError, match="newer version"):
        ProjectStore(folder)
    assert sqlite3.connect(folder / DB_NAME).execute("PRAGMA user_version").fetchone()[0] == 99


# ---- one writer, crashes ---------------------------------------------------------------------------------------------
CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from inference.projects.store import ProjectStore
    store = ProjectStore(sys.argv[1])
    pid = int(sys.argv[2])
    claimed = store.claim(pid, 2)
    # a render cut short: a temporary file half written, and a whole file whose commit never came
    folder = store.folder / "audio" / str(pid)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{claimed[0].id}-dead.wav.tmp").write_bytes(b"half")
    (folder / f"{claimed[1].id}-dead.wav").write_bytes(b"whole, unrecorded")
    print("ready", flush=True)
    sys.stdin.readline()
    if sys.argv[3] == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    """
)


def start_holder(folder: Path, pid: int, mode: str) -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(folder), str(pid), mode],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None and child.stdout.readline().strip() == "ready"
    return child


@pytest.mark.e2e
def test_a_second_process_is_refused_and_may_read(tmp_path: Path):
    folder = tmp_path / "projects"
    with ProjectStore(folder) as store:
        pid = store.create("b", chapters())
        render_all(store, pid)
        for seg in store.segments(pid)[:2]:
            store.edit(seg.id, seed=9)
    child = start_holder(folder, pid, "kill")
    try:
        with pytest.raises(StoreLocked, match=f"in use by process {child.pid} on ") as e:
            ProjectStore(folder)
        assert "read-only" in e.value.hint
        with ProjectStore(folder, readonly=True) as reader:
            assert reader.project(pid).rendering == 2  # it sees the writer's claims
            with pytest.raises(InputError, match="read-only"):
                reader.edit(reader.segments(pid)[0].id, seed=1)
    finally:
        child.kill()
        child.wait()


@pytest.mark.e2e
def test_a_sigkilled_writer_leaves_nothing_half_done(tmp_path: Path):
    folder = tmp_path / "projects"
    with ProjectStore(folder) as store:
        pid = store.create("b", chapters())
    child = start_holder(folder, pid, "kill")
    assert child.stdin is not None
    child.stdin.write("go\n")
    child.stdin.flush()
    assert child.wait() == -signal.SIGKILL
    with ProjectStore(folder) as store:  # the kernel dropped the lock; recover() ran on open
        segs = store.segments(pid)
        assert [s.state for s in segs] == ["pending"] * len(segs)
        assert not list((folder / "audio").rglob("*.*"))  # the half file and the unrecorded file are gone
        audio = render_all(store, pid)
        assert sorted(audio) == [s.id for s in segs]  # each segment rendered once: none lost, none twice
        assert sum(len(store.takes(s.id)) for s in segs) == len(segs)


def test_the_same_process_cannot_open_twice_for_writing(tmp_path: Path):
    with ProjectStore(tmp_path / "p"), pytest.raises(StoreLocked, match=f"process {os.getpid()}"):
        ProjectStore(tmp_path / "p")


def test_a_write_cut_short_leaves_no_take(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    folder = tmp_path / "p"
    with ProjectStore(folder) as store:
        pid = store.create("b", chapters())
        [seg] = store.claim(pid, 1)

        def crash(fd: int) -> None:
            raise OSError(28, "No space left on device")

        monkeypatch.setattr("inference.projects.store.os.fsync", crash)
        with pytest.raises(OSError):
            store.finish(seg, b"RIFF" * 1000, 1.0, seed=1)
        monkeypatch.undo()
        assert store.segment(seg.id).state == "rendering" and not store.takes(seg.id)
        assert not [p for p in (folder / "audio").rglob("*") if p.is_file() and not p.name.endswith(".tmp")]
    with ProjectStore(folder) as store:
        assert store.segment(seg.id).state == "pending"
        assert not [p for p in (folder / "audio").rglob("*") if p.is_file()]


def test_a_damaged_database_is_refused_plainly_and_unlocked(tmp_path: Path):
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / DB_NAME).write_bytes(b"this is not a database" * 100)
    with pytest.raises(InputError, match="cannot be read") as e:
        ProjectStore(folder)
    assert "backup" in e.value.hint
    with pytest.raises(InputError, match="cannot be read"):  # refused again, not "in use": the lock was let go
        ProjectStore(folder)


def test_mark_stale_refuses_an_empty_word(store: ProjectStore):
    pid = store.create("b", chapters())
    with pytest.raises(InputError, match="empty"):
        store.mark_stale(pid, "  ")


def test_the_states_are_the_schema_s(store: ProjectStore):
    from inference.projects.schema import STATES

    pid = store.create("b", chapters())
    sid = store.segments(pid)[0].id
    for state in STATES:
        with store._tx() as db:
            db.execute("UPDATE segments SET state = ? WHERE id = ?", (state, sid))
    with pytest.raises(sqlite3.IntegrityError), store._tx() as db:
        db.execute("UPDATE segments SET state = 'bogus' WHERE id = ?", (sid,))
    assert store.segment(sid).state == STATES[-1]  # the refused update changed nothing

"""Durable rendering (inference/projects/render.py) on the tiny model, and the scheduler's background lane.

Case table (what users meet):
| case                                              | expected                                                       |
|---------------------------------------------------|----------------------------------------------------------------|
| a project is created                              | it renders by itself, in reading order, to `done`              |
| a segment's text, voice or seed is edited         | it alone renders again; every other file is byte for byte kept |
| pause / resume / cancel                           | no new segment starts while paused; resume finishes the book   |
| a segment cannot be rendered                      | it is `failed` with its reason; the others render              |
| a pronunciation changes                           | the segments that say the word are stale, and render on request|
| a second process (store) opens the same folder    | it refuses to write, says so, and shows the projects read-only |
| the studio stops mid-render and starts again      | rendering resumes; every segment done once (SIGKILL: below)    |
| a visitor's Generate while a book renders         | at most one background step runs while it waits (<= 2x alone)  |
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from inference import Engine, InputError, SynthesisOptions, SynthesisRequest
from inference.engine import EngineHooks
from inference.projects.render import Projects
from inference.projects.store import ProjectStore
from inference.scheduler import Scheduler
from inference.studio.facade import Studio
from inference.text.pronounce import Entry
from tests.conftest import REF_TEXT, wait_until
from tests.test_scheduler import Recorder, wait_for

FAST = {"nfe_step": 4}
BOOK = "Chapter 1\nThe first line is here. The second line follows it.\n\nChapter 2\nA third line ends the book."


class Hooks:
    """Fault hook: raise for an item whose text has `fail_on`; record every item's text as its run begins."""

    def __init__(self) -> None:
        self.fail_on: str | None = None
        self.started: list[str] = []

    def __call__(self, item) -> None:
        self.started.append(item.text)
        if self.fail_on and self.fail_on in item.text:
            raise RuntimeError("the model broke on purpose")


@pytest.fixture(scope="module")
def hooks() -> Hooks:
    return Hooks()


@pytest.fixture(scope="module")
def studio(tiny_settings, tmp_path_factory, short_ref: Path, hooks: Hooks) -> Studio:
    voices = tmp_path_factory.mktemp("render-voices")
    engine = Engine(tiny_settings.replace(voices_dir=voices), hooks=EngineHooks(fault=hooks))
    engine.save_voice("narrator", short_ref, REF_TEXT)
    engine.save_voice("guest", short_ref, REF_TEXT)
    engine.load()
    return Studio(engine)


@pytest.fixture
def projects(studio: Studio, tmp_path: Path):
    studio._projects = None
    p = studio.start_projects(tmp_path / "projects")
    yield p
    p.close()
    studio._projects = None


def done(studio: Studio, pid: int, timeout: float = 120):
    return wait_until(lambda: (s := studio.project(pid)).status in ("done", "failed") and s, timeout)


def audio_bytes(studio: Studio, pid: int) -> dict[int, bytes]:
    return {s.id: s.audio.read_bytes() for s in studio.segments(pid) if s.audio is not None}


def test_a_project_renders_by_itself_in_reading_order(studio: Studio, projects: Projects) -> None:
    pid = studio.create_project("Book", BOOK + "\n[Guest] Hello from the guest.", "narrator", {"Guest": "guest"}, FAST)
    status = done(studio, pid)
    assert status and status.status == "done" and status.done == status.total == 5, status
    segs = studio.segments(pid)
    assert [(s.chapter, s.position) for s in segs] == sorted((s.chapter, s.position) for s in segs)
    assert all(s.state == "done" and s.seed is not None and s.duration and s.audio.is_file() for s in segs)
    assert [c.done for c in status.chapters] == [2, 3] and status.seconds_left is not None
    assert studio.segment_audio(pid, segs[0].id) == segs[0].audio
    assert b"".join(studio.export(pid, "srt").chunks).count(b"-->") == 5


def test_an_edit_renders_that_segment_alone(studio: Studio, projects: Projects) -> None:
    pid = studio.create_project("Edits", BOOK, "narrator", None, FAST)
    assert done(studio, pid)
    before = audio_bytes(studio, pid)
    target = studio.segments(pid)[1]
    studio.edit_segment(pid, target.id, text="A changed second line.", seed=target.seed + 1)
    assert studio.project(pid).done == 3
    assert done(studio, pid)
    after = audio_bytes(studio, pid)
    assert after[target.id] != before[target.id]
    assert {k: v for k, v in after.items() if k != target.id} == {k: v for k, v in before.items() if k != target.id}
    assert [len(studio.takes(pid, k)) for k in after if k != target.id] == [1] * (len(after) - 1)  # not re-rendered
    takes = studio.takes(pid, target.id)
    assert len(takes) == 2 and takes[-1].kept
    with pytest.raises(InputError, match="earlier text"):
        studio.keep(pid, target.id, takes[0].id)
    assert studio.lock(pid, target.id).state == "locked"
    with pytest.raises(InputError, match="locked"):
        studio.edit_segment(pid, target.id, text="No.")


def test_pause_resume_and_cancel(studio: Studio, projects: Projects, hooks: Hooks) -> None:
    text = "\n\n".join(f"Line number {i} of a paused book." for i in range(6))
    pid = studio.create_project("Paused", text, "narrator", None, FAST)
    studio.pause(pid)
    assert wait_until(lambda: projects._current is None)
    frozen = studio.project(pid)
    assert frozen.status == "paused" and frozen.done < frozen.total
    hooks.started.clear()
    other = studio.create_project("Other", "Another project renders meanwhile.", "narrator", None, FAST)
    assert done(studio, other)
    assert studio.project(pid).done == frozen.done  # nothing of the paused one started
    studio.resume(pid)
    assert wait_until(lambda: studio.project(pid).done > frozen.done)
    studio.cancel(pid)
    assert wait_until(lambda: projects._current is None)
    assert studio.project(pid).status == "cancelled"
    assert not [s for s in studio.segments(pid) if s.state in ("rendering", "failed")]
    studio.resume(pid)
    final = done(studio, pid)
    assert final and final.status == "done" and final.done == final.total


def test_a_failed_segment_is_recorded_and_rendering_goes_on(studio: Studio, projects: Projects, hooks: Hooks) -> None:
    hooks.fail_on = "Broken"
    try:
        pid = studio.create_project("Fails", "One fine line.\n\nBroken line here.\n\nA last fine line.", "narrator")
        status = done(studio, pid)
    finally:
        hooks.fail_on = None
    assert status and status.status == "failed" and status.failed == 1 and status.done == status.total - 1
    failed = [s for s in studio.segments(pid) if s.state == "failed"]
    assert "broke on purpose" in failed[0].error


def test_a_pronunciation_change_marks_stale_and_renders_on_request(studio: Studio, projects: Projects) -> None:
    pid = studio.create_project("Words", "Say tomato now.\n\nNothing else here.", "narrator", None, FAST)
    assert done(studio, pid)
    try:
        studio.set_pronunciation(Entry("tomato", "tomahto"))
        stale = [s for s in studio.segments(pid) if s.state == "stale"]
        assert [s.text for s in stale] == ["Say tomato now."] and studio.project(pid).status == "stale"
        assert studio.rerender_stale(pid) == 1
        assert done(studio, pid)
        assert "tomahto" in studio.segments(pid)[0].spoken
    finally:
        studio.delete_pronunciation("tomato")


def test_a_second_writer_is_refused_and_serves_read_only(studio: Studio, projects: Projects) -> None:
    pid = studio.create_project("Shared", "A line to share.", "narrator", None, FAST)
    second = Projects(studio.engine, projects.folder).start()
    try:
        assert second.store.readonly and "in use by process" in second.note
        assert second.status(pid).note == second.note and second._thread is None
        with pytest.raises(InputError, match="in use"):
            second.create("More", "Another line.", "narrator")
    finally:
        second.close()


def test_rendering_resumes_after_a_restart(studio: Studio, projects: Projects, hooks: Hooks) -> None:
    text = "\n\n".join(f"Sentence {i} of the resumed book." for i in range(5))
    pid = studio.create_project("Resume", text, "narrator", None, FAST)
    assert wait_until(lambda: studio.project(pid).done >= 1)
    projects.close()  # the segment in progress is dropped (stays pending)
    with ProjectStore(projects.folder) as store:
        assert store.project(pid).done < store.project(pid).total
    studio._projects = None
    again = studio.start_projects(projects.folder)
    status = done(studio, pid)
    assert status and status.status == "done"
    assert all(len(studio.takes(pid, s.id)) == 1 for s in studio.segments(pid))
    again.close()


# ---- live visitors first -----------------------------------------------------------------------------------------
def test_background_jobs_take_only_idle_capacity() -> None:
    """A background run is preempted between steps by a live newcomer; waiting background jobs start only when no
    live job waits, and never move the live clock."""
    rec = Recorder(steps=3)
    s = Scheduler(rec.begin)
    book = s.open(background=True)
    rec.gate.clear()
    books = [s.submit(book, i, "k", f"B{i}") for i in range(3)]
    wait_for(lambda: s.running == 1)
    live = s.open()
    shorts = [s.submit(live, i, "k", f"S{i}") for i in range(2)]
    rec.gate.set()
    assert [f.result(10) for f in shorts + books] == ["S0!", "S1!", "B0!", "B1!", "B2!"]
    order = [label for label, _ in rec.log]
    assert order[: order.index("S1") + 3] == ["B0", "S0", "S0", "S0", "S1", "S1", "S1"], order
    assert s.open().start == live.start + 1  # background chunks left the clock where the live ones put it


def test_a_generate_while_a_book_renders_waits_for_at_most_one_background_step(
    studio: Studio, projects: Projects, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The measure of tests/test_turns.py, in steps: a book segment's run is held at its second step until a
    visitor's request is queued; from then to the visitor's last step, only that one book step is taken (without
    the lane, the rest of the book's run goes first), so the visitor takes at most 2x its time alone."""
    trace: list[tuple[bool, int]] = []  # (is the visitor's, step) in the order they ran
    held, queued = threading.Event(), threading.Event()
    scheduler = studio.engine.scheduler
    begin, submit_many = scheduler.begin, scheduler.submit_many

    def traced(key, items):
        run = begin(key, items)
        mine = any("Visitor" in item.text for item, _ in items)

        class Traced:
            n = 0

            def step(self):
                if not mine and self.n == 1 and not held.is_set():
                    held.set()
                    assert queued.wait(120), "the visitor was never queued"
                trace.append((mine, self.n))
                self.n += 1
                return run.step()

        return Traced()

    def submit_and_tell(owner, jobs):
        futures = submit_many(owner, jobs)
        if any("Visitor" in item[0].text for _, _, item in jobs):
            queued.set()
        return futures

    monkeypatch.setattr(scheduler, "begin", traced)
    monkeypatch.setattr(scheduler, "submit_many", submit_and_tell)
    text = "\n\n".join(f"Book sentence {i} keeps the engine busy for a while." for i in range(4))
    pid = studio.create_project("Busy", text, "narrator", None, FAST)
    assert held.wait(120), "the book never started"
    mark = len(trace)
    request = SynthesisRequest(
        "Visitor says hello.", studio.engine.reference(voice="narrator"), SynthesisOptions(nfe_step=4, seed=3)
    )
    result = studio.synthesize(request)
    mine = [i for i, (m, _) in enumerate(trace) if m and i >= mark]
    book_steps_meanwhile = [t for t in trace[mark : mine[-1]] if not t[0]]
    assert result.duration > 0 and book_steps_meanwhile == [(False, 1)], trace[mark:]
    assert done(studio, pid, 300)  # and the book goes on afterwards


# ---- a real process, killed -----------------------------------------------------------------------------------------
RENDER_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from inference import Engine, EngineSettings
    from inference.studio.facade import Studio
    settings = EngineSettings(model=sys.argv[1], voices_dir=Path(sys.argv[2]), projects_dir=Path(sys.argv[3]))
    studio = Studio(Engine(settings))
    studio.start_projects()
    print("started", flush=True)
    while studio.project(1).status != "done":
        time.sleep(0.05)
    print("done", flush=True)
    """
)


@pytest.mark.e2e
def test_sigkill_mid_render_loses_and_duplicates_nothing(studio: Studio, tiny: dict[str, Path], tmp_path: Path) -> None:
    """A process renders a project; it is SIGKILLed once some segments are recorded; a new process resumes by
    itself and ends with every segment done once: one take each, every file whole, no stray file."""
    folder = tmp_path / "projects"
    voices = studio.settings.voices_dir
    text = "\n\n".join(f"Killed book sentence {i} goes on." for i in range(24))
    with ProjectStore(folder) as store:
        from inference.projects.source import read_text

        store.create("Killed", read_text(text), {"voice": "narrator", "voices": {}, "options": FAST})
    script = tmp_path / "render.py"
    script.write_text(RENDER_SCRIPT)
    args = [sys.executable, str(script), str(tiny["yaml"]), str(voices), str(folder)]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)}
    log = (tmp_path / "first.log").open("w")
    first = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        assert wait_until(lambda: _done_count(folder) >= 2, 180), "the first process rendered nothing"
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(30)
    assert _done_count(folder) < 24
    second = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0 and "done" in second.stdout, second.stdout + second.stderr
    with ProjectStore(folder) as store:
        segs = store.segments(1)
        assert all(s.state == "done" for s in segs) and len(segs) == 24
        assert all(len(store.takes(s.id)) == 1 for s in segs)
        files = sorted(p.name for p in (folder / "audio" / "1").iterdir())
        assert files == sorted(s.audio.name for s in segs)  # no temporary or orphan file left
        import soundfile as sf

        assert all(sf.info(s.audio).frames > 0 for s in segs)


def _done_count(folder: Path) -> int:
    try:
        with ProjectStore(folder, readonly=True) as store:
            return store.project(1).done
    except Exception:
        return 0


def test_a_pronunciation_set_in_the_ui_marks_rendered_segments_stale(studio: Studio, projects: Projects) -> None:
    from ui.words import WordsHandlers

    pid = studio.create_project("Words from the UI", "Say potato now.\n\nNothing else here.", "narrator", None, FAST)
    assert done(studio, pid)
    words = WordsHandlers(studio)
    try:
        words.set_pronunciation("potato", "potahto")
        assert [s.text for s in studio.segments(pid) if s.state == "stale"] == ["Say potato now."]
    finally:
        words.delete_pronunciation("potato")


def test_a_pronunciation_set_with_no_project_store_makes_none(tiny_settings, tmp_path: Path) -> None:
    studio = Studio(Engine(tiny_settings.replace(voices_dir=tmp_path / "voices")))
    studio.set_pronunciation(Entry("tomato", "tomahto"))
    assert studio.mark_stale("tomato") == 0
    assert not Path(studio.settings.projects_folder).exists()

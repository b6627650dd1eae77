"""Long-form projects through the launched app's named gradio_client endpoints (ui/projects_api.py), on the tiny
model: the answers are REST's shapes, and every operation reaches the Studio.

Case table:
| a client...                                             | gets                                                     |
|---------------------------------------------------------|----------------------------------------------------------|
| creates from pasted text (chapters, a [Guest] turn)     | the project (rendering); /list_projects lists it         |
| polls /project_status                                   | "done", progress {done, total, failed}, the same dict as |
|                                                         | REST's GET /v1/projects/{id}                             |
| /list_segments, /segment_audio                          | segments with REST's fields; each segment's WAV          |
| edits one segment's text                                | that segment alone renders again (others' bytes equal)   |
| asks another take (new seed), then keeps the first      | two takes; the first take's bytes again                  |
| locks a segment, then edits it; unlocks                 | "locked"; the edit refused, saying to unlock it          |
| changes a pronunciation the text says, /rerender_stale  | the segments saying it queued, rendered again to "done"  |
| exports m4b, mp3, wav, flac, srt, vtt, zip; a chapter   | a file of that kind, named after the project             |
| uploads a .md, pauses, cancels, resumes                 | headings as chapters; "paused", "cancelled", then "done" |
| a segment whose voice was deleted                       | "failed"; /review_segments lists it first, with why      |
| deletes                                                 | {"deleted": true}; then "There is no project ..."        |
| no text, an unknown voice, project or format, no change,| a sentence saying what to do (never a traceback)         |
| an option out of its range                              |                                                          |
| (the tab) another process writes the store              | the status shows its note; edit buttons are disabled and |
|                                                         | an edit is refused, saying where to make it             |
| (the tab) the picked project is gone (deleted elsewhere) | the view says so and stops refreshing                    |
| (the tab) the page is built and nothing is picked       | no project store is opened or made                       |
"""

from __future__ import annotations

import io
import json
import shutil
import urllib.request
import zipfile
from pathlib import Path

import pytest
import soundfile as sf

from tests.conftest import REF_TEXT, wait_until
from tests.live import run_app

BOOK = "Chapter 1\nThe first line.\n\n[Guest] A guest speaks.\n\nChapter 2\nThe river ran on.\n\nThe end."
FAST = 4  # nfe_step


@pytest.fixture(scope="module")
def client(tiny, tmp_path_factory, short_ref: Path):
    from gradio_client import Client

    root = tmp_path_factory.mktemp("ui-projects")
    (root / "voices").mkdir()
    for name in ("narrator", "guest"):
        shutil.copy(short_ref, root / "voices" / f"{name}.wav")
        (root / "voices" / f"{name}.txt").write_text(REF_TEXT, encoding="utf-8")
    env = {"F5_MODEL": str(tiny["yaml"]), "VOICES_DIR": str(root / "voices"), "F5_PROJECTS_DIR": str(root / "p")}
    with run_app(env=env, log_path=root / "app.log") as (base, _):
        c = Client(base, verbose=False)
        c.base = base  # type: ignore[attr-defined]
        yield c


def create(client, text: str = BOOK, file=None, voices=None, name: str = "Book") -> dict:
    return client.predict(name, text, file, "narrator", voices or {}, FAST, -1, api_name="/create_project")


def settled(client, pid: int, timeout: float = 180) -> dict:
    """Poll the status until nothing is left to render (there is no event across the process boundary)."""
    p = wait_until(
        lambda: (s := client.predict(pid, api_name="/project_status"))["status"] in ("done", "failed") and s, timeout
    )
    assert p, client.predict(pid, api_name="/project_status")
    return p


def audio_of(client, pid: int, sid: int) -> bytes:
    return Path(client.predict(pid, sid, api_name="/segment_audio")).read_bytes()


def segments(client, pid: int) -> list[dict]:
    return client.predict(pid, 0, 100, api_name="/list_segments")


def rest(client, path: str):
    with urllib.request.urlopen(client.base + path) as r:
        return json.load(r)


def test_a_project_from_text_to_edits(client) -> None:
    p = create(client, voices={"Guest": "guest"})
    pid = p["id"]
    assert p["status"] in ("rendering", "done") and p["progress"]["total"] == 6
    assert [c["title"] for c in p["chapters"]] == ["Chapter 1", "Chapter 2"]
    assert pid in [q["id"] for q in client.predict(api_name="/list_projects")]
    done = settled(client, pid)
    assert done["status"] == "done" and done["progress"] == {"done": 6, "total": 6, "failed": 0, "stale": 0}
    assert done == rest(client, f"/v1/projects/{pid}")  # REST's shape, one definition
    segs = segments(client, pid)
    assert segs == rest(client, f"/v1/projects/{pid}/segments")
    assert segs[2]["speaker"] == "Guest" and all(s["status"] == "done" for s in segs)
    before = {s["id"]: audio_of(client, pid, s["id"]) for s in segs}
    assert sf.info(io.BytesIO(before[segs[0]["id"]])).samplerate == 24000

    target = segs[1]["id"]
    edited = client.predict(pid, target, "A new first line.", None, None, api_name="/edit_segment")
    assert edited["text"] == "A new first line." and edited["status"] in ("pending", "rendering", "done")
    assert settled(client, pid)["status"] == "done"
    after = {s["id"]: audio_of(client, pid, s["id"]) for s in segs}
    assert after[target] != before[target]
    assert {k: v for k, v in after.items() if k != target} == {k: v for k, v in before.items() if k != target}

    other = segs[5]["id"]
    client.predict(pid, other, None, None, -1, api_name="/edit_segment")  # another take, a new seed
    assert settled(client, pid)["status"] == "done"
    takes = client.predict(pid, other, api_name="/segment_takes")
    assert len(takes) == 2 and [t["kept"] for t in takes] == [False, True]
    newer = audio_of(client, pid, other)
    assert newer != before[other]
    kept = client.predict(pid, other, takes[0]["id"], api_name="/keep_take")
    assert kept["status"] == "done" and kept["seed"] == takes[0]["seed"]
    assert audio_of(client, pid, other) == before[other]
    assert client.predict(pid, other, takes[1]["id"], api_name="/keep_take")["seed"] == takes[1]["seed"]
    assert audio_of(client, pid, other) == newer

    from gradio_client.exceptions import AppError

    assert client.predict(pid, other, True, api_name="/lock_segment")["status"] == "locked"
    with pytest.raises(AppError, match="Unlock it first"):
        client.predict(pid, other, "Changed.", None, None, api_name="/edit_segment")
    assert client.predict(pid, other, False, api_name="/lock_segment")["status"] == "done"

    client.predict("river", "rivver", False, "", api_name="/set_pronunciation")
    assert client.predict(pid, api_name="/project_status")["progress"]["stale"] == 1
    assert client.predict(pid, api_name="/rerender_stale") == {"id": pid, "queued": 1}
    assert settled(client, pid)["progress"]["stale"] == 0
    client.predict("river", "", api_name="/delete_pronunciation")


@pytest.mark.parametrize(
    ("fmt", "chapter", "magic"),
    [
        ("m4b", None, b"ftyp"),
        ("mp3", None, b""),
        ("wav", None, b"RIFF"),
        ("wav", 2, b"RIFF"),
        ("flac", None, b"fLaC"),
        ("srt", None, b"1"),
        ("vtt", None, b"WEBVTT"),
        ("zip", None, b"PK"),
    ],
)
def test_exports(client, fmt: str, chapter: int | None, magic: bytes) -> None:
    pid = next((p["id"] for p in client.predict(api_name="/list_projects") if p["name"] == "Exported"), None)
    if pid is None:
        pid = create(client, "Chapter 1\nOne line.\n\nChapter 2\nTwo lines here.", name="Exported")["id"]
    settled(client, pid)
    path = Path(client.predict(pid, fmt, chapter, api_name="/export_project"))
    data = path.read_bytes()
    assert path.name.startswith("Exported") and path.suffix == f".{fmt}", path.name
    assert magic in data[:16] and len(data) > 20
    if fmt == "zip":
        assert len(zipfile.ZipFile(io.BytesIO(data)).namelist()) >= 2
    if fmt == "srt":
        assert data.decode().count("-->") == 4 and "Two lines here." in data.decode()
    if chapter:
        whole = Path(client.predict(pid, "wav", None, api_name="/export_project")).read_bytes()
        assert len(data) < len(whole)


def test_an_uploaded_md_paused_cancelled_resumed(client, tmp_path: Path) -> None:
    from gradio_client import handle_file

    md = tmp_path / "upload.md"
    lines = "\n\n".join(f"Line {i} of the upload." for i in range(4))
    md.write_text(f"# Part one\n\n{lines}\n\n# Part two\n\nLast.", encoding="utf-8")
    p = client.predict(
        "", "", handle_file(str(md)), "narrator", None, FAST, -1, {"speed": 1.1}, api_name="/create_project"
    )
    assert p["name"] == "upload" and [c["title"] for c in p["chapters"]] == ["Part one", "Part two"]
    assert client.predict(p["id"], api_name="/pause_project")["status"] in ("paused", "done")
    assert client.predict(p["id"], api_name="/cancel_project")["status"] in ("cancelled", "done")
    assert client.predict(p["id"], api_name="/resume_project")["status"] in ("rendering", "done")
    assert settled(client, p["id"])["status"] == "done"
    assert client.predict(p["id"], api_name="/delete_project") == {"id": p["id"], "deleted": True}
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="There is no project"):
        client.predict(p["id"], api_name="/project_status")


def test_a_failed_segment_is_reviewed_first(client, short_ref: Path) -> None:
    """The Guest's voice is deleted while its project waits (an older project renders first; the waiting one is
    cancelled): its segment fails, and the review list gives it with the reason."""
    from gradio_client import handle_file

    client.predict(handle_file(str(short_ref)), "temporary", REF_TEXT, api_name="/save_voice")
    blocker = create(client, "\n\n".join(f"Sentence number {i}." for i in range(30)), name="Blocker")["id"]
    waiting = create(client, "A narrator line.\n\n[Guest] Goodbye.", voices={"Guest": "temporary"}, name="Waits")
    client.predict(waiting["id"], api_name="/cancel_project")
    assert client.predict(waiting["id"], api_name="/project_status")["progress"]["done"] == 0
    client.predict("temporary", api_name="/delete_voice")
    client.predict(blocker, api_name="/delete_project")
    client.predict(waiting["id"], api_name="/resume_project")
    p = settled(client, waiting["id"])
    assert p["status"] == "failed" and p["progress"]["failed"] == 1
    review = client.predict(waiting["id"], api_name="/review_segments")
    assert [s["text"] for s in review] == ["Goodbye."] and "temporary" in review[0]["error"]


@pytest.mark.parametrize(
    ("api", "args", "words"),
    [
        ("/create_project", ("x", "", None, "narrator", None, FAST, -1), "Paste the text"),
        ("/create_project", ("x", "Hello.", None, "nobody", None, FAST, -1), "nobody"),
        ("/create_project", ("x", "Hello.", None, "", None, FAST, -1), "Choose one of the saved voices"),
        ("/create_project", ("x", "Hello.", None, "narrator", "Guest bob", FAST, -1), "Guest: bob"),
        ("/create_project", ("x", "Hello.", None, "narrator", None, FAST, -1, {"speed": 99}), "speed"),
        ("/create_project", ("x", "Hello.", None, "narrator", None, FAST, -1, "fast"), '{"speed": 1.1}'),
        ("/project_status", (999,), "There is no project"),
        ("/project_status", (None,), "Choose a project"),
        ("/export_project", ("P", "ogg", None), "m4b"),
        ("/edit_segment", ("P", "S", "", None, None), "Give the segment a new text, voice or seed"),
        ("/segment_audio", (999, "S"), "no segment"),
        ("/list_segments", ("P", 0, 5000), "limit 1 to 1000"),
    ],
)
def test_bad_inputs_say_what_to_do(client, api: str, args: tuple, words: str) -> None:
    from gradio_client.exceptions import AppError

    if "P" in args or "S" in args:  # a project and a segment of it
        pid = create(client, "One line.", name="Errors")["id"]
        sid = segments(client, pid)[0]["id"]
        args = tuple({"P": pid, "S": sid}.get(a, a) if isinstance(a, str) else a for a in args)
    with pytest.raises(AppError) as info:
        client.predict(*args, api_name=api)
    assert words.lower() in str(info.value).lower(), str(info.value)
    assert "Traceback" not in str(info.value)


# ---- the tab's handlers in this process (no app launched) ---------------------------------------------------------
def test_a_store_another_studio_writes_is_shown_read_only(tmp_path: Path) -> None:
    import gradio as gr

    from inference import Engine, EngineSettings, Studio
    from inference.projects.source import read_text
    from inference.projects.store import ProjectStore
    from ui.projects import ProjectsTab

    writer = ProjectStore(tmp_path / "p")  # holds the writer's lock, as another studio process would
    pid = writer.create("Shared", read_text("A line to share."), {"voice": "narrator"})
    studio = Studio(Engine(EngineSettings(voices_dir=tmp_path / "v", projects_dir=tmp_path / "p")))
    try:
        with gr.Blocks():
            tab = ProjectsTab(studio)
        shown = tab.show({tab.pick: pid, tab.offset: 0})
        assert "Shared" in shown[tab.status] and "read-only" in shown[tab.status]
        assert shown[tab.timer]["active"] is False  # nothing renders here: no refresh
        gone = tab.show({tab.pick: pid + 1, tab.offset: 0})  # deleted meanwhile: said in place, the refresh stops
        assert "There is no project" in gone[tab.status] and gone[tab.timer]["active"] is False
        for button in (tab.save_btn, tab.reseed_btn, tab.lock_btn, tab.keep_btn, tab.pause_btn, tab.delete_btn):
            assert shown[button]["interactive"] is False
        seg = tab.h.list_segments(pid)[0]["id"]
        with pytest.raises(gr.Error, match="Make this change in that studio"):
            tab.h.edit_segment(pid, seg, "Changed.")
    finally:
        studio.start_projects().close()
        writer.close()


def test_building_the_page_opens_no_store(tmp_path: Path) -> None:
    from inference import Engine, EngineSettings, Studio
    from ui import build_ui
    from ui.projects import ProjectsTab

    studio = Studio(Engine(EngineSettings(voices_dir=tmp_path / "v", projects_dir=tmp_path / "p")))
    demo = build_ui(studio)
    tab = next(fn.fn.__self__ for fn in demo.fns.values() if getattr(fn.fn, "__name__", "") == "show")
    assert isinstance(tab, ProjectsTab)
    assert tab.show({tab.pick: None, tab.offset: 0})[tab.status] == ""
    assert not (tmp_path / "p").exists()

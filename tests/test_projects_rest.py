"""REST for long-form projects (api/projects.py) through the real app (create_app: login, body limits, the
renderer started with the server), with a plain HTTP client, on the tiny model.

Case table:
| request                                              | answer                                                    |
|------------------------------------------------------|-----------------------------------------------------------|
| no token                                             | 401, nothing created                                      |
| POST JSON {name, text, voice, voices, options}       | 201 {"id"}; it renders by itself to status "done"         |
| POST multipart with a .md file                       | 201; its headings are the chapters                        |
| GET list / one / segments / a segment's audio        | progress {done, total, failed}; segments with their fields|
| PATCH a segment's text                               | that segment alone renders again                          |
| POST pause / resume                                  | "paused", then rendering again to "done"                  |
| GET export?format=srt / wav&chapter=1                | streamed, with a file name                                |
| missing text, unknown voice, project, format         | 400 / 404 in OpenAI's error JSON, saying what to do       |
| DELETE                                               | {"deleted": true}; then 404                               |
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import soundfile as sf

from inference import Engine, Studio
from tests.conftest import REF_TEXT, wait_until

TOKEN = "projects-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
FAST = {"nfe_step": 4}


@pytest.fixture(scope="module")
def client(tiny_settings, tmp_path_factory, short_ref: Path):
    from fastapi.testclient import TestClient

    from app import ServerSettings, create_app

    root = tmp_path_factory.mktemp("rest-projects")
    engine = Engine(tiny_settings.replace(voices_dir=root / "voices", projects_dir=root / "projects"))
    engine.save_voice("narrator", short_ref, REF_TEXT)
    engine.save_voice("guest", short_ref, REF_TEXT)
    studio = Studio(engine)
    app, _ = create_app(ServerSettings(api_token=TOKEN), studio)
    with TestClient(app) as c:
        yield c
    studio.start_projects().close()


def finished(client, pid: int) -> dict:
    return wait_until(
        lambda: (p := client.get(f"/v1/projects/{pid}", headers=AUTH).json())["status"] in ("done", "failed") and p,
        120,
    )


def error_of(response) -> dict:
    body = response.json()
    assert set(body) == {"error"} and {"message", "type", "param", "code"} <= set(body["error"]), body
    return body["error"]


def test_the_login_is_required(client) -> None:
    r = client.post("/v1/projects", json={"name": "x", "text": "Hello.", "voice": "narrator"})
    assert r.status_code == 401
    assert client.get("/v1/projects", headers=AUTH).json()["projects"] == []


def test_a_project_over_rest_from_creation_to_export(client) -> None:
    body = {
        "name": "Rest book",
        "text": "Chapter 1\nThe first line.\n\n[Guest] A guest speaks.\n\nChapter 2\nThe end.",
        "voice": "narrator",
        "voices": {"Guest": "guest"},
        "options": FAST,
    }
    r = client.post("/v1/projects", json=body, headers=AUTH)
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    assert [p["id"] for p in client.get("/v1/projects", headers=AUTH).json()["projects"]] == [pid]
    project = finished(client, pid)
    assert project["status"] == "done" and project["progress"] == {"done": 5, "total": 5, "failed": 0, "stale": 0}
    assert [c["title"] for c in project["chapters"]] == ["Chapter 1", "Chapter 2"]
    segs = client.get(f"/v1/projects/{pid}/segments", headers=AUTH).json()
    assert {"id", "chapter", "text", "spoken_text", "status", "seed", "duration", "scores"} <= set(segs[0])
    assert segs[2]["speaker"] == "Guest" and all(s["status"] == "done" for s in segs)
    audio = {}
    for s in segs:
        r = client.get(f"/v1/projects/{pid}/segments/{s['id']}/audio", headers=AUTH)
        assert r.status_code == 200 and r.headers["content-type"] == "audio/wav"
        audio[s["id"]] = r.content
    assert sf.info(io.BytesIO(audio[segs[1]["id"]])).samplerate == 24000

    target = segs[1]["id"]
    r = client.patch(f"/v1/projects/{pid}/segments/{target}", json={"text": "A new first line."}, headers=AUTH)
    assert r.status_code == 200 and r.json()["status"] in ("pending", "rendering", "done"), r.text
    assert finished(client, pid)["status"] == "done"
    again = {s["id"]: client.get(f"/v1/projects/{pid}/segments/{s['id']}/audio", headers=AUTH).content for s in segs}
    assert again[target] != audio[target]
    assert {k: v for k, v in again.items() if k != target} == {k: v for k, v in audio.items() if k != target}

    r = client.get(f"/v1/projects/{pid}/export", params={"format": "srt"}, headers=AUTH)
    assert r.status_code == 200 and r.text.count("-->") == 5 and "A new first line." in r.text
    assert "Rest%20book.srt" in r.headers["content-disposition"]
    r = client.get(f"/v1/projects/{pid}/export", params={"format": "wav", "chapter": 1}, headers=AUTH)
    assert r.status_code == 200 and r.content[:4] == b"RIFF"

    assert client.delete(f"/v1/projects/{pid}", headers=AUTH).json() == {"id": pid, "deleted": True}
    assert error_of(client.get(f"/v1/projects/{pid}", headers=AUTH))["code"] == "not_found"


def test_an_upload_pause_and_resume(client) -> None:
    book = "# Part one\n\n" + "\n\n".join(f"Line {i} of the upload." for i in range(4)) + "\n\n# Part two\n\nLast."
    r = client.post(
        "/v1/projects",
        files={"file": ("upload.md", book.encode(), "text/markdown")},
        data={"voice": "narrator", "options": json.dumps(FAST)},
        headers=AUTH,
    )
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    paused = client.post(f"/v1/projects/{pid}/pause", headers=AUTH).json()
    assert paused["status"] in ("paused", "done") and paused["name"] == "upload"
    assert [c["title"] for c in paused["chapters"]] == ["Part one", "Part two"]
    resumed = client.post(f"/v1/projects/{pid}/resume", headers=AUTH).json()
    assert resumed["status"] in ("rendering", "done")
    assert finished(client, pid)["status"] == "done"


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("post", "/v1/projects", {"name": "x", "voice": "narrator"}, 400, "missing_required_parameter"),
        ("post", "/v1/projects", {"name": "x", "text": "Hi.", "voice": "nobody"}, 404, "voice_not_found"),
        ("post", "/v1/projects", {"name": "x", "text": "Hi.", "voice": "narrator", "voices": []}, 400, "invalid_value"),
        ("get", "/v1/projects/999", None, 404, "not_found"),
        ("get", "/v1/projects/999/segments/1/audio", None, 404, "not_found"),
        ("post", "/v1/projects/999/pause", None, 404, "not_found"),
    ],
)
def test_errors_in_the_openai_shape(client, method, path, body, status, code) -> None:
    r = getattr(client, method)(path, headers=AUTH, **({"json": body} if body is not None else {}))
    assert r.status_code == status, r.text
    err = error_of(r)
    assert err["code"] == code and err["message"].strip()


def test_an_unknown_export_format_names_the_choices(client) -> None:
    pid = client.post("/v1/projects", json={"name": "f", "text": "Hi.", "voice": "narrator"}, headers=AUTH).json()["id"]
    err = error_of(client.get(f"/v1/projects/{pid}/export", params={"format": "ogg"}, headers=AUTH))
    assert "m4b" in err["message"] and err["code"] == "invalid_value"


def test_the_server_resumes_rendering_by_itself(tiny_settings, tmp_path: Path, short_ref: Path) -> None:
    """A store with a project left half-rendered: the app starts, and with no request at all it renders to the end."""
    from app import ServerSettings, create_app
    from inference.projects.source import read_text
    from inference.projects.store import ProjectStore

    engine = Engine(tiny_settings.replace(voices_dir=tmp_path / "voices", projects_dir=tmp_path / "projects"))
    engine.save_voice("narrator", short_ref, REF_TEXT)
    with ProjectStore(tmp_path / "projects") as store:
        pid = store.create("Left", read_text("One line.\n\nTwo lines."), {"voice": "narrator", "options": FAST})
    studio = Studio(engine)
    create_app(ServerSettings(), studio)

    def rendered() -> bool:
        with ProjectStore(tmp_path / "projects", readonly=True) as store:
            return store.project(pid).done == 2

    try:
        assert wait_until(rendered, 120)
    finally:
        studio.start_projects().close()

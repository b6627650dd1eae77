"""Long-form projects over REST, under the API's login, errors in OpenAI's JSON shape (api/openai/protocol.py).

    POST   /v1/projects                              JSON {"name", "text", "voice", "voices": {tag: voice},
                                                     "options": {...}} or multipart (file, name, voice, voices and
                                                     options as JSON text) -> 201 {"id": 1}
    GET    /v1/projects                              {"projects": [project, ...]}
    GET    /v1/projects/{id}                         {"id", "name", "status", "progress": {"done", "total", "failed",
                                                     "stale"}, "chapters": [...], "seconds_left", "note"}
    GET    /v1/projects/{id}/segments                ?offset=0&limit=100: [{"id", "chapter", "text", "spoken_text",
                                                     "status", "seed", "duration", "scores", ...}]
    GET    /v1/projects/{id}/segments/{sid}/audio    the segment's kept take (WAV)
    GET    /v1/projects/{id}/review                  ?limit=100: the segments to listen to again, worst first (failed,
                                                     then flagged by their scores, lowest "quality" first), as above
    PATCH  /v1/projects/{id}/segments/{sid}          {"text"?, "voice"?, "seed"?, "whole"?}: that segment alone renders
                                                     again (a few words changed: only they, unless "whole": true)
    POST   /v1/projects/{id}/pause | /resume         the project, paused or rendering
    DELETE /v1/projects/{id}                         {"id", "deleted": true}
    GET    /v1/projects/{id}/export                  ?format=m4b|mp3|wav|flac|srt|vtt|zip&chapter=N, streamed

A JSON body may be at most F5_MAX_BODY_KB (1 MiB by default); upload a longer book as a file (F5_MAX_UPLOAD_MB).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse

from inference import PROJECT_FORMATS, InputError, Studio, project_json, segment_json

from .openai.protocol import ERRORS, ApiError
from .openai.router import OpenAIRoute

NOT_FOUND = ("There is no project", "There is no segment", "has no segment")  # lookups that miss: 404


def found(call: Any, *args: Any) -> Any:
    """`call(*args)`, a lookup that misses answered 404 (other input errors stay 400)."""
    try:
        return call(*args)
    except InputError as e:
        if any(s in e.message for s in NOT_FOUND):
            raise ApiError(404, str(e), None, "not_found") from e
        raise


async def creation(request: Request) -> dict[str, Any]:
    """The POST body as create_project's arguments: JSON, or a multipart form with `file`."""
    if request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise ApiError(400, "Missing required parameter: 'file'.", "file", "missing_required_parameter")
        fields: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str)}
        for name in ("voices", "options"):
            fields[name] = _json_field(fields, name)
        fields["text"] = (upload.filename or "book.txt", await upload.read())
        fields.setdefault("name", (upload.filename or "").rsplit(".", 1)[0])
    else:
        try:
            fields = await request.json()
        except ValueError as e:
            raise ApiError(400, "The body is not JSON.", None, "invalid_value") from e
        if not isinstance(fields, dict):
            raise ApiError(400, "The body must be a JSON object.", None, "invalid_value")
    for name in ("text", "voice"):
        if not fields.get(name):
            raise ApiError(400, f"Missing required parameter: '{name}'.", name, "missing_required_parameter")
    for name in ("voices", "options"):
        if fields.get(name) is not None and not isinstance(fields[name], dict):
            raise ApiError(400, f"'{name}' must be an object.", name, "invalid_value")
    return {k: fields.get(k) for k in ("name", "text", "voice", "voices", "options")}


def _json_field(fields: dict[str, Any], name: str) -> Any:
    raw = fields.get(name) or "{}"
    try:
        return json.loads(raw)
    except ValueError as e:
        raise ApiError(400, f"'{name}' must be a JSON object, e.g. {{}}.", name, "invalid_value") from e


def projects_router(studio: Studio) -> APIRouter:  # long: the route table, a few lines a route
    """The routes over `studio`'s projects (see the module's docstring)."""
    route_class = type("ProjectsRoute", (OpenAIRoute,), {"studio": studio})
    router = APIRouter(prefix="/v1/projects", tags=["Projects"], route_class=route_class, responses=ERRORS)

    @router.post("", status_code=201)
    async def create(request: Request) -> JSONResponse:
        """A project from text or an uploaded .txt, .md or .epub; it starts rendering in the background."""
        args = await creation(request)
        pid = await run_in_threadpool(
            studio.create_project, args["name"] or "", args["text"], args["voice"], args["voices"], args["options"]
        )
        return JSONResponse({"id": pid}, status_code=201)

    @router.get("")
    def list_projects() -> dict[str, Any]:
        return {"projects": [project_json(p) for p in studio.projects()]}

    @router.get("/{project_id}")
    def one(project_id: int) -> dict[str, Any]:
        return project_json(found(studio.project, project_id))

    @router.get("/{project_id}/segments")
    def segments(project_id: int, offset: int = Query(0, ge=0), limit: int = Query(100, ge=1, le=1000)) -> list:
        return [segment_json(s) for s in found(studio.segments, project_id, offset, limit)]

    @router.get("/{project_id}/segments/{segment_id}/audio", response_class=FileResponse)
    def audio(project_id: int, segment_id: int) -> FileResponse:
        path = found(studio.segment_audio, project_id, segment_id)
        return FileResponse(path, media_type="audio/wav", filename=f"segment-{segment_id}.wav")

    @router.get("/{project_id}/review")
    def review(project_id: int, limit: int = Query(100, ge=1, le=1000)) -> list:
        """Failed segments, then those flagged by their scores (voice similarity, words), worst quality first."""
        return [segment_json(s) for s in found(studio.review, project_id, limit)]

    @router.patch("/{project_id}/segments/{segment_id}")
    async def edit(project_id: int, segment_id: int, request: Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except ValueError as e:
            raise ApiError(400, "The body is not JSON.", None, "invalid_value") from e
        if not isinstance(body, dict) or not {"text", "voice", "seed"} & body.keys():
            raise ApiError(400, "Give the segment's new 'text', 'voice' or 'seed'.", None, "invalid_value")
        found(studio.segment, project_id, segment_id)
        whole = body.get("whole", False)
        if not isinstance(whole, bool):
            raise ApiError(400, "'whole' must be true or false.", "whole", "invalid_value")
        row = studio.edit_segment(
            project_id, segment_id, body.get("text"), body.get("voice"), body.get("seed"), whole=whole
        )
        return segment_json(row)

    @router.post("/{project_id}/pause")
    def pause(project_id: int) -> dict[str, Any]:
        found(studio.pause, project_id)
        return project_json(studio.project(project_id))

    @router.post("/{project_id}/resume")
    def resume(project_id: int) -> dict[str, Any]:
        found(studio.resume, project_id)
        return project_json(studio.project(project_id))

    @router.delete("/{project_id}")
    def delete(project_id: int) -> dict[str, Any]:
        found(studio.delete_project, project_id)
        return {"id": project_id, "deleted": True}

    @router.get("/{project_id}/export", response_class=StreamingResponse)
    def export(
        project_id: int,
        format: str = Query("m4b", description=f"one of {', '.join(PROJECT_FORMATS)}"),
        chapter: int | None = Query(None, ge=1, description="one chapter, from 1; the whole book when left out"),
    ) -> StreamingResponse:
        out = found(studio.export, project_id, format, chapter)
        disposition = f"attachment; filename*=UTF-8''{quote(out.file_name)}"
        return StreamingResponse(out.chunks, media_type=out.content_type, headers={"Content-Disposition": disposition})

    return router

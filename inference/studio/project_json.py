"""A project, a segment and a take as every interface answers them (REST's JSON, gradio_client's dicts): one shape,
written once."""

from __future__ import annotations

from typing import Any

from ..projects.render import ProjectStatus
from ..projects.schema import SegmentRow, Take


def project_json(p: ProjectStatus) -> dict[str, Any]:
    return {
        "id": p.id,
        "name": p.name,
        "status": p.status,
        "progress": {"done": p.done, "total": p.total, "failed": p.failed, "stale": p.stale},
        "chapters": [
            {"title": c.title, "done": c.done, "total": c.total, "failed": c.failed, "seconds": round(c.duration, 3)}
            for c in p.chapters
        ],
        "seconds_left": None if p.seconds_left is None else round(p.seconds_left, 1),
        "voice": p.settings.get("voice"),
        "voices": p.settings.get("voices", {}),
        "note": p.note,
    }


def segment_json(s: SegmentRow) -> dict[str, Any]:
    return {
        "id": s.id,
        "chapter": s.chapter,
        "position": s.position,
        "text": s.text,
        "spoken_text": s.spoken,
        "speaker": s.speaker,
        "voice": s.voice,
        "status": s.state,
        "seed": s.seed,
        "duration": s.duration,
        "scores": s.scores,
        "error": s.error,
    }


def take_json(t: Take) -> dict[str, Any]:
    return {
        "id": t.id,
        "segment": t.segment,
        "seed": t.seed,
        "text": t.text,
        "duration": t.duration,
        "scores": t.scores,
        "kept": t.kept,
        "created": t.created,
    }

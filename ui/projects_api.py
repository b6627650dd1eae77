"""Long-form projects for gradio_client: one named endpoint per Studio project operation, answering the same dicts
as REST (`project_json`, `segment_json`, `take_json` from inference). The Projects tab (projects.py) calls these too.

    client.predict("Book", "Chapter 1\\nIt was late.", None, "alice", {"Guest": "bob"}, 16, -1,
                   api_name="/create_project")                       # -> {"id": 1, "status": "rendering", ...}
    client.predict(1, api_name="/project_status")                     # -> {"progress": {"done", "total", ...}, ...}
    client.predict(1, "wav", 1, api_name="/export_project")           # -> a file: chapter 1 as WAV
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from inference import (
    InputError,
    Studio,
    project_json,
    segment_json,
    take_json,
)

from . import history
from .handlers import user_errors
from .options import DEFAULTS, option_docs

MAX_BOOK_BYTES = 50 * 1024 * 1024  # an uploaded .txt, .md or .epub (a 1,000,000-character book is a few MB)


def project_id(value: Any, what: str = "project") -> int:
    """An id as an interface received it (a number box gives 3 or 3.0; nothing chosen gives None)."""
    if value is None or value == "":
        raise InputError(f"No {what} is chosen.", f"Choose a {what} from the list (its id).")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{value!r} is not a {what} id.", f"Give the {what}'s id, a whole number.") from None
    if number != int(number) or number < 1:
        raise InputError(f"{value!r} is not a {what} id.", f"Give the {what}'s id, a whole number from 1.")
    return int(number)


def tag_voices(value: Any) -> dict[str, str]:
    """Dialogue tag -> saved voice, from a JSON object, [[tag, voice], ...] or lines "Guest: bob" (or "Guest = bob")."""
    if not value:
        return {}
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    if isinstance(value, list):
        pairs = value
    else:
        pairs = []
        for line in str(value).replace(",", "\n").splitlines():
            if line.strip():
                sep = ":" if ":" in line else "="
                if sep not in line:
                    raise InputError(f"{line.strip()!r} maps no tag to a voice.", "Write one 'Guest: bob' a line.")
                pairs.append(line.split(sep, 1))
    try:
        return {str(t).strip(" []"): str(v).strip() for t, v in pairs if str(t).strip() and str(v).strip()}
    except ValueError:
        raise InputError("The voices must map each dialogue tag to a saved voice.", 'Give {"Guest": "bob"}.') from None


def book(text: str | None, file: str | None) -> str | tuple[str, bytes]:
    """What create_project reads: an uploaded file (its name says its kind) wins over pasted text."""
    if file:
        path = Path(file)
        if path.stat().st_size > MAX_BOOK_BYTES:
            raise InputError(
                f"The file is over {MAX_BOOK_BYTES // 2**20} MB.", "Upload the book as .txt, .md or .epub, or in parts."
            )
        return path.name, path.read_bytes()
    if not (text or "").strip():
        raise InputError("The project has no text.", "Paste the text, or upload a .txt, .md or .epub file.")
    return text or ""


class ProjectHandlers:
    """The public endpoints over the studio's project methods; errors become gr.Error saying what to do."""

    def __init__(self, studio: Studio) -> None:
        self.studio = studio

    @user_errors
    @option_docs
    def create_project(
        self,
        name: str = "",
        text: str = "",
        file: str | None = None,
        voice: str = "",
        voices: Any = None,
        nfe_step: int = DEFAULTS["nfe_step"],
        seed: int = -1,
        options: Any = None,
    ) -> dict[str, Any]:
        """Create a long-form project; it starts rendering in the background, segment by segment.

        Args:
            name: the project's name (empty: the uploaded file's name, or "Untitled").
            text: the text to narrate; "Chapter N" lines and Markdown headings start chapters.
            file: or an uploaded .txt, .md or .epub (its headings or table of contents give the chapters).
            voice: the narrator: a saved voice's name (see /list_voices).
            voices: dialogue tags -> saved voices, e.g. {"Guest": "bob"}, for "[Guest] Hello." turns.
            seed: every segment's seed; -1 draws one per segment (recorded with its take).
            options: other synthesis options by name, e.g. {"speed": 1.1, "check": true} (see /synthesize's).
        Returns:
            the project as /project_status gives it.
        """
        source = book(text, file)
        title = (name or "").strip() or (Path(file).stem if file else "Untitled")
        if options is not None and not isinstance(options, dict):
            raise InputError("The options must map option names to values.", 'Give {"speed": 1.1}, or nothing.')
        chosen = {**(options or {}), "nfe_step": nfe_step, "seed": seed}
        pid = self.studio.create_project(title, source, voice or "", tag_voices(voices), chosen)
        return project_json(self.studio.project(pid))

    @user_errors
    def list_projects(self) -> list[dict[str, Any]]:
        """Every project with its status and progress, oldest first."""
        return [project_json(p) for p in self.studio.projects()]

    @user_errors
    def project_status(self, project: int) -> dict[str, Any]:
        """One project: its status (rendering, paused, cancelled, done, failed, stale, read-only), progress, chapters,
        the estimated seconds left, and a note when this studio only reads the store.

        Args:
            project: the project's id.
        """
        return project_json(self.studio.project(project_id(project)))

    @user_errors
    def list_segments(self, project: int, offset: int = 0, limit: int = 100) -> list[dict[str, Any]]:
        """A page of the project's segments in reading order.

        Args:
            project: the project's id.
            offset: how many segments to skip.
            limit: how many to give, at most 1000.
        """
        offset = 0 if offset is None else int(offset)
        limit = 100 if limit is None else int(limit)
        if offset < 0 or not 1 <= limit <= 1000:
            raise InputError("offset must be 0 or more and limit 1 to 1000.", "Ask for a page such as 0, 100.")
        return [segment_json(s) for s in self.studio.segments(project_id(project), offset, limit)]

    @user_errors
    def segment_audio(self, project: int, segment: int) -> str:
        """A segment's kept take (WAV).

        Args:
            project: the project's id.
            segment: the segment's id (see /list_segments).
        """
        sid = project_id(segment, "segment")
        path = self.studio.segment_audio(project_id(project), sid)
        return str(history.export_file(f"segment-{sid}.wav", path.read_bytes()))

    @user_errors
    def edit_segment(
        self, project: int, segment: int, text: str | None = None, voice: str | None = None, seed: int | None = None
    ) -> dict[str, Any]:
        """Change a segment's text, voice or seed (empty: unchanged); that segment alone renders again.

        Args:
            project: the project's id.
            segment: the segment's id.
            text: its new text.
            voice: its new voice, a saved voice's name.
            seed: its new seed (another seed is another take); -1 picks one.
        """
        pid, sid = project_id(project), project_id(segment, "segment")
        text = text if text and text.strip() else None
        if seed is not None and seed != "":
            seed = Studio.seed(seed)
        else:
            seed = None
        if text is None and not voice and seed is None:
            raise InputError("Nothing to change.", "Give the segment a new text, voice or seed.")
        return segment_json(self.studio.edit_segment(pid, sid, text, voice or None, seed))

    @user_errors
    def segment_takes(self, project: int, segment: int) -> list[dict[str, Any]]:
        """Every take of a segment, the kept one marked.

        Args:
            project: the project's id.
            segment: the segment's id.
        """
        return [take_json(t) for t in self.studio.takes(project_id(project), project_id(segment, "segment"))]

    @user_errors
    def keep_take(self, project: int, segment: int, take: int) -> dict[str, Any]:
        """Make one of a segment's takes the one it plays.

        Args:
            project: the project's id.
            segment: the segment's id.
            take: the take's id (see /segment_takes).
        """
        row = self.studio.keep(project_id(project), project_id(segment, "segment"), project_id(take, "take"))
        return segment_json(row)

    @user_errors
    def lock_segment(self, project: int, segment: int, locked: bool = True) -> dict[str, Any]:
        """Lock a segment (no edit or re-render touches it) or unlock it.

        Args:
            project: the project's id.
            segment: the segment's id.
            locked: true to lock, false to unlock.
        """
        return segment_json(self.studio.lock(project_id(project), project_id(segment, "segment"), bool(locked)))

    def _then_status(self, operation: Any, project: Any) -> dict[str, Any]:
        pid = project_id(project)
        operation(pid)
        return project_json(self.studio.project(pid))

    @user_errors
    def pause_project(self, project: int) -> dict[str, Any]:
        """Start no more of its segments (the one rendering finishes).

        Args:
            project: the project's id.
        """
        return self._then_status(self.studio.pause, project)

    @user_errors
    def resume_project(self, project: int) -> dict[str, Any]:
        """Render it again after a pause or cancel.

        Args:
            project: the project's id.
        """
        return self._then_status(self.studio.resume, project)

    @user_errors
    def cancel_project(self, project: int) -> dict[str, Any]:
        """Stop it now (the segment rendering is dropped and stays pending) until resumed.

        Args:
            project: the project's id.
        """
        return self._then_status(self.studio.cancel, project)

    @user_errors
    def review_segments(self, project: int) -> list[dict[str, Any]]:
        """The segments to listen to again, worst first: failed ones, then those their checks flagged.

        Args:
            project: the project's id.
        """
        return [segment_json(s) for s in self.studio.review(project_id(project))]

    @user_errors
    def rerender_stale(self, project: int) -> dict[str, Any]:
        """Render again the segments a pronunciation change made stale.

        Args:
            project: the project's id.
        Returns:
            {"id", "queued": how many segments}.
        """
        pid = project_id(project)
        return {"id": pid, "queued": self.studio.rerender_stale(pid)}

    @user_errors
    def export_project(self, project: int, format: str = "m4b", chapter: int | None = None) -> str:
        """The project as one file, from its rendered segments.

        Args:
            project: the project's id.
            format: m4b (chapters marked), mp3, wav, flac, srt, vtt or zip (one file per chapter).
            chapter: one chapter, from 1; empty or 0 for the whole book.
        """
        out = self.studio.export(project_id(project), format or "", int(chapter) if chapter else None)
        return str(history.export_file(out.file_name, out.chunks))

    @user_errors
    def delete_project(self, project: int) -> dict[str, Any]:
        """Delete a project, its segments and their audio.

        Args:
            project: the project's id.
        """
        pid = project_id(project)
        self.studio.delete_project(pid)
        return {"id": pid, "deleted": True}

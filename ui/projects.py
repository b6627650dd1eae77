"""The Projects tab: create a long-form project, watch it render chapter by chapter, listen to and fix any segment,
review the flagged ones, export. Every action is a ProjectHandlers call (projects_api.py), the same as the named
endpoints, which are wired here on hidden inputs. Nothing opens the project store until the tab is used."""

from __future__ import annotations

from typing import Any

import gradio as gr
from gradio.blocks import Block

from inference import PROJECT_FORMATS, Studio, segment_json

from .handlers import user_errors
from .options import control, seed_box
from .projects_api import ProjectHandlers, project_id

PAGE = 100  # segments a page of the table shows
TAB_OPTIONS = ("speed", "normalize", "check")  # beside quality and seed in the tab; /create_project takes any option
REFRESH_S = 3.0  # the view's refresh while a project renders
LIST_HEADERS = ["Id", "Name", "Status", "Done", "Total", "Failed", "Time left"]
SEGMENT_HEADERS = ["Id", "Chapter", "#", "Speaker", "Status", "Seed", "Seconds", "Text"]
TAKE_HEADERS = ["Take", "Seed", "Seconds", "Kept", "Check"]
REVIEW_HEADERS = ["Id", "Chapter", "Status", "Check", "Text"]
HELP = """Narrate a whole text: a book, a course, a long article. Paste it or upload a **.txt**, **.md** or **.epub**
(headings, its table of contents, or "Chapter N" lines make the chapters). It renders in the background, segment by
segment, while the studio is idle, and survives a restart. Fix any segment afterwards: it alone renders again."""


def minutes(seconds: float | None) -> str:
    if seconds is None:
        return "estimating…"
    return f"about {seconds / 60:.0f} min" if seconds >= 90 else f"about {seconds:.0f} s"


def status_markdown(p: dict[str, Any]) -> str:
    """The project's state, its progress per chapter with the time left (the estimate shared by the segments left)."""
    prog = p["progress"]
    left_total = sum(c["total"] - c["done"] - c["failed"] for c in p["chapters"]) or 1
    eta = p["seconds_left"]
    lines = [
        f"**{p['name']}** · {p['status']} · {prog['done']}/{prog['total']} segments done"
        + (f", {prog['failed']} failed" if prog["failed"] else "")
        + (f", {prog['stale']} stale" if prog["stale"] else "")
        + (f" · {minutes(eta)} left" if p["status"] == "rendering" else ""),
        "",
        "| chapter | done | failed | audio | time left |",
        "|---|---|---|---|---|",
    ]
    for i, c in enumerate(p["chapters"], 1):
        left = c["total"] - c["done"] - c["failed"]
        when = "" if not left else minutes(None if eta is None else eta * left / left_total)
        title = c["title"].replace("|", "/")
        lines.append(f"| {i}. {title} | {c['done']}/{c['total']} | {c['failed']} | {c['seconds']:.0f} s | {when} |")
    if p["note"]:
        lines += ["", f"⚠️ {p['note']}"]
    return "\n".join(lines)


def check_cell(scores: dict | None, error: str | None = None) -> str:
    if error:
        return error
    if not scores:
        return ""
    parts = []
    if scores.get("worst_wer") is not None:
        parts.append(f"worst {scores['worst_wer']:.0%}")
    if scores.get("quality") is not None:
        parts.append(f"quality {scores['quality']:.2f}")
    if scores.get("flagged"):
        parts.append("flagged")
    return " · ".join(parts)


class ProjectsTab:
    """The tab's components; handlers read them from dicts of component values."""

    def __init__(self, studio: Studio) -> None:
        self.h = ProjectHandlers(studio)
        gr.Markdown(HELP)
        self._create()
        self._project()
        self._segment()
        self._api_inputs()

    def _create(self) -> None:
        with gr.Accordion("New project", open=True, elem_id="proj-new"):
            with gr.Row():
                with gr.Column(scale=3):
                    self.name = gr.Textbox(label="Name", elem_id="proj-name", placeholder="e.g. My book")
                    self.text = gr.Textbox(label="Text", lines=6, elem_id="proj-text", placeholder="Chapter 1\n…")
                    self.file = gr.File(
                        label="…or upload .txt, .md or .epub", file_types=[".txt", ".md", ".epub"], height=110,
                        elem_id="proj-file",
                    )  # fmt: skip
                with gr.Column(scale=2):
                    self.voice = gr.Dropdown(
                        choices=[], label="Narrator (a saved voice)", allow_custom_value=True, elem_id="proj-voice"
                    )
                    self.voices = gr.Textbox(
                        label="Dialogue voices (one 'Tag: voice' a line, for [Tag] turns)", lines=2,
                        elem_id="proj-voices", placeholder="Guest: bob",
                    )  # fmt: skip
                    self.nfe_step = control("nfe_step", elem_id="proj-quality")
                    self.seed = seed_box(elem_id="proj-seed")
                    with gr.Accordion("Settings", open=False, elem_id="proj-settings"):
                        self.options = {name: control(name, elem_id=f"proj-opt-{name}") for name in TAB_OPTIONS}
                    self.create_btn = gr.Button("Create project", variant="primary", elem_id="proj-create")

    def _project(self) -> None:
        with gr.Row():
            self.pick = gr.Dropdown(choices=[], value=None, label="Project", elem_id="proj-pick", scale=3)
            self.refresh_btn = gr.Button("Refresh", size="sm", elem_id="proj-refresh", scale=1)
        self.listing = gr.Dataframe(headers=LIST_HEADERS, interactive=False, elem_id="proj-list", max_height=200)
        self.status = gr.Markdown(elem_id="proj-status")
        with gr.Row():
            self.pause_btn = gr.Button("Pause", size="sm", elem_id="proj-pause")
            self.resume_btn = gr.Button("Resume", size="sm", elem_id="proj-resume")
            self.cancel_btn = gr.Button("Cancel rendering", size="sm", elem_id="proj-cancel")
            self.stale_btn = gr.Button("Render stale segments again", size="sm", elem_id="proj-stale")
            self.delete_btn = gr.Button("Delete project", size="sm", variant="stop", elem_id="proj-delete")
        with gr.Row():
            self.chapter = gr.Number(0, precision=0, minimum=0, label="Chapter (0 = the whole book)",
                                     elem_id="proj-chapter")  # fmt: skip
            self.format = gr.Radio(list(PROJECT_FORMATS), value="m4b", label="Export as", elem_id="proj-format")
        with gr.Row():
            self.listen_btn = gr.Button("Listen to it so far", size="sm", elem_id="proj-listen")
            self.export_btn = gr.Button("Export", size="sm", elem_id="proj-export")
        with gr.Row():
            self.chapter_audio = gr.Audio(label="So far", type="filepath", interactive=False, elem_id="proj-so-far")
            self.export_file = gr.File(label="Export", interactive=False, elem_id="proj-export-file")
        self.timer = gr.Timer(REFRESH_S, active=False)

    def _segment(self) -> None:
        with gr.Row():
            self.offset = gr.Number(0, precision=0, minimum=0, label="From segment #", elem_id="proj-offset", scale=1)
            gr.Markdown("Pick a row to open its segment.")
        self.segments = gr.Dataframe(
            headers=SEGMENT_HEADERS, interactive=False, wrap=True, elem_id="proj-segments", max_height=320
        )
        with gr.Accordion("Segment", open=True, elem_id="proj-segment"):
            with gr.Row():
                self.seg_id = gr.Number(None, precision=0, label="Segment id", elem_id="proj-seg-id", scale=1)
                self.open_btn = gr.Button("Open", size="sm", elem_id="proj-seg-open", scale=1)
                self.seg_state = gr.Markdown(elem_id="proj-seg-state")
            self.seg_audio = gr.Audio(label="Segment", type="filepath", interactive=False, elem_id="proj-seg-audio")
            self.seg_text = gr.Textbox(label="Its text", lines=2, elem_id="proj-seg-text")
            with gr.Row():
                self.seg_voice = gr.Dropdown(choices=[], label="Its voice (empty: the project's)",
                                             allow_custom_value=True, elem_id="proj-seg-voice")  # fmt: skip
                self.seg_seed = gr.Number(None, precision=0, label="Its seed", elem_id="proj-seg-seed")
            with gr.Row():
                self.save_btn = gr.Button(
                    "Save and render again", variant="primary", size="sm", elem_id="proj-seg-save"
                )
                self.reseed_btn = gr.Button("Another take (new seed)", size="sm", elem_id="proj-seg-reseed")
                self.lock_btn = gr.Button("Lock", size="sm", elem_id="proj-seg-lock")
                self.unlock_btn = gr.Button("Unlock", size="sm", elem_id="proj-seg-unlock")
            self.takes = gr.Dataframe(headers=TAKE_HEADERS, interactive=False, label="Takes", elem_id="proj-takes")
            with gr.Row():
                self.take_id = gr.Number(None, precision=0, label="Take to keep", elem_id="proj-take-id")
                self.keep_btn = gr.Button("Keep this take", size="sm", elem_id="proj-keep")
        with gr.Accordion("Review: failed and flagged segments, worst first", open=False, elem_id="proj-review-box"):
            self.review_btn = gr.Button("List them", size="sm", elem_id="proj-review-btn")
            self.review = gr.Dataframe(headers=REVIEW_HEADERS, interactive=False, wrap=True, elem_id="proj-review")

    def _api_inputs(self) -> None:
        """Hidden inputs and outputs of the named endpoints (the tab's controls are not an API)."""
        self.api_button = gr.Button(visible=False)
        self.api: dict[str, Any] = {
            "project": gr.Number(None, precision=0, label="Project id", visible=False),
            "segment": gr.Number(None, precision=0, label="Segment id", visible=False),
            "take": gr.Number(None, precision=0, label="Take id", visible=False),
            "name": gr.Textbox(label="Name", visible=False),
            "text": gr.Textbox(label="Text", visible=False),
            "file": gr.File(label="Book file", visible=False),
            "voice": gr.Textbox(label="Voice", visible=False),
            "voices": gr.JSON(None, label="Voices (tag -> saved voice)", visible=False),
            "nfe_step": gr.Number(32, precision=0, label="Steps", visible=False),
            "seed": gr.Number(-1, precision=0, label="Seed (-1 = pick one)", visible=False),
            "options": gr.JSON(None, label="Other options", visible=False),
            "offset": gr.Number(0, precision=0, label="Offset", visible=False),
            "limit": gr.Number(100, precision=0, label="Limit", visible=False),
            "locked": gr.Checkbox(True, label="Locked", visible=False),
            "format": gr.Textbox("m4b", label="Format", visible=False),
            "chapter": gr.Number(None, precision=0, label="Chapter", visible=False),
            "json": gr.JSON(label="Answer", visible=False),
            "out_file": gr.File(label="File", visible=False),
        }

    # ---- handlers over dicts of component values ----------------------------------------------------------------
    def _view(self, pid: int, offset: Any = 0) -> dict:
        """The chosen project's status, its page of segments, and the refresh while it renders; edits off when the
        store is read-only here."""
        p = self.h.project_status(pid)
        segs = self.h.list_segments(pid, offset or 0, PAGE)
        rows = [
            [s["id"], s["chapter"] + 1, s["position"] + 1, s["speaker"], s["status"], s["seed"],
             None if s["duration"] is None else round(s["duration"], 2), s["text"]]
            for s in segs
        ]  # fmt: skip
        writable = gr.update(interactive=not p["note"])
        edits = (self.save_btn, self.reseed_btn, self.lock_btn, self.unlock_btn, self.keep_btn, self.pause_btn)
        return {
            self.status: status_markdown(p),
            self.segments: rows,
            self.timer: gr.update(active=p["status"] == "rendering"),
            **{b: writable for b in (*edits, self.resume_btn, self.cancel_btn, self.stale_btn, self.delete_btn)},
        }

    def show(self, data: dict) -> dict:
        """The view of the picked project (a pick, a page, the timer); one that cannot be shown (deleted meanwhile)
        says why in its place and stops the refresh, rather than a message every few seconds."""
        if data[self.pick] is None:
            return {self.status: "", self.segments: [], self.timer: gr.update(active=False)}
        try:
            return self._view(data[self.pick], data[self.offset])
        except gr.Error as e:
            return {self.status: f"⚠️ {e.message}", self.segments: [], self.timer: gr.update(active=False)}

    @user_errors
    def list_all(self, data: dict) -> dict:
        """The project list and the voices as they are now (the tab was opened, or Refresh pressed)."""
        projects = self.h.list_projects()
        rows = [
            [p["id"], p["name"], p["status"], p["progress"]["done"], p["progress"]["total"], p["progress"]["failed"],
             minutes(p["seconds_left"]) if p["status"] == "rendering" else ""]
            for p in projects
        ]  # fmt: skip
        ids = [p["id"] for p in projects]
        picked = data[self.pick] if data[self.pick] in ids else (ids[-1] if ids else None)
        names = self.h.studio.voices.names()
        return {
            self.listing: rows,
            self.pick: gr.update(choices=[(f"{p['name']} (#{p['id']})", p["id"]) for p in projects], value=picked),
            self.voice: gr.update(choices=names),
            self.seg_voice: gr.update(choices=names),
        }

    @user_errors
    def create(self, data: dict) -> dict:
        p = self.h.create_project(
            data[self.name], data[self.text], data[self.file], data[self.voice], data[self.voices],
            data[self.nfe_step], data[self.seed], {name: data[c] for name, c in self.options.items()},
        )  # fmt: skip
        gr.Info(f"Project {p['name']!r} created: {p['progress']['total']} segments in {len(p['chapters'])} chapters.")
        return {self.pick: gr.update(choices=[(f"{p['name']} (#{p['id']})", p["id"])], value=p["id"])}

    @user_errors
    def act(self, data: dict, operation: str) -> dict:
        pid = data[self.pick]
        getattr(self.h, operation)(pid)
        return self._view(pid, data[self.offset])

    @user_errors
    def delete(self, data: dict) -> dict:
        self.h.delete_project(data[self.pick])
        gr.Info("Project deleted.")
        return {self.pick: gr.update(value=None)}

    @user_errors
    def listen(self, data: dict) -> str:
        return self.h.export_project(data[self.pick], "wav", data[self.chapter] or None)

    @user_errors
    def export(self, data: dict) -> str:
        return self.h.export_project(data[self.pick], data[self.format], data[self.chapter] or None)

    @user_errors
    def open_segment(self, data: dict) -> dict:
        pid, sid = project_id(data[self.pick]), project_id(data[self.seg_id], "segment")
        seg = segment_json(self.h.studio.segment(pid, sid))
        takes = self.h.segment_takes(pid, sid)
        audio = self.h.segment_audio(pid, sid) if seg["status"] in ("done", "locked", "stale") else None
        state = f"**{seg['status']}**" + (f": {seg['error']}" if seg["error"] else "")
        state += f" · {len(takes)} take{'s' if len(takes) != 1 else ''}"
        return {
            self.seg_state: state,
            self.seg_audio: audio,
            self.seg_text: seg["text"],
            self.seg_voice: seg["voice"],
            self.seg_seed: seg["seed"],
            self.takes: [
                [
                    t["id"],
                    t["seed"],
                    None if t["duration"] is None else round(t["duration"], 2),
                    "✓" if t["kept"] else "",
                    check_cell(t["scores"]),
                ]
                for t in takes
            ],  # fmt: skip
        }

    def pick_row(self, evt: gr.SelectData) -> Any:
        row = evt.row_value
        return row[0] if row else gr.skip()

    @user_errors
    def edit(self, data: dict, new_seed: bool = False) -> dict:
        pid, sid = data[self.pick], data[self.seg_id]
        if new_seed:
            self.h.edit_segment(pid, sid, None, None, -1)
        else:
            self.h.edit_segment(pid, sid, data[self.seg_text], data[self.seg_voice], data[self.seg_seed])
        return {**self._view(pid, data[self.offset]), self.timer: gr.update(active=True)}

    @user_errors
    def lock(self, data: dict, locked: bool) -> dict:
        self.h.lock_segment(data[self.pick], data[self.seg_id], locked)
        return self._view(data[self.pick], data[self.offset])

    @user_errors
    def keep(self, data: dict) -> dict:
        self.h.keep_take(data[self.pick], data[self.seg_id], data[self.take_id])
        return self._view(data[self.pick], data[self.offset])

    @user_errors
    def review_rows(self, data: dict) -> list[list]:
        return [
            [s["id"], s["chapter"] + 1, s["status"], check_cell(s["scores"], s["error"]), s["text"]]
            for s in self.h.review_segments(data[self.pick])
        ]

    def wire(self, tab: gr.Tab) -> None:  # long: the tab's event table, one statement an event
        """Wire the tab's events and the named endpoints (after every tab is laid out)."""
        private: dict[str, Any] = {"api_visibility": "private"}
        view_out = [
            self.status, self.segments, self.timer, self.save_btn, self.reseed_btn, self.lock_btn, self.unlock_btn,
            self.keep_btn, self.pause_btn, self.resume_btn, self.cancel_btn, self.stale_btn, self.delete_btn,
        ]  # fmt: skip
        picked: set[Block] = {self.pick, self.offset}
        listed: set[Block] = {self.pick}
        list_out = [self.listing, self.pick, self.voice, self.seg_voice]
        for opened in (tab.select, self.refresh_btn.click):
            opened(self.list_all, listed, list_out, **private, queue=False, show_progress="hidden")
        for changed in (self.pick.change, self.offset.submit, self.timer.tick):
            changed(self.show, picked, view_out, **private, queue=False, show_progress="hidden")
        creating: set[Block] = {self.name, self.text, self.file, self.voice, self.voices, self.nfe_step, self.seed}
        creating |= set(self.options.values())
        self.create_btn.click(self.create, creating, [self.pick], **private).success(
            self.list_all, listed, list_out, **private, queue=False
        )
        for button, operation in (
            (self.pause_btn, "pause_project"), (self.resume_btn, "resume_project"),
            (self.cancel_btn, "cancel_project"), (self.stale_btn, "rerender_stale"),
        ):  # fmt: skip
            button.click(lambda d, op=operation: self.act(d, op), picked, view_out, **private)
        self.delete_btn.click(self.delete, listed, [self.pick], **private).success(
            self.list_all, listed, list_out, **private, queue=False
        )
        export_in: set[Block] = {self.pick, self.chapter, self.format}
        self.listen_btn.click(self.listen, export_in, self.chapter_audio, **private)
        self.export_btn.click(self.export, export_in, self.export_file, **private)
        seg_in: set[Block] = {self.pick, self.seg_id}
        seg_out = [self.seg_state, self.seg_audio, self.seg_text, self.seg_voice, self.seg_seed, self.takes]
        self.segments.select(self.pick_row, None, self.seg_id, **private, queue=False).then(
            self.open_segment, seg_in, seg_out, **private
        )
        self.open_btn.click(self.open_segment, seg_in, seg_out, **private)
        edit_in: set[Block] = {self.pick, self.offset, self.seg_id, self.seg_text, self.seg_voice, self.seg_seed}
        self.save_btn.click(self.edit, edit_in, view_out, **private)
        self.reseed_btn.click(lambda d: self.edit(d, True), edit_in, view_out, **private)
        self.lock_btn.click(lambda d: self.lock(d, True), edit_in, view_out, **private)
        self.unlock_btn.click(lambda d: self.lock(d, False), edit_in, view_out, **private)
        self.keep_btn.click(self.keep, {*edit_in, self.take_id}, view_out, **private).then(
            self.open_segment, seg_in, seg_out, **private
        )
        self.review_btn.click(self.review_rows, listed, self.review, **private)
        self._wire_api()

    def _wire_api(self) -> None:
        a, h = self.api, self.h
        endpoints: tuple[tuple[Any, list[str], str], ...] = (
            (h.create_project, ["name", "text", "file", "voice", "voices", "nfe_step", "seed", "options"], "json"),
            (h.list_projects, [], "json"),
            (h.project_status, ["project"], "json"),
            (h.list_segments, ["project", "offset", "limit"], "json"),
            (h.segment_audio, ["project", "segment"], "out_file"),
            (h.edit_segment, ["project", "segment", "text", "voice", "seed"], "json"),
            (h.segment_takes, ["project", "segment"], "json"),
            (h.keep_take, ["project", "segment", "take"], "json"),
            (h.lock_segment, ["project", "segment", "locked"], "json"),
            (h.pause_project, ["project"], "json"),
            (h.resume_project, ["project"], "json"),
            (h.cancel_project, ["project"], "json"),
            (h.review_segments, ["project"], "json"),
            (h.rerender_stale, ["project"], "json"),
            (h.export_project, ["project", "format", "chapter"], "out_file"),
            (h.delete_project, ["project"], "json"),
        )
        for fn, inputs, output in endpoints:
            self.api_button.click(
                fn, [a[i] for i in inputs], a[output], api_name=fn.__name__, queue=output == "out_file"
            )

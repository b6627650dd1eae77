"""The Gradio Blocks: what a visitor sees, and the named endpoints gradio_client sees."""

from __future__ import annotations

import gradio as gr

from inference import Studio

from . import models
from .clone import CloneTab
from .detect import DetectTab
from .dialogue import DialogueTab
from .dub import DubTab
from .edit import EditTab
from .handlers import status_markdown
from .projects import ProjectsTab

# The public API: gradio_client's view_api() lists exactly these (a test pins them).
API_NAMES = (
    "/synthesize",
    "/transcribe",
    "/reference_notes",
    "/consent_phrase",
    "/give_consent",
    "/list_voices",
    "/save_voice",
    "/rename_voice",
    "/delete_voice",
    "/synthesize_dialogue",
    "/synthesize_captions",
    "/dub",
    "/edit_speech",
    "/synthesize_variations",
    "/normalize_text",
    "/list_pronunciations",
    "/set_pronunciation",
    "/delete_pronunciation",
    # long-form projects (ui/projects_api.py)
    "/create_project",
    "/list_projects",
    "/project_status",
    "/list_segments",
    "/segment_audio",
    "/edit_segment",
    "/segment_takes",
    "/keep_take",
    "/lock_segment",
    "/pause_project",
    "/resume_project",
    "/cancel_project",
    "/review_segments",
    "/rerender_stale",
    "/export_project",
    "/delete_project",
    # provenance (ui/detect.py)
    "/detect_watermark",
)
INTRO = """# 🗣️ F5 Voice Studio
Record or upload **5–12 seconds** of clean speech, type what the voice should say, and press **Generate**.
The transcript of the reference is optional: leave it empty and it is transcribed for you."""
TIPS = """**How to get a good clone:** 5 to 12 s of one person speaking clearly, no music or background noise,
no long pauses; a transcript that matches the recording word for word (check the one filled in for you).
Longer recordings are clipped to ~12 s at a pause. English and Chinese work with the default model.

**Consent:** only clone voices you have the right to use: your own, or with the speaker's permission.
Do not use cloned voices to deceive or impersonate."""


def build_ui(studio: Studio) -> gr.Blocks:  # long: every tab laid out, then wired, in the order shown
    def status() -> str:
        return status_markdown(studio)

    with gr.Blocks(title="F5 Voice Studio", delete_cache=(600, 3600)) as demo:
        gr.Markdown(INTRO)
        status_line = gr.Markdown(status(), elem_id="model-status")
        with gr.Tab("Clone a voice"):
            clone = CloneTab(studio)
        with gr.Tab("Dialogue") as dialogue_tab:
            dialogue = DialogueTab(studio)
        with gr.Tab("Dub subtitles") as dub_tab:
            dub = DubTab(studio)
        with gr.Tab("Edit a recording"):
            edit = EditTab(studio)
        with gr.Tab("Projects") as projects_tab:
            projects = ProjectsTab(studio)
        with gr.Tab("Check a clip"):
            detect = DetectTab(studio)
        with gr.Accordion("Tips and consent", open=False):
            gr.Markdown(TIPS)
        with gr.Accordion("Model", open=False, elem_id="model-panel"):
            # server paths and environment variables: the operator's alone (models.is_operator), filled in on load
            model_note = gr.Markdown(elem_id="model-running")
            community = gr.Dataframe(
                headers=["language", "model", "F5_MODEL", "F5_CKPT", "F5_VOCAB"],
                interactive=False,
                wrap=True,
                visible=False,
                elem_id="community-models",
            )
        clone.wire(status_line)
        dialogue.wire(dialogue_tab, demo)
        dub.wire(dub_tab)
        edit.wire()
        projects.wire(projects_tab)
        detect.wire()
        timer = gr.Timer(2.0)
        timer.tick(status, None, status_line, api_visibility="private", queue=False, show_progress="hidden")
        demo.load(status, None, status_line, api_visibility="private", queue=False, show_progress="hidden")

        def model_panel(request: gr.Request) -> tuple[str, dict]:
            client = request.client.host if request.client else None
            if not models.is_operator(client, request.headers.get("host")):
                return models.VISITOR_MODEL_MARKDOWN, gr.update(visible=False)
            rows = models.community_rows()
            return models.current_model_markdown(studio.settings), gr.update(value=rows, visible=True)

        demo.load(model_panel, None, [model_note, community], api_visibility="private", queue=False)
        # each visitor sees the saved voices as they are now, not as they were at start-up
        demo.load(clone.voices.refresh, None, clone.voices.dropdown, api_visibility="private", queue=False)
    return demo

"""The Gradio Blocks: what a visitor sees, and the named endpoints gradio_client sees."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import gradio as gr

from inference import Engine

from . import models
from .dialogue import build_dialogue_tab
from .handlers import make_handlers
from .voices import build_voice_panel

# The public API: gradio_client's view_api() lists exactly these (a test pins them).
API_NAMES = ("/synthesize", "/transcribe", "/list_voices", "/save_voice", "/rename_voice", "/delete_voice",
             "/synthesize_dialogue")
PRESET_CHOICES = [("Fast (7 steps)", 7), ("Balanced (16 steps)", 16), ("Best (32 steps)", 32)]
INTRO = """# 🗣️ F5 Voice Studio
Record or upload **5–12 seconds** of clean speech, type what the voice should say, and press **Generate**.
The transcript of the reference is optional: leave it empty and it is transcribed for you."""
TIPS = """**How to get a good clone:** 5 to 12 s of one person speaking clearly, no music or background noise,
no long pauses; a transcript that matches the recording word for word (check the one filled in for you).
Longer recordings are clipped to ~12 s at a pause. English and Chinese work with the default model.

**Consent:** only clone voices you have the right to use: your own, or with the speaker's permission.
Do not use cloned voices to deceive or impersonate."""


def example_rows() -> list[list[str]]:
    """One-click examples from the voices f5-tts ships, with their transcripts (empty = transcribed)."""
    ex = files("f5_tts").joinpath("infer/examples")
    return [
        [str(ex / "basic/basic_ref_en.wav"), "Some call me nature, others call me mother nature.",
         "I don't really care what you call me. I've been a silent spectator, watching species evolve, empires rise "
         "and fall. But always remember, I am mighty and enduring."],
        [str(ex / "basic/basic_ref_zh.wav"), "对，这就是我，万人敬仰的太乙真人。",
         "突然，身边一阵笑声。我看着他们，意气风发地挺直了胸膛，甩了甩那稍显肉感的双臂，轻笑道。"],
        [str(ex / "multi/main.flac"), "", "A Town Mouse and a Country Mouse were acquaintances."],
        [str(ex / "multi/town.flac"), "", "My poor dear friend, you live here no better than the ants!"],
        [str(ex / "multi/country.flac"), "", "No, no, I have a very good life here."],
    ]


def build_ui(engine: Engine) -> gr.Blocks:
    h = make_handlers(engine)
    with gr.Blocks(title="F5 Voice Studio", delete_cache=(600, 3600)) as demo:
        gr.Markdown(INTRO)
        status = gr.Markdown(h["status"](), elem_id="model-status")
        with gr.Tab("Clone a voice"):
            voices = _clone_tab(engine, h, status)
        with gr.Tab("Dialogue"):
            build_dialogue_tab(engine)
        with gr.Accordion("Tips and consent", open=False):
            gr.Markdown(TIPS)
        with gr.Accordion("Model", open=False):
            gr.Markdown(models.current_model_markdown(engine.settings))
            gr.Dataframe(models.community_rows(), headers=["language", "model", "F5_MODEL", "F5_CKPT", "F5_VOCAB"],
                         interactive=False, wrap=True, elem_id="community-models")
        timer = gr.Timer(2.0)
        timer.tick(h["status"], None, status, api_visibility="private", queue=False, show_progress="hidden")
        demo.load(h["status"], None, status, api_visibility="private", queue=False, show_progress="hidden")
        # each visitor sees the saved voices as they are now, not as they were at start-up
        demo.load(voices.refresh, None, voices.dropdown, api_visibility="private", queue=False)
    return demo


def _clone_tab(engine: Engine, h: dict, status: gr.Markdown):  # noqa: ANN202 - returns the voice panel
    with gr.Row():
        with gr.Column():
            ref_audio = gr.Audio(label="Reference voice", sources=["upload", "microphone"], type="filepath",
                                 editable=True, elem_id="ref-audio")
            ref_text = gr.Textbox(label="Reference transcript (optional)", lines=2, elem_id="ref-text",
                                  placeholder="Leave empty to transcribe automatically")
            transcribe_btn = gr.Button("Transcribe reference", size="sm")
            voices = build_voice_panel(engine, ref_audio, ref_text)
        with gr.Column():
            text = gr.Textbox(label="Text to speak", lines=6, elem_id="gen-text",
                              placeholder="Type what the cloned voice should say…")
            text_file = gr.File(label="…or upload a .txt file", file_types=[".txt"], height=130)
    rows = example_rows()
    examples = gr.Dataset(  # a plain table of text: no audio is probed at start-up (gr.Examples runs ffprobe)
        components=[gr.Textbox(visible=False, label="voice"), gr.Textbox(visible=False, label="transcript"),
                    gr.Textbox(visible=False, label="text")],
        samples=[[Path(audio).name, ref, gen] for audio, ref, gen in rows], type="index",
        label="Examples: click one, then Generate", elem_id="examples")
    with gr.Accordion("Settings", open=False):
        with gr.Row():
            nfe_step = gr.Radio(PRESET_CHOICES, value=32, label="Quality")
            speed = gr.Slider(0.3, 3.0, value=1.0, step=0.05, label="Speed")
            cross_fade = gr.Slider(0.0, 1.0, value=0.15, step=0.01, label="Cross-fade between sentences (s)")
        with gr.Row():
            cfg_strength = gr.Slider(0.0, 10.0, value=2.0, step=0.1, label="CFG strength")
            seed = gr.Number(value=-1, precision=0, label="Seed (-1 = random)", minimum=-1)
            randomize = gr.Checkbox(value=True, label="Randomize seed each time")
            remove_silence = gr.Checkbox(value=False, label="Remove long silences")
    generate = gr.Button("Generate", variant="primary", elem_id="generate")
    api_synthesize = gr.Button(visible=False)  # carries the public /synthesize endpoint (no streaming)
    live = gr.Audio(label="Live playback (long text plays while the rest is generated)", streaming=True,
                    autoplay=True, interactive=False, elem_id="live")
    with gr.Row():
        out_audio = gr.Audio(label="Result", type="numpy", format="wav", interactive=False, elem_id="result")
        spectrogram = gr.Image(label="Spectrogram", interactive=False, height=200)
    with gr.Row():
        seed_used = gr.Number(label="Seed used", precision=0, interactive=False)
        info = gr.Markdown(elem_id="take-info")
    takes = gr.State([])  # this session's takes (ui/history.py); per visitor, gone when the session ends
    with gr.Accordion("This session's takes", open=False):
        table = gr.Dataframe(headers=["#", "text", "voice", "seed", "seconds", "RTF"], interactive=False,
                             elem_id="takes-table")
        with gr.Row():
            pick = gr.Dropdown(choices=[], label="Take", elem_id="take-pick", scale=3)
            fmt = gr.Radio(["wav", "mp3", "flac"], value="wav", label="Download format", scale=2)
            reuse = gr.Button("Reuse its text, seed and settings", size="sm", scale=1)
        with gr.Row():
            take_audio = gr.Audio(label="Replay", type="numpy", interactive=False, elem_id="take-audio")
            take_file = gr.File(label="Download", interactive=False, elem_id="take-file")

    seed_state = gr.State(-1)  # the seed this Generate uses (the seed box keeps what the visitor typed)
    settings = [nfe_step, speed, cross_fade, cfg_strength, remove_silence, voices.dropdown]
    outputs = [out_audio, spectrogram, seed_used, ref_text]
    generate.click(h["pick_seed"], [seed, randomize], [seed_state], api_visibility="private", queue=False).then(
        h["synthesize_stream"], [ref_audio, ref_text, text, seed_state, *settings, takes],
        [live, *outputs, info, takes, pick, table], api_visibility="private", concurrency_id="gpu",
    ).then(h["status"], None, status, api_visibility="private", queue=False, show_progress="hidden")
    api_synthesize.click(h["synthesize"], [ref_audio, ref_text, text, seed, *settings], outputs,
                         api_name="synthesize", concurrency_id="gpu")
    transcribe_btn.click(h["transcribe"], [ref_audio], [ref_text], api_name="transcribe", concurrency_id="gpu")
    text_file.upload(h["read_text_file"], [text_file], [text], api_visibility="private")
    examples.click(lambda i: h["use_example"](rows[i]), [examples], [ref_audio, ref_text, text],
                   api_visibility="private")
    gr.on([pick.change, fmt.change], h["pick_take"], [takes, pick, fmt], [take_audio, take_file],
          api_visibility="private")
    reuse.click(h["reuse_take"], [takes, pick],
                [text, seed, randomize, nfe_step, speed, cross_fade, cfg_strength, remove_silence],
                api_visibility="private")
    return voices


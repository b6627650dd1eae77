"""The Gradio Blocks: what a visitor sees, and the named endpoints gradio_client sees."""

from __future__ import annotations

import gradio as gr

from inference import Engine

from .handlers import make_handlers
from .voices import build_voice_panel

# The public API: gradio_client's view_api() lists exactly these (a test pins them).
API_NAMES = ("/synthesize", "/transcribe", "/list_voices", "/save_voice", "/rename_voice", "/delete_voice")
PRESET_CHOICES = [("Fast (7 steps)", 7), ("Balanced (16 steps)", 16), ("Best (32 steps)", 32)]
INTRO = """# 🗣️ F5 Voice Studio
Record or upload **5–12 seconds** of clean speech, type what the voice should say, and press **Generate**.
The transcript of the reference is optional: leave it empty and it is transcribed for you.
*Only clone voices you have permission to use.*"""


def build_ui(engine: Engine) -> gr.Blocks:
    h = make_handlers(engine)
    with gr.Blocks(title="F5 Voice Studio", delete_cache=(600, 3600)) as demo:
        gr.Markdown(INTRO)
        status = gr.Markdown(h["status"](), elem_id="model-status")
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
        seed_used = gr.Number(label="Seed used", precision=0, interactive=False)

        seed_state = gr.State(-1)  # the seed this Generate uses (the seed box keeps what the visitor typed)
        settings = [nfe_step, speed, cross_fade, cfg_strength, remove_silence, voices.dropdown]
        outputs = [out_audio, spectrogram, seed_used, ref_text]
        generate.click(h["pick_seed"], [seed, randomize], [seed_state], api_visibility="private", queue=False).then(
            h["synthesize_stream"], [ref_audio, ref_text, text, seed_state, *settings], [live, *outputs],
            api_visibility="private", concurrency_id="gpu",
        ).then(h["status"], None, status, api_visibility="private", queue=False, show_progress="hidden")
        api_synthesize.click(h["synthesize"], [ref_audio, ref_text, text, seed, *settings], outputs,
                             api_name="synthesize", concurrency_id="gpu")
        transcribe_btn.click(h["transcribe"], [ref_audio], [ref_text], api_name="transcribe", concurrency_id="gpu")
        text_file.upload(h["read_text_file"], [text_file], [text], api_visibility="private")
        timer = gr.Timer(2.0)
        timer.tick(h["status"], None, status, api_visibility="private", queue=False, show_progress="hidden")
        demo.load(h["status"], None, status, api_visibility="private", queue=False, show_progress="hidden")
        # each visitor sees the saved voices as they are now, not as they were at start-up
        demo.load(voices.refresh, None, voices.dropdown, api_visibility="private", queue=False)
    return demo

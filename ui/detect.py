"""The "Check a clip" tab: upload or record a clip, and read whether it carries the mark every output of this studio
carries, with a confidence; and the public /detect_watermark endpoint (the same handler)."""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from inference import MIN_DETECT_S, InputError, Studio

from .handlers import user_errors

HELP = f"""Was a clip made here? Every output of this studio carries an inaudible mark. Upload or record a clip (at
least **{MIN_DETECT_S:g} s**; any format) and press **Check**: the mark survives MP3, resampling, excerpts and
volume changes, but not heavy noise."""


def verdict(watermarked: bool, confidence: float) -> str:
    """The answer in words, with the confidence."""
    if watermarked:
        return f"Marked: made by this studio (confidence {confidence:.2f})."
    return (
        f"No mark found (confidence {confidence:.2f}): not made by this studio, or changed too much since "
        "(heavy noise, a very short excerpt)."
    )


class DetectTab:
    def __init__(self, studio: Studio) -> None:
        self.studio = studio
        gr.Markdown(HELP)
        with gr.Row():
            self.audio = gr.Audio(
                label="Clip to check", sources=["upload", "microphone"], type="filepath", elem_id="detect-audio"
            )
            with gr.Column():
                self.button = gr.Button("Check", variant="primary", elem_id="detect-check")
                self.verdict = gr.Textbox(label="Verdict", interactive=False, elem_id="detect-verdict")
                self.confidence = gr.Number(
                    label="Confidence (share of the clip found marked)", interactive=False, elem_id="detect-confidence"
                )

    @user_errors
    def detect_watermark(self, audio: str | None) -> tuple[str, float]:
        """Whether a clip was made by this studio: it looks for the inaudible mark every output carries.

        Args:
            audio: the clip to check (wav, mp3, flac, ogg, m4a, webm; any sample rate, mono or stereo).
        Returns:
            the verdict in words, and the confidence: the share of the clip found marked (0 to 1).
        """
        if not audio:
            raise InputError("No clip was given.", "Upload or record the clip to check first.")
        found = self.studio.detect(Path(audio))
        return verdict(found.watermarked, found.confidence), found.confidence

    def wire(self) -> None:
        self.button.click(
            self.detect_watermark, [self.audio], [self.verdict, self.confidence], api_name="detect_watermark"
        )

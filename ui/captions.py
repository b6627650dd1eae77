"""Captions under the "Clone a voice" tab's player (SRT and VTT downloads, the cues shown), and the public
/synthesize_captions endpoint: /synthesize's parameters plus `words`, the take with its captions.

/synthesize keeps its four outputs (scripts unpack them); captions come from this endpoint instead:

    audio, srt_path, vtt_path, cues, seed = client.predict(
        handle_file("voice.wav"), "", "Hello there. How are you?", 42, api_name="/synthesize_captions")
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import gradio as gr

from inference import AudioChunk, Captions, Studio

from . import history
from .handlers import preparing, stops_when_cancelled, user_errors
from .options import Form, form_endpoint

HEADERS = ["Start (s)", "End (s)", "Text"]


def caption_files(captions: Captions, stem: str) -> tuple[str, str]:
    """The captions as an .srt and a .vtt download (paths)."""
    srt = history.export_file(f"{stem}.srt", captions.srt())
    return str(srt), str(history.export_file(f"{stem}.vtt", captions.vtt()))


class CaptionsPanel:
    """Below the result: the take's cues, its SRT and VTT files, and a switch for word-level times."""

    def __init__(self) -> None:
        with gr.Accordion("Captions (SRT / VTT)", open=False, elem_id="captions"):
            self.words = gr.Checkbox(
                value=False,
                label="Word-level times (Whisper listens to the take: slower; without it, one cue per sentence)",
                elem_id="captions-words",
            )
            self.note = gr.Markdown(elem_id="captions-note")
            with gr.Row():
                self.srt = gr.File(label="SRT", interactive=False, elem_id="captions-srt")
                self.vtt = gr.File(label="VTT", interactive=False, elem_id="captions-vtt")
            self.table = gr.Dataframe(headers=HEADERS, interactive=False, wrap=True, elem_id="captions-table")
        self.api_button = gr.Button(visible=False)  # carries /synthesize_captions
        self.api_cues = gr.JSON(value=None, label="Cues", visible=False)

    def outputs(self) -> list:
        return [self.note, self.srt, self.vtt, self.table]

    def show(self, studio: Studio, chunks: Sequence[AudioChunk], cross_fade: float, words: bool, stem: str) -> dict:
        """The panel's values for a take made of `chunks`."""
        captions = studio.captions(chunks, cross_fade, "word" if words else "sentence")
        srt, vtt = caption_files(captions, stem)
        rows = [[c["start"], c["end"], c["text"]] for c in captions.table()]
        note = captions.note or f"{len(rows)} cue{'s' if len(rows) != 1 else ''}, one per {captions.level}."
        return {self.note: note, self.srt: srt, self.vtt: vtt, self.table: rows}

    def wire(self, tab: Tab) -> None:
        """The public endpoint, on the tab's own inputs (as /synthesize)."""
        endpoint = CaptionsEndpoint(tab.studio)
        self.api_button.click(
            stops_when_cancelled(endpoint.synthesize_captions),
            [*tab.synthesize_inputs(), self.words],  # /synthesize's parameters, then `words`
            [tab.out_audio, self.srt, self.vtt, self.api_cues, tab.seed_used],
            api_name="synthesize_captions",
            concurrency_id="gpu",
        )


class Tab(Protocol):
    """What the endpoint is wired to: the Clone tab's studio, inputs and outputs (ui/clone.py)."""

    studio: Studio
    out_audio: gr.Audio
    seed_used: gr.Number

    def synthesize_inputs(self) -> list[gr.components.Component]: ...


class CaptionsEndpoint:
    def __init__(self, studio: Studio) -> None:
        self.studio = studio

    @form_endpoint  # ref_audio, ref_text, text, then seed, the options and voice (ui/options.py), then words
    @user_errors
    def synthesize_captions(
        self,
        form: Form,
        *,
        words: bool = False,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 - Gradio's way to ask for a progress bar
    ) -> tuple[str, str, str, list[dict], int]:
        """Speak `text` in the voice of `ref_audio` (as /synthesize), with captions timed to the take.

        Args:
            words: word-level times from Whisper (one cue per word); otherwise one cue per sentence.
        Returns:
            the audio (WAV), the captions as an SRT file and a VTT file, the cues as [{"start", "end", "text"}]
            (seconds), and the seed used.
        """
        with self.studio.metrics.track("gradio_api"):
            request = form.request(self.studio)
            progress(0.0, desc=preparing(self.studio))
            result, captions = self.studio.synthesize_with_captions(
                request,
                "word" if words else "sentence",
                progress=lambda d, t: progress(d / t, desc=f"Chunk {d}/{t}"),
            )
        srt, vtt = caption_files(captions, f"captions-seed-{result.seed}")
        return (
            history.take_file(result.wave, result.sample_rate, f"take-seed-{result.seed}"),
            srt,
            vtt,
            captions.table(),
            result.seed,
        )

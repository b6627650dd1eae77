"""Captions under the "Clone a voice" tab's player (SRT and VTT downloads, the cues shown), and the public
/synthesize_captions endpoint: /synthesize's parameters plus `words`, the take with its captions.

/synthesize keeps its four outputs (scripts unpack them); captions come from this endpoint instead:

    audio, srt_path, vtt_path, cues, seed = client.predict(
        handle_file("voice.wav"), "", "Hello there. How are you?", 42, api_name="/synthesize_captions")
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import gradio as gr
import numpy as np

from inference.studio.captions import Captions, captions_for, synthesize_with_captions
from inference.types import AudioChunk

from . import history
from .handlers import preparing, stops_when_cancelled, user_errors
from .options import DEFAULTS, option_docs

if TYPE_CHECKING:
    from .clone import CloneHandlers, CloneTab

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

    def show(self, engine: Any, chunks: Sequence[AudioChunk], cross_fade: float, words: bool, stem: str) -> dict:
        """The panel's values for a take made of `chunks`."""
        captions = captions_for(engine, chunks, cross_fade, "word" if words else "sentence")
        srt, vtt = caption_files(captions, stem)
        rows = [[c["start"], c["end"], c["text"]] for c in captions.table()]
        note = captions.note or f"{len(rows)} cue{'s' if len(rows) != 1 else ''}, one per {captions.level}."
        return {self.note: note, self.srt: srt, self.vtt: vtt, self.table: rows}

    def wire(self, tab: CloneTab) -> None:
        """The public endpoint, on the tab's own inputs (as /synthesize)."""
        endpoint = CaptionsEndpoint(tab.h)
        self.api_button.click(
            stops_when_cancelled(endpoint.synthesize_captions),
            [*tab.synthesize_inputs(), self.words],  # /synthesize's parameters, then `words`
            [tab.out_audio, self.srt, self.vtt, self.api_cues, tab.seed_used],
            api_name="synthesize_captions",
            concurrency_id="gpu",
        )


class CaptionsEndpoint:
    def __init__(self, handlers: CloneHandlers) -> None:
        self.h = handlers

    @user_errors
    @option_docs  # the Args lines of the options and shared parameters (ui/options.py)
    def synthesize_captions(
        self,
        ref_audio: str | None,
        ref_text: str = "",
        text: str = "",
        seed: int = -1,
        nfe_step: int = DEFAULTS["nfe_step"],
        speed: float = DEFAULTS["speed"],
        cross_fade: float = DEFAULTS["cross_fade"],
        cfg_strength: float = DEFAULTS["cfg_strength"],
        remove_silence: bool = DEFAULTS["remove_silence"],
        voice: str | None = None,
        normalize: bool = DEFAULTS["normalize"],
        check: bool = DEFAULTS["check"],
        min_duration: bool = DEFAULTS["min_duration"],
        check_threshold: float = DEFAULTS["check_threshold"],
        check_tries: int = DEFAULTS["check_tries"],
        words: bool = False,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 - Gradio's way to ask for a progress bar
    ) -> tuple[tuple[int, np.ndarray], str, str, list[dict], int]:
        """Speak `text` in the voice of `ref_audio` (as /synthesize), with captions timed to the take.

        Args:
            words: word-level times from Whisper (one cue per word); otherwise one cue per sentence.
        Returns:
            the audio (WAV), the captions as an SRT file and a VTT file, the cues as [{"start", "end", "text"}]
            (seconds), and the seed used.
        """
        from .clone import OPTION_NAMES, WORD_OPTIONS, Form

        values = (nfe_step, speed, cross_fade, cfg_strength, remove_silence)
        values += (normalize, check, min_duration, check_threshold, check_tries)
        options = dict(zip(OPTION_NAMES + WORD_OPTIONS, values, strict=True))
        engine = self.h.engine
        with engine.metrics.track("gradio_api"):
            request = self.h.request(Form(ref_audio, ref_text, text, seed, options, voice))
            progress(0.0, desc=preparing(engine))
            result, captions = synthesize_with_captions(
                engine,
                request,
                "word" if words else "sentence",
                progress=lambda d, t: progress(d / t, desc=f"Chunk {d}/{t}"),
            )
        srt, vtt = caption_files(captions, f"captions-seed-{result.seed}")
        return (result.sample_rate, result.wave), srt, vtt, captions.table(), result.seed

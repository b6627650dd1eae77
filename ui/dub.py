"""The "Dub subtitles" tab: an SRT or WebVTT file in, one track timed to it out, and its public /dub endpoint.

Each cue is spoken in its own slot by the voice picked (or uploaded), or by the saved voice its [Tag] maps to; the
report lists every cue's start, end, spoken length, speed and overflow; the ZIP holds one clip per cue.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr
from gradio.blocks import Block

from inference import (
    DEFAULT_MAX_SPEEDUP,
    MAX_CUES,
    MAX_DUB_SECONDS,
    MAX_SPEEDUP,
    DubResult,
    InputError,
    Studio,
    SynthesisOptions,
    check_size,
    decode_subtitles,
)

from . import history
from .handlers import preparing, stops_when_cancelled, user_errors
from .options import DEFAULTS, control, option_docs, seed_box, seed_used, seed_used_box

REPORT_HEADERS = ["Cue", "Line", "Start (s)", "End (s)", "Speaker", "Voice", "Text", "Spoken (s)", "Speed", "Note"]
# px: wide enough for each header's longest word (the table scrolls sideways on a narrow screen); the text and the
# note take the most
REPORT_WIDTHS: list[str | int] = [60, 64, 80, 72, 100, 120, 260, 96, 72, 220]
HELP = f"""Upload subtitles (**.srt** or **.vtt**) and pick the voice: every cue is spoken in its own time slot, on one
track as long as the subtitles. The pace adapts to each slot, up to the **maximum speed-up**; a cue that still does not
fit runs on into the gap after it and is flagged in the report. Tag cues to give them other saved voices:
**[Guest] Hello?** with **Guest=bob** below (an untagged cue keeps the previous cue's speaker). Limits:
{MAX_CUES} cues, ending within {MAX_DUB_SECONDS / 60:g} minutes."""
VOICES_HINT = "e.g. Guest=bob, Host=carol (tags -> saved voices)"


def read_subtitles(path: str | None) -> str:
    """The text of an uploaded subtitle file; refuses a missing, oversized or binary one with a message."""
    if not path:
        raise InputError("No subtitle file was given.", "Upload an .srt or .vtt file.")
    file = Path(path)
    check_size(file.stat().st_size)
    return decode_subtitles(file.read_bytes())


class DubHandlers:
    def __init__(self, studio: Studio) -> None:
        self.studio = studio

    def run(
        self,
        subtitles: str | None,
        voice: str | None,
        ref_audio: str | None,
        ref_text: str | None,
        voices: Any,
        max_speedup: Any,
        options: dict[str, Any],
        progress: gr.Progress,
    ) -> DubResult:
        text = read_subtitles(subtitles)
        opts = SynthesisOptions.from_loose(options)
        speedup = DEFAULT_MAX_SPEEDUP if max_speedup is None else max_speedup
        voice = (voice or "").strip() or None
        # a saved voice or a recording, not both (the studio's rule); with neither, the cues' tags name the voices
        reference = self.studio.reference(voice, Path(ref_audio), ref_text) if ref_audio else None
        progress(0.0, desc=preparing(self.studio))
        return self.studio.dub(
            text,
            None if reference else voice,
            reference,
            voices,
            opts,
            speedup,
            progress=lambda d, t: progress(d / t, desc=f"Cue {d}/{t}"),
        )

    @user_errors
    @option_docs  # the Args lines of the options and shared parameters (ui/options.py)
    def dub(
        self,
        subtitles: str | None,
        voice: str | None = None,
        ref_audio: str | None = None,
        ref_text: str | None = None,
        voices: Any = None,
        max_speedup: float = DEFAULT_MAX_SPEEDUP,
        nfe_step: int = DEFAULTS["nfe_step"],
        speed: float = DEFAULTS["speed"],
        cfg_strength: float = DEFAULTS["cfg_strength"],
        seed: int = -1,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 - Gradio's way to ask for a progress bar
    ) -> tuple[str, list[dict], str, int]:
        """Dub subtitles: speak every cue of an SRT or WebVTT file in its own time slot, on one track.

        Args:
            subtitles: the .srt or .vtt file.
            voice: a saved voice's name, for untagged cues (or give ref_audio instead).
            ref_audio: a recording of the voice to clone (instead of voice), 5 to 12 s of clear speech.
            ref_text: what is said in ref_audio; leave empty to transcribe it.
            voices: tags -> saved voice names, e.g. {"Guest": "bob"}, for cues that start with [Guest].
            max_speedup: how much faster than natural a cue may be spoken to fit its slot, 1 to 3.
            speed: the voices' natural speaking rate (a multiplier, as /synthesize's speed).
            seed: the base seed; -1 picks one. Cue i (from 0) uses base + i unless its tag sets seed=.
        Returns:
            the track (WAV, as long as the subtitles), the per-cue report [{"cue", "line", "start", "end", "text",
            "speaker", "voice", "seed", "spoken", "speed", "overflow", "overlap", "note"}], a ZIP with one clip per
            cue, and the base seed used.
        """
        options = {"nfe_step": nfe_step, "speed": speed, "cfg_strength": cfg_strength, "seed": seed}
        with self.studio.metrics.track("gradio_api"):
            result = self.run(subtitles, voice, ref_audio, ref_text, voices, max_speedup, options, progress)
        zipped = history.export_file(f"dub-seed-{result.base_seed}.zip", result.zip_bytes())
        take = history.take_file(result.wave, result.sample_rate, f"dub-seed-{result.base_seed}")
        return take, result.table(), str(zipped), result.base_seed


def summary(result: DubResult) -> str:
    over = [c for c in result.cues if c.overflow > 0]
    text = f"**{len(result.cues)} cues**, {result.duration:.1f} s of track · base seed {result.base_seed}"
    if not over:
        return text + " · every cue fits its slot."
    worst = max(over, key=lambda c: c.overflow)
    return (
        text + f" · ⚠️ {len(over)} cue{'s' if len(over) > 1 else ''} too long for its slot (the longest, cue "
        f"{worst.cue}, by {worst.overflow:.2f} s): raise the maximum speed-up or shorten the text."
    )


class DubTab:
    """The tab's components; handlers read them by name, in dicts of component values."""

    def __init__(self, studio: Studio) -> None:  # long: the layout top to bottom, one component a statement
        self.h = DubHandlers(studio)
        gr.Markdown(HELP)
        with gr.Row():
            with gr.Column():
                self.subtitles = gr.File(
                    label="Subtitles (.srt or .vtt)", file_types=[".srt", ".vtt", ".txt"], elem_id="dub-subtitles"
                )
                self.voices = gr.Textbox(
                    label="Voices for tags (optional)", placeholder=VOICES_HINT, elem_id="dub-tags"
                )
            with gr.Column():
                self.voice = gr.Dropdown(
                    choices=studio.voices.names(),
                    value=None,
                    label="Saved voice",
                    allow_custom_value=True,
                    elem_id="dub-voice",
                )
                self.ref_audio = gr.Audio(
                    label="…or a recording of the voice", sources=["upload", "microphone"], type="filepath",
                    elem_id="dub-ref-audio",
                )  # fmt: skip
                self.ref_text = gr.Textbox(
                    label="Its transcript (optional)", placeholder="Leave empty to transcribe", elem_id="dub-ref-text"
                )
        with gr.Row():
            self.max_speedup = gr.Slider(
                1.0, MAX_SPEEDUP, value=DEFAULT_MAX_SPEEDUP, step=0.05, label="Maximum speed-up",
                info="how much faster than natural a cue may be spoken to fit its slot", elem_id="dub-max-speedup",
            )  # fmt: skip
            self.nfe_step = control("nfe_step", elem_id="dub-quality")
            self.speed = control("speed", elem_id="dub-speed")
            self.cfg_strength = control("cfg_strength")
            self.seed = seed_box("Base seed (-1 = random)", elem_id="dub-seed")
        self.generate_btn = gr.Button("Dub", variant="primary", elem_id="dub-generate")
        self.out_audio = gr.Audio(
            label="Dubbed track", type="numpy", format="wav", interactive=False, elem_id="dub-result"
        )
        self.summary = gr.Markdown(elem_id="dub-summary")
        self.report = gr.Dataframe(
            headers=REPORT_HEADERS,
            column_widths=REPORT_WIDTHS,
            label="Cues",
            interactive=False,
            wrap=True,
            elem_id="dub-report",
        )
        self.zip = gr.File(label="One clip per cue (ZIP, with report.json)", interactive=False, elem_id="dub-zip")
        self.seed_used = seed_used_box("Base seed used", elem_id="dub-seed-used")
        self.api_button = gr.Button(visible=False)  # carries /dub
        self.api_subtitles = gr.File(label="Subtitles", visible=False)
        self.api_voices = gr.JSON(value=None, label="Voices (tag -> saved voice)", visible=False)
        self.api_report = gr.JSON(value=None, label="Report", visible=False)
        # unbounded here, so that the API's message names the option and its range (a slider's would not)
        self.api_max_speedup = gr.Number(value=DEFAULT_MAX_SPEEDUP, label="Maximum speed-up", visible=False)

    @user_errors
    def generate(self, data: dict, progress: gr.Progress = gr.Progress()) -> dict:  # noqa: B008
        options = {name: data[getattr(self, name)] for name in ("nfe_step", "speed", "cfg_strength", "seed")}
        with self.h.studio.metrics.track("ui"):
            result = self.h.run(
                data[self.subtitles], data[self.voice], data[self.ref_audio], data[self.ref_text],
                data[self.voices], data[self.max_speedup], options, progress,
            )  # fmt: skip
        rows = [
            [r["cue"], r["line"], r["start"], r["end"], r["speaker"], r["voice"], r["text"], r["spoken"], r["speed"],
             r["note"]]
            for r in result.table()
        ]  # fmt: skip
        zipped = history.export_file(f"dub-seed-{result.base_seed}.zip", result.zip_bytes())
        return {
            self.out_audio: history.named_result(  # dub-<subtitle file>-seed-N.wav
                result.wave, result.sample_rate, f"dub-{Path(data[self.subtitles]).stem}", "", result.base_seed
            ),
            self.summary: summary(result),
            self.report: rows,
            self.zip: str(zipped),
            self.seed_used: seed_used(result.base_seed),
        }

    def refresh(self) -> dict:
        return {self.voice: gr.update(choices=self.h.studio.voices.names())}

    def wire(self, tab: gr.Tab) -> None:
        inputs: set[Block] = {
            self.subtitles, self.voice, self.ref_audio, self.ref_text, self.voices, self.max_speedup, self.nfe_step,
            self.speed, self.cfg_strength, self.seed,
        }  # fmt: skip
        self.generate_btn.click(
            self.generate,
            inputs,
            [self.out_audio, self.summary, self.report, self.zip, self.seed_used],
            api_visibility="private",
            concurrency_id="gpu",
            show_progress_on=[self.out_audio],  # progress, and an error, on the result alone
        )
        self.api_button.click(
            stops_when_cancelled(self.h.dub),
            [
                self.api_subtitles, self.voice, self.ref_audio, self.ref_text, self.api_voices, self.api_max_speedup,
                self.nfe_step, self.speed, self.cfg_strength, self.seed,
            ],
            [self.out_audio, self.api_report, self.zip, self.seed_used],
            api_name="dub",
            concurrency_id="gpu",
        )  # fmt: skip
        tab.select(self.refresh, None, [self.voice], api_visibility="private", queue=False, show_progress="hidden")

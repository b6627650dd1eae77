"""The "Clone a voice" tab: reference, text, settings, Generate; this session's takes. Its public /synthesize,
/synthesize_variations and /transcribe endpoints are in clone_api.py."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import gradio as gr

from inference import AudioChunk, InputError, Studio, SynthesisOptions, SynthesisRequest, SynthesisResult

from . import history
from .captions import CaptionsPanel
from .clone_api import MAX_TEXT_FILE_BYTES, CloneHandlers, example_rows
from .consent import ConsentPanel
from .handlers import (
    PICTURE_FORMAT,
    check_markdown,
    pick_seed,
    preparing,
    spectrogram_image,
    status_markdown,
    stops_when_cancelled,
    user_errors,
)
from .options import FORM_OPTIONS, FORM_PARAMETERS, Form, control, seed_box, seed_used, seed_used_box
from .reference import ReferenceNotes, notes_markdown
from .variations import VariationsPanel
from .voices import build_voice_panel
from .words import WordsHandlers, WordsPanel

__all__ = ["MAX_TEXT_FILE_BYTES", "CloneHandlers", "CloneTab", "example_rows"]
BESIDE_TEXT = ("normalize", "check")  # options shown beside the text; the others in Settings, in these rows
SETTINGS_ROWS = (("nfe_step", "speed", "cross_fade"), ("cfg_strength", "remove_silence"))


class CloneTab:
    """The tab's components, and the handlers that read and fill them by name (never by position)."""

    def __init__(self, studio: Studio) -> None:
        self.studio, self.h = studio, CloneHandlers(studio)
        self._voice_and_text()
        self._examples_and_settings()
        self._results()

    def _voice_and_text(self) -> None:
        """The reference (recorded, uploaded or saved) beside the text to speak."""
        studio = self.studio
        with gr.Row():
            with gr.Column():
                self.ref_audio = gr.Audio(
                    label="Reference voice",
                    sources=["upload", "microphone"],
                    type="filepath",
                    editable=True,
                    elem_id="ref-audio",
                )
                self.ref_notes = ReferenceNotes(studio)  # what preparing it did or found (ui/reference.py)
                self.consent = ConsentPanel(studio)  # the owner's consent, when required (ui/consent.py)
                self.ref_text = gr.Textbox(
                    label="Reference transcript (optional)",
                    lines=2,
                    elem_id="ref-text",
                    placeholder="Leave empty to transcribe automatically",
                )
                self.transcribe_btn = gr.Button("Transcribe reference", size="sm")
                self.voices = build_voice_panel(studio, self.ref_audio, self.ref_text)
            with gr.Column():
                self.text = gr.Textbox(
                    label="Text to speak",
                    lines=6,
                    elem_id="gen-text",
                    placeholder="Type what the cloned voice should say…",
                )
                self.text_file = gr.File(label="…or upload a .txt file", file_types=[".txt"], height=130)
                with gr.Row():
                    self.options = {name: control(name, elem_id=f"opt-{name}") for name in BESIDE_TEXT}
                    self.preview = gr.Button("Preview the spoken text", size="sm", elem_id="preview-spoken")
                self.spoken = gr.Textbox(
                    label="Text spoken (numbers as words, pronunciations applied)",
                    lines=2,
                    interactive=False,
                    elem_id="spoken-text",
                )

    def _examples_and_settings(self) -> None:
        self.rows = example_rows()
        self.examples = gr.Dataset(  # plain text: no audio is probed at start-up (gr.Examples runs ffprobe)
            components=[
                gr.Textbox(visible=False, label="voice"),
                gr.Textbox(visible=False, label="transcript"),
                gr.Textbox(visible=False, label="text"),
            ],
            samples=[[Path(audio).name, ref, gen] for audio, ref, gen in self.rows],
            type="index",
            label="Examples: click one, then Generate",
            elem_id="examples",
        )
        with gr.Accordion("Settings", open=False):
            with gr.Row():
                self.options |= {name: control(name) for name in SETTINGS_ROWS[0]}
            with gr.Row():
                self.options |= {name: control(name) for name in SETTINGS_ROWS[1]}
                self.seed = seed_box()
                self.randomize = gr.Checkbox(value=True, label="Randomize seed each time")
            with gr.Row():  # every other option (a new one too)
                placed = {*BESIDE_TEXT, *SETTINGS_ROWS[0], *SETTINGS_ROWS[1]}
                rest = [name for name in FORM_OPTIONS if name not in placed]
                self.options |= {name: control(name, elem_id=f"opt-{name}") for name in rest}

    def _results(self) -> None:
        """Generate, the take (live, then whole) with its captions, variations, and this session's takes."""
        self.generate = gr.Button("Generate", variant="primary", elem_id="generate")
        self.api_synthesize = gr.Button(visible=False)  # carries the public /synthesize endpoint (no streaming)
        self.live = gr.Audio(
            label="Live playback (long text plays while the rest is generated)",
            streaming=True,
            autoplay=True,
            interactive=False,
            elem_id="live",
        )
        with gr.Row():
            self.out_audio = history.served_as_is(  # the take's WAV, served without probing it
                gr.Audio(label="Result", type="numpy", format="wav", interactive=False, elem_id="result")
            )
            self.spectrogram = gr.Image(label="Spectrogram", interactive=False, height=200, format=PICTURE_FORMAT)
        with gr.Row():
            self.seed_used = seed_used_box(elem_id="seed-used")
            self.info = gr.Markdown(elem_id="take-info")
        self.check_report = gr.Markdown(elem_id="check-report")
        self.captions = CaptionsPanel()  # the take's captions (ui/captions.py)
        self.variations = VariationsPanel(self.studio, self.form)
        self.words = WordsPanel(self.studio)
        self.takes = gr.State([])  # this session's takes (ui/history.py): per visitor, gone when the session ends
        with gr.Accordion("This session's takes", open=False):
            self.table = gr.Dataframe(
                headers=["#", "text", "voice", "seed", "seconds", "RTF"], interactive=False, elem_id="takes-table"
            )
            with gr.Row():
                self.pick = gr.Dropdown(choices=[], label="Take", elem_id="take-pick", scale=3)
                self.fmt = gr.Radio(["wav", "mp3", "flac"], value="wav", label="Download format", scale=2)
                self.reuse = gr.Button("Reuse its text, seed and settings", size="sm", scale=1)
            with gr.Row():
                self.take_audio = gr.Audio(label="Replay", type="numpy", interactive=False, elem_id="take-audio")
                self.take_file = gr.File(label="Download", interactive=False, elem_id="take-file")
        self.seed_state = gr.State(-1)  # the seed this Generate uses (the seed box keeps what the visitor typed)

    def form(self, data: dict) -> Form:
        """The Form in a dict of component values (what Gradio passes for a set of inputs)."""
        return Form(
            data[self.ref_audio],
            data[self.ref_text],
            data[self.text],
            data[self.seed_state],
            {name: data[c] for name, c in self.options.items()},
            data[self.voices.dropdown],
        )

    def synthesize_inputs(self) -> list:
        """/synthesize's parameters in order (/synthesize_captions adds its own after them)."""
        return [self.ref_audio, self.ref_text, self.text, *self.form_parameters()]

    def form_parameters(self) -> list[gr.components.Component]:
        """The inputs of the form's parameters, in the endpoints' order (FORM_PARAMETERS): seed, options, voice."""
        inputs = {"seed": self.seed, "voice": self.voices.dropdown, **self.options}
        return [inputs[name] for name in FORM_PARAMETERS]

    def form_inputs(self) -> set:
        return {self.ref_audio, self.ref_text, self.text, self.seed_state, *self.options.values(), self.voices.dropdown}

    @user_errors  # one visitor and one mark id for the take and its file, whichever thread runs each step
    def stream(self, data: dict, progress: gr.Progress = gr.Progress()) -> Iterator[dict]:  # noqa: B008
        """The Generate button: play each chunk as soon as it is ready, then show the whole take."""
        start = time.perf_counter()
        with self.studio.metrics.track("ui"):
            request, parts = self._generate(data, progress)
            for part in parts:
                if part.total > 1:
                    yield {self.live: (part.sample_rate, part.wave)}
        result = SynthesisResult.from_chunks(parts.done)
        yield self.show(data, request, result, time.perf_counter() - start)

    def show(self, data: dict, request: SynthesisRequest, result: SynthesisResult, elapsed: float) -> dict:
        """A finished take as the tab's result: player, picture, seed, spoken text, check, and this session's
        takes (a Generate's, or a kept variation's)."""
        takes = data[self.takes]
        take = history.Take(
            history.next_number(takes),
            request.text.strip(),
            data[self.voices.dropdown] or "uploaded reference",
            result.seed,
            _settings(request.options),
            result.sample_rate,
            result.wave,
            elapsed,
        )
        takes = history.add_take(takes, take)
        named = history.named_result(
            take.wave, take.sample_rate, data[self.voices.dropdown] or data[self.ref_audio], take.text, take.seed
        )
        return {
            self.out_audio: named,  # a file named for download
            self.spectrogram: spectrogram_image(result.mel),
            self.seed_used: seed_used(take.seed),
            self.ref_text: result.ref_text,
            self.ref_notes.markdown: notes_markdown(result.ref_notes),
            self.info: history.summary(take),
            self.spoken: result.spoken_text,
            self.check_report: check_markdown(result.checks),
            self.takes: takes,
            self.pick: gr.update(choices=[t.label() for t in takes], value=take.label()),
            self.table: history.rows(takes),
            **self.captions.show(
                self.studio,
                result.parts(),
                request.options.cross_fade,
                data[self.captions.words],
                f"take-{take.number}",
            ),
        }

    def keep(self, k: int) -> Callable[[dict], dict]:
        """The handler of variation k's "Keep this one": that take becomes the result."""

        @user_errors
        def keep_variation(data: dict) -> dict:
            kept = self.variations.kept(data[self.variations.results], k)
            if kept is None:
                raise InputError("There is no such take to keep.", "Generate variations first.")
            request, result, elapsed = kept
            gr.Info(f"Kept take {k + 1} (seed {result.seed}).")
            return self.show(data, request, result, elapsed)

        return keep_variation

    @user_errors
    def _generate(self, data: dict, progress: gr.Progress) -> tuple[SynthesisRequest, _Parts]:
        request = self.form(data).request(self.studio)
        progress(0.0, desc=preparing(self.studio))
        chunks = self.studio.stream(request, progress=lambda d, t: progress(d / t, desc=f"Chunk {d}/{t}"))
        return request, _Parts(chunks)

    def _wire_words(self, shown: list) -> None:
        """The spoken-text preview, the variations and their endpoints, the dictionary editor."""
        v = self.variations
        self.preview.click(
            WordsHandlers(self.studio).normalize_text,
            [self.text, self.voices.dropdown, self.options["normalize"]],
            [self.spoken],
            api_name="normalize_text",
        )
        v.generate.click(
            user_errors(pick_seed),
            [self.seed, self.randomize],
            [self.seed_state],
            api_visibility="private",
            queue=False,
        ).then(
            v.run,
            {*self.form_inputs(), v.count},
            [v.results, *v.players, *v.infos, *v.keeps],
            api_visibility="private",
            concurrency_id="gpu",
            show_progress_on=v.players,
        )
        for k, button in enumerate(v.keeps):
            button.click(
                self.keep(k),
                {v.results, self.takes, self.voices.dropdown, self.ref_audio, self.captions.words},
                shown,
                api_visibility="private",
            )
        v.api_button.click(
            stops_when_cancelled(self.h.synthesize_variations),
            [self.ref_audio, self.ref_text, self.text, v.count, *self.form_parameters()],
            [v.api_files, v.api_takes],
            api_name="synthesize_variations",
            concurrency_id="gpu",
        )
        self.words.wire()

    @user_errors
    def pick_take(self, takes: list[history.Take] | None, label: str | None, fmt: str) -> tuple[Any, Any]:
        """Replay a take and offer it for download in the chosen format."""
        take = history.find(takes, label)
        if take is None:
            return None, None
        return (take.sample_rate, take.wave), str(history.export(take, fmt))

    @user_errors
    def reuse_take(self, takes: list[history.Take] | None, label: str | None) -> dict:
        """Put a take's text, seed and settings back into the form (and stop randomising the seed)."""
        take = history.find(takes, label)
        if take is None:
            return {}
        gr.Info(f"Restored take #{take.number}: same text, seed and settings.")
        restored = {self.options[name]: value for name, value in take.settings.items() if name in self.options}
        return {self.text: take.text, self.seed: take.seed, self.randomize: False, **restored}

    def wire(self, status: gr.Markdown) -> None:  # long: every event of the tab, in the order a visitor meets them
        shown = [
            self.out_audio,
            self.spectrogram,
            self.seed_used,
            self.ref_text,
            self.ref_notes.markdown,
            self.info,
            self.spoken,
            self.check_report,
            self.takes,
            self.pick,
            self.table,
            *self.captions.outputs(),
        ]
        outputs = [self.live, *shown]
        self.generate.click(
            user_errors(pick_seed),
            [self.seed, self.randomize],
            [self.seed_state],
            api_visibility="private",
            queue=False,
        ).then(
            self.stream,
            {*self.form_inputs(), self.takes, self.captions.words},
            outputs,
            api_visibility="private",
            concurrency_id="gpu",
            show_progress_on=[self.out_audio],  # progress, and an error, on the result alone
        ).then(
            lambda: status_markdown(self.studio),
            None,
            status,
            api_visibility="private",
            queue=False,
            show_progress="hidden",
        )
        self.api_synthesize.click(
            stops_when_cancelled(self.h.synthesize),
            self.synthesize_inputs(),
            [self.out_audio, self.spectrogram, self.seed_used, self.ref_text],
            api_name="synthesize",
            concurrency_id="gpu",
        )
        self.captions.wire(self)
        self.ref_notes.wire(self.ref_audio)
        self.consent.wire(self.ref_audio)
        self._wire_words(shown)
        self.transcribe_btn.click(
            self.h.transcribe, [self.ref_audio], [self.ref_text], api_name="transcribe", concurrency_id="gpu"
        )
        self._wire_inputs()

    def _wire_inputs(self) -> None:
        """What fills the form: a text file, an example, a take picked again (replayed, or its settings reused)."""
        self.text_file.upload(self.h.read_text_file, [self.text_file], [self.text], api_visibility="private")
        self.examples.click(
            lambda i: self.h.use_example(self.rows[i]),
            [self.examples],
            [self.ref_audio, self.ref_text, self.text],
            api_visibility="private",
        )
        gr.on(
            [self.pick.change, self.fmt.change],
            self.pick_take,
            [self.takes, self.pick, self.fmt],
            [self.take_audio, self.take_file],
            api_visibility="private",
        )
        self.reuse.click(
            self.reuse_take,
            [self.takes, self.pick],
            [self.text, self.seed, self.randomize, *self.options.values()],
            api_visibility="private",
        )


class _Parts:
    """The chunks of one stream, kept as they are read: iterate to read them, `done` holds what was read."""

    def __init__(self, chunks: Iterator[AudioChunk]) -> None:
        self.chunks = chunks
        self.done: list[AudioChunk] = []

    def __iter__(self) -> Iterator[AudioChunk]:
        try:
            for part in self.chunks:
                self.done.append(part)
                yield part
        except Exception as e:
            from .handlers import as_gr_error

            raise as_gr_error(e, "synthesize_stream") from e


def _settings(options: SynthesisOptions) -> dict[str, Any]:
    """What a take records to be reused: the tab's options."""
    return {name: getattr(options, name) for name in FORM_OPTIONS}

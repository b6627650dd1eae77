"""The "Edit a recording" tab: upload a recording, see its transcript, edit the words (the changes shown as a word
diff before anything is generated), Generate; and the public /edit_speech endpoint."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr
from gradio.blocks import Block

from inference import (
    ADDED,
    MAX_RECORDING_S,
    REMOVED,
    SPANS_EXAMPLE,
    EditRequest,
    EditResult,
    InputError,
    Studio,
    SynthesisOptions,
    diff_markup,
    parse_spans,
    split_words,
)

from . import history
from .handlers import preparing, stops_when_cancelled, user_errors
from .options import DEFAULTS, control, option_docs, seed_box, seed_used, seed_used_box

TAB_OPTIONS = ("nfe_step", "speed", "cfg_strength")  # offered in the tab and by /edit_speech
TABLE_HEADERS = ["Change", "Was", "Now", "From (s)", "To (s)", "In the edit (s)"]
LABELS = {REMOVED: "removed", ADDED: "added"}
HELP = f"""Change, add or remove words in a real recording without recording it again. Upload up to
**{MAX_RECORDING_S:g} s** of speech: its transcript is filled in (check it), then edit the **new text**. The changes
show below as a word diff; **Generate** regenerates only those words, in the same voice, and everything else stays
the recording itself. The first and last words must stay as they are (the new words are made from the speech around
them)."""


def diff_pieces(transcript: str | None, new_text: str | None) -> list[tuple[str, str | None]]:
    """The word diff for gr.HighlightedText: unchanged, removed and added words, with spaces between them."""
    pieces: list[tuple[str, str | None]] = []
    try:
        markup = diff_markup(split_words(transcript or ""), split_words(new_text or ""))
    except InputError as e:  # too long to compare: say so where the diff would be
        return [(str(e), None)]
    for text, kind in markup:
        if pieces:
            pieces.append((" ", None))
        pieces.append((text, LABELS.get(kind or "")))
    return pieces


class EditHandlers:
    def __init__(self, studio: Studio) -> None:
        self.studio = studio

    def request(
        self,
        audio: Any,
        transcript: Any,
        new_text: Any,
        edits: Any,
        seed: Any,
        options: dict[str, Any],
        field: str = "edits",
    ) -> EditRequest:
        """The engine request: every option checked by the one parser (its name and range in the message); `field`
        names the spans as the visitor wrote them ("edits" through the API, "spans" in the tab)."""
        opts = SynthesisOptions.from_loose({**options, "seed": seed})
        if not isinstance(transcript, (str, type(None))) or not isinstance(new_text, (str, type(None))):
            raise InputError("The transcript and the new text must be text.", "Send them as strings.")
        recording = Path(audio) if audio else b""  # none: refused by the engine, with what to do
        return EditRequest(recording, new_text or "", transcript or "", parse_spans(edits, field), opts)

    def run(self, request: EditRequest, progress: gr.Progress) -> EditResult:
        progress(0.0, desc=preparing(self.studio))
        return self.studio.edit(request, progress=lambda what: progress(None, desc=what))

    @user_errors
    @option_docs  # the Args lines of the options and shared parameters (ui/options.py)
    def edit_speech(
        self,
        audio: str | None,
        transcript: str = "",
        new_text: str = "",
        edits: Any = None,
        seed: int = -1,
        nfe_step: int = DEFAULTS["nfe_step"],
        speed: float = DEFAULTS["speed"],
        cfg_strength: float = DEFAULTS["cfg_strength"],
        progress: gr.Progress = gr.Progress(),  # noqa: B008 - Gradio's way to ask for a progress bar
    ) -> tuple[str, list[dict], int]:
        """Change, add or remove words in a recording: only the changed spans are regenerated, in the same voice.

        Args:
            audio: the recording to edit, at most 60 s (wav, mp3, flac, ogg, m4a, webm).
            transcript: what the recording says; leave empty to transcribe it (Whisper, with word timestamps).
            new_text: everything the edited recording should say: the transcript with words changed, added or removed.
            edits: optional, the spans to change given in seconds instead of found from the words, e.g.
                [{"start": 1.42, "end": 2.44, "text": "optimist,"}] ("duration" in seconds may set a span's new length;
                start == end inserts; an empty text deletes).
            seed: the random seed; -1 picks one. The same seed and inputs give the same edit.
            speed: speaking rate of the new words (a multiplier, as /synthesize's speed).
        Returns:
            the edited audio (WAV); the edits applied as [{"kind", "start", "end", "old", "text", "new_start",
            "new_end"}] (seconds in the recording, and in the edited audio); and the seed used.
        """
        options = {"nfe_step": nfe_step, "speed": speed, "cfg_strength": cfg_strength}
        with self.studio.metrics.track("gradio_api"):
            result = self.run(self.request(audio, transcript, new_text, edits, seed, options), progress)
        return (
            history.take_file(result.wave, result.sample_rate, f"edit-seed-{result.seed}"),
            result.table(),
            result.seed,
        )

    @user_errors
    def transcribe(self, audio: str | None) -> str:
        if not audio:
            raise InputError("No recording was given.", "Upload or record the speech to edit first.")
        return self.studio.transcribe_recording(Path(audio))


class EditTab:
    """The tab's components; handlers read them by name, in dicts of component values."""

    def __init__(self, studio: Studio) -> None:  # long: the layout top to bottom, one component a statement
        self.h = EditHandlers(studio)
        gr.Markdown(HELP)
        with gr.Row():
            with gr.Column():
                self.audio = gr.Audio(
                    label=f"Recording to edit (up to {MAX_RECORDING_S:g} s)",
                    sources=["upload", "microphone"],
                    type="filepath",
                    elem_id="edit-audio",
                )
                self.transcript = gr.Textbox(
                    label="Transcript: what the recording says",
                    lines=3,
                    elem_id="edit-transcript",
                    placeholder="Filled in when you upload (Whisper); correct it, or type it yourself",
                )
                self.transcribe_btn = gr.Button("Transcribe the recording", size="sm", elem_id="edit-transcribe")
            with gr.Column():
                self.new_text = gr.Textbox(
                    label="New text: change, add or remove words",
                    lines=3,
                    elem_id="edit-new-text",
                    placeholder="Starts as the transcript: edit the words here",
                )
                self.diff = gr.HighlightedText(
                    label="Changes",
                    color_map={"removed": "red", "added": "green"},
                    show_legend=True,
                    show_inline_category=False,
                    elem_id="edit-diff",
                )
        with gr.Accordion("Settings", open=False, elem_id="edit-settings"):
            with gr.Row():
                self.options = {name: control(name, elem_id=f"edit-{name}") for name in TAB_OPTIONS}
                self.seed = seed_box(elem_id="edit-seed")
            self.spans = gr.Textbox(
                label="Spans in seconds (optional: where to change, instead of the word diff)",
                placeholder=SPANS_EXAMPLE,
                elem_id="edit-spans",
            )
        self.generate_btn = gr.Button("Generate the edit", variant="primary", elem_id="edit-generate")
        with gr.Row():
            self.result = gr.Audio(label="Edited", type="numpy", format="wav", interactive=False, elem_id="edit-result")
            self.original = gr.Audio(
                label="Original, to compare", type="numpy", format="wav", interactive=False, elem_id="edit-original"
            )
        self.table = gr.Dataframe(headers=TABLE_HEADERS, label="Edits applied", interactive=False, elem_id="edit-table")
        self.seed_used = seed_used_box(elem_id="edit-seed-used")
        # The public endpoint, on a hidden button: explicit spans and the edits applied travel as JSON.
        self.api_button = gr.Button(visible=False)
        self.api_edits = gr.JSON(value=None, label="Edits (spans in seconds)", visible=False)
        self.api_applied = gr.JSON(value=None, label="Edits applied", visible=False)

    @user_errors
    def generate(self, data: dict, progress: gr.Progress = gr.Progress()) -> dict:  # noqa: B008
        options = {name: data[c] for name, c in self.options.items()}
        with self.h.studio.metrics.track("ui"):
            request = self.h.request(
                data[self.audio],
                data[self.transcript],
                data[self.new_text],
                data[self.spans],
                data[self.seed],
                options,
                field="spans",
            )
            result = self.h.run(request, progress)
        rows = [
            [e["kind"], e["old"], e["text"], e["start"], e["end"], f"{e['new_start']}-{e['new_end']}"]
            for e in result.table()
        ]
        return {
            self.result: history.named_result(  # edit-<recording>-<first new words>-seed-N.wav
                result.wave, result.sample_rate, f"edit-{Path(data[self.audio]).stem}", data[self.new_text], result.seed
            ),
            self.original: (result.sample_rate, result.original),
            self.table: rows,
            self.seed_used: seed_used(result.seed),
            self.transcript: result.transcript or data[self.transcript],
        }

    def transcribed(self, data: dict) -> dict:
        """On upload: the transcript heard, and the new text to edit (kept when the visitor already typed one)."""
        text = self.h.transcribe(data[self.audio])
        new_text = data[self.new_text] if (data[self.new_text] or "").strip() else text
        return {self.transcript: text, self.new_text: new_text, self.diff: diff_pieces(text, new_text)}

    def show_diff(self, data: dict) -> dict:
        return {self.diff: diff_pieces(data[self.transcript], data[self.new_text])}

    def wire(self) -> None:
        """Wire the tab's events (after every tab is laid out)."""
        texts: set[Block] = {self.audio, self.transcript, self.new_text}
        for event in (self.audio.upload, self.audio.stop_recording, self.transcribe_btn.click):
            heard = [self.transcript, self.new_text, self.diff]
            event(self.transcribed, texts, heard, api_visibility="private", concurrency_id="gpu")
        gr.on(
            [self.transcript.change, self.new_text.change],
            self.show_diff,
            {self.transcript, self.new_text},
            [self.diff],
            api_visibility="private",
            queue=False,
            show_progress="hidden",
        )
        self.generate_btn.click(
            self.generate,
            {*texts, self.spans, self.seed, *self.options.values()},
            [self.result, self.original, self.table, self.seed_used, self.transcript],
            show_progress_on=[self.result],  # progress, and an error, on the result alone
            api_visibility="private",
            concurrency_id="gpu",
        )
        self.api_button.click(
            stops_when_cancelled(self.h.edit_speech),
            [self.audio, self.transcript, self.new_text, self.api_edits, self.seed, *self.options.values()],
            [self.result, self.api_applied, self.seed_used],
            api_name="edit_speech",
            concurrency_id="gpu",
        )

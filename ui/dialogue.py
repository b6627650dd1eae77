"""The Dialogue tab: a script with several voices, spoken as one take (its handlers and the public
/synthesize_dialogue endpoint are in dialogue_api.py).

The tab maps each tag to a voice in a few rows (tag + voice picker, filled in from the script), with a few upload
slots for voices that are not saved. The API takes the script and a tag -> voice mapping (saved voices only).
"""

from __future__ import annotations

from importlib.resources import files
from typing import Any

import gradio as gr
from gradio.blocks import Block

from inference import (
    DEFAULT_PAUSE_S,
    MAX_PAUSE_S,
    Studio,
)

from . import history
from .dialogue_api import ROWS, DialogueHandlers, Upload, slot_name
from .handlers import stops_when_cancelled, user_errors
from .options import control, seed_box, seed_used, seed_used_box

__all__ = ["ROWS", "SLOTS", "STORY_VOICES", "DialogueHandlers", "DialogueTab", "Upload", "story_example"]

SLOTS = 3  # upload slots
TABLE_HEADERS = ["Turn", "Speaker", "Voice", "Text", "Seed", "Start (s)", "Length (s)", "Spoken", "Check"]
# px: each header's words whole (the table scrolls)
TABLE_WIDTHS: list[str | int] = [64, 100, 120, 260, 110, 80, 90, 220, 160]
HELP = """Write a script with several voices. Tag each turn with its speaker:
**[Narrator] It was late. [Guest] Hello?**, or put one speaker per line: **Narrator: It was late.**
Then pick the voice for each tag below (a tag that is already the name of a saved voice needs no row).
A tag may carry its own speed and seed: **[Guest speed=1.2 seed=7] Hello?**. Text before the first tag is spoken by
the voice mapped to the tag **default**. Each turn's seed is listed with the result: put it in its tag to keep a take.
"""
EXAMPLE = "[Narrator] It was late, and the house was quiet.\n[Guest] Hello? Is anyone there?"
STORY_VOICES = ("main", "town", "country")  # f5-tts's infer/examples/multi: story.txt, story.toml, *.flac


def story_example() -> dict[str, Any]:
    """f5-tts's multi-voice story: its script (the town mouse speaks at 0.8x, as story.toml says), one upload slot
    per voice (audio data and name), and a row per voice mapping its tag to its slot."""
    import soundfile as sf

    folder = files("f5_tts").joinpath("infer/examples/multi")
    script = "[main] " + folder.joinpath("story.txt").read_text("utf-8").replace("[town]", "[town speed=0.8]")
    audios = []
    for name in STORY_VOICES:
        data, sr = sf.read(str(folder.joinpath(f"{name}.flac")), dtype="float32", always_2d=False)
        audios.append((sr, data))
    return {
        "script": script,
        "audios": audios,
        "names": list(STORY_VOICES),
        "tags": list(STORY_VOICES),
        "voices": list(STORY_VOICES),
    }


class DialogueTab:
    """The tab's components; handlers read them by name, in dicts of component values."""

    def __init__(self, studio: Studio) -> None:
        self.h = DialogueHandlers(studio)
        gr.Markdown(HELP)
        self._speakers()
        self._settings_and_results()

    def _speakers(self) -> None:  # long: the layout top to bottom, one component a statement
        """The script, the tag -> voice rows beside it, and the upload slots for voices not saved."""
        with gr.Row():
            with gr.Column(scale=3):
                self.script = gr.Textbox(label="Script", lines=9, elem_id="dialogue-script", placeholder=EXAMPLE)
            with gr.Column(scale=2):
                self.tags, self.pickers = [], []
                initial = self.h.choices([None] * SLOTS)
                for i in range(ROWS):
                    with gr.Row(equal_height=True):
                        self.tags.append(
                            gr.Textbox(
                                label=f"Tag {i + 1}",
                                placeholder="e.g. Narrator",
                                min_width=100,
                                elem_id=f"dialogue-tag-{i}",
                            )
                        )
                        self.pickers.append(
                            gr.Dropdown(
                                choices=initial,
                                value=None,
                                label="Voice",
                                min_width=120,
                                allow_custom_value=True,
                                elem_id=f"dialogue-voice-{i}",
                            )
                        )
                self.find = gr.Button("Find speakers in the script", size="sm", elem_id="dialogue-find")
        with gr.Accordion("Voices uploaded for this dialogue (optional)", open=False, elem_id="dialogue-uploads"):
            with gr.Row():
                self.audios, self.names, self.texts = [], [], []
                for i in range(SLOTS):
                    with gr.Column(min_width=200):
                        self.audios.append(
                            gr.Audio(
                                label=f"Upload {i + 1}",
                                sources=["upload", "microphone"],
                                type="filepath",
                                elem_id=f"dialogue-ref-{i}",
                            )
                        )
                        self.names.append(
                            gr.Textbox(
                                label="Its name (pick it as a voice above)",
                                value=slot_name(None, i),
                                elem_id=f"dialogue-ref-name-{i}",
                            )
                        )
                        self.texts.append(
                            gr.Textbox(
                                label="Transcript (optional)",
                                elem_id=f"dialogue-ref-text-{i}",
                                placeholder="Leave empty to transcribe",
                            )
                        )

    def _settings_and_results(self) -> None:
        with gr.Row():
            self.pause = gr.Slider(0.0, MAX_PAUSE_S, value=DEFAULT_PAUSE_S, step=0.05, label="Pause between turns (s)")
            self.nfe_step = control("nfe_step", elem_id="dialogue-quality")
            self.seed = seed_box("Base seed (-1 = random)", elem_id="dialogue-seed")
            self.normalize = control("normalize", elem_id="dialogue-normalize")
            self.check = control("check", elem_id="dialogue-check")
        self.story = gr.Button(
            "Load the story example (the three voices f5-tts ships)", size="sm", elem_id="dialogue-story"
        )
        self.generate_btn = gr.Button("Generate dialogue", variant="primary", elem_id="dialogue-generate")
        self.out_audio = gr.Audio(
            label="Dialogue", type="numpy", format="wav", interactive=False, elem_id="dialogue-result"
        )
        self.table = gr.Dataframe(
            headers=TABLE_HEADERS,
            column_widths=TABLE_WIDTHS,
            label="Turns (put a seed in its tag, seed=…, to keep that take)",
            interactive=False,
            wrap=True,
            elem_id="dialogue-turns",
        )
        self.seed_used = seed_used_box("Base seed used", elem_id="dialogue-seed-used")
        # The public endpoint: script + a JSON mapping, on a hidden button (the tab's rows are not an API).
        self.api_button = gr.Button(visible=False)
        self.api_voices = gr.JSON(value=None, label="Voices (tag -> saved voice)", visible=False)
        self.api_turns = gr.JSON(value=None, label="Turns", visible=False)

    # ---- handlers over dicts of component values ----------------------------------------------------------------
    @user_errors
    def generate(self, data: dict, progress: gr.Progress = gr.Progress()) -> tuple:  # noqa: B008
        rows = [(data[t], data[p]) for t, p in zip(self.tags, self.pickers, strict=True)]
        uploads = [
            Upload(data[a], data[n], data[t]) for a, n, t in zip(self.audios, self.names, self.texts, strict=True)
        ]
        with self.h.studio.metrics.track("ui"):
            audio, table, seed = self.h.generate(
                data[self.script],
                rows,
                uploads,
                data[self.pause],
                data[self.nfe_step],
                data[self.seed],
                progress,
                data[self.normalize],
                data[self.check],
            )
        rate, wave = audio
        named = history.named_result(wave, rate, "dialogue", data[self.script], seed)  # dialogue-<first words>-seed-N
        return named, table, seed_used(seed)

    def find_speakers(self, data: dict) -> dict:
        found = self.h.find_speakers(
            data[self.script],
            [(data[t], data[p]) for t, p in zip(self.tags, self.pickers, strict=True)],
            [data[n] for n in self.names],
        )
        if found is None:  # nothing to fill in: every row stays (Gradio refuses an empty dict of outputs)
            return {tag: gr.skip() for tag in self.tags}
        out: dict = {}
        for (tag, picker), (tag_value, picker_update) in zip(
            zip(self.tags, self.pickers, strict=True), found, strict=True
        ):
            out[tag], out[picker] = tag_value, picker_update
        return out

    def refresh(self, data: dict) -> dict:
        """Voice pickers offer the saved voices as they are now, plus the upload slots (picked values are kept)."""
        options = self.h.choices([data[n] for n in self.names])
        return {picker: gr.update(choices=options) for picker in self.pickers}

    def load_story(self) -> dict:
        story = story_example()
        out: dict = {self.script: story["script"]}
        for i in range(SLOTS):
            has = i < len(story["audios"])
            out[self.audios[i]] = story["audios"][i] if has else None
            out[self.names[i]] = story["names"][i] if has else gr.skip()
            out[self.texts[i]] = ""
        for i in range(ROWS):
            has = i < len(story["tags"])
            out[self.tags[i]] = story["tags"][i] if has else ""
            out[self.pickers[i]] = story["voices"][i] if has else None
        return out

    def wire(self, tab: gr.Tab, root: gr.Blocks) -> None:
        """Wire the tab's events (after every tab is laid out)."""
        inputs: set[Block] = {
            self.script,
            *self.tags,
            *self.pickers,
            *self.audios,
            *self.names,
            *self.texts,
            self.pause,
            self.nfe_step,
            self.seed,
            self.normalize,
            self.check,
        }
        self.generate_btn.click(
            self.generate,
            inputs,
            [self.out_audio, self.table, self.seed_used],
            api_visibility="private",
            concurrency_id="gpu",
            show_progress_on=[self.out_audio],  # progress, and an error, on the result alone
        )
        self.api_button.click(
            stops_when_cancelled(self.h.synthesize_dialogue),
            [self.script, self.api_voices, self.pause, self.nfe_step, self.seed, self.normalize, self.check],
            [self.out_audio, self.api_turns, self.seed_used],
            api_name="synthesize_dialogue",
            concurrency_id="gpu",
        )
        rows: set[Block] = {self.script, *self.tags, *self.pickers, *self.names}
        for fill in (self.find.click, self.script.blur):
            fill(self.find_speakers, rows, [*self.tags, *self.pickers], api_visibility="private", queue=False)
        self.story.click(
            self.load_story,
            None,
            [self.script, *self.audios, *self.names, *self.texts, *self.tags, *self.pickers],
            api_visibility="private",
        )
        names: set[Block] = set(self.names)
        # saved voices as they are when a slot is renamed, when the tab is opened, when the page loads
        for refresh in (*(name.blur for name in self.names), tab.select, root.load):
            refresh(self.refresh, names, self.pickers, api_visibility="private", queue=False, show_progress="hidden")

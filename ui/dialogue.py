"""The Dialogue tab: a script with several voices, spoken as one take; and its public /synthesize_dialogue endpoint.

The tab maps each tag to a voice in a few rows (tag + voice picker, filled in from the script), with a few upload
slots for voices that are not saved. The API takes the script and a tag -> voice mapping (saved voices only).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np
from gradio.context import Context

from inference import Engine, InputError, Reference, SynthesisOptions
from inference import dialogue as dlg

from .handlers import user_errors

ROWS = 4  # tag -> voice rows in the tab (more speakers can still be voiced by naming saved voices as tags)
SLOTS = 3  # upload slots
PRESETS = [("Fast (7 steps)", 7), ("Balanced (16 steps)", 16), ("Best (32 steps)", 32)]
TABLE_HEADERS = ["Turn", "Speaker", "Voice", "Text", "Seed", "Start (s)", "Length (s)"]
HELP = """Write a script with several voices. Tag each turn with its speaker:
**[Narrator] It was late. [Guest] Hello?**, or put one speaker per line: **Narrator: It was late.**
Then pick the voice for each tag below (a tag that is already the name of a saved voice needs no row).
A tag may carry its own speed and seed: **[Guest speed=1.2 seed=7] Hello?**. Text before the first tag is spoken by
the voice mapped to the tag **default**. Each turn's seed is listed with the result: put it in its tag to keep a take.
"""
EXAMPLE = "[Narrator] It was late, and the house was quiet.\n[Guest] Hello? Is anyone there?"


def slot_name(name: str | None, index: int) -> str:
    return " ".join((name or "").split()) or f"Upload {index + 1}"


def dialogue_handlers(engine: Engine) -> dict[str, Any]:
    def options(nfe_step: Any, seed: Any) -> SynthesisOptions:
        base = None if seed is None or seed == "" or int(seed) < 0 else int(seed)
        return SynthesisOptions(nfe_step=int(nfe_step), seed=base)

    def speak(script: str, mapping: Any, uploads: dict[str, Reference], pause: Any, nfe_step: Any, seed: Any,
              progress: gr.Progress) -> dlg.DialogueResult:
        progress(0.0, desc="Preparing (the first generation also loads the model)…")
        return dlg.synthesize_script(engine, script, mapping, uploads, float(pause), options(nfe_step, seed),
                                     progress=lambda d, t: progress(d / t, desc=f"Turn {d}/{t}"))

    @user_errors
    def synthesize_dialogue(
        script: str,
        voices: Any = None,
        pause: float = dlg.DEFAULT_PAUSE_S,
        nfe_step: int = 32,
        seed: int = -1,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 - Gradio's way to ask for a progress bar
    ) -> tuple[tuple[int, np.ndarray], list[dict], int]:
        """Speak a script with several saved voices, as one audio file.

        Args:
            script: the dialogue, e.g. "[Narrator] It was late. [Guest speed=1.2 seed=7] Hello?" or one
                "Name: text" per line. Text before the first tag is spoken by the voice mapped to "default".
            voices: tags -> saved voice names, a JSON object such as {"Narrator": "alice", "Guest": "bob"} (or a list
                of [tag, voice] pairs). A tag that is the name of a saved voice needs no entry.
            pause: seconds of silence between turns, 0 to 5.
            nfe_step: quality preset in flow steps: 7 (fast), 16 (balanced) or 32 (best).
            seed: the base seed; -1 picks one. Turn i (from 0) uses base + i unless its tag sets seed=.
        Returns:
            the audio (WAV); the turns as [{"turn", "speaker", "voice", "text", "seed", "speed", "start",
            "duration"}]; and the base seed used.
        """
        result = speak(script, voices, {}, pause, nfe_step, seed, progress)
        return (result.sample_rate, result.wave), result.table(), result.base_seed

    @user_errors
    def generate(script: str, *values: Any, progress: gr.Progress = gr.Progress()) -> tuple:  # noqa: B008
        """The tab's button: rows of tag -> voice, upload slots, then pause, quality and seed."""
        tags, voices = values[:ROWS], values[ROWS:2 * ROWS]
        audios, names, texts = (values[2 * ROWS + i * SLOTS:2 * ROWS + (i + 1) * SLOTS] for i in range(3))
        pause, nfe_step, seed = values[2 * ROWS + 3 * SLOTS:]
        uploads: dict[str, Reference] = {}
        for i, (audio, name, text) in enumerate(zip(audios, names, texts, strict=True)):
            if audio:
                uploads[slot_name(name, i)] = Reference(Path(audio), (text or "").strip())
        mapping = [(tag or "", voice or "") for tag, voice in zip(tags, voices, strict=True)]
        used = {(s or dlg.DEFAULT_SPEAKER).casefold() for s in dlg.speakers(dlg.parse_script(script or ""))}
        known = {n.casefold() for n in [*uploads, *engine.voices.names()]}
        for tag, voice in mapping:
            tag = " ".join(tag.split())
            if tag.casefold() in used - known and not voice.strip():
                raise InputError(f"No voice is picked for the tag [{tag}].", "Pick one in its row.")
        result = speak(script, mapping, uploads, pause, nfe_step, seed, progress)
        rows = [[t["turn"], t["speaker"], t["voice"], t["text"], t["seed"], t["start"], t["duration"]]
                for t in result.table()]
        return (result.sample_rate, result.wave), rows, result.base_seed

    def choices(*names: str) -> list[str]:
        slots = [slot_name(n, i) for i, n in enumerate(names)]
        return [*slots, *(n for n in engine.voices.names() if n not in slots)]

    def refresh(*names: str) -> list[Any]:
        """Voice pickers offer the saved voices as they are now, plus the upload slots (picked values are kept)."""
        return [gr.update(choices=choices(*names))] * ROWS

    def find_speakers(script: str, *values: Any) -> list[Any]:
        """Fill the rows with the script's tags: a row whose tag stays keeps its voice (nothing is sent for it, so a
        voice being picked meanwhile is not undone); a new tag named like a voice gets that voice."""
        tags, picked, names = values[:ROWS], values[ROWS:2 * ROWS], values[2 * ROWS:]
        try:
            found = [s or dlg.DEFAULT_SPEAKER for s in dlg.speakers(dlg.parse_script(script or ""))]
        except InputError:
            found = []  # the error is shown when generating
        if not found:
            return [gr.skip()] * (2 * ROWS)
        options = choices(*names)
        by_key = {o.casefold(): o for o in options}
        kept = {(t or "").strip().casefold(): v for t, v in zip(tags, picked, strict=True) if (t or "").strip()}
        new_tags = [*found[:ROWS], *[""] * (ROWS - min(ROWS, len(found)))]
        out_tags, out_pickers, changed = [], [], False
        for old, new in zip(tags, new_tags, strict=True):
            if (old or "").strip().casefold() == new.casefold():
                out_tags.append(gr.skip())
                out_pickers.append(gr.update(choices=options))
            else:
                changed = True
                out_tags.append(new)
                out_pickers.append(gr.update(choices=options, value=kept.get(new.casefold())
                                             or by_key.get(new.casefold()) if new else None))
        if len(found) > ROWS and changed:
            gr.Warning(f"The script has {len(found)} speakers; the rows show the first {ROWS}. Name the other "
                       "tags after saved voices to voice them.")
        return [*out_tags, *out_pickers]

    return {"synthesize_dialogue": synthesize_dialogue, "generate": generate, "refresh": refresh,
            "find_speakers": find_speakers, "choices": choices}


STORY_VOICES = ("main", "town", "country")  # f5-tts's infer/examples/multi: story.txt, story.toml, *.flac


def story_example() -> list[Any]:
    """f5-tts's multi-voice story: its script (the town mouse speaks at 0.8x, as story.toml says) and voices."""
    import soundfile as sf

    folder = files("f5_tts").joinpath("infer/examples/multi")
    script = "[main] " + folder.joinpath("story.txt").read_text("utf-8").replace("[town]", "[town speed=0.8]")
    audios = []
    for name in STORY_VOICES:
        data, sr = sf.read(str(folder.joinpath(f"{name}.flac")), dtype="float32", always_2d=False)
        audios.append((sr, data))
    pad = SLOTS - len(STORY_VOICES)
    rows = ROWS - len(STORY_VOICES)
    return [script, *audios, *[None] * pad, *STORY_VOICES, *[gr.skip()] * pad, *[""] * SLOTS,
            *STORY_VOICES, *[""] * rows, *STORY_VOICES, *[None] * rows]


def build_dialogue_tab(engine: Engine) -> None:
    """Lay out the tab inside the current Blocks context (a gr.Tab) and wire its events."""
    h = dialogue_handlers(engine)
    gr.Markdown(HELP)
    with gr.Row():
        with gr.Column(scale=3):
            script = gr.Textbox(label="Script", lines=9, elem_id="dialogue-script", placeholder=EXAMPLE)
        with gr.Column(scale=2):
            tags, pickers = [], []
            initial = h["choices"](*[slot_name(None, i) for i in range(SLOTS)])
            for i in range(ROWS):
                with gr.Row(equal_height=True):
                    tags.append(gr.Textbox(label=f"Tag {i + 1}", placeholder="e.g. Narrator", min_width=100,
                                           elem_id=f"dialogue-tag-{i}"))
                    pickers.append(gr.Dropdown(choices=initial, value=None, label="Voice", allow_custom_value=True,
                                               min_width=120, elem_id=f"dialogue-voice-{i}"))
            find = gr.Button("Find speakers in the script", size="sm", elem_id="dialogue-find")
    with gr.Accordion("Voices uploaded for this dialogue (optional)", open=False, elem_id="dialogue-uploads"):
        with gr.Row():
            audios, names, texts = [], [], []
            for i in range(SLOTS):
                with gr.Column(min_width=200):
                    audios.append(gr.Audio(label=f"Upload {i + 1}", sources=["upload", "microphone"], type="filepath",
                                           elem_id=f"dialogue-ref-{i}"))
                    names.append(gr.Textbox(label="Its name (pick it as a voice above)", value=slot_name(None, i),
                                            elem_id=f"dialogue-ref-name-{i}"))
                    texts.append(gr.Textbox(label="Transcript (optional)", placeholder="Leave empty to transcribe",
                                            elem_id=f"dialogue-ref-text-{i}"))
    with gr.Row():
        pause = gr.Slider(0.0, dlg.MAX_PAUSE_S, value=dlg.DEFAULT_PAUSE_S, step=0.05, label="Pause between turns (s)")
        nfe_step = gr.Radio(PRESETS, value=32, label="Quality", elem_id="dialogue-quality")
        seed = gr.Number(value=-1, precision=0, minimum=-1, label="Base seed (-1 = random)", elem_id="dialogue-seed")
    story = gr.Button("Load the story example (the three voices f5-tts ships)", size="sm", elem_id="dialogue-story")
    generate = gr.Button("Generate dialogue", variant="primary", elem_id="dialogue-generate")
    out_audio = gr.Audio(label="Dialogue", type="numpy", format="wav", interactive=False, elem_id="dialogue-result")
    table = gr.Dataframe(headers=TABLE_HEADERS, label="Turns (put a seed in its tag, seed=…, to keep that take)",
                         interactive=False, wrap=True, elem_id="dialogue-turns")
    seed_used = gr.Number(label="Base seed used", precision=0, interactive=False, elem_id="dialogue-seed-used")
    # The public endpoint: script + a JSON mapping, on a hidden button (the tab's rows are not an API).
    api_button = gr.Button(visible=False)
    api_voices = gr.JSON(value=None, label="Voices (tag -> saved voice)", visible=False)
    api_turns = gr.JSON(value=None, label="Turns", visible=False)

    generate.click(h["generate"], [script, *tags, *pickers, *audios, *names, *texts, pause, nfe_step, seed],
                   [out_audio, table, seed_used], api_visibility="private", concurrency_id="gpu")
    api_button.click(h["synthesize_dialogue"], [script, api_voices, pause, nfe_step, seed],
                     [out_audio, api_turns, seed_used], api_name="synthesize_dialogue", concurrency_id="gpu")
    fill = {"fn": h["find_speakers"], "inputs": [script, *tags, *pickers, *names], "outputs": [*tags, *pickers],
            "api_visibility": "private", "queue": False}
    find.click(**fill)
    story.click(story_example, None, [script, *audios, *names, *texts, *tags, *pickers], api_visibility="private")
    script.blur(**fill)
    refresh = {"fn": h["refresh"], "inputs": names, "outputs": pickers, "api_visibility": "private",
               "queue": False, "show_progress": "hidden"}
    for name in names:
        name.blur(**refresh)
    if isinstance(Context.block, gr.Tab):
        Context.block.select(**refresh)  # saved voices as they are when the tab is opened
    if Context.root_block is not None:
        Context.root_block.load(**refresh)

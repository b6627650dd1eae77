"""The Dialogue tab's handlers over the studio: the public /synthesize_dialogue endpoint, the tab's Generate (tag
rows and upload slots) and the speaker rows filled in from the script."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import gradio as gr
import numpy as np

from inference import (
    DEFAULT_PAUSE_S,
    DEFAULT_SPEAKER,
    MAX_PAUSE_S,
    DialogueResult,
    InputError,
    Reference,
    Studio,
    SynthesisOptions,
    Turn,
    max_script_chars,
    parse_script,
    speakers,
)

from . import history
from .handlers import preparing, user_errors
from .options import DEFAULTS, option_docs

ROWS = 4  # tag -> voice rows in the tab (more speakers can still be voiced by naming saved voices as tags)


def slot_name(name: str | None, index: int) -> str:
    return " ".join((name or "").split()) or f"Upload {index + 1}"


@dataclass(frozen=True)
class Upload:
    audio: str | None
    name: str | None
    text: str | None


class DialogueHandlers:
    def __init__(self, studio: Studio) -> None:
        self.studio = studio

    def speak(
        self,
        script: str,
        mapping: Any,
        uploads: dict[str, Reference],
        pause: Any,
        nfe_step: Any,
        seed: Any,
        progress: gr.Progress,
        normalize: Any = True,
        check: Any = False,
    ) -> DialogueResult:
        given = {"nfe_step": nfe_step, "seed": seed, "normalize": normalize, "check": check}
        options = SynthesisOptions.from_loose(given)  # NaN, 7.5: refused, named
        if isinstance(pause, bool) or not isinstance(pause, (int, float)):
            try:
                pause = float(pause)
            except (TypeError, ValueError):
                raise InputError(
                    f"The pause between turns must be a number of seconds, not {pause!r}.",
                    f"Use 0 to {MAX_PAUSE_S:g}.",
                ) from None
        progress(0.0, desc=preparing(self.studio))
        return self.studio.dialogue(
            script,
            mapping,
            uploads,
            pause,
            options,
            progress=lambda d, t: progress(d / t, desc=f"Turn {d}/{t}"),
        )

    @user_errors
    @option_docs  # the Args lines of the options and shared parameters (ui/options.py)
    def synthesize_dialogue(
        self,
        script: str,
        voices: Any = None,
        pause: float = DEFAULT_PAUSE_S,
        nfe_step: int = DEFAULTS["nfe_step"],
        seed: int = -1,
        normalize: bool = DEFAULTS["normalize"],
        check: bool = DEFAULTS["check"],
        progress: gr.Progress = gr.Progress(),  # noqa: B008 - Gradio's way to ask for a progress bar
    ) -> tuple[str, list[dict], int]:
        """Speak a script with several saved voices, as one audio file.

        Args:
            script: the dialogue, e.g. "[Narrator] It was late. [Guest speed=1.2 seed=7] Hello?" or one
                "Name: text" per line. Text before the first tag is spoken by the voice mapped to "default".
            voices: tags -> saved voice names, a JSON object such as {"Narrator": "alice", "Guest": "bob"} (or a list
                of [tag, voice] pairs). A tag that is the name of a saved voice needs no entry.
            pause: seconds of silence between turns, 0 to 5.
            seed: the base seed; -1 picks one. Turn i (from 0) uses base + i unless its tag sets seed=.
            normalize: read numbers, dates, money and abbreviations as words (see /normalize_text).
            check: transcribe each chunk and generate it again when its words differ; scores in each turn's "check".
        Returns:
            the audio (WAV); the turns as [{"turn", "speaker", "voice", "text", "seed", "speed", "start",
            "duration", "spoken_text", "check"}]; and the base seed used.
        """
        with self.studio.metrics.track("gradio_api"):
            result = self.speak(script, voices, {}, pause, nfe_step, seed, progress, normalize, check)
        return history.take_file(result.wave, result.sample_rate, "dialogue"), result.table(), result.base_seed

    def generate(
        self,
        script: str,
        rows: Sequence[tuple[str, str]],
        uploads: Sequence[Upload],
        pause: Any,
        nfe_step: Any,
        seed: Any,
        progress: gr.Progress,
        normalize: Any = True,
        check: Any = False,
    ) -> tuple[tuple[int, np.ndarray], list[list], int]:
        """The tab's button: rows of (tag, voice), the upload slots, then pause, quality, seed, and the text options."""
        refs = {
            slot_name(u.name, i): self.studio.reference(audio=u.audio, text=u.text)
            for i, u in enumerate(uploads)
            if u.audio
        }
        mapping = [(tag or "", voice or "") for tag, voice in rows]
        used = {(s or DEFAULT_SPEAKER).casefold() for s in speakers(self._parse(script))}
        known = {n.casefold() for n in [*refs, *self.studio.voices.names()]}
        for tag, voice in mapping:
            tag = " ".join(tag.split())
            if tag.casefold() in used - known and not voice.strip():
                raise InputError(f"No voice is picked for the tag [{tag}].", "Pick one in its row.")
        result = self.speak(script, mapping, refs, pause, nfe_step, seed, progress, normalize, check)
        table = [
            [t["turn"], t["speaker"], t["voice"], t["text"], t["seed"], t["start"], t["duration"], t["spoken_text"]]
            + [_check_cell(t["check"])]
            for t in result.table()
        ]
        return (result.sample_rate, result.wave), table, result.base_seed

    def choices(self, names: Sequence[str | None]) -> list[str]:
        slots = [slot_name(n, i) for i, n in enumerate(names)]
        return [*slots, *(n for n in self.studio.voices.names() if n not in slots)]

    def _parse(self, script: str | None) -> list[Turn]:
        """The script's turns; InputError for a malformed script or one longer than a dialogue may be."""
        return parse_script(script or "", max_script_chars(self.studio.settings.max_text_chars))

    def find_speakers(
        self, script: str, rows: Sequence[tuple[str | None, str | None]], names: Sequence[str | None]
    ) -> list[tuple[Any, Any]] | None:
        """(tag, picker update) per row, filled with the script's tags; None when the script has none (or is
        malformed: the error is shown when generating). A row whose tag stays keeps its voice (nothing is sent for
        it, so a voice being picked meanwhile is not undone); a new tag named like a voice gets that voice."""
        try:
            found = [s or DEFAULT_SPEAKER for s in speakers(self._parse(script))]
        except InputError:
            found = []
        if not found:
            return None
        options = self.choices(names)
        by_key = {o.casefold(): o for o in options}
        kept = {(t or "").strip().casefold(): v for t, v in rows if (t or "").strip()}
        new_tags = [*found[:ROWS], *[""] * (ROWS - min(ROWS, len(found)))]
        out, changed = [], False
        for (old, _), new in zip(rows, new_tags, strict=True):
            if (old or "").strip().casefold() == new.casefold():
                out.append((gr.skip(), gr.update(choices=options)))
            else:
                changed = True
                value = kept.get(new.casefold()) or by_key.get(new.casefold()) if new else None
                out.append((new, gr.update(choices=options, value=value)))
        if len(found) > ROWS and changed:
            gr.Warning(
                f"The script has {len(found)} speakers; the rows show the first {ROWS}. Name the other "
                "tags after saved voices to voice them."
            )
        return out


def _check_cell(check: dict | None) -> str:
    """A turn's check in one cell: 'worst 12% · 1 retried', 'not checked: ...', or '' when it was off."""
    if not check:
        return ""
    if not check["checked"]:
        return check.get("note", "not checked")
    return f"worst {check['worst_wer']:.0%} · {check['retried']} retried"

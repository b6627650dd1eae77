"""Words: the spoken-text preview (/normalize_text) and the pronunciation dictionary's editor (/list_pronunciations,
/set_pronunciation, /delete_pronunciation). The dictionary lives in VOICES_DIR as plain text (inference/text/
pronounce.py): the global file, and one per saved voice whose entries win for that voice."""

from __future__ import annotations

from typing import Any

import gradio as gr

from inference import Studio, SynthesisOptions, check_entry

from .handlers import user_errors

GLOBAL_LABEL = "All voices"
ENTRY_HELP = """Words the voice says wrong, and how to say them: a respelling (**Nguyen → win**), or for Chinese pinyin
with tone numbers (**重庆 → chong2 qing4**). Whole words only; tick *exact case* so that **US** does not change **us**.
Kept as plain text next to the voices (`_pronunciations.txt`, and `<voice>.pronunciations.txt` for one voice's own
words), so the files can be edited by hand too."""


class WordsHandlers:
    def __init__(self, studio: Studio) -> None:
        self.studio = studio

    def _scope(self, voice: str | None) -> str | None:
        """None for the global dictionary; a saved voice's name (checked: it must exist) for its own."""
        voice = (voice or "").strip()
        return self.studio.voices.get(voice).name if voice else None

    @user_errors
    def normalize_text(self, text: str, voice: str | None = None, normalize: bool = True) -> str:
        """The text as the voice will say it: numbers, dates, money, units and abbreviations as words (unless
        normalize is false), then the pronunciation dictionary applied (the global one and the voice's own).

        Args:
            text: the text to speak.
            voice: a saved voice's name whose own pronunciations apply too ('' = only the global ones).
            normalize: read numbers, dates and the like as words.
        Returns:
            the text that will be spoken.
        """
        flag = SynthesisOptions.from_loose({"normalize": normalize}).normalize
        return self.studio.spoken_text(text, flag, self._scope(voice))

    @user_errors
    def list_pronunciations(self, voice: str | None = None) -> list[dict]:
        """The dictionary's entries: [{"word", "spoken", "case_sensitive"}].

        Args:
            voice: '' for the global dictionary (every voice), or a saved voice's name for its own entries.
        """
        return [e.as_dict() for e in self.studio.pronunciations.load(self._scope(voice)).entries]

    @user_errors
    def set_pronunciation(
        self, word: str, spoken: str, case_sensitive: bool = False, voice: str | None = None
    ) -> list[dict]:
        """Add or change an entry: `word` is said as `spoken`. Returns the dictionary's entries.

        Args:
            word: the word (or phrase) as written, e.g. "Nguyen" or "重庆".
            spoken: how to say it: a respelling ("win"), or pinyin with tone numbers for Chinese ("chong2 qing4").
            case_sensitive: match the exact case only ("US" but not "us").
            voice: '' for every voice, or a saved voice's name for its own dictionary.
        """
        entry = check_entry(word, spoken, case_sensitive)
        scope = self._scope(voice)
        entries = self.studio.set_pronunciation(entry, scope).entries
        gr.Info(f"{entry.word!r} is now said {entry.spoken!r}.")
        return [e.as_dict() for e in entries]

    @user_errors
    def delete_pronunciation(self, word: str, voice: str | None = None) -> list[dict]:
        """Remove a word's entry. Returns the dictionary's entries.

        Args:
            word: the word as it is in the dictionary (any case).
            voice: '' for every voice, or a saved voice's name for its own dictionary.
        """
        return [e.as_dict() for e in self.studio.delete_pronunciation(word, self._scope(voice)).entries]

    def scopes(self) -> Any:
        """The dictionary picker: every voice's dictionary, and the global one."""
        return gr.update(choices=[(GLOBAL_LABEL, ""), *((n, n) for n in self.studio.voices.names())])


class WordsPanel:
    """The dictionary editor, inside the current Blocks context."""

    def __init__(self, studio: Studio) -> None:
        self.h = WordsHandlers(studio)
        with gr.Accordion("Pronunciations", open=False, elem_id="pronunciations"):
            gr.Markdown(ENTRY_HELP)
            with gr.Row():
                self.scope = gr.Dropdown(
                    choices=[(GLOBAL_LABEL, "")],
                    value="",
                    label="Dictionary",
                    allow_custom_value=True,  # a voice saved since the page was opened
                    elem_id="words-scope",
                    scale=2,
                )
                self.word = gr.Textbox(label="Word", placeholder="e.g. Nguyen", elem_id="words-word", scale=2)
                self.spoken = gr.Textbox(label="Say it as", placeholder="e.g. win", elem_id="words-spoken", scale=2)
                self.case = gr.Checkbox(label="Exact case", value=False, elem_id="words-case", scale=1)
            with gr.Row():
                self.set_btn = gr.Button("Add or change", size="sm", elem_id="words-set")
                self.delete_btn = gr.Button("Remove the word", size="sm", variant="stop", elem_id="words-delete")
                self.list_btn = gr.Button("Show entries", size="sm", elem_id="words-list")
            self.entries = gr.JSON(label="Entries", value=None, elem_id="words-entries")

    def wire(self) -> None:
        h = self.h
        self.set_btn.click(
            h.set_pronunciation,
            [self.word, self.spoken, self.case, self.scope],
            [self.entries],
            api_name="set_pronunciation",
        )
        self.delete_btn.click(
            h.delete_pronunciation, [self.word, self.scope], [self.entries], api_name="delete_pronunciation"
        )
        self.list_btn.click(
            h.list_pronunciations, [self.scope], [self.entries], api_name="list_pronunciations", queue=False
        )  # cheap: never "busy"
        self.scope.change(
            h.list_pronunciations, [self.scope], [self.entries], api_visibility="private", show_progress="hidden"
        )
        self.scope.focus(
            h.scopes, None, self.scope, api_visibility="private", queue=False
        )  # the voices as they are now

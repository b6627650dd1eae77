"""What preparing the reference did or found (too short, clipped at a pause, quiet, noisy: inference/audio/prepare.py),
shown next to the reference as soon as it is uploaded and again with each take, and the public /reference_notes
endpoint for gradio_client (the existing endpoints keep their outputs):

    notes = client.predict(handle_file("voice.wav"), api_name="/reference_notes")
    -> ['short reference (2.9 s); 5 to 12 s of speech gives a closer voice match', 'raised the volume by 14 dB']
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import gradio as gr

from inference import InputError, Studio

from .handlers import user_errors


def notes_markdown(notes: Sequence[str]) -> str:
    """The notes as one line for the page; '' when the reference is used as it is.

    >>> notes_markdown(["raised the volume by 14 dB", "trimmed 1.2 s of silence at the edges"])
    '**Reference:** raised the volume by 14 dB; trimmed 1.2 s of silence at the edges.'
    """
    return f"**Reference:** {'; '.join(notes)}." if notes else ""


class ReferenceNotes:
    """A Markdown under the reference (its notes, or what is wrong with it) and the hidden /reference_notes."""

    def __init__(self, studio: Studio) -> None:
        self.studio = studio
        self.markdown = gr.Markdown(elem_id="ref-notes")
        self.api_button = gr.Button(visible=False)  # carries the public /reference_notes endpoint
        self.api_notes = gr.JSON(value=None, label="Reference notes", visible=False)

    def on_change(self, ref_audio: str | None) -> str:
        """The notes of a newly uploaded or recorded reference; a reference that cannot be used says why here, in
        place, rather than in a pop-up (Generate will say it again)."""
        if not ref_audio:
            return ""
        try:
            notes = self.studio.reference_notes(Path(ref_audio))
        except InputError as e:
            return f"**Reference:** {e}"
        return notes_markdown(notes)

    @user_errors
    def reference_notes(self, ref_audio: str | None) -> list[str]:
        """What preparing `ref_audio` as a reference does or finds: clipped or trimmed, too short, volume raised,
        background noise. The same notes show next to the reference in the page.

        Args:
            ref_audio: a recording of speech (wav, mp3, flac, ogg, m4a, webm).
        Returns:
            the notes as sentences, e.g. ["short reference (2.9 s); 5 to 12 s of speech gives a closer voice
            match"]; [] when the recording is used as it is.
        """
        if not ref_audio:
            raise InputError("No reference voice was given.", "Upload or record a few seconds of speech first.")
        return list(self.studio.reference_notes(Path(ref_audio)))

    def wire(self, ref_audio: gr.Audio) -> None:
        ref_audio.change(self.on_change, [ref_audio], [self.markdown], api_visibility="private", show_progress="hidden")
        self.api_button.click(self.reference_notes, [ref_audio], [self.api_notes], api_name="reference_notes")

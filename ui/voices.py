"""The saved-voices panel: pick, save, rename and delete voices; each action is a named endpoint too."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr
import soundfile as sf

from inference import InputError, Studio

from .handlers import user_errors


class VoiceHandlers:
    def __init__(self, studio: Studio) -> None:
        self.studio = studio

    @user_errors
    def list_voices(self) -> list[dict]:
        """Every saved voice: [{"name": ..., "transcript": ...}]."""
        return [{"name": v.name, "transcript": v.text} for v in self.studio.voices.all()]

    @user_errors
    def save_voice(self, ref_audio: str | None, name: str, ref_text: str = "") -> str:
        """Save `ref_audio` as a named voice (prepared: clipped to ~12 s, trimmed, normalised).

        Args:
            ref_audio: the recording to keep.
            name: the voice's name; letters, digits, spaces, - and _ (other characters are dropped), at most 64.
            ref_text: its transcript; empty = transcribe it.
        Returns:
            the name it was saved under.
        """
        if not ref_audio:
            raise InputError("There is no reference to save.", "Upload or record a voice first.")
        voice = self.studio.save_voice(name, ref_audio, ref_text or "")
        gr.Info(f"Saved voice {voice.name!r}.")
        return voice.name

    @user_errors
    def rename_voice(self, name: str, new_name: str) -> str:
        """Rename a saved voice; returns its new name.

        Args:
            name: the saved voice's name (see /list_voices).
            new_name: its new name; letters, digits, spaces, - and _ (other characters are dropped), at most 64.
        """
        return self.studio.voices.rename(name or "", new_name or "").name

    @user_errors
    def delete_voice(self, name: str) -> str:
        """Delete a saved voice (its audio, transcript and pronunciations); returns the deleted name, as saved.

        Args:
            name: the saved voice's name (see /list_voices).
        """
        deleted = self.studio.voices.delete(name or "").name
        gr.Info(f"Deleted voice {deleted!r}.")
        return deleted

    def refresh(self, selected: str | None = None) -> Any:
        names = self.studio.voices.names()
        return gr.update(choices=names, value=selected if selected in names else None)

    @user_errors
    def use_voice(self, name: str | None) -> tuple[Any, Any]:
        """Show a picked voice in the reference box (as audio data: the voices folder is not served directly)."""
        if not name:
            return gr.skip(), gr.skip()
        voice = self.studio.voices.get(name)
        data, sr = sf.read(voice.audio, dtype="float32", always_2d=False)
        return (sr, data), voice.text


@dataclass
class VoicePanel:
    dropdown: gr.Dropdown
    name: gr.Textbox
    listing: gr.JSON
    refresh: Any  # () -> dropdown update with the voices as they are now


def build_voice_panel(studio: Studio, ref_audio: gr.Audio, ref_text: gr.Textbox) -> VoicePanel:
    """Lay out the panel inside the current Blocks context and wire its events."""
    h = VoiceHandlers(studio)
    with gr.Accordion("Saved voices", open=False):
        with gr.Row():
            dropdown = gr.Dropdown(
                choices=studio.voices.names(),
                value=None,
                label="Use a saved voice",
                allow_custom_value=True,
                elem_id="voice-pick",
                scale=2,
            )
            name = gr.Textbox(label="Name", placeholder="e.g. Alice", elem_id="voice-name", scale=2)
        with gr.Row():
            save = gr.Button("Save current reference", size="sm")
            rename = gr.Button("Rename selected to Name", size="sm")
            delete = gr.Button("Delete selected", size="sm", variant="stop")
            show = gr.Button("List voices", size="sm")
        listing = gr.JSON(label="Saved voices", value=None)

    dropdown.input(h.use_voice, [dropdown], [ref_audio, ref_text], api_visibility="private")
    ref_audio.upload(lambda: None, None, dropdown, api_visibility="private", queue=False)
    ref_audio.stop_recording(lambda: None, None, dropdown, api_visibility="private", queue=False)
    save.click(h.save_voice, [ref_audio, name, ref_text], [name], api_name="save_voice").success(
        h.refresh, [name], [dropdown], api_visibility="private"
    )
    rename.click(h.rename_voice, [dropdown, name], [name], api_name="rename_voice").success(
        h.refresh, [name], [dropdown], api_visibility="private"
    )
    delete.click(h.delete_voice, [dropdown], [name], api_name="delete_voice").success(
        h.refresh, None, [dropdown], api_visibility="private"
    )
    show.click(h.list_voices, None, [listing], api_name="list_voices", queue=False)  # cheap: never "busy"
    return VoicePanel(dropdown, name, listing, h.refresh)

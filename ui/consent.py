"""The Consent group of the Clone tab (shown only when the operator requires consent, F5_REQUIRE_CONSENT): a phrase
made up on the spot, the owner of the reference's voice records it, the studio checks it. Its public endpoints,
registered whatever the setting:

    token, phrase = client.predict(api_name="/consent_phrase")
    proof = client.predict(handle_file("voice.wav"), handle_file("reading.wav"), token, api_name="/give_consent")
    -> {"date": ..., "phrase": ..., "heard": ..., "word_error_rate": 0.08, "similarity": 0.91, ...}

After it, the reference is usable (and savable) as any other: its proof is kept on the volume.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import gradio as gr

from inference import InputError, Studio

from .handlers import user_errors

HOW = (
    "**Consent.** This studio clones a new voice only with its owner's consent. The owner of the reference's voice "
    "reads the phrase below aloud (record it here), then press **Check consent**. A saved voice needs none."
)


class ConsentPanel:
    """The group's components and the hidden carriers of /consent_phrase and /give_consent."""

    def __init__(self, studio: Studio) -> None:
        self.studio = studio
        with gr.Group(visible=studio.settings.require_consent, elem_id="consent") as self.group:
            gr.Markdown(HOW)
            self.phrase = gr.Markdown(elem_id="consent-phrase")
            self.token = gr.Textbox(visible=False, label="token")
            self.recording = gr.Audio(
                label="The owner reading the phrase",
                sources=["microphone", "upload"],
                type="filepath",
                elem_id="consent-recording",
            )
            with gr.Row():
                self.new_btn = gr.Button("New phrase", size="sm", elem_id="consent-new")
                self.check_btn = gr.Button("Check consent", size="sm", variant="primary", elem_id="consent-check")
            self.result = gr.Markdown(elem_id="consent-result")
        self.api_phrase = gr.Button(visible=False)  # carries the public /consent_phrase endpoint
        self.api_token = gr.Textbox(visible=False, label="token")
        self.api_text = gr.Textbox(visible=False, label="phrase")
        self.api_give = gr.Button(visible=False)  # carries the public /give_consent endpoint
        self.api_proof = gr.JSON(value=None, label="proof", visible=False)

    @user_errors
    def consent_phrase(self) -> tuple[str, str]:
        """A phrase for the owner of a voice to read, made up now, good for ten minutes and one consent.

        Returns:
            (token, phrase): send the token with the recording of the phrase to /give_consent.
        """
        return self.studio.consent_phrase()

    @user_errors
    def give_consent(self, ref_audio: str | None, recording: str | None, token: str) -> dict[str, Any]:
        """Check the consent of a reference's owner: `recording` says the token's phrase, in the reference's voice.
        Then the reference can be used and saved.

        Args:
            ref_audio: the reference recording (the voice to clone).
            recording: its owner reading the phrase from /consent_phrase.
            token: the token that came with the phrase.
        Returns:
            the proof kept on the volume: date, phrase, heard, word_error_rate, similarity, thresholds, sha256.
        """
        if not ref_audio or not recording:
            raise InputError("Both the reference and the recording of the phrase are needed.", "Record them first.")
        return asdict(self.studio.give_consent(Path(ref_audio), Path(recording), token or ""))

    def show_phrase(self) -> dict[Any, Any]:
        token, phrase = self.studio.consent_phrase()
        return {self.token: token, self.phrase: f"Read aloud: **{phrase}**", self.result: ""}

    def check(self, ref_audio: str | None, recording: str | None, token: str) -> dict[Any, Any]:
        """The check as the page shows it: a refusal says what to do, in place; a pass, what was heard."""
        if not ref_audio or not recording:
            return {self.result: "Record or upload the reference, and the owner reading the phrase, first."}
        try:
            proof = self.studio.give_consent(Path(ref_audio), Path(recording), token or "")
        except InputError as e:
            return {self.result: f"**Not accepted:** {e}"}
        return {
            self.result: f"**Consent recorded** (heard {proof.heard!r}, similarity {proof.similarity:.2f}). "
            "This reference can now be used and saved."
        }

    def wire(self, ref_audio: gr.Audio) -> None:
        if self.studio.settings.require_consent:  # a new reference, a new phrase
            ref_audio.change(
                self.show_phrase, None, [self.token, self.phrase, self.result], api_visibility="private", queue=False
            )
        self.new_btn.click(
            self.show_phrase, None, [self.token, self.phrase, self.result], api_visibility="private", queue=False
        )
        self.check_btn.click(
            self.check, [ref_audio, self.recording, self.token], [self.result], api_visibility="private"
        )
        self.api_phrase.click(self.consent_phrase, None, [self.api_token, self.api_text], api_name="consent_phrase")
        self.api_give.click(
            self.give_consent, [ref_audio, self.recording, self.api_token], [self.api_proof], api_name="give_consent"
        )

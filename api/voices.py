"""Saved voices over REST, so that a script can do everything without gradio_client. Under the API's login (every
/v1 path, api/auth.py); errors in OpenAI's JSON shape, as the speech route's (api/openai/protocol.py).

    GET    /v1/voices          {"voices": [{"name": "Alice", "has_transcript": true}, ...]}
    POST   /v1/voices          multipart: name, audio (a file), transcript ('' or absent: transcribed with Whisper),
                               overwrite (false) -> 201 {"name", "has_transcript", "transcript"}; with consent
                               required (F5_REQUIRE_CONSENT) and none given before (POST /v1/consent):
                               consent_recording (the owner reading the phrase) and consent_token
    DELETE /v1/voices/{name}   204

    curl -F name=Alice -F audio=@alice.wav -F "transcript=Some call me nature." http://localhost:7860/v1/voices

| what is sent                                   | answer                                                          |
|------------------------------------------------|-----------------------------------------------------------------|
| a name of letters, digits, spaces, - and _ in   | 201; the voice keeps the name as sent ('My Voice', 'Zoë', '日本') |
| any script, at most 64 characters               |                                                                 |
| a name already saved, in any case ('alice')     | 409 naming the saved spelling; overwrite=true replaces it        |
| a name the files would change ('../x', 'a.wav', | 400: the name it would be saved as, and the characters allowed   |
| 'x/y'), none left ('💥'), empty, too long       | (never saved under another name than the one sent)               |
| audio that is not audio, empty, silent          | 400 saying what to send                                          |
| a file over F5_MAX_UPLOAD_MB                    | 400 saying how large it is and what to send                      |
| a body over the upload limit and the form's     | 413 before it is read whole                                      |
| allowance (api/bodylimit.py)                    |                                                                  |
| DELETE an unknown name                          | 404 naming it and the saved voices                               |

Names are one voice whatever their case (inference/voices.py): 'alice' finds, replaces or deletes 'Alice'.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated

from fastapi import APIRouter, File, Form, Response, UploadFile
from fastapi.concurrency import run_in_threadpool

from inference import InputError, Studio, Voice, VoiceNotFound, sanitize_name

from .bodylimit import FORM_OVERHEAD
from .openai.protocol import ERRORS, ApiError, ErrorResponse, VoiceInfo, VoiceList, as_api_error
from .openai.router import OpenAIRoute


class SavedVoice(VoiceInfo):
    transcript: str  # as typed, or as Whisper heard it


def voices_router(studio: Studio) -> APIRouter:  # long: the three /v1/voices routes, their forms described
    route_class = type(
        "VoicesRoute",
        (OpenAIRoute,),
        {"max_body": studio.settings.max_upload_mb * 1024 * 1024 + FORM_OVERHEAD, "admission": None, "studio": studio},
    )
    responses = {**ERRORS, 409: {"model": ErrorResponse}}
    router = APIRouter(prefix="/v1", tags=["Voices"], route_class=route_class, responses=responses)

    @router.get("/voices")
    def voices() -> VoiceList:
        """The saved voices usable as `voice`."""
        return VoiceList(voices=[VoiceInfo(name=v.name, has_transcript=bool(v.text)) for v in studio.voices.all()])

    @router.post("/voices", status_code=201)
    async def save(
        name: Annotated[str, Form(description="The voice's name: letters, digits, spaces, - and _ ('Alice').")],
        audio: Annotated[UploadFile, File(description="5 to 12 s of clear speech (wav, mp3, flac, ogg, m4a...).")],
        transcript: Annotated[str, Form(description="What the recording says; empty: transcribed.")] = "",
        overwrite: Annotated[bool, Form(description="Replace a saved voice of the same name.")] = False,
        consent_recording: Annotated[
            UploadFile | None, File(description="With consent required: the voice's owner reading the phrase.")
        ] = None,
        consent_token: Annotated[str, Form(description="With consent required: the phrase's token.")] = "",
    ) -> SavedVoice:
        """Save a recording as a voice (prepared as every reference is: clipped, trimmed, levelled)."""
        name = kept_name(name)
        if not overwrite and (same := existing(studio, name)) is not None:
            raise ApiError(
                409,
                f"A voice called {same.name!r} already exists. Send overwrite=true to replace it, or pick "
                "another name.",
                "name",
                "voice_exists",
            )
        data = await audio.read()
        if not data:
            raise ApiError(400, "The uploaded audio is empty.", "audio", "invalid_value")
        consent = (await consent_recording.read() or None, consent_token) if consent_recording else None
        try:
            voice = await run_in_threadpool(studio.save_voice, name, data, transcript, overwrite, consent)
        except InputError as e:
            raise as_api_error(e) or e from e
        return SavedVoice(name=voice.name, has_transcript=bool(voice.text), transcript=voice.text)

    @router.delete("/voices/{name}", status_code=204, response_class=Response)
    def delete(name: str) -> Response:
        """Delete a saved voice: its recording, transcript and pronunciations."""
        try:
            studio.voices.delete(kept_name(name))
        except VoiceNotFound as e:
            raise ApiError(404, str(e), "name", "voice_not_found") from e
        return Response(status_code=204)

    return router


def kept_name(raw: str) -> str:
    """The name as sent (spaces around it trimmed), if the voice's files can carry it unchanged; otherwise 400 with
    the name it would become. 'My Voice' -> 'My Voice'; '../x' -> 400 ("... would be saved as 'x'")."""
    try:
        safe = sanitize_name(raw)  # the voice library's one rule (inference/names.py)
    except InputError as e:
        raise ApiError(400, str(e), "name", "invalid_value") from e
    sent = " ".join(unicodedata.normalize("NFC", raw).split())
    if safe != sent:
        raise ApiError(
            400,
            f"{raw!r} cannot be a voice name as it is: it would be saved as {safe!r}. Use letters, digits, spaces, "
            f"- and _ only, e.g. {safe!r}.",
            "name",
            "invalid_value",
        )
    return safe


def existing(studio: Studio, name: str) -> Voice | None:
    try:
        return studio.voices.get(name)
    except VoiceNotFound:
        return None

"""Consent over REST (F5_REQUIRE_CONSENT; inference/consent.py): a phrase, and the check of its owner reading it.
Under the API's login (every /v1 path); errors in OpenAI's JSON shape.

    GET  /v1/consent/phrase   {"token": "...", "phrase": "Blue river, golden tiger, seventy two. I agree ..."}
    POST /v1/consent          multipart: reference (the voice to clone), recording (its owner reading the phrase),
                              token -> 200 the proof {date, phrase, heard, word_error_rate, similarity, ...}

    curl -F reference=@alice.wav -F recording=@alice-reads.wav -F token=... http://localhost:7860/v1/consent

After it the reference is usable as `ref_audio` and savable with POST /v1/voices, with no more to send. A refusal is
a 400 saying what to do (read the phrase again; the owner must read it; ask for a new phrase).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from inference import ConsentProof, InputError, Studio

from .bodylimit import FORM_OVERHEAD
from .openai.protocol import ERRORS, ApiError, as_api_error
from .openai.router import OpenAIRoute


class ConsentPhrase(BaseModel):
    token: str  # send it back with the recording of the phrase; good for ten minutes and one consent
    phrase: str  # what the owner of the voice reads aloud


def consent_router(studio: Studio) -> APIRouter:
    route_class = type(
        "ConsentRoute",
        (OpenAIRoute,),
        {
            "max_body": 2 * studio.settings.max_upload_mb * 1024 * 1024 + FORM_OVERHEAD,
            "admission": None,
            "studio": studio,
        },
    )
    router = APIRouter(prefix="/v1", tags=["Consent"], route_class=route_class, responses=ERRORS)

    @router.get("/consent/phrase")
    def phrase() -> ConsentPhrase:
        """A phrase made up now for the owner of a voice to read aloud, and its token."""
        token, text = studio.consent_phrase()
        return ConsentPhrase(token=token, phrase=text)

    @router.post("/consent")
    async def give(
        reference: Annotated[UploadFile, File(description="The recording of the voice to clone.")],
        recording: Annotated[UploadFile, File(description="Its owner reading the phrase aloud.")],
        token: Annotated[str, Form(description="The token that came with the phrase.")],
    ) -> ConsentProof:
        """Check that the recording says the phrase in the reference's voice; the proof is kept on the volume."""
        return ConsentProof(**await give_consent(studio, reference, recording, token))

    return router


async def give_consent(studio: Studio, reference: UploadFile, recording: UploadFile, token: str) -> dict[str, Any]:
    """The check over uploads (also POST /v1/voices'): the proof as a dict, or a 400 saying what to do."""
    ref, rec = await reference.read(), await recording.read()
    for name, data in (("reference", ref), ("recording", rec)):
        if not data:
            raise ApiError(400, f"The uploaded {name} is empty.", name, "invalid_value")
    try:
        proof = await run_in_threadpool(studio.give_consent, ref, rec, token)
    except InputError as e:
        raise as_api_error(e, "recording") or e from e
    return asdict(proof)

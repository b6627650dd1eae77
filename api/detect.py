"""Whether a clip was made by this studio: it looks for the inaudible mark every output carries. Under the API's
login (every /v1 path, api/auth.py); errors in OpenAI's JSON shape, as the speech route's (api/openai/protocol.py).

    POST /v1/audio/detect   multipart: file (any audio: wav, mp3, flac, ogg, m4a, webm; any rate, mono or stereo)
                            -> 200 {"watermarked": true, "confidence": 0.98, "seconds": 6.2, "threshold": 0.5}

    curl -F file=@clip.mp3 http://localhost:7860/v1/audio/detect

`confidence` is the share of the clip found marked (0..1); `watermarked` is whether it reaches `threshold`; `seconds`
is how much was checked (the first MAX_DETECT_S of a longer clip).

| what is sent                                  | answer                                                        |
|-----------------------------------------------|---------------------------------------------------------------|
| a clip of at least MIN_DETECT_S seconds        | 200 with the verdict                                          |
| no `file` field                               | 400 missing_required_parameter, naming it                     |
| a file that is not audio, empty, too short    | 400 saying what to send                                       |
| a file over F5_MAX_UPLOAD_MB                  | 400 saying how large it is and what to send                   |
| a body over the upload limit and the form's   | 413 before it is read whole                                   |
| allowance (api/bodylimit.py)                  |                                                               |
| the watermark's package missing               | 503 saying what to install                                    |
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, UploadFile
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from inference import WATERMARK_THRESHOLD, InputError, ModelUnavailable, Studio

from .bodylimit import FORM_OVERHEAD
from .openai.protocol import ERRORS, as_api_error
from .openai.router import OpenAIRoute


class DetectResponse(BaseModel):
    watermarked: bool = Field(description="Whether the clip carries the studio's mark (confidence >= threshold).")
    confidence: float = Field(description="The share of the clip found marked, 0 to 1.")
    seconds: float = Field(description="The seconds checked: the whole clip, or the first minute of a longer one.")
    threshold: float = Field(description="The confidence from which a clip is called watermarked.")


def detect_router(studio: Studio) -> APIRouter:
    route_class = type(
        "DetectRoute",
        (OpenAIRoute,),
        {"max_body": studio.settings.max_upload_mb * 1024 * 1024 + FORM_OVERHEAD, "admission": None, "studio": studio},
    )
    router = APIRouter(prefix="/v1", tags=["Provenance"], route_class=route_class, responses=ERRORS)

    @router.post("/audio/detect")
    async def detect(
        file: Annotated[UploadFile, File(description="The clip to check (wav, mp3, flac, ogg, m4a, webm...).")],
    ) -> DetectResponse:
        """Whether a clip was made by this studio: the inaudible mark every output carries, with a confidence."""
        data = await file.read()
        try:
            found = await run_in_threadpool(studio.detect, data)
        except (InputError, ModelUnavailable) as e:
            raise as_api_error(e, "file") or e from e
        return DetectResponse(
            watermarked=found.watermarked,
            confidence=found.confidence,
            seconds=round(found.seconds, 3),
            threshold=WATERMARK_THRESHOLD,
        )

    return router

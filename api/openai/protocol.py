"""The OpenAI speech API's shapes: request, responses and the error JSON {"error": {message, type, param, code}}.

Extensions to OpenAI's request: every synthesis option (seed, nfe_step, cfg_strength, cross_fade, remove_silence,
sway_sampling_coef, normalize, min_duration, check, check_threshold, check_tries), with its range and help taken from
inference/options.py, and `captions` (with stream_format "sse": a speech.captions event). `speed` keeps OpenAI's
0.25-4.0 and is clamped to the model's range.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, create_model
from starlette.exceptions import HTTPException as StarletteHTTPException  # FastAPI raises these too (body errors)

from inference import FORMATS, InputError, ModelUnavailable, Spec, StudioError, SynthesisOptions, VoiceNotFound

log = logging.getLogger(__name__)

MODELS = ("f5-tts", "tts-1", "tts-1-hd")
OWNER = "f5-voice-studio"
CREATED = int(time.time())
OPENAI_SPEED = Spec("Speed", "OpenAI's range for `speed`; clamped into the model's", 0.25, 4.0)
AudioFormat = Literal[FORMATS]  # type: ignore[valid-type]
EXTENSIONS = tuple(name for name in SynthesisOptions.specs() if name != "speed")


def refused_by(check: Callable[[Any], Any]) -> BeforeValidator:
    """A field validator: the value as sent, once `check` (the options' own rule) passes it. NaN, true for a number,
    "2"... are refused there, with the option's name and range, before pydantic would convert them or name a bound."""

    def validate(value: Any) -> Any:
        if value is not None:
            try:
                check(value)
            except InputError as e:
                raise ValueError(str(e)) from None  # pydantic reports it as this field's error
        return value

    return BeforeValidator(validate)


class VoiceId(BaseModel):
    id: str


class _SpeechRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    model: str = Field("f5-tts", description="Accepted and ignored: there is one model (any name works).")
    input: str = Field(description="The text to speak.")
    voice: str | VoiceId = Field(description="A saved voice's name (see GET /v1/voices).")
    response_format: AudioFormat = "mp3"
    speed: Annotated[float, refused_by(lambda v: OPENAI_SPEED.check("speed", v))] = Field(
        1.0,
        ge=OPENAI_SPEED.low,
        le=OPENAI_SPEED.high,
        description=f"OpenAI's range; clamped to the model's {SynthesisOptions.specs()['speed'].describe()}.",
    )
    stream_format: Literal["audio", "sse"] = Field(
        "audio",
        description="'audio': the file's bytes as they are made; 'sse': OpenAI's speech.audio.delta events (base64 "
        "pieces of the same bytes), then speech.audio.done with usage.",
    )
    captions: bool | Literal["sentence", "word"] | None = Field(
        None,
        description="Extension, with stream_format 'sse': a speech.captions event (srt, vtt, cues) before "
        "speech.audio.done; true or 'sentence' = one cue per sentence, 'word' = word times from Whisper.",
    )

    def options(self) -> dict[str, Any]:
        """The synthesis options given, by name (None = not given)."""
        spec = SynthesisOptions.specs()["speed"]
        speed = min(max(self.speed, spec.low), spec.high)  # type: ignore[type-var]
        return {"speed": speed, **{name: getattr(self, name) for name in EXTENSIONS}}


def _extension(name: str) -> tuple[Any, Any]:
    spec = SynthesisOptions.specs()[name]
    kind: Any = bool if spec.low is None else (int if spec.whole else float)
    low = -1 if name == "seed" else spec.low  # seed -1: pick one, as in every other interface
    description = f"Extension: {spec.help} ({spec.describe()}; default {SynthesisOptions.defaults()[name]})."
    checked = Annotated[kind | None, refused_by(lambda v: SynthesisOptions.from_loose({name: v}))]
    return checked, Field(None, description=description, ge=low, le=spec.high)


SpeechRequest = create_model(
    "SpeechRequest",
    __base__=_SpeechRequest,  # type: ignore[call-overload]
    **{name: _extension(name) for name in EXTENSIONS},
)


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = CREATED
    owned_by: str = OWNER


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


class VoiceInfo(BaseModel):
    name: str
    has_transcript: bool


class VoiceList(BaseModel):
    voices: list[VoiceInfo]


class ErrorInfo(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class ErrorResponse(BaseModel):
    error: ErrorInfo


# OpenAI's `type` where it is not invalid_request_error (4xx) or server_error (5xx): its rate limits are typed by
# what ran out, and requests are what runs out here (`code` is rate_limit_exceeded, as OpenAI's).
ERROR_TYPES = {429: "requests"}
ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorResponse} for code in (400, 404, 413, 429, 500, 503)}


class ApiError(Exception):
    def __init__(self, status: int, message: str, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.param, self.code = status, message, param, code


def error_response(
    status: int, message: str, param: str | None = None, code: str | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    kind = ERROR_TYPES.get(status, "invalid_request_error" if status < 500 else "server_error")
    body = ErrorResponse(error=ErrorInfo(message=message, type=kind, param=param, code=code))
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


def _validation_response(e: RequestValidationError) -> JSONResponse:
    first = (e.errors() or [{}])[0]
    names = [p for p in first.get("loc", ())[1:] if isinstance(p, str)]
    param = names[0] if names else None
    if param and first.get("type") == "missing":
        return error_response(400, f"Missing required parameter: '{param}'.", param, "missing_required_parameter")
    refused = first.get("ctx", {}).get("error") if first.get("type") == "value_error" else None
    if param and isinstance(refused, ValueError):  # the options' own message: names the field and its range
        return error_response(400, str(refused), param, "invalid_value")
    where = f"Invalid value for '{param}'" if param else "Invalid request body"
    return error_response(400, f"{where}: {first.get('msg', 'not understood')}.", param, "invalid_value")


# Errors users can cause (or fix), as (status, code); VoiceNotFound first: it is an InputError too. Any other
# StudioError (e.g. the GPU ran out of memory) says what happened and what to do: a 503, its message kept.
STUDIO_ERRORS = (
    (VoiceNotFound, 404, "voice_not_found"),
    (InputError, 400, "invalid_value"),
    (ModelUnavailable, 503, "model_unavailable"),
    (StudioError, 503, "generation_failed"),
)


def as_api_error(e: Exception, param: str | None = None) -> ApiError | None:
    for kind, status, code in STUDIO_ERRORS:
        if isinstance(e, kind):
            return ApiError(status, str(e), param or ("voice" if kind is VoiceNotFound else None), code)
    return None


def to_error_response(e: Exception) -> JSONResponse:
    """Any failure on a /v1 route as OpenAI's error JSON; unexpected ones are logged, never shown."""
    if isinstance(e, RequestValidationError):
        return _validation_response(e)
    if isinstance(e, StarletteHTTPException):
        return error_response(e.status_code, str(e.detail))
    known = e if isinstance(e, ApiError) else as_api_error(e)
    if known:
        return error_response(known.status, known.message, known.param, known.code)
    log.error("unexpected error in the OpenAI API", exc_info=e)
    return error_response(500, "The server had an error while processing your request.", None, "internal_error")

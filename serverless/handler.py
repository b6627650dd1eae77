"""RunPod serverless worker: the studio's `inference.Engine` behind RunPod's job API (runpod SDK 1.12.0).

    python serverless/handler.py                                    # on RunPod: the SDK takes jobs from the queue
    python serverless/handler.py --test_input '{"input": {...}}'    # run one job locally, print it, exit
    python serverless/handler.py --rp_serve_api --rp_api_host 127.0.0.1 --rp_api_port 8000
                                                                    # local copy of RunPod's /run, /runsync, /status
    F5_SERVERLESS_STREAM=1 python serverless/handler.py             # the streaming worker (see "Streaming")

Importing this module is cheap: it reads the settings and builds the Engine, which imports no torch and loads
nothing. The model loads on the first job (or, with F5_PRELOAD=1, in the background as soon as the worker starts),
and stays loaded for every later job on this worker.

Volume: on RunPod serverless the network volume is mounted at /runpod-volume. When HF_HOME or VOICES_DIR is unset
and that folder exists, they default to /runpod-volume/hf and /runpod-volume/voices (values already in the
environment, e.g. set by deploy/entrypoint.sh, are kept).

Input (the job's "input" object; any other key is refused):
    text              str, required: what to say (at most F5_MAX_TEXT_CHARS characters; long text is split in chunks)
    voice             str: the name of a saved voice in VOICES_DIR (<name>.wav + <name>.txt)        } exactly
    ref_audio_base64  str: a reference recording (wav, mp3, flac, ogg, m4a...), base64; a            } one of
                      "data:audio/...;base64," prefix is accepted                                    } these two
    ref_text          str: what is said in ref_audio_base64; "" or absent = transcribed with Whisper (only with
                      ref_audio_base64: a saved voice carries its own transcript)
    seed              int 0..2**31-1 (absent = random; the seed used is returned)
    nfe_step          int 4..64 (default 32)        speed        number 0.3..3 (default 1)
    cfg_strength      number 0..10 (default 2)      cross_fade   seconds 0..1 between chunks (default 0.15)
    remove_silence    bool (default false): shorten pauses longer than ~1 s
    response_format   "wav" (16-bit PCM, default), "mp3" or "flac"
    stream            bool: see "Streaming"

Output:
    {"audio_base64": str, "sample_rate": 24000, "duration": seconds, "seed": int, "ref_text": str}

Errors: bad input, a missing voice, a model that cannot load... return {"error": "<what went wrong> <what to do>"}
(RunPod marks the job FAILED with that message); nothing the client sends crashes the worker. Unexpected failures
return {"error": "Generation failed: <ExceptionType>. ..."} and are logged with their traceback.

Streaming: RunPod decides per worker, not per job, whether a handler streams (a generator handler streams every
job), so there are two handlers and the worker serves one of them:
  * `handler` (default): one job -> one output object as above. "stream": true is refused with a hint.
  * `stream_handler` (F5_SERVERLESS_STREAM=1): a generator that yields one item per text chunk as soon as it is
    generated: {"index", "total", "audio_base64" (that chunk alone, in response_format, wav by default),
    "sample_rate", "duration", "seed", "ref_text"}; joined in order they are the whole speech (the cross-fade is
    already applied). Read them from /stream/<job id>; with return_aggregate_stream the final job output (/status,
    /runsync) is the list of all items. "stream": false makes it yield a single item, the whole output as above.

Payload limits: RunPod accepts at most 10 MB per /run request and 20 MB per /runsync request. The worker cannot tell
which route a job came by, so a reference over RUNPOD_MAX_PAYLOAD_MB (default 10, in MB of base64 text, which is
also an upper bound of the decoded size) is refused with a message; so is an output whose base64 audio would exceed
RUNPOD_MAX_OUTPUT_MB (default 20; for the streaming worker, all items together), with a hint to ask for mp3/flac
or to send shorter text.

Sample job:
    {"input": {"text": "Hello there.", "voice": "alice", "seed": 42, "response_format": "mp3"}}
"""

from __future__ import annotations

import os
import sys
from collections.abc import MutableMapping
from pathlib import Path

RUNPOD_VOLUME = Path("/runpod-volume")


def use_runpod_volume(env: MutableMapping[str, str] = os.environ, volume: Path = RUNPOD_VOLUME) -> None:
    """Point HF_HOME and VOICES_DIR at the RunPod volume when it is mounted and they are unset (existing values win).
    Must run before huggingface_hub is imported: it reads HF_HOME once."""
    if not volume.is_dir():
        return
    if not env.get("HF_HOME", "").strip():
        env["HF_HOME"] = str(volume / "hf")
    if not env.get("VOICES_DIR", "").strip():
        env["VOICES_DIR"] = str(volume / "voices")


use_runpod_volume()

_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:  # `python serverless/handler.py` puts serverless/, not the repo, on the path
    sys.path.insert(0, _ROOT)

import base64  # noqa: E402
import binascii  # noqa: E402
import logging  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from typing import Any  # noqa: E402

from inference import (  # noqa: E402
    Engine,
    InputError,
    Reference,
    Settings,
    StudioError,
    SynthesisOptions,
    SynthesisRequest,
)
from inference.encode import encode_audio  # noqa: E402

log = logging.getLogger("serverless")

MB = 1_000_000  # RunPod states its limits in MB
DEFAULT_MAX_PAYLOAD_MB = 10.0  # /run accepts 10 MB, /runsync 20 MB: the smaller one, since we cannot tell which
DEFAULT_MAX_OUTPUT_MB = 20.0
FORMATS = ("wav", "mp3", "flac")
OPTION_KEYS = ("seed", "nfe_step", "speed", "cfg_strength", "cross_fade", "remove_silence")
INPUT_KEYS = ("text", "voice", "ref_audio_base64", "ref_text", *OPTION_KEYS, "response_format", "stream")
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off", ""}

# Built at import, both cheap. A bad setting (e.g. F5_DEVICE=gpu) is reported by every job instead of crashing
# the worker in a restart loop.
try:
    SETTINGS: Settings | None = Settings.from_env()
    ENGINE: Engine | None = Engine(SETTINGS)
    CONFIG_ERROR: str | None = None
except StudioError as _e:
    SETTINGS, ENGINE, CONFIG_ERROR = None, None, str(_e)
    log.error("worker settings are invalid: %s", _e)


# ---- input ----------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Job:
    request: SynthesisRequest
    response_format: str
    stream: bool | None  # None: not given


def _limit_bytes(var: str, default_mb: float) -> int:
    raw = os.environ.get(var, "").strip()
    if not raw:
        return int(default_mb * MB)
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise StudioError(f"The worker setting {var}={raw!r} is not a positive number of megabytes.",
                          "Fix the endpoint's environment variables.")
    return int(value * MB)


def _text_field(data: dict[str, Any], key: str, what: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise InputError(f"'{key}' must be a string ({what}), not {type(value).__name__}.", f"Send {what} as text.")
    return value


def decode_reference(data: str, max_bytes: int) -> bytes:
    """The reference's bytes from base64 (whitespace and a data: URL prefix allowed), refusing oversized input."""
    if data.startswith("data:") and "," in data[:200]:
        data = data.split(",", 1)[1]
    if len(data) > max_bytes:
        raise InputError(
            f"The reference audio is {len(data) / MB:.1f} MB as base64 (about {len(data) * 3 / 4 / MB:.1f} MB of "
            f"audio); a request may carry at most {max_bytes / MB:g} MB (RunPod: 10 MB for /run, 20 MB for /runsync).",
            "Send a shorter or compressed reference: 5 to 12 seconds of speech is enough (12 s of WAV is about 0.6 MB, "
            "MP3 much less), or save it as a voice on the volume and pass its name as 'voice'.")
    data = "".join(data.split())
    try:
        audio = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as e:
        raise InputError(f"'ref_audio_base64' is not valid base64 ({e}).",
                         "Encode the audio file's bytes with standard base64, e.g. `base64 -w0 voice.wav`.") from e
    if not audio:
        raise InputError("'ref_audio_base64' is empty.", "Send the recording's bytes, base64-encoded.")
    return audio


def parse_input(raw: Any) -> Job:
    """Validate a job's input object into a SynthesisRequest; InputError names whatever is wrong."""
    if not isinstance(raw, dict):
        raise InputError(f"The job input must be a JSON object, not {type(raw).__name__}.",
                         'Send {"input": {"text": "...", "voice": "..."}}.')
    unknown = sorted(str(k) for k in raw if k not in INPUT_KEYS)
    if unknown:
        raise InputError(f"Unknown input key{'s' if len(unknown) > 1 else ''}: {', '.join(map(repr, unknown))}.",
                         f"Allowed keys: {', '.join(INPUT_KEYS)}.")
    text = _text_field(raw, "text", "what the voice should say")
    if text is None:
        raise InputError("The input has no 'text'.", "Add 'text': what the voice should say.")
    voice = _text_field(raw, "voice", "a saved voice's name")
    audio_b64 = _text_field(raw, "ref_audio_base64", "the reference recording, base64-encoded")
    ref_text = _text_field(raw, "ref_text", "the words spoken in the reference")
    if voice is not None and audio_b64 is not None:
        raise InputError("Both 'voice' and 'ref_audio_base64' were given.",
                         "Send one: a saved voice's name, or a reference recording (with 'ref_text').")
    if voice is None and audio_b64 is None:
        raise InputError("No voice was given.",
                         "Add 'voice' (a saved voice's name) or 'ref_audio_base64' (a recording, with 'ref_text').")
    if voice is not None and ref_text is not None:
        raise InputError("'ref_text' goes with 'ref_audio_base64'; a saved voice has its own transcript.",
                         "Leave out 'ref_text' when using 'voice'.")
    fmt = raw.get("response_format", "wav")
    if not isinstance(fmt, str) or fmt.strip().lower() not in FORMATS:
        raise InputError(f"Unknown response_format {fmt!r}.", f"Use one of: {', '.join(FORMATS)}.")
    stream = raw.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise InputError(f"'stream' must be true or false, not {stream!r}.", "Send a JSON boolean.")
    if "remove_silence" in raw and not isinstance(raw["remove_silence"], bool):
        raise InputError(f"'remove_silence' must be true or false, not {raw['remove_silence']!r}.",
                         "Send a JSON boolean.")
    options = SynthesisOptions(**{k: raw[k] for k in OPTION_KEYS if k in raw and raw[k] is not None})
    if voice is not None:
        reference = _engine().voice_reference(voice)
    else:
        reference = Reference(decode_reference(audio_b64 or "", _limit_bytes("RUNPOD_MAX_PAYLOAD_MB",
                                                                               DEFAULT_MAX_PAYLOAD_MB)),
                              ref_text or "")  # the engine cleans it
    return Job(SynthesisRequest(text, reference, options), fmt.strip().lower(), stream)


# ---- output ---------------------------------------------------------------------------------------------------------
def _check_output_size(b64_chars: int, seconds: float, fmt: str, streamed: bool = False) -> None:
    limit = _limit_bytes("RUNPOD_MAX_OUTPUT_MB", DEFAULT_MAX_OUTPUT_MB)
    if b64_chars > limit:
        what = "The streamed audio so far" if streamed else "The generated audio"
        smaller = "mp3 (about 10x smaller than wav) or flac" if fmt == "wav" else ("mp3" if fmt == "flac" else "")
        hint = f"Ask for response_format {smaller}, or send" if smaller else "Send"
        raise InputError(
            f"{what} ({seconds:.0f} s as {fmt}) is {b64_chars / MB:.1f} MB as base64; RunPod returns at most "
            f"{limit / MB:g} MB per job.", f"{hint} shorter text, split over several jobs.")


def _engine() -> Engine:
    if ENGINE is None:
        raise StudioError(f"The worker is misconfigured: {CONFIG_ERROR}", "Fix the endpoint's environment variables.")
    return ENGINE


def _synthesize(job: Job) -> dict[str, Any]:
    result = _engine().synthesize(job.request)
    audio_b64 = base64.b64encode(encode_audio(result.wave, result.sample_rate,
                                              job.response_format)).decode("ascii")
    _check_output_size(len(audio_b64), result.duration, job.response_format)
    return {"audio_base64": audio_b64, "sample_rate": result.sample_rate, "duration": round(result.duration, 3),
            "seed": result.seed, "ref_text": result.ref_text}


def _failure(job_id: Any, e: Exception) -> dict[str, str]:
    if isinstance(e, StudioError):
        log.info("job %s refused: %s", job_id, e)
        return {"error": str(e)}
    log.exception("job %s failed", job_id)
    return {"error": f"Generation failed: {type(e).__name__}. The details are in the worker log; try again, and "
                     "report it if it keeps failing."}


def _job_parts(job: Any) -> tuple[Any, Any]:
    if not isinstance(job, dict):
        return None, None
    return job.get("id"), job.get("input")


# ---- handlers -------------------------------------------------------------------------------------------------------
def handler(job: dict[str, Any]) -> dict[str, Any]:
    """One job, one output object (see the module docstring); {"error": ...} instead of raising."""
    job_id, raw = _job_parts(job)
    try:
        parsed = parse_input(raw)
        if parsed.stream:
            raise InputError("This endpoint does not stream: its worker runs the non-streaming handler.",
                             "Leave out 'stream', or deploy the worker with F5_SERVERLESS_STREAM=1 and read the "
                             "chunks from /stream/<job id>.")
        return _synthesize(parsed)
    except Exception as e:
        return _failure(job_id, e)


def stream_handler(job: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Yield one item per text chunk as it is generated (see "Streaming"); an error ends the stream as its last item."""
    job_id, raw = _job_parts(job)
    try:
        parsed = parse_input(raw)
        if parsed.stream is False:
            yield _synthesize(parsed)
            return
        total_chars, total_seconds = 0, 0.0
        for chunk in _engine().stream(parsed.request):
            audio = base64.b64encode(encode_audio(chunk.wave, chunk.sample_rate,
                                                  parsed.response_format))
            seconds = len(chunk.wave) / chunk.sample_rate
            total_chars, total_seconds = total_chars + len(audio), total_seconds + seconds
            _check_output_size(total_chars, total_seconds, parsed.response_format, streamed=True)
            yield {"index": chunk.index, "total": chunk.total, "audio_base64": audio.decode("ascii"),
                   "sample_rate": chunk.sample_rate, "duration": round(seconds, 3), "seed": chunk.seed,
                   "ref_text": chunk.ref_text}
    except Exception as e:
        yield _failure(job_id, e)


def _flag(var: str) -> bool:
    raw = os.environ.get(var, "").strip().lower()
    if raw not in _TRUE | _FALSE:
        raise SystemExit(f"{var}={raw!r} is not a yes/no value: use 1/0, true/false, yes/no or on/off.")
    return raw in _TRUE


def main() -> None:
    import runpod

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    streaming = _flag("F5_SERVERLESS_STREAM")
    log.info("serverless worker: %s handler; HF_HOME=%s, VOICES_DIR=%s", "streaming" if streaming else "plain",
             os.environ.get("HF_HOME", "(default)"), SETTINGS.voices_dir if SETTINGS else "?")
    if SETTINGS is not None and ENGINE is not None and SETTINGS.preload:
        ENGINE.preload()
    runpod.serverless.start({"handler": stream_handler if streaming else handler, "return_aggregate_stream": True})


if __name__ == "__main__":
    main()

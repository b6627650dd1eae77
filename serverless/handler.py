"""RunPod serverless worker: the studio's `inference.Engine` behind RunPod's job API (runpod SDK 1.12.0).

    python serverless/handler.py                                    # on RunPod: the SDK takes jobs from the queue
    python serverless/handler.py --test_input '{"input": {...}}'    # run one job locally, print it, exit
    python serverless/handler.py --rp_serve_api --rp_api_host 127.0.0.1 --rp_api_port 8000
                                                                    # local copy of RunPod's /run, /runsync, /status
    F5_SERVERLESS_STREAM=1 python serverless/handler.py             # the streaming worker (see "Streaming")

Importing this module builds nothing and changes nothing: `main()` reads the settings, builds the Engine (which
imports no torch and loads nothing) and starts the SDK. The model loads on the first job (or, with F5_PRELOAD=1, in
the background as soon as the worker starts), and stays loaded for every later job on this worker.

Concurrency: one worker takes several jobs at once (the SDK's async handler with a `concurrency_modifier`), up to
F5_CONCURRENCY (auto: twice the batch size on a GPU, 4 on a CPU). Their chunks take fair turns in the engine and are
batched together on a GPU. Beyond that, RunPod's autoscaler adds workers.

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
{options}
    response_format   {formats} (default wav; wav and flac are 16-bit, pcm is raw 16-bit mono)
    stream            bool: see "Streaming"
    captions          true (or "sentence"), "word" (word times from Whisper), false: adds "srt", "vtt" and "cues"
                      ([{"start", "end", "text"}], seconds) to the output (streaming: to the last item)
    subtitles         str, instead of text: an SRT or WebVTT file's text to dub (see "Dubbing"); with it:
    voices            tags -> saved voice names for [Tag] cues, e.g. {"Guest": "bob"} (the voice given speaks the rest)
    max_speedup       1 to {max_speedup} (default {default_speedup}): how much faster than natural a cue may be
                      spoken to fit its slot
    clips             bool: adds "clips_zip_base64", a ZIP of one WAV per cue and report.json

Output:
    {"audio_base64": str, "sample_rate": 24000, "duration": seconds, "seed": int, "ref_text": str,
     "spoken_text": str (the text as spoken: normalized, pronunciations applied),
     "ref_notes": [str] (what preparing the reference did or found: clipped, trimmed, short, volume raised, noisy),
     "check": {"checked", "worst_wer", "retried", "chunks": [{"chunk", "text", "heard", "wer", "seed", "tries",
               "scores"}], "note"} (only with "check": true)}

Dubbing: each cue is spoken in its own slot (its duration given to the model, at most max_speedup faster) and placed
at its start time on one silent track as long as the subtitles; the output is
    {"audio_base64", "sample_rate", "duration", "seed", "cues": [{"cue", "line", "start", "end", "text", "speaker",
     "voice", "seed", "spoken", "speed", "overflow", "overlap", "note"}], "clips_zip_base64" (with clips)}
Limits: {dub_limits}. Malformed subtitles are refused naming the line.

Edit job: change, add or remove words in a recording, regenerating only what changes (the UI's "Edit a recording",
gradio_client's /edit_speech). The input holds one key, "edit", an object with (any other key is refused):
    audio_base64      str, required: the recording (at most 60 s; wav, mp3, flac, ogg, m4a...), base64
    new_text          str, required: everything the edited recording should say
    transcript        str: what the recording says; "" or absent = transcribed (Whisper, word timestamps)
    edits             list: spans to change given in seconds instead of found from the words, e.g.
                      [{"start": 1.42, "end": 2.44, "text": "optimist,"}] (optional "duration": the new length in
                      seconds; start == end inserts; an empty text deletes)
    seed, nfe_step, cfg_strength, sway_sampling_coef, speed: as above
    response_format   as above
  Output: {"audio_base64", "sample_rate", "duration", "seed", "transcript", "edits": [{"kind", "start", "end",
  "old", "text", "new_start", "new_end"}]}; the streaming worker yields it as its one item.
  Sample: {"input": {"edit": {"audio_base64": "...", "new_text": "Some call me optimist.", "seed": 42}}}

Errors: bad input, a missing voice, a model that cannot load... return {"error": "<what went wrong> <what to do>"}
(RunPod marks the job FAILED with that message); nothing the client sends crashes the worker, and one job's error
does not touch the others. Unexpected failures return {"error": "Generation failed: <ExceptionType>. ..."} and are
logged with their traceback. A bad setting (e.g. F5_DEVICE=gpu) is reported by every job instead of crashing the
worker in a restart loop.

Streaming: RunPod decides per worker, not per job, whether a handler streams (a generator handler streams every
job), so there are two handlers and the worker serves one of them:
  * `handler` (default): one job -> one output object as above. "stream": true is refused with a hint.
  * `stream_handler` (F5_SERVERLESS_STREAM=1): yields one item per text chunk as soon as it is generated:
    {"index", "total", "audio_base64" (that chunk alone, in response_format, wav by default), "sample_rate",
    "duration", "seed", "ref_text", "text" (the chunk's spoken text), "ref_notes", and "check" (that chunk's,
    with the check)};
    joined in order they are the whole speech (the cross-fade is already applied).
    Read them from /stream/<job id>; with return_aggregate_stream the final job output (/status, /runsync) is the
    list of all items. "stream": false makes it yield a single item, the whole output as above.

Payload limits: RunPod accepts at most 10 MB per /run request and 20 MB per /runsync request. The worker cannot tell
which route a job came by, so a reference over RUNPOD_MAX_PAYLOAD_MB (default 10, in MB of base64 text, which is
also an upper bound of the decoded size) is refused with a message; so is an output whose base64 audio would exceed
RUNPOD_MAX_OUTPUT_MB (default 20; for the streaming worker, all items together), with a hint to ask for mp3/flac
or to send shorter text.

Sample job:
    {"input": {"text": "Hello there.", "voice": "alice", "seed": 42, "response_format": "mp3"}}
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import logging
import os
from collections.abc import AsyncIterator, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inference import Engine, EngineSettings, InputError, StudioError, SynthesisOptions, SynthesisRequest
from inference.audio import SAMPLE_RATE
from inference.audio.encode import FORMATS, bytes_per_second, check_format, encode_audio
from inference.model.weights import hub_cache_dir
from inference.settings import env, from_env
from inference.studio import dubbing, guard
from inference.studio.captions import captions_for, synthesize_with_captions
from serverless import timed
from serverless.edit import EditJob, parse_edit, run_edit

log = logging.getLogger("serverless")

RUNPOD_VOLUME = Path("/runpod-volume")
MB = 1_000_000  # RunPod states its limits in MB
OPTION_KEYS = tuple(SynthesisOptions.specs())
INPUT_KEYS = (
    "text",
    "voice",
    "ref_audio_base64",
    "ref_text",
    *OPTION_KEYS,
    "response_format",
    "stream",
    "captions",
    "subtitles",
    *timed.DUB_KEYS,
)


def _options_doc() -> str:
    """The input keys of every synthesis option, from their one definition (inference/options.py)."""
    defaults = SynthesisOptions.defaults()
    lines = []
    for name, spec in SynthesisOptions.specs().items():
        default = "random" if name == "seed" else json.dumps(defaults[name])
        lines.append(f"    {name:<17} {spec.describe()}: {spec.help} (default {default})")
    return "\n".join(lines)


__doc__ = (
    __doc__.replace("{options}", _options_doc())
    .replace("{formats}", ", ".join(FORMATS))
    .replace("{max_speedup}", f"{dubbing.MAX_SPEEDUP:g}")
    .replace("{default_speedup}", f"{dubbing.DEFAULT_MAX_SPEEDUP:g}")
    .replace(
        "{dub_limits}", f"{dubbing.MAX_CUES} cues, the last ending within {dubbing.MAX_DUB_SECONDS / 60:g} minutes"
    )
)


@dataclass(frozen=True)
class WorkerSettings:
    """The worker's own limits (the engine's settings are in inference/settings.py)."""

    max_payload_mb: float = env("RUNPOD_MAX_PAYLOAD_MB", 10.0, low=0.001, high=1e6)  # /run takes 10 MB, /runsync 20
    max_output_mb: float = env("RUNPOD_MAX_OUTPUT_MB", 20.0, low=0.001, high=1e6)  # what RunPod returns per job
    stream: bool = env("F5_SERVERLESS_STREAM", False)  # serve the streaming handler


def use_runpod_volume(env_map: MutableMapping[str, str] = os.environ, volume: Path = RUNPOD_VOLUME) -> None:
    """Point HF_HOME and VOICES_DIR at the RunPod volume when it is mounted and they are unset (existing values win).
    Must run before huggingface_hub is imported: it reads HF_HOME once."""
    if not volume.is_dir():
        return
    if not env_map.get("HF_HOME", "").strip():
        env_map["HF_HOME"] = str(volume / "hf")
    if not env_map.get("VOICES_DIR", "").strip():
        env_map["VOICES_DIR"] = str(volume / "voices")


# ---- input ----------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Job:
    request: SynthesisRequest | None  # None for a dubbing job
    response_format: str
    stream: bool | None  # None: not given
    captions: str | None = None  # "sentence" or "word": captions asked for
    dub: timed.DubJob | None = None


def _text_field(data: dict[str, Any], key: str, what: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise InputError(f"'{key}' must be a string ({what}), not {type(value).__name__}.", f"Send {what} as text.")
    return value


REFERENCE_TOO_LARGE = (
    "Send a shorter or compressed reference: 5 to 12 seconds of speech is enough (12 s of WAV is about 0.6 MB, "
    "MP3 much less), or save it as a voice on the volume and pass its name as 'voice'."
)


def decode_reference(
    data: str, max_bytes: int, key: str = "ref_audio_base64", too_large: str = REFERENCE_TOO_LARGE
) -> bytes:
    """The audio's bytes from base64 (whitespace and a data: URL prefix allowed), refusing oversized input; `key`
    names the field in messages, `too_large` says what to do when it is over the limit."""
    if data.startswith("data:") and "," in data[:200]:
        data = data.split(",", 1)[1]
    if len(data) > max_bytes:
        raise InputError(
            f"The audio in '{key}' is {len(data) / MB:.1f} MB as base64 (about {len(data) * 3 / 4 / MB:.1f} MB of "
            f"audio); a request may carry at most {max_bytes / MB:g} MB (RunPod: 10 MB for /run, 20 MB for /runsync).",
            too_large,
        )
    data = "".join(data.split())
    try:
        audio = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as e:
        raise InputError(
            f"'{key}' is not valid base64 ({e}).",
            "Encode the audio file's bytes with standard base64, e.g. `base64 -w0 voice.wav`.",
        ) from e
    if not audio:
        raise InputError(f"'{key}' is empty.", "Send the recording's bytes, base64-encoded.")
    return audio


class Worker:
    """The job handlers over one engine. `config_error`: the worker's settings could not be read, and every job
    says so (a crash would only make RunPod restart the worker, again and again)."""

    def __init__(
        self, engine: Engine | None, settings: WorkerSettings | None = None, config_error: str | None = None
    ) -> None:
        self.engine, self.settings, self.config_error = engine, settings or WorkerSettings(), config_error

    def _engine(self) -> Engine:
        if self.engine is None:
            raise StudioError(
                f"The worker is misconfigured: {self.config_error}", "Fix the endpoint's environment variables."
            )
        return self.engine

    def parse_input(self, raw: Any) -> Job | EditJob:
        """Validate a job's input object into a SynthesisRequest (or an edit); InputError names whatever is wrong."""
        if not isinstance(raw, dict):
            raise InputError(
                f"The job input must be a JSON object, not {type(raw).__name__}.",
                'Send {"input": {"text": "...", "voice": "..."}}.',
            )
        if "edit" in raw:
            return self._parse_edit(raw)
        unknown = sorted(str(k) for k in raw if k not in INPUT_KEYS)
        if unknown:
            raise InputError(
                f"Unknown input key{'s' if len(unknown) > 1 else ''}: {', '.join(map(repr, unknown))}.",
                f"Allowed keys: {', '.join(INPUT_KEYS)}.",
            )
        text = _text_field(raw, "text", "what the voice should say")
        subtitles = _text_field(raw, "subtitles", "an SRT or WebVTT file's text")
        if text is None and subtitles is None:
            raise InputError("The input has no 'text'.", "Add 'text': what the voice should say (or 'subtitles').")
        if text is not None and subtitles is not None:
            raise InputError("Both 'text' and 'subtitles' were given.", "Send one: text to say, or subtitles to dub.")
        voice = _text_field(raw, "voice", "a saved voice's name")
        audio_b64 = _text_field(raw, "ref_audio_base64", "the reference recording, base64-encoded")
        ref_text = _text_field(raw, "ref_text", "the words spoken in the reference")
        if voice is not None and audio_b64 is not None:
            raise InputError(
                "Both 'voice' and 'ref_audio_base64' were given.",
                "Send one: a saved voice's name, or a reference recording (with 'ref_text').",
            )
        if voice is None and audio_b64 is None and subtitles is None:  # subtitles may tag every cue instead
            raise InputError(
                "No voice was given.",
                "Add 'voice' (a saved voice's name) or 'ref_audio_base64' (a recording, with 'ref_text').",
            )
        if voice is not None and ref_text is not None:
            raise InputError(
                "'ref_text' goes with 'ref_audio_base64'; a saved voice has its own transcript.",
                "Leave out 'ref_text' when using 'voice'.",
            )
        fmt = check_format(raw.get("response_format", "wav"), what="response_format")
        stream = raw.get("stream")
        if stream is not None and not isinstance(stream, bool):
            raise InputError(f"'stream' must be true or false, not {stream!r}.", "Send a JSON boolean.")
        captions = timed.check_keys(raw, subtitles is not None)
        options = SynthesisOptions.from_loose({k: raw[k] for k in OPTION_KEYS if k in raw})
        audio = None if audio_b64 is None else decode_reference(audio_b64, int(self.settings.max_payload_mb * MB))
        if subtitles is not None:
            upload = None if audio is None else self._engine().reference(audio=audio, text=ref_text)
            return Job(None, fmt, stream, dub=timed.dub_job(raw, subtitles, voice, upload, options))
        reference = self._engine().reference(voice=voice, audio=audio, text=ref_text)
        seconds, hint = self._output_seconds(fmt)
        request = SynthesisRequest(text or "", reference, options, max_seconds=seconds, limit_hint=hint)
        return Job(request, fmt, stream, captions)

    def _output_seconds(self, fmt: str) -> tuple[float, str]:
        """The most seconds of audio RUNPOD_MAX_OUTPUT_MB carries as base64 in `fmt`, and what to do beyond it (the
        engine refuses longer speech before generating it)."""
        seconds = self.settings.max_output_mb * MB * 3 / 4 / bytes_per_second(fmt, SAMPLE_RATE)  # base64: 4/3
        hint = f"RunPod returns at most {self.settings.max_output_mb:g} MB per job as {fmt}: " + (
            "ask for response_format mp3 (3x longer audio fits), or send shorter text"
            if fmt in ("wav", "pcm", "flac")
            else "send shorter text"
        )
        return seconds, hint

    def _parse_edit(self, raw: dict[str, Any]) -> EditJob:
        if len(raw) > 1:
            others = ", ".join(repr(k) for k in raw if k != "edit")
            raise InputError(f"An edit job holds only 'edit'; it also has {others}.", "Put every field inside 'edit'.")
        limit = int(self.settings.max_payload_mb * MB)
        return parse_edit(raw["edit"], lambda data, key, hint: decode_reference(data, limit, key, hint))

    def _edit(self, job: EditJob) -> dict[str, Any]:
        out = run_edit(self._engine(), job)
        self._check_output_size(len(out["audio_base64"]), out["duration"], job.response_format)
        return out

    # ---- output -----------------------------------------------------------------------------------------------------
    def _check_output_size(self, b64_chars: int, seconds: float, fmt: str, streamed: bool = False) -> None:
        limit = self.settings.max_output_mb * MB
        if b64_chars > limit:
            what = "The streamed audio so far" if streamed else "The generated audio"
            smaller = (
                "mp3 (about 10x smaller than wav) or flac"
                if fmt in ("wav", "pcm")
                else ("mp3" if fmt == "flac" else "")
            )
            hint = f"Ask for response_format {smaller}, or send" if smaller else "Send"
            raise InputError(
                f"{what} ({seconds:.0f} s as {fmt}) is {b64_chars / MB:.1f} MB as base64; RunPod returns at most "
                f"{limit / MB:g} MB per job.",
                f"{hint} shorter text, split over several jobs.",
            )

    def _synthesize(self, job: Job) -> dict[str, Any]:
        if job.dub is not None:
            limit = self._output_seconds(job.response_format)
            out, size, seconds = timed.dub_output(self._engine(), job.dub, job.response_format, limit)
            self._check_output_size(size, seconds, job.response_format)
            return out
        assert job.request is not None
        if job.captions:
            result, captions = synthesize_with_captions(self._engine(), job.request, job.captions)
        else:
            result, captions = self._engine().synthesize(job.request), None
        audio_b64 = base64.b64encode(encode_audio(result.wave, result.sample_rate, job.response_format)).decode()
        self._check_output_size(len(audio_b64), result.duration, job.response_format)
        out = {
            "audio_base64": audio_b64,
            "sample_rate": result.sample_rate,
            "duration": round(result.duration, 3),
            "seed": result.seed,
            "ref_text": result.ref_text,
            "spoken_text": result.spoken_text,
            "ref_notes": list(result.ref_notes),
            **({"check": guard.summary(result.checks)} if result.checks else {}),
        }
        return {**out, **timed.captions_output(captions)} if captions else out

    # ---- handlers ---------------------------------------------------------------------------------------------------
    async def handler(self, job: dict[str, Any]) -> dict[str, Any]:
        """One job, one output object (see the module docstring); {"error": ...} instead of raising."""
        job_id, raw = _job_parts(job)
        try:
            with self._track():
                return await self._handle(raw)
        except Exception as e:
            return _failure(job_id, e)

    async def _handle(self, raw: Any) -> dict[str, Any]:
        parsed = await asyncio.to_thread(self.parse_input, raw)
        if isinstance(parsed, EditJob):
            return await asyncio.to_thread(self._edit, parsed)
        if parsed.stream:
            raise InputError(
                "This endpoint does not stream: its worker runs the non-streaming handler.",
                "Leave out 'stream', or deploy the worker with F5_SERVERLESS_STREAM=1 and read the "
                "chunks from /stream/<job id>.",
            )
        return await asyncio.to_thread(self._synthesize, parsed)

    def _track(self) -> Any:
        return self.engine.metrics.track("serverless") if self.engine is not None else contextlib.nullcontext()

    async def stream_handler(self, job: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        """One item per text chunk as it is generated (see "Streaming"); an error ends the stream as its last item."""
        job_id, raw = _job_parts(job)
        try:
            with self._track():
                async for item in self._stream(raw):
                    yield item
        except Exception as e:
            yield _failure(job_id, e)

    async def _stream(self, raw: Any) -> AsyncIterator[dict[str, Any]]:
        parsed = await asyncio.to_thread(self.parse_input, raw)
        if isinstance(parsed, EditJob):  # one item: the whole edited recording
            yield await asyncio.to_thread(self._edit, parsed)
            return
        if parsed.stream is False or parsed.request is None:  # a dub comes whole
            yield await asyncio.to_thread(self._synthesize, parsed)
            return
        chunks = await asyncio.to_thread(self._engine().stream, parsed.request)
        done = []
        try:
            total_chars, total_seconds = 0, 0.0
            while (chunk := await asyncio.to_thread(next, chunks, None)) is not None:
                done.append(chunk)
                audio = base64.b64encode(encode_audio(chunk.wave, chunk.sample_rate, parsed.response_format))
                seconds = len(chunk.wave) / chunk.sample_rate
                total_chars, total_seconds = total_chars + len(audio), total_seconds + seconds
                self._check_output_size(total_chars, total_seconds, parsed.response_format, streamed=True)
                item = {
                    "index": chunk.index,
                    "total": chunk.total,
                    "audio_base64": audio.decode("ascii"),
                    "sample_rate": chunk.sample_rate,
                    "duration": round(seconds, 3),
                    "seed": chunk.seed,
                    "ref_text": chunk.ref_text,
                    "text": chunk.text,
                    "ref_notes": list(chunk.ref_notes),
                    **({"check": chunk.check.as_dict()} if chunk.check else {}),
                }
                if parsed.captions and chunk.index == chunk.total - 1:  # the last item carries the take's captions
                    fade = parsed.request.options.cross_fade
                    found = await asyncio.to_thread(captions_for, self._engine(), done, fade, parsed.captions)
                    item |= timed.captions_output(found)
                yield item
        finally:
            chunks.close()  # the chunks not generated yet are cancelled

    def concurrency(self, current: int = 1) -> int:
        """RunPod's concurrency_modifier: how many jobs this worker takes at once."""
        return self.engine.concurrency() if self.engine is not None else 1


def _failure(job_id: Any, e: Exception) -> dict[str, str]:
    if isinstance(e, StudioError):
        log.info("job %s refused: %s", job_id, e)
        return {"error": str(e)}
    log.exception("job %s failed", job_id)
    return {
        "error": f"Generation failed: {type(e).__name__}. The details are in the worker log; try again, and "
        "report it if it keeps failing."
    }


def _job_parts(job: Any) -> tuple[Any, Any]:
    if not isinstance(job, dict):
        return None, None
    return job.get("id"), job.get("input")


def worker_from_env(env_map: MutableMapping[str, str] | None = None) -> Worker:
    """The worker as the environment configures it; a bad setting gives a worker that reports it on every job."""
    env_map = os.environ if env_map is None else env_map
    try:
        return Worker(Engine(EngineSettings.from_env(env_map)), from_env(WorkerSettings, env_map))
    except StudioError as e:
        log.error("worker settings are invalid: %s", e)
        return Worker(None, config_error=str(e))


def main() -> None:
    import runpod

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    use_runpod_volume()
    worker = worker_from_env()
    streaming = worker.settings.stream
    log.info(
        "serverless worker: %s handler, up to %d jobs at once; Hugging Face cache %s, VOICES_DIR=%s",
        "streaming" if streaming else "plain",
        worker.concurrency(),
        hub_cache_dir(),
        worker.engine.settings.voices_dir if worker.engine else "?",
    )
    if worker.engine is not None and worker.engine.settings.preload:
        worker.engine.preload()
    runpod.serverless.start(
        {
            "handler": worker.stream_handler if streaming else worker.handler,
            "concurrency_modifier": worker.concurrency,
            "return_aggregate_stream": True,
        }
    )


if __name__ == "__main__":
    main()

"""RunPod serverless worker: the studio (`inference.Studio`) behind RunPod's job API (runpod SDK 1.12.0).

    python serverless/handler.py                                    # on RunPod: the SDK takes jobs from the queue
    python serverless/handler.py --test_input '{"input": {...}}'    # run one job locally, print it, exit
    python serverless/handler.py --rp_serve_api --rp_api_host 127.0.0.1 --rp_api_port 8000
                                                                    # local copy of RunPod's /run, /runsync, /status
    F5_SERVERLESS_STREAM=1 python serverless/handler.py             # the streaming worker (see "Streaming")

Importing this module builds nothing and changes nothing: `main()` reads the settings, builds the Studio (which
imports no torch and loads nothing) and starts the SDK. The model loads on the first job (or, with F5_PRELOAD=1, in
the background as soon as the worker starts), and stays loaded for every later job on this worker.

Concurrency: one worker takes several jobs at once (the SDK's async handler with a `concurrency_modifier`), up to
F5_CONCURRENCY (auto: twice the batch size on a GPU, 4 on a CPU). Their chunks take fair turns in the engine and are
batched together on a GPU. Beyond that, RunPod's autoscaler adds workers.

Volume: on RunPod serverless the network volume is mounted at /runpod-volume. When HF_HOME or VOICES_DIR is unset
and that folder exists, they default to /runpod-volume/hf and /runpod-volume/voices (values already in the
environment, e.g. set by deploy/entrypoint.sh, are kept).

Jobs: four kinds, each a small class in a module of its own (serverless/jobs.py lists them), chosen by the input's
keys: {"edit": {...}} edits a recording (serverless/edit.py), "segments" speaks a batch of a long-form project's
segments (serverless/segments.py), "subtitles" dubs them (serverless/dub.py), "text" speaks it (serverless/speak.py).
Every key, range, default and output is in serverless/jobs.py's INPUT_DOC, built from the options' one definition:
`python -m serverless.jobs` prints it.

Errors: bad input, a missing voice, a model that cannot load... return {"error": "<what went wrong> <what to do>"}
(RunPod marks the job FAILED with that message); nothing the client sends crashes the worker, and one job's error
does not touch the others. Unexpected failures return {"error": "Generation failed: <ExceptionType>. ..."} and are
logged with their traceback. A bad setting (e.g. F5_DEVICE=gpu) is reported by every job instead of crashing the
worker in a restart loop.

Streaming: RunPod decides per worker, not per job, whether a handler streams (a generator handler streams every
job), so there are two handlers and the worker serves one of them:
  * `handler` (default): one job -> one output object (INPUT_DOC). "stream": true is refused with a hint.
  * `stream_handler` (F5_SERVERLESS_STREAM=1): yields one item per text chunk as soon as it is generated:
    {"index", "total", "audio_base64" (that chunk alone, in response_format, wav by default), "sample_rate",
    "duration", "seed", "ref_text", "text" (the chunk's spoken text), "ref_notes", and "check" (that chunk's,
    with the check)}; joined in order they are the whole speech (the cross-fade is already applied).
    Read them from /stream/<job id>; with return_aggregate_stream the final job output (/status, /runsync) is the
    list of all items. "stream": false makes it yield a single item, the whole output; a dub or an edit comes
    whole, as the one item.

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
import contextlib
import logging
import os
import socket
from collections.abc import AsyncIterator, Iterator, MutableMapping
from pathlib import Path
from typing import Any

from inference import Engine, EngineSettings, InputError, Studio, StudioError, acting, from_env, hub_cache_dir
from serverless.job import Job
from serverless.jobs import kind_for
from serverless.limits import WorkerSettings

__all__ = ["Worker", "WorkerSettings", "main", "use_runpod_volume", "worker_from_env"]

log = logging.getLogger("serverless")

RUNPOD_VOLUME = Path("/runpod-volume")
RUNPOD_USER = "runpod"  # the audit log's user for every job: whoever holds the endpoint's RunPod API key


def use_runpod_volume(env_map: MutableMapping[str, str] = os.environ, volume: Path = RUNPOD_VOLUME) -> None:
    """Point HF_HOME and VOICES_DIR at the RunPod volume when it is mounted and they are unset (existing values win).
    Must run before huggingface_hub is imported: it reads HF_HOME once."""
    if not volume.is_dir():
        return
    if not env_map.get("HF_HOME", "").strip():
        env_map["HF_HOME"] = str(volume / "hf")
    if not env_map.get("VOICES_DIR", "").strip():
        env_map["VOICES_DIR"] = str(volume / "voices")


class Worker:
    """The job handlers over one studio. `config_error`: the worker's settings could not be read, and every job
    says so (a crash would only make RunPod restart the worker, again and again)."""

    def __init__(
        self, studio: Studio | None, settings: WorkerSettings | None = None, config_error: str | None = None
    ) -> None:
        self.studio, self.settings, self.config_error = studio, settings or WorkerSettings(), config_error

    def _studio(self) -> Studio:
        if self.studio is None:
            raise StudioError(
                f"The worker is misconfigured: {self.config_error}", "Fix the endpoint's environment variables."
            )
        return self.studio

    def parse_input(self, raw: Any) -> Job:
        """A job's input object as the job it asks for (serverless/jobs.py); InputError names whatever is wrong."""
        if not isinstance(raw, dict):
            raise InputError(
                f"The job input must be a JSON object, not {type(raw).__name__}.",
                'Send {"input": {"text": "...", "voice": "..."}}.',
            )
        return kind_for(raw).parse(raw, self._studio(), self.settings)

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
        if parsed.asks_to_stream():
            raise InputError(
                "This endpoint does not stream: its worker runs the non-streaming handler.",
                "Leave out 'stream', or deploy the worker with F5_SERVERLESS_STREAM=1 and read the "
                "chunks from /stream/<job id>.",
            )
        return await asyncio.to_thread(parsed.run, self._studio())

    @contextlib.contextmanager
    def _track(self) -> Iterator[None]:
        """Every job's work: counted, and run as RunPod's caller ("runpod": the endpoint's API key guards it and the
        worker has no login of its own), for the audit log (F5_AUDIT=on) and the marks' ids."""
        with acting(RUNPOD_USER, "serverless"):
            if self.studio is None:
                yield
                return
            with self.studio.metrics.track("serverless"):
                yield

    async def stream_handler(self, job: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        """One item per text chunk as it is generated (see "Streaming"); an error ends the stream as its last item."""
        job_id, raw = _job_parts(job)
        try:
            with self._track():
                parsed = await asyncio.to_thread(self.parse_input, raw)
                async for item in parsed.stream(self._studio()):
                    yield item
        except Exception as e:
            yield _failure(job_id, e)

    def concurrency(self, current: int = 1) -> int:
        """RunPod's concurrency_modifier: how many jobs this worker takes at once."""
        return self.studio.concurrency() if self.studio is not None else 1


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
        studio = Studio(Engine(EngineSettings.from_env(env_map)))
        # no login here: the audit log is kept only with F5_AUDIT=on, one file per worker on the shared volume
        studio.start_audit(login=False, name=f"worker-{env_map.get('RUNPOD_POD_ID') or socket.gethostname()}")
        return Worker(studio, from_env(WorkerSettings, env_map))
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
        worker.studio.settings.voices_dir if worker.studio else "?",
    )
    if worker.studio is not None and worker.studio.settings.preload:
        worker.studio.preload()
    runpod.serverless.start(
        {
            "handler": worker.stream_handler if streaming else worker.handler,
            "concurrency_modifier": worker.concurrency,
            "return_aggregate_stream": True,
        }
    )


if __name__ == "__main__":
    main()

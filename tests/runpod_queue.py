"""A local stand-in for RunPod's job queue, as the runpod SDK (1.12.0) on a serverless worker talks to it.

On RunPod the worker finds its queue in the environment (`env()` gives these, pointed at this server):

- RUNPOD_WEBHOOK_GET_JOB, `.../job-take/$ID?...`: the SDK's JobScaler asks its `concurrency_modifier` how many jobs
  it may hold, then GETs `/job-take/<worker>?...&job_in_progress=0|1` for one job (a JSON object `{"id", "input"}`)
  or `/job-take-batch/<worker>?...&batch_size=N&job_in_progress=...` for up to N (a JSON list). 204: no job now.
  The stop channel is derived from it: GET `/job-stop/<worker>?...` lists jobs to stop (204: none).
- RUNPOD_WEBHOOK_POST_OUTPUT, `.../job-done/$RUNPOD_POD_ID/$ID?...`: the job's result, POSTed as JSON text
  (`{"output": ...}` or `{"error": ...}`) with `&isStream=false`.
- RUNPOD_WEBHOOK_POST_STREAM, `.../job-stream/$RUNPOD_POD_ID/$ID?...`: each item a streaming handler yields, as
  `{"output": item}`.

Every take, stream item and result is recorded with its time (`events`), so that a test can tell which jobs ran at
the same time. When the queue is empty a take waits a little before answering 204, as RunPod's long poll does
(so the SDK does not spin).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

EMPTY_POLL_S = 0.5  # how long a take waits on an empty queue before its 204


@dataclass
class Event:
    at: float  # time.monotonic()
    job: str
    kind: str  # "taken", "stream" or "done"
    body: Any = None  # what the worker posted


@dataclass
class RunPodQueue:
    jobs: list[dict] = field(default_factory=list)  # waiting: {"id", "input"}
    events: list[Event] = field(default_factory=list)
    batch_sizes: list[int] = field(default_factory=list)  # what each take asked for
    url: str = ""
    taking: int = 0  # takes waiting for a job now (a killed worker's long poll may still be one)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def add(self, job_id: str, job_input: dict) -> None:
        with self.changed:
            self.jobs.append({"id": job_id, "input": job_input})
            self.changed.notify_all()

    def env(self) -> dict[str, str]:
        """What a worker needs to poll this queue. The SDK's own start-up fitness checks (free memory, and a disk at
        least 10% free, which a full CI disk fails) judge the machine the tests run on, not the worker: skipped."""
        return {
            "RUNPOD_SKIP_AUTO_SYSTEM_CHECKS": "true",
            "RUNPOD_WEBHOOK_GET_JOB": f"{self.url}/job-take/$ID?gpu=none",
            "RUNPOD_WEBHOOK_POST_OUTPUT": f"{self.url}/job-done/$RUNPOD_POD_ID/$ID?gpu=none",
            "RUNPOD_WEBHOOK_POST_STREAM": f"{self.url}/job-stream/$RUNPOD_POD_ID/$ID?gpu=none",
        }

    def wait_done(self, ids: set[str], timeout: float) -> bool:
        """Until every job in `ids` has posted its result (an event: each post notifies)."""
        with self.changed:
            return self.changed.wait_for(lambda: ids <= {e.job for e in self.events if e.kind == "done"}, timeout)

    def times(self, job: str, kind: str) -> list[float]:
        return [e.at for e in self.events if e.job == job and e.kind == kind]

    def result(self, job: str) -> Any:
        return next(e.body for e in self.events if e.job == job and e.kind == "done")

    # ---- what the handler calls -------------------------------------------------------------------------------
    def take(self, batch_size: int) -> list[dict]:
        with self.changed:
            self.batch_sizes.append(batch_size)
            self.taking += 1
            try:
                self.changed.wait_for(lambda: self.jobs, EMPTY_POLL_S)
            finally:
                self.taking -= 1
                self.changed.notify_all()
            taken, self.jobs = self.jobs[:batch_size], self.jobs[batch_size:]
            self.events += [Event(time.monotonic(), job["id"], "taken") for job in taken]
            return taken

    def post(self, job: str, kind: str, body: Any) -> None:
        with self.changed:
            self.events.append(Event(time.monotonic(), job, kind, body))
            self.changed.notify_all()


def _handler(queue: RunPodQueue) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def _send(self, status: int, body: Any = None) -> None:
            data = b"" if body is None else json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):  # a worker killed during its long poll
                pass

        def do_GET(self) -> None:
            url = urlparse(self.path)
            if url.path.startswith("/job-take-batch/"):
                taken = queue.take(int(parse_qs(url.query)["batch_size"][0]))
                self._send(200, taken) if taken else self._send(204)
            elif url.path.startswith("/job-take/"):
                taken = queue.take(1)
                self._send(200, taken[0]) if taken else self._send(204)
            elif url.path.startswith("/job-stop/"):
                time.sleep(EMPTY_POLL_S)  # a long poll with nothing to stop
                self._send(204)
            else:
                self._send(404)

        def do_POST(self) -> None:
            url = urlparse(self.path)
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"null")
            parts = url.path.strip("/").split("/")  # job-done | job-stream, worker, job id
            if len(parts) == 3 and parts[0] in ("job-done", "job-stream"):
                queue.post(parts[2], "done" if parts[0] == "job-done" else "stream", body)
                self._send(200, {})
            else:
                self._send(404)

    return Handler


@contextmanager
def serve_queue() -> Iterator[RunPodQueue]:
    queue = RunPodQueue()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(queue))
    server.daemon_threads = True
    queue.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="runpod-queue", daemon=True)
    thread.start()
    try:
        yield queue
    finally:
        server.shutdown()
        server.server_close()

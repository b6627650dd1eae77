"""A local stand-in for RunPod's endpoint API, as the runpod SDK's Endpoint client (1.12.0) calls it, in front of
the queue stand-in that real workers take their jobs from (tests/runpod_queue.py).

    with serve_endpoint("ep1", "key", execution_timeout=20) as endpoint:
        os.environ.update(endpoint.queue.env())       # for the worker subprocesses
        runpod.endpoint_url_base = endpoint.base      # for the SDK's client (or RUNPOD_ENDPOINT_BASE_URL)

- POST /v2/<endpoint>/run {"input": ...} -> {"id", "status": "IN_QUEUE"}; the job goes into the queue.
- GET /v2/<endpoint>/status/<job> -> {"id", "status", "output" | "error"}: IN_QUEUE until a worker takes it,
  IN_PROGRESS until it posts its result, then COMPLETED (its output) or FAILED (its error). A job taken longer than
  `execution_timeout` seconds ago without a result is TIMED_OUT (RunPod's executionTimeout: its worker died).
  A final status stays as it is (a late result of a timed-out or cancelled job is not shown).
- POST /v2/<endpoint>/cancel/<job> -> {"id", "status": "CANCELLED"}: a waiting job leaves the queue.
- `status_down`: every status call answers 503, as when RunPod's API cannot be reached for a while.
- Every call checks `Authorization: Bearer <api key>` (401 otherwise, as RunPod answers) and the endpoint id (404).

`runs` lists the jobs sent (time, id, input) and `changed` (the queue's condition) is notified on each call, so a
test waits for an event instead of sleeping.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.runpod_queue import RunPodQueue, serve_queue

FINAL = ("COMPLETED", "FAILED", "CANCELLED", "TIMED_OUT")


@dataclass
class RunPodEndpoint:
    endpoint_id: str
    api_key: str
    queue: RunPodQueue
    execution_timeout: float = 600.0
    base: str = ""  # what the SDK's endpoint_url_base should be: http://127.0.0.1:<port>/v2
    runs: list[tuple[float, str, dict]] = field(default_factory=list)
    final: dict[str, str] = field(default_factory=dict)  # job -> its final status, once shown
    cancels: list[str] = field(default_factory=list)
    status_calls: int = 0
    status_down: bool = False  # set: every status call answers 503 (RunPod's API unreachable for a while)

    @property
    def changed(self) -> threading.Condition:
        return self.queue.changed

    def run(self, job_input: Any) -> str:
        job_id = f"job-{uuid.uuid4().hex[:12]}"
        with self.changed:
            self.runs.append((time.monotonic(), job_id, job_input))
        self.queue.add(job_id, job_input)
        return job_id

    def status(self, job_id: str) -> dict[str, Any]:
        with self.changed:
            self.status_calls += 1
            self.changed.notify_all()
            if job_id not in {r[1] for r in self.runs}:
                return {"id": job_id, "status": "NOT_FOUND"}
            if job_id in self.final and self.final[job_id] != "COMPLETED":
                return {"id": job_id, "status": self.final[job_id]}
            done = [e.body for e in self.queue.events if e.job == job_id and e.kind == "done"]
            taken = self.queue.times(job_id, "taken")
            if done and "error" in done[0]:
                answer = {"id": job_id, "status": "FAILED", "error": done[0]["error"]}
            elif done:
                answer = {"id": job_id, "status": "COMPLETED", "output": done[0].get("output")}
            elif taken and time.monotonic() - taken[0] > self.execution_timeout:
                answer = {"id": job_id, "status": "TIMED_OUT"}
            else:
                answer = {"id": job_id, "status": "IN_PROGRESS" if taken else "IN_QUEUE"}
            if answer["status"] in FINAL:
                self.final[job_id] = answer["status"]
            return answer

    def cancel(self, job_id: str) -> dict[str, Any]:
        with self.changed:
            self.cancels.append(job_id)
            self.queue.jobs = [j for j in self.queue.jobs if j["id"] != job_id]
            self.final.setdefault(job_id, "CANCELLED")
            self.changed.notify_all()
            return {"id": job_id, "status": self.final[job_id]}


def _handler(endpoint: RunPodEndpoint) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def _send(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _route(self) -> list[str] | None:
            """['run'] / ['status', job] / ['cancel', job] after the checks, or None when refused (answered)."""
            parts = self.path.strip("/").split("/")  # v2, endpoint, action, [job]
            if self.headers.get("Authorization") != f"Bearer {endpoint.api_key}":
                self._send(401, {"error": "Unauthorized"})
                return None
            if len(parts) < 3 or parts[0] != "v2" or parts[1] != endpoint.endpoint_id:
                self._send(404, {"error": "endpoint not found"})
                return None
            return parts[2:]

        def do_GET(self) -> None:
            route = self._route()
            if route is None:
                return
            if route[0] == "status" and len(route) == 2 and endpoint.status_down:
                self._send(503, {"error": "service unavailable"})
            elif route[0] == "status" and len(route) == 2:
                self._send(200, endpoint.status(route[1]))
            else:
                self._send(404, {"error": "not found"})

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"null")
            route = self._route()
            if route is None:
                return
            if route == ["run"] and isinstance(body, dict) and "input" in body:
                self._send(200, {"id": endpoint.run(body["input"]), "status": "IN_QUEUE"})
            elif route[0] == "cancel" and len(route) == 2:
                self._send(200, endpoint.cancel(route[1]))
            else:
                self._send(400, {"error": "bad request"})

    return Handler


@contextmanager
def serve_endpoint(endpoint_id: str, api_key: str, execution_timeout: float = 600.0) -> Iterator[RunPodEndpoint]:
    with serve_queue() as queue:
        endpoint = RunPodEndpoint(endpoint_id, api_key, queue, execution_timeout)
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(endpoint))
        server.daemon_threads = True
        endpoint.base = f"http://127.0.0.1:{server.server_address[1]}/v2"
        thread = threading.Thread(target=server.serve_forever, name="runpod-endpoint", daemon=True)
        thread.start()
        try:
            yield endpoint
        finally:
            server.shutdown()
            server.server_close()

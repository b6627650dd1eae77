"""Work nobody will read is cancelled: Gradio's two-step HTTP API (`POST /gradio_api/call/<api>` answers an event id,
then `GET /gradio_api/call/<api>/<event id>` streams the result) starts the work at the POST. A caller who never
comes back for the result (a script that died, a curl without its second step) would hold a generation slot until
the take is done, minutes for a long text, while others wait or are told the queue is full.

`CancelUnreadCalls` watches both steps: an event whose result is not asked for within `UNREAD_CALL_S` seconds is
cancelled as Gradio's own `/cancel` route does it (its task is cancelled, which stops the engine's chunks through
`ui.handlers.stops_when_cancelled`, and it leaves Gradio's queue if it was still waiting).

    POST /gradio_api/call/synthesize  -> {"event_id": "ab12"}       (a timer starts)
    GET  /gradio_api/call/synthesize/ab12                           (read: the timer is dropped)
    ... or no GET within UNREAD_CALL_S                              -> the event is cancelled, its slot freed
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from typing import Any

import gradio as gr
from gradio.utils import cancel_tasks

log = logging.getLogger(__name__)

UNREAD_CALL_S = 20.0  # seconds a /call result may wait for its GET before the work is cancelled
_POST = re.compile(r"^/gradio_api/call/(?:v2/)?[^/]+/?$")
_GET = re.compile(r"^/gradio_api/call/(?:v2/)?[^/]+/([0-9a-f]+)/?$")


class CancelUnreadCalls:
    """ASGI middleware over the app that Gradio is mounted on (see the module's docstring)."""

    def __init__(self, app: Any, demo: gr.Blocks) -> None:
        self.app, self.demo = app, demo
        self.timers: dict[str, asyncio.TimerHandle] = {}  # event id -> its cancel, until read

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            method, path = scope.get("method"), scope["path"]
            if method == "GET" and (read := _GET.match(path)):
                timer = self.timers.pop(read.group(1), None)
                if timer is not None:
                    timer.cancel()
            elif method == "POST" and _POST.match(path):
                await self.app(scope, receive, self._watching(send))
                return
        await self.app(scope, receive, send)

    def _watching(self, send: Any) -> Any:
        """`send`, noting the event id of a successful POST and starting its timer."""
        status: list[int] = []
        body: list[bytes] = []

        async def watched(message: dict) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            elif message["type"] == "http.response.body" and status == [200]:
                body.append(message.get("body", b""))
                if not message.get("more_body"):
                    self._started(b"".join(body))
            await send(message)

        return watched

    def _started(self, body: bytes) -> None:
        try:
            event_id = json.loads(body)["event_id"]
        except (ValueError, KeyError, TypeError):
            return
        event = self.demo._queue.event_ids_to_events.get(event_id)
        if event is None:  # already done (a cached result): nothing to cancel
            return
        task_id = f"{event.session_hash}_{event.fn._id}"
        loop = asyncio.get_running_loop()
        self.timers[event_id] = loop.call_later(
            UNREAD_CALL_S, lambda: loop.create_task(self._abandon(event_id, task_id))
        )

    async def _abandon(self, event_id: str, task_id: str) -> None:
        if self.timers.pop(event_id, None) is None:
            return
        log.info("a /call result was not asked for within %.0f s: its work is cancelled", UNREAD_CALL_S)
        await cancel_tasks({task_id})
        await self.demo._queue.remove_from_queue(event_id)

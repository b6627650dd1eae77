"""GET /metrics: the studio's counters in Prometheus's text format (prometheus_client writes it).

With auth on, /metrics asks for the same token or login as the REST API (api/auth.py guards it).
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest

from inference import Studio


def metrics_router(studio: Studio, queue_depth: Callable[[], int] | None = None) -> APIRouter:
    """`queue_depth`: how many generations wait in front of the studio (the UI's queue), when there is one."""
    router = APIRouter()
    if queue_depth is not None:
        extra = CollectorRegistry()
        Gauge("studio_queue_depth", "Generations waiting in the UI's queue for a turn", registry=extra).set_function(
            lambda: float(queue_depth())
        )
    else:
        extra = None

    @router.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        body = generate_latest(studio.metrics.registry) + (generate_latest(extra) if extra else b"")
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return router

"""Liveness and readiness. Neither ever triggers a model load."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from inference import Studio, __version__

from .auth import Access, authorized


def health_router(studio: Studio, access: Access) -> APIRouter:
    router = APIRouter()

    @router.get("/health")
    def health(request: Request) -> dict:
        """Always 200 while serving. With auth on, details (model state, device, errors) need credentials."""
        if not authorized(access, request.headers.get("authorization")):
            return {"status": "ok"}
        s = studio.status()
        details = {"model": s.state, "device": s.device, "compile": s.compile, "version": __version__, "error": s.error}
        return {"status": "ok", **details}

    @router.get("/ping")
    def ping() -> Response:
        """RunPod load-balancer readiness: 200 when the model is ready, 204 while it is not (yet)."""
        return Response(status_code=200 if studio.status().state == "ready" else 204)

    return router

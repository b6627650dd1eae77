"""The studio's side of a RunPod queue endpoint that runs this worker: the runpod SDK's endpoint client, for
rendering projects there (inference/projects/remote.py sends the batches; F5_RENDER_ENDPOINT, RUNPOD_API_KEY).

    studio = Studio(engine, render_endpoint=connect(settings))   # None when F5_RENDER_ENDPOINT is unset

The SDK's base URL is its own setting: RUNPOD_ENDPOINT_BASE_URL (read when runpod is imported) or
runpod.endpoint_url_base. A refusal the SDK reports (401: the key; 404: no such endpoint) becomes an InputError that
says what to do; anything else (unreachable, a 5xx) is passed on as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from inference import EngineSettings, InputError


def connect(settings: EngineSettings) -> Callable[[], RunPodEndpoint] | None:
    """How the studio reaches F5_RENDER_ENDPOINT, or None when it is unset. Refuses at once (at the studio's start)
    a missing runpod package or API key."""
    endpoint_id = settings.render_endpoint
    if not endpoint_id:
        return None
    try:
        import runpod
    except ImportError as e:
        raise InputError(
            "F5_RENDER_ENDPOINT is set, but the runpod package is not installed in this environment.",
            "Install it (pip install --no-deps runpod==1.12.0; requirements-serverless.txt says why), or unset "
            "F5_RENDER_ENDPOINT to render projects in this process.",
        ) from e
    api_key = settings.render_api_key
    if not api_key:
        raise InputError(
            "F5_RENDER_ENDPOINT is set without RUNPOD_API_KEY.",
            "Set RUNPOD_API_KEY (or RUNPOD_API_KEY_FILE) to an API key of the account that owns the endpoint.",
        )
    return lambda: RunPodEndpoint(runpod.Endpoint(endpoint_id, api_key=api_key), endpoint_id)


class RunPodEndpoint:
    """runpod.Endpoint with its refusals explained."""

    def __init__(self, endpoint: Any, endpoint_id: str) -> None:
        self.endpoint, self.endpoint_id = endpoint, endpoint_id

    def cancel(self, job_id: str) -> Any:
        """Cancel a job sent earlier (by a process that died)."""
        from runpod.endpoint.runner import Job

        return Job(self.endpoint_id, job_id, self.endpoint.rp_client).cancel()

    def run(self, request_input: dict[str, Any]) -> Any:
        try:
            return self.endpoint.run(request_input)
        except RuntimeError as e:  # the SDK's answer to a 401
            raise InputError(
                f"RunPod refused the API key for endpoint {self.endpoint_id!r} ({e}).",
                "Set RUNPOD_API_KEY to a key of the account that owns the endpoint (read and write access).",
            ) from e
        except Exception as e:
            if getattr(getattr(e, "response", None), "status_code", None) == 404:
                raise InputError(
                    f"RunPod has no endpoint {self.endpoint_id!r} (F5_RENDER_ENDPOINT).",
                    "Set F5_RENDER_ENDPOINT to the id shown on the endpoint's page in the RunPod console.",
                ) from e
            raise

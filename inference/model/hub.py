"""Is the Hugging Face hub reachable? One quick TCP probe before a download, so that a machine without network
fails in a few seconds with a plain sentence, instead of after huggingface_hub's retries (25-45 s) with an
exception's name.

    if not reachable():
        raise unreachable_error("the F5-TTS checkpoint hf://SWivid/F5-TTS/...")

The probe is skipped with HF_HUB_OFFLINE=1 (nothing is downloaded then) and behind a proxy (the hub is reached
through it, not directly). An unreachable answer is remembered for PROBE_MEMORY_S, so the files of one load probe
once.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from urllib.parse import urlsplit

from ..errors import ModelUnavailable

log = logging.getLogger(__name__)
PROBE_TIMEOUT_S = 3.0  # s, to open a TCP connection to the hub
PROBE_MEMORY_S = 30.0  # s, an unreachable hub is not probed again within this
PROXY_VARS = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")
UNREACHABLE_HINT = (
    "Connect this machine to the internet (or set HF_ENDPOINT to a reachable mirror) and try again. Without "
    "network: run `python app.py download` where the hub is reachable, copy HF_HOME here, and set "
    "HF_HUB_OFFLINE=1."
)

_lock = threading.Lock()
_down_until = 0.0  # monotonic time until which the hub is taken as unreachable without probing


def endpoint() -> str:
    from huggingface_hub import constants

    return str(constants.ENDPOINT)


def reachable(url: str | None = None, timeout: float = PROBE_TIMEOUT_S) -> bool:
    """True when a TCP connection to the hub's host opens within `timeout` seconds (or when it cannot be probed
    directly: offline mode, a proxy). Never raises."""
    global _down_until
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE or any(os.environ.get(v) for v in PROXY_VARS):
        return True
    with _lock:
        if time.monotonic() < _down_until:
            return False
        parts = urlsplit(url or endpoint())
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            with socket.create_connection((parts.hostname or "", port), timeout=timeout):
                return True
        except OSError as e:
            log.warning("The hub at %s cannot be reached (%s: %s)", url or endpoint(), type(e).__name__, e)
            _down_until = time.monotonic() + PROBE_MEMORY_S
            return False


def unreachable_error(what: str, prefix: str = "", hint: str = "") -> ModelUnavailable:
    """The error for `what` (not downloaded) when the hub cannot be reached: what is missing and what to do."""
    message = f"the Hugging Face hub at {endpoint()} cannot be reached, and {what} is not downloaded yet."
    message = f"{prefix} {message}" if prefix else message[0].upper() + message[1:]
    return ModelUnavailable(message, f"{hint} {UNREACHABLE_HINT}".strip())

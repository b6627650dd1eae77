"""What a RunPod job may carry in and out: the worker's settings, and the checks every job kind makes with them.

RunPod accepts at most 10 MB per /run request and 20 MB per /runsync request, and returns at most 20 MB per job. The
worker cannot tell which route a job came by, so a base64 input over RUNPOD_MAX_PAYLOAD_MB is refused with a message,
and so is an output whose base64 would exceed RUNPOD_MAX_OUTPUT_MB (known in seconds before generating, in bytes
after).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from inference import SAMPLE_RATE, InputError, bytes_per_second, env

MB = 1_000_000  # RunPod states its limits in MB
REFERENCE_TOO_LARGE = (
    "Send a shorter or compressed reference: 5 to 12 seconds of speech is enough (12 s of WAV is about 0.6 MB, "
    "MP3 much less), or save it as a voice on the volume and pass its name as 'voice'."
)


@dataclass(frozen=True)
class WorkerSettings:
    """The worker's own limits (the engine's settings are in inference/settings.py)."""

    max_payload_mb: float = env("RUNPOD_MAX_PAYLOAD_MB", 10.0, low=0.001, high=1e6)  # /run takes 10 MB, /runsync 20
    max_output_mb: float = env("RUNPOD_MAX_OUTPUT_MB", 20.0, low=0.001, high=1e6)  # what RunPod returns per job
    stream: bool = env("F5_SERVERLESS_STREAM", False)  # serve the streaming handler

    def decode(self, data: str, key: str = "ref_audio_base64", too_large: str = REFERENCE_TOO_LARGE) -> bytes:
        """An input's audio from base64, within RUNPOD_MAX_PAYLOAD_MB (see decode_reference)."""
        return decode_reference(data, int(self.max_payload_mb * MB), key, too_large)

    def output_seconds(self, fmt: str) -> tuple[float, str]:
        """The most seconds of audio RUNPOD_MAX_OUTPUT_MB carries as base64 in `fmt`, and what to do beyond it (the
        engine refuses longer speech before generating it)."""
        seconds = self.max_output_mb * MB * 3 / 4 / bytes_per_second(fmt, SAMPLE_RATE)  # base64: 4/3
        hint = f"RunPod returns at most {self.max_output_mb:g} MB per job as {fmt}: " + (
            "ask for response_format mp3 (3x longer audio fits), or send shorter text"
            if fmt in ("wav", "pcm", "flac")
            else "send shorter text"
        )
        return seconds, hint

    def check_output(self, b64_chars: int, seconds: float, fmt: str, streamed: bool = False) -> None:
        """Refuse an output of `b64_chars` base64 characters over RUNPOD_MAX_OUTPUT_MB, naming a smaller format."""
        limit = self.max_output_mb * MB
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

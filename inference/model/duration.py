"""How long a chunk's speech may be: F5-TTS's own rule, and the studio's for very short text.

F5-TTS scales the reference's speaking rate (mel frames per UTF-8 byte of its transcript) to the chunk, and speaks a
chunk under 10 bytes at speed 0.3 (model/sampling.frames_for). That rule jumps: at a 5.3 s reference of 53 bytes,
"Hi there." (9 bytes) gets 2.8 s, three times what the voice needs, which the model fills with noise or repeats,
while "Thank you." (10 bytes) gets 0.9 s, and a fast reference gives one- and two-word texts too little time to end.
The studio's rule (min_duration, on by default) is continuous: the reference's rate, at the asked speed, with a floor
of MIN_SPEECH_S. Measured for "Hi.", "Yes.", "OK!" in docs/DESIGN.md ("Very short inputs").

    frames(128_000, "Some call me nature, others call me mother nature.  ", "Hi.", 1.0)
    -> 593   (500 frames of reference + 93 new = 1.0 s; F5-TTS's rule gives 596, but 788 for "Hi there.")
"""

from __future__ import annotations

from ..audio import SAMPLE_RATE
from .sampling import HOP_LENGTH, frames_for

MIN_SPEECH_S = 1.0  # seconds of new speech at least, at speed 1 (a short word, and room for it to end)


def frames(ref_samples: int, ref_text: str, chunk: str, speed: float, min_duration: bool = True) -> int:
    """Total mel frames (reference + new speech) for `chunk`; `min_duration` off gives F5-TTS's own rule exactly."""
    if not min_duration:
        return frames_for(ref_samples, ref_text, chunk, speed)
    ref_frames = ref_samples // HOP_LENGTH
    by_rate = ref_frames / len(ref_text.encode("utf-8")) * len(chunk.encode("utf-8")) / speed
    floor = MIN_SPEECH_S * SAMPLE_RATE / HOP_LENGTH / speed
    return ref_frames + int(max(by_rate, floor))

"""Handlers: Gradio values in, engine calls, Gradio values out. Engine errors become gr.Error here, once."""

from __future__ import annotations

import functools
import logging
import numbers
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import gradio as gr
import numpy as np

from inference import Engine, InputError, Reference, StudioError, SynthesisOptions, SynthesisRequest
from inference.engine import clean_text
from inference.types import MAX_SEED

from . import history

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])
MAX_TEXT_FILE_BYTES = 2_000_000  # a .txt upload larger than this is refused
STATE_LABELS = {
    "not_loaded": "⚪ Model not loaded yet: it loads on the first Generate (or starts now with --preload).",
    "loading": "🟡 Model loading…",
    "ready": "🟢 Model ready on {device} (loaded in {seconds:.1f} s).",
    "failed": "🔴 Model failed to load: {error}",
}


def as_gr_error(e: Exception, where: str) -> gr.Error:
    """A plain sentence for the visitor; unexpected errors are logged with their traceback, never shown."""
    if isinstance(e, gr.Error):
        return e
    if isinstance(e, StudioError):
        return gr.Error(str(e))
    log.exception("unexpected error in %s", where)
    return gr.Error(f"Something went wrong on the server ({type(e).__name__}). It is still running: try again, "
                    "and if it keeps failing, check the server log.")


def user_errors(fn: F) -> F:
    """Turn engine errors into gr.Error with a plain sentence; never a bare 'Error' or a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as e:
            raise as_gr_error(e, fn.__name__) from e

    return wrapper  # type: ignore[return-value]


def status_markdown(engine: Engine) -> str:
    s = engine.status()
    return STATE_LABELS[s.state].format(device=s.device, seconds=s.load_seconds or 0.0, error=s.error)


def spectrogram_image(mel: np.ndarray | None) -> np.ndarray | None:
    """(n_mels, frames) log-mel -> an RGB picture, low frequencies at the bottom."""
    if mel is None or mel.size == 0:
        return None
    from matplotlib import colormaps

    lo, hi = np.percentile(mel, [1, 99])
    scaled = np.clip((mel - lo) / max(hi - lo, 1e-6), 0, 1)[::-1]
    rgb = colormaps["magma"](scaled)[..., :3]
    return (np.repeat(rgb, 2, axis=0) * 255).astype(np.uint8)


def pick_seed(seed: float | None, randomize: bool) -> int:
    """The seed the next generation uses: a fresh one when `randomize` is on or the seed is empty/-1."""
    seed = _seed(seed)
    if randomize or seed is None:
        return secrets.randbelow(MAX_SEED + 1)
    return seed  # anything unusable is refused, with the valid range, when the generation starts


def _whole(value: Any) -> Any:
    """Gradio sends numbers as floats: 7.0 -> 7. Anything else (7.5, NaN, 'x', None) is passed on unchanged, for
    SynthesisOptions to refuse with a message naming the valid range (int() would raise a bare ValueError)."""
    if (isinstance(value, float) and value.is_integer()) or (isinstance(value, numbers.Integral)
                                                              and not isinstance(value, bool)):
        return int(value)
    return value


def _seed(seed: Any) -> Any:
    """None or a negative number -> None (pick one); other values as _whole() leaves them."""
    seed = _whole(seed)
    if seed is None or (isinstance(seed, int) and not isinstance(seed, bool) and seed < 0):
        return None
    return seed


def make_handlers(engine: Engine) -> dict[str, Callable[..., Any]]:
    @user_errors
    def synthesize(
        ref_audio: str | None,
        ref_text: str = "",
        text: str = "",
        seed: int = -1,
        nfe_step: int = 32,
        speed: float = 1.0,
        cross_fade: float = 0.15,
        cfg_strength: float = 2.0,
        remove_silence: bool = False,
        voice: str | None = None,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 - Gradio's way to ask for a progress bar
    ) -> tuple[tuple[int, np.ndarray], np.ndarray | None, int, str]:
        """Speak `text` in the voice of `ref_audio`.

        Args:
            ref_audio: a recording of the voice to clone, 5 to 12 s of clear speech (wav, mp3, flac, ogg, m4a, webm).
            ref_text: what is said in ref_audio; leave empty to transcribe it automatically.
            text: what the cloned voice should say. Long text is split at sentences.
            seed: the random seed; -1 picks one. The same seed and inputs give the same audio.
            nfe_step: quality preset in flow steps: 7 (fast), 16 (balanced) or 32 (best).
            speed: speaking rate, 0.3 to 3.
            cross_fade: seconds of overlap between sentences, 0 to 1.
            cfg_strength: how closely to follow the text and voice, 0 to 10.
            remove_silence: shorten pauses longer than 1 s.
            voice: the name of a saved voice to use instead of ref_audio (its saved transcript unless ref_text is set).
        Returns:
            the audio (WAV), a spectrogram picture, the seed used and the reference transcript used.
        """
        request = build_request(ref_audio, ref_text, text, seed, nfe_step, speed, cross_fade, cfg_strength,
                                remove_silence, voice)
        progress(0.0, desc="Preparing (the first generation also loads the model)…")
        result = engine.synthesize(request, progress=lambda done, total: progress(done / total,
                                                                                  desc=f"Chunk {done}/{total}"))
        return (result.sample_rate, result.wave), spectrogram_image(result.mel), result.seed, result.ref_text

    def build_request(ref_audio: str | None, ref_text: str, text: str, seed: int, nfe_step: int, speed: float,
                      cross_fade: float, cfg_strength: float, remove_silence: bool,
                      voice: str | None) -> SynthesisRequest:
        ref_text = clean_text(ref_text)  # a transcript of only control characters falls back to the saved one
        if voice:
            saved = engine.voice_reference(voice)
            reference = Reference(saved.audio, ref_text or saved.text)
        elif ref_audio:
            reference = Reference(Path(ref_audio), ref_text)
        else:
            raise InputError("No reference voice was given.", "Upload or record 5 to 12 seconds of clear speech.")
        options = SynthesisOptions(  # validated there: NaN, wrong types and out-of-range values get a message
            nfe_step=_whole(nfe_step), speed=speed, cross_fade=cross_fade, cfg_strength=cfg_strength,
            remove_silence=bool(remove_silence), seed=_seed(seed),
        )
        return SynthesisRequest(text or "", reference, options)

    def synthesize_stream(ref_audio: str | None, ref_text: str, text: str, seed: int, nfe_step: int, speed: float,
                          cross_fade: float, cfg_strength: float, remove_silence: bool, voice: str | None,
                          takes: list[history.Take] | None,
                          progress: gr.Progress = gr.Progress()) -> Iterator[tuple]:  # noqa: B008
        """The Generate button: play each chunk as soon as it is ready, then show the whole take.

        Yields (live chunk, full audio, spectrogram, seed used, transcript used, summary, takes, take picker, table).
        """
        start = time.perf_counter()
        try:
            request = build_request(ref_audio, ref_text, text, seed, nfe_step, speed, cross_fade, cfg_strength,
                                    remove_silence, voice)
            progress(0.0, desc="Preparing (the first generation also loads the model)…")
            parts = []
            for part in engine.stream(request, progress=lambda d, t: progress(d / t, desc=f"Chunk {d}/{t}")):
                parts.append(part)
                if part.total > 1:
                    yield ((part.sample_rate, part.wave), *[gr.skip()] * 8)
        except Exception as e:
            raise as_gr_error(e, "synthesize_stream") from e
        wave = np.concatenate([p.wave for p in parts])
        mel = np.concatenate([p.mel for p in parts if p.mel is not None], axis=1)
        opts = request.options
        take = history.Take(
            history.next_number(takes), request.text.strip(), voice or "uploaded reference", parts[-1].seed,
            {"nfe_step": opts.nfe_step, "speed": opts.speed, "cross_fade": opts.cross_fade,
             "cfg_strength": opts.cfg_strength, "remove_silence": opts.remove_silence},
            parts[0].sample_rate, wave, time.perf_counter() - start,
        )
        takes = history.add_take(takes, take)
        yield (gr.skip(), (take.sample_rate, wave), spectrogram_image(mel), take.seed, parts[-1].ref_text,
               history.summary(take), takes, gr.update(choices=[t.label() for t in takes], value=take.label()),
               history.rows(takes))

    def pick_take(takes: list[history.Take] | None, label: str | None, fmt: str) -> tuple[Any, Any]:
        """Replay a take and offer it for download in the chosen format."""
        take = history.find(takes, label)
        if take is None:
            return None, None
        return (take.sample_rate, take.wave), str(history.export(take, fmt))

    def reuse_take(takes: list[history.Take] | None, label: str | None) -> tuple:
        """Put a take's text, seed and settings back into the form (and stop randomising the seed)."""
        take = history.find(takes, label)
        if take is None:
            return (gr.skip(),) * 8
        gr.Info(f"Restored take #{take.number}: same text, seed and settings.")
        s = take.settings
        return (take.text, take.seed, False, s["nfe_step"], s["speed"], s["cross_fade"], s["cfg_strength"],
                s["remove_silence"])

    @user_errors
    def transcribe(ref_audio: str | None) -> str:
        """The words spoken in `ref_audio` (Whisper). Returns the transcript text."""
        if not ref_audio:
            raise InputError("No reference voice was given.", "Upload or record a few seconds of speech first.")
        return engine.transcribe(Path(ref_audio))

    @user_errors
    def read_text_file(path: str | None) -> str:
        if not path:
            return gr.skip()
        file = Path(path)
        if file.stat().st_size > MAX_TEXT_FILE_BYTES:
            raise InputError("That text file is too large.", f"Use a file under {MAX_TEXT_FILE_BYTES // 1_000_000} MB.")
        data = file.read_bytes()
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise InputError("That file is not UTF-8 text.", "Save it as plain UTF-8 text and upload it again.") from e

    @user_errors
    def use_example(row: list[str]) -> tuple[tuple[int, np.ndarray], str, str]:
        """An example's voice (as audio data: the examples live inside the f5-tts package), transcript and text."""
        import soundfile as sf

        data, sr = sf.read(row[0], dtype="float32", always_2d=False)
        return (sr, data), row[1], row[2]

    return {
        "synthesize": synthesize,
        "use_example": use_example,
        "synthesize_stream": synthesize_stream,
        "pick_take": user_errors(pick_take),
        "reuse_take": user_errors(reuse_take),
        "transcribe": transcribe,
        "read_text_file": read_text_file,
        "pick_seed": pick_seed,
        "status": lambda: status_markdown(engine),
    }

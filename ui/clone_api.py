"""The "Clone a voice" tab's handlers that need none of its components: the public /synthesize,
/synthesize_variations and /transcribe endpoints, the text file upload and the examples."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import gradio as gr
import numpy as np

from inference import InputError, Studio

from . import history
from .handlers import preparing, spectrogram_image, user_errors
from .options import Form, form_endpoint
from .variations import api_takes

MAX_TEXT_FILE_BYTES = 2_000_000  # a .txt upload larger than this is refused


def example_rows() -> list[list[str]]:
    """One-click examples from the voices f5-tts ships, with their transcripts (empty = transcribed)."""
    ex = files("f5_tts").joinpath("infer/examples")
    return [
        [
            str(ex / "basic/basic_ref_en.wav"),
            "Some call me nature, others call me mother nature.",
            "I don't really care what you call me. I've been a silent spectator, watching species evolve, empires rise "
            "and fall. But always remember, I am mighty and enduring.",
        ],
        [
            str(ex / "basic/basic_ref_zh.wav"),
            "对，这就是我，万人敬仰的太乙真人。",
            "突然，身边一阵笑声。我看着他们，意气风发地挺直了胸膛，甩了甩那稍显肉感的双臂，轻笑道。",
        ],
        [str(ex / "multi/main.flac"), "", "A Town Mouse and a Country Mouse were acquaintances."],
        [str(ex / "multi/town.flac"), "", "My poor dear friend, you live here no better than the ants!"],
        [str(ex / "multi/country.flac"), "", "No, no, I have a very good life here."],
    ]


class CloneHandlers:
    def __init__(self, studio: Studio) -> None:
        self.studio = studio

    @form_endpoint  # ref_audio, ref_text, text, then seed, the options and voice (ui/options.py)
    @user_errors
    def synthesize(
        self,
        form: Form,
        *,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 - Gradio's way to ask for a progress bar
    ) -> tuple[str, np.ndarray | None, int, str]:
        """Speak `text` in the voice of `ref_audio`.

        Args:
        Returns:
            the audio (WAV), a spectrogram picture (PNG), the seed used and the reference transcript used.
        """
        with self.studio.metrics.track("gradio_api"):
            request = form.request(self.studio)
            progress(0.0, desc=preparing(self.studio))
            result = self.studio.synthesize(request, progress=lambda d, t: progress(d / t, desc=f"Chunk {d}/{t}"))
        return (
            history.take_file(result.wave, result.sample_rate, f"take-seed-{result.seed}"),
            spectrogram_image(result.mel),
            result.seed,
            result.ref_text,
        )

    @form_endpoint  # ref_audio, ref_text, text, n, then seed, the options and voice (ui/options.py)
    @user_errors
    def synthesize_variations(
        self,
        form: Form,
        n: int = 3,
        *,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ) -> tuple[list[str], list[dict]]:
        """Speak `text` n times with seeds seed, seed + 1, ... (generated together), to pick the best take.

        Args:
            n: how many takes, 1 to 4.
        Returns:
            the takes as WAV files, best first with the check on (else in seed order); and per take
            {"rank", "seed", "duration", "score" (worst chunk's error rate, with the check), "spoken_text",
            "ref_notes" (what preparing the reference did or found, as /reference_notes), "file",
            "check": {"checked", "worst_wer", "retried", "chunks": [{"chunk", "text", "heard", "wer", "seed",
            "tries", "scores"}], "note"}}.
        """
        return api_takes(self.studio, form.request(self.studio), n, progress)

    @user_errors
    def transcribe(self, ref_audio: str | None) -> str:
        """The words spoken in `ref_audio` (Whisper). Returns the transcript text.

        Args:
            ref_audio: a recording of speech (wav, mp3, flac, ogg, m4a, webm).
        """
        if not ref_audio:
            raise InputError("No reference voice was given.", "Upload or record a few seconds of speech first.")
        return self.studio.transcribe(Path(ref_audio))

    @user_errors
    def read_text_file(self, path: str | None) -> str:
        if not path:
            return gr.skip()
        file = Path(path)
        if file.stat().st_size > MAX_TEXT_FILE_BYTES:
            raise InputError("That text file is too large.", f"Use a file under {MAX_TEXT_FILE_BYTES // 1_000_000} MB.")
        try:
            return file.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise InputError("That file is not UTF-8 text.", "Save it as plain UTF-8 text and upload it again.") from e

    @user_errors
    def use_example(self, row: list[str]) -> tuple[tuple[int, np.ndarray], str, str]:
        """An example's voice (as audio data: the examples live inside the f5-tts package), transcript and text."""
        import soundfile as sf

        data, sr = sf.read(row[0], dtype="float32", always_2d=False)
        return (sr, data), row[1], row[2]

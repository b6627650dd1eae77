"""Variations: the Clone tab's text taken N times (N seeds), side by side, to listen to and keep one; and the public
/synthesize_variations endpoint, which returns the N files with their seeds (and scores, with the check)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr

from inference import MAX_VARIATIONS, Studio, SynthesisRequest, SynthesisResult, check_summary
from inference import variation_score as score

from . import history
from .handlers import check_markdown, preparing, user_errors
from .options import Form


def describe(rank: int, result: SynthesisResult) -> str:
    """'**#1** · seed 42 · 2.1 s · worst error rate 5%' (the rate only with the check)."""
    rate = score(result)
    scored = f" · worst error rate {rate:.0%}" if rate is not None else ""
    return f"**#{rank}** · seed {result.seed} · {result.duration:.1f} s{scored}"


def take_dict(rank: int, result: SynthesisResult, file: str) -> dict[str, Any]:
    """One take as the endpoint reports it."""
    rate = score(result)
    return {
        "rank": rank,
        "seed": result.seed,
        "duration": round(result.duration, 3),
        "score": None if rate is None else round(rate, 3),
        "spoken_text": result.spoken_text,
        "ref_notes": list(result.ref_notes),
        "file": Path(file).name,
        "check": check_summary(result.checks) if result.checks else None,
    }


class VariationsPanel:
    """N players side by side under the Clone tab's result; `keep(k)` makes take k the tab's result."""

    def __init__(self, studio: Studio, form: Callable[[dict], Form]) -> None:
        self.studio, self.form = studio, form
        with gr.Accordion("Variations: the same text with several seeds", open=False, elem_id="variations"):
            with gr.Row():
                self.count = gr.Slider(1, MAX_VARIATIONS, value=3, step=1, label="Takes", elem_id="variations-count")
                self.generate = gr.Button("Generate variations", elem_id="variations-generate")
            with gr.Row():
                self.players, self.infos, self.keeps = [], [], []
                for k in range(MAX_VARIATIONS):
                    with gr.Column(min_width=200):
                        self.players.append(
                            gr.Audio(
                                label=f"Take {k + 1}",
                                type="numpy",
                                interactive=False,
                                elem_id=f"variation-{k}",
                                visible=k < 3,
                            )
                        )
                        self.infos.append(gr.Markdown(elem_id=f"variation-info-{k}"))
                        self.keeps.append(  # one per take: none before the first variations
                            gr.Button("Keep this one", size="sm", elem_id=f"variation-keep-{k}", visible=False)
                        )
        self.results = gr.State(None)  # this visitor's last variations: (request, ranked results, seconds)
        self.api_button = gr.Button(visible=False)  # carries the public /synthesize_variations endpoint
        self.api_files = gr.File(file_count="multiple", visible=False, label="Takes")
        self.api_takes = gr.JSON(visible=False, label="Takes")

    def run(self, data: dict, progress: gr.Progress = gr.Progress()) -> dict:  # noqa: B008
        """The button: the tab's form, N takes, shown ranked."""
        start = time.perf_counter()
        request, results = self._generate(data, progress)
        out: dict = {self.results: (request, results, time.perf_counter() - start)}
        for k in range(MAX_VARIATIONS):
            shown = k < len(results)
            r = results[k] if shown else None
            out[self.players[k]] = gr.update(value=(r.sample_rate, r.wave) if r else None, visible=shown)
            out[self.infos[k]] = describe(k + 1, r) + "\n\n" + check_markdown(r.checks) if r else ""
            out[self.keeps[k]] = gr.update(visible=shown)
        return out

    @user_errors
    def _generate(self, data: dict, progress: gr.Progress) -> tuple[Any, list[SynthesisResult]]:
        request = self.form(data).request(self.studio)
        progress(0.0, desc=preparing(self.studio))
        with self.studio.metrics.track("ui"):
            return request, self.studio.variations(
                request,
                data[self.count],
                progress=lambda d, t: progress(d / t, desc=f"Chunk {d}/{t} over every take"),
            )

    def kept(self, state: Any, k: int) -> tuple[Any, SynthesisResult, float] | None:
        """(request, take k, seconds) from the last variations, or None when there is no take k."""
        if not state or k >= len(state[1]):
            return None
        request, results, elapsed = state
        return request, results[k], elapsed


def api_takes(studio: Studio, request: SynthesisRequest, n: Any, progress: Any) -> tuple[list[str], list[dict]]:
    """The /synthesize_variations endpoint's work: N takes written as WAV files, and what each one is."""
    with studio.metrics.track("gradio_api"):
        progress(0.0, desc=preparing(studio))
        results = studio.variations(request, n, progress=lambda d, t: progress(d / t, desc=f"Chunk {d}/{t}"))
    files = [
        str(history.export_wave(r.wave, r.sample_rate, "wav", f"variation-{k + 1}-seed-{r.seed}"))
        for k, r in enumerate(results)
    ]
    return files, [take_dict(k + 1, r, f) for k, (r, f) in enumerate(zip(results, files, strict=True))]

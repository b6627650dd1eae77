"""The one object that owns the models. UI, REST and serverless are thin adapters over it.

    engine = Engine(EngineSettings.from_env())  # cheap: imports no model code, loads nothing
    engine.preload()                          # optional: load in the background
    result = engine.synthesize(SynthesisRequest(text, engine.reference(audio=path)))

The first call that needs the model loads it, once, under a lock; concurrent callers wait for that load. A failed
load is reported (engine.status().error) and retried by the next call.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Generator
from concurrent.futures import Future
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from .audio import SAMPLE_RATE
from .audio.decode import content_hash, to_wav_bytes
from .audio.postprocess import CrossFader, gain, shorten_silences
from .audio.prepare import PreparedAudio, prepare_reference
from .audio.watermark import marker
from .audit import Done, Witness, unwitnessed
from .cache import BoundedCache
from .cancel import current_stop
from .check import ChunkTakes, whisper_scorer
from .errors import InputError
from .metrics import Metrics
from .model import duration
from .model.asr import Transcriber, Word
from .model.compiled import Compilation, cache_key
from .model.runtime import Generation, Models, as_unavailable, likely_cuda, pick_device, ref_tensor
from .model.sampling import (
    HOP_LENGTH,
    Item,
    SamplingKey,
    ref_text_for_model,
    timed_frames,
)
from .model.transcribers import transcriber_for
from .options import SynthesisOptions, resolve_seed
from .plan import EngineHooks, StreamPlan, check_seconds, sampling_key, timed_pace
from .scheduler import Scheduler, in_background
from .scheduler import cancel as cancel_job
from .settings import EngineSettings
from .text import check_spoken, chunking, clean_text, validate_text
from .text.normalize import normalize as normalize_text
from .text.pronounce import PronunciationStore
from .types import AudioChunk, EngineStatus, Reference, SynthesisRequest, SynthesisResult, Timings
from .voices import Voice, VoiceLibrary

log = logging.getLogger(__name__)

NOT_LOADED, LOADING, READY, FAILED = "not_loaded", "loading", "ready", "failed"
Progress = Callable[[int, int], None]  # (chunks done, chunks total)


class Engine:
    def __init__(
        self, settings: EngineSettings, transcriber: Transcriber | None = None, hooks: EngineHooks | None = None
    ) -> None:
        self.settings = settings
        self.transcriber = transcriber or transcriber_for(settings)
        self.hooks = hooks or EngineHooks()
        self.witness: Witness = unwitnessed  # the audit log's, when the Studio keeps one (audit.py)
        # every output's mark (audio/watermark.py) on the engine's device, or none where the operator says so
        self.mark = marker(settings.watermark, settings.device)
        self._loads = 0  # how many times the models were actually loaded
        self._models: Models | None = None
        self._state = NOT_LOADED
        self._error: str | None = None  # why the last load failed
        self._load_seconds: float | None = None
        self._load_lock = threading.Lock()
        self.compilation: Compilation | None = None  # F5_COMPILE's, started by the load
        self.metrics = Metrics()
        self.metrics.model_state.state(NOT_LOADED)
        # fair turns for every request's chunks, batched where batching pays (auto batch size: set at load)
        self.scheduler: Scheduler[SamplingKey] = Scheduler(
            self._begin, max_batch=max(1, settings.batch_size), observer=self.metrics
        )
        self._refs: BoundedCache[str, PreparedAudio] = BoundedCache(settings.ref_cache_size)
        self._transcripts: BoundedCache[str, str] = BoundedCache(max(64, settings.ref_cache_size))
        # recordings' words with their times, for speech editing (studio/editing.py), by content hash
        self.recording_words: BoundedCache[str, tuple[Word, ...]] = BoundedCache(max(64, settings.ref_cache_size))
        self.voices = VoiceLibrary(settings.voices_dir)
        self.pronunciations = PronunciationStore(settings.voices_dir)

    # ---- model lifetime -------------------------------------------------------------------------------------
    @property
    def load_count(self) -> int:
        """How many times the models were actually loaded (tests check it stays 1)."""
        return self._loads

    def status(self) -> EngineStatus:
        device = self._models.device if self._models else self.settings.device
        compiling = self.compilation.state if self.compilation else "off"
        return EngineStatus(self._state, device, self._error, self._load_seconds, compiling)

    def preload(self) -> threading.Thread:
        """Start loading in a background thread; errors are kept in status(), and retried by the next call."""

        def run() -> None:
            try:
                self.load()
            except Exception:  # already logged and recorded in status()
                pass

        thread = threading.Thread(target=run, name="model-preload", daemon=True)
        thread.start()
        return thread

    def load(self) -> Models:
        """Load model and vocoder once; concurrent callers wait for the one load."""
        if self._models is not None:
            return self._models
        with self._load_lock:
            if self._models is not None:
                return self._models
            self._set_state(LOADING)
            self._error = None
            start = time.perf_counter()
            try:
                self._models = self._load_models()
            except Exception as e:
                error = as_unavailable(e)
                self._error = str(error)
                self._set_state(FAILED)
                log.error("model load failed: %s", error)
                if error is e:
                    raise
                raise error from e
            self._load_seconds = time.perf_counter() - start
            self.metrics.load_seconds.set(self._load_seconds)
            self.scheduler.max_batch = self._batch_size(self._models.device)
            self._loads += 1
            self._set_state(READY)
            log.info("model ready on %s in %.1f s", self._models.device, self._load_seconds)
            return self._models

    def _set_state(self, state: str) -> None:
        self._state = state
        self.metrics.model_state.state(state)

    def _batch_size(self, device: str) -> int:
        """F5_BATCH_SIZE, or auto: 8 on a GPU (batching pays there: launches, not arithmetic, bound a single
        generation); 1 on a CPU, where it only adds padding (measured: no faster)."""
        if self.settings.batch_size:
            return self.settings.batch_size
        return 8 if device.startswith("cuda") else 1

    def concurrency(self) -> int:
        """How many generations the adapters let in at once (F5_CONCURRENCY, or auto), known before the model loads:
        on a GPU twice the batch size, so the next batch is ready while one runs; on a CPU a few, so that requests
        take turns instead of waiting for each other (one chunk at a time runs anyway)."""
        if self.settings.concurrency:
            return self.settings.concurrency
        return 2 * self._batch_size("cuda") if likely_cuda(self.settings.device) else 4

    def _load_models(self) -> Models:
        from .model.loader import load_tts, load_vocoder
        from .model.weights import resolve

        files = resolve(self.settings)
        device, dtype = pick_device(self.settings.device, self.settings.dtype)
        models = Models(load_tts(files, device, dtype, mmap=self.settings.mmap), load_vocoder(files, device), device)
        if self.settings.compile:
            self._compile(models, files.ckpt)
        return models

    def _compile(self, models: Models, ckpt: Path) -> None:
        """F5_COMPILE: compile in the background while the eager model serves (model/compiled.py)."""
        batched = self._batch_size(models.device) > 1
        mode = self.settings.compile_mode
        key = cache_key(models.device, next(models.tts.parameters()).dtype, ckpt, batched, mode)
        on_state = self.metrics.compile_state.state
        self.compilation = Compilation(models, self.settings.compile_folder / key, batched, on_state, mode)
        self.compilation.start()

    # ---- references -----------------------------------------------------------------------------------------
    def prepare(self, audio: Any) -> tuple[str, PreparedAudio]:
        """Decode, clip, trim and normalise a reference; cached by content hash."""
        if audio is None or (isinstance(audio, (bytes, str)) and not audio):
            raise InputError("No reference voice was given.", "Upload or record 5 to 12 seconds of clear speech.")
        key = content_hash(audio)
        prepared = self._refs.get(key)
        if prepared is None:
            max_bytes = self.settings.max_upload_mb * 1024 * 1024
            prepared = prepare_reference(audio, max_seconds=self.settings.max_ref_seconds, max_bytes=max_bytes)
            self._refs.put(key, prepared)
        return key, prepared

    def transcribe(self, audio: Any) -> str:
        """The words spoken in a reference (Whisper, loaded on first use); cached by content hash."""
        key, prepared = self.prepare(audio)
        return self._transcript(key, prepared)

    def _transcript(self, key: str, prepared: PreparedAudio) -> str:
        text = self._transcripts.get(key)
        if text is None:
            text = self.transcriber.transcribe(prepared.wave, prepared.sample_rate).strip()
            if not text:
                raise InputError("No words were recognised in the reference.", "Type its transcript yourself.")
            self._transcripts.put(key, text)
        return text

    # ---- saved voices ---------------------------------------------------------------------------------------
    def save_voice(
        self, name: str, audio: Any, text: str = "", overwrite: bool = False, consent: bytes | None = None
    ) -> Voice:
        """Save a reference (prepared: clipped, trimmed, normalised) with its transcript, typed or transcribed, and
        its owner's consent proof when there is one."""
        key, prepared = self.prepare(audio)
        text = clean_text(text) or self._transcript(key, prepared)
        return self.voices.save(name, to_wav_bytes(prepared.wave, prepared.sample_rate), text, overwrite, consent)

    def reference(self, voice: str | None = None, audio: Any = None, text: str | None = "") -> Reference:
        """The one rule for the voice to clone: a saved voice by name, or a recording (a path or its bytes), not both.
        `text` is what the recording says ('' = transcribe it); for a saved voice, typed text replaces its saved
        transcript. Raises VoiceNotFound (an InputError) for an unknown name, InputError when both or neither are
        given."""
        if isinstance(voice, str):
            voice = voice.strip() or None
        has_audio = audio is not None and not (isinstance(audio, (str, bytes)) and not audio)
        typed = clean_text(text)  # a transcript of only control characters counts as none
        if voice is not None and has_audio:
            raise InputError(
                "Both a saved voice and a recording were given.",
                "Use one of them: a saved voice, or a recording (with its transcript).",
            )
        if voice is not None:
            if not isinstance(voice, str):
                raise InputError(
                    f"A voice name must be text, not {type(voice).__name__}.", "Send a saved voice's name."
                )
            saved = self.voices.get(voice)
            return Reference(saved.audio, typed or saved.text, saved.name)
        if has_audio:
            return Reference(Path(audio) if isinstance(audio, str) else audio, typed)
        raise InputError(
            "No reference voice was given.", "Upload or record 5 to 12 seconds of clear speech, or pick a saved voice."
        )

    # ---- synthesis ------------------------------------------------------------------------------------------
    def spoken_text(self, text: str, normalize: bool = True, voice: str | None = None) -> str:
        """The one text pipeline, as a generation runs it before chunking: cleaned and checked, normalized (numbers,
        dates... as words) unless `normalize` is off, then the pronunciations applied (global, then `voice`'s)."""
        return self._spoken(validate_text(text, self.settings.max_text_chars), normalize, voice)

    def _spoken(self, typed: str, normalize: bool, voice: str | None) -> str:
        """spoken_text for a text already cleaned and checked (a stream checks it once, first)."""
        spoken = normalize_text(typed) if normalize else typed
        spoken = self.pronunciations.for_voice(voice).apply(spoken)
        return check_spoken(spoken, len(typed), self.settings.max_spoken_chars)

    def synthesize(self, request: SynthesisRequest, progress: Progress | None = None) -> SynthesisResult:
        """Generate the whole text; the result carries the seed and transcript used and the timings."""
        return SynthesisResult.from_chunks(list(self.stream(request, progress)))

    def stream(self, request: SynthesisRequest, progress: Progress | None = None) -> Generator[AudioChunk, None, None]:
        """Yield each chunk's audio as soon as it is generated; joined, they equal `synthesize`'s wave. Closing the
        generator cancels what has not started.

        Input errors are raised before the first chunk. When the text needs several chunks, the first one is
        kept short (settings.first_chunk_bytes) so that the first audio comes sooner.
        """
        done = self.witness(request)  # the audit log's: who asks and for which voice, read now, in the caller's thread
        return self._chunks(self._plan(request), progress, done)

    def _plan(self, request: SynthesisRequest) -> StreamPlan:
        """Check and prepare everything before anything is generated: the reference, its transcript, the text as
        spoken and its chunks, each chunk's length, the seed."""
        text = validate_text(request.text, self.settings.max_text_chars)
        t0 = time.perf_counter()
        ref = request.reference
        key, prepared = self.prepare(ref.audio)
        t1 = time.perf_counter()
        models = self.load()
        t2 = time.perf_counter()
        ref_text = clean_text(ref.text) or self._transcript(key, prepared)
        t3 = time.perf_counter()
        opts = request.options
        model_ref_text = ref_text_for_model(ref_text)
        typed, text = text, self._spoken(text, opts.normalize, ref.voice or None)
        speed = opts.speed if request.duration is None else timed_pace(model_ref_text, prepared, text, request.duration)
        limit = chunking.max_chunk_bytes(model_ref_text, prepared.seconds, speed)
        first = min(limit, self.settings.first_chunk_bytes) if chunking.nbytes(text) > limit else None
        chunks = chunking.chunk_text(text, limit, first_max_bytes=first)
        ref_wave, rms = ref_tensor(prepared, models.device)
        if request.duration is None:
            frames = [
                duration.frames(ref_wave.shape[-1], model_ref_text, c, opts.speed, opts.min_duration) for c in chunks
            ]
        else:  # the speech lasts the duration asked for, shared by the chunks
            frames = timed_frames(ref_wave.shape[-1], chunks, request.duration, int(opts.cross_fade * SAMPLE_RATE))
        check_seconds(request, frames, ref_wave.shape[-1] // HOP_LENGTH, len(text), self.settings.max_audio_seconds)
        return StreamPlan(
            models=models,
            ref_wave=ref_wave,
            rms=rms,
            model_ref_text=model_ref_text,
            ref_text=ref_text,
            typed=typed,
            spoken=text,
            notes=prepared.notes,
            chunks=tuple(chunks),
            frames=tuple(frames),
            seed=resolve_seed(opts.seed),
            options=opts,
            timings=Timings(load_s=t2 - t1, prepare_s=(t1 - t0) + (t3 - t2)),
            stop=current_stop(),
        )

    def _chunks(self, plan: StreamPlan, progress: Progress | None, done: Done) -> Generator[AudioChunk, None, None]:
        owner, key, chunks = self.scheduler.open(), plan.key, plan.chunks
        started = time.perf_counter()

        def submit(jobs: list[tuple[int, int]]) -> list[Future]:  # (chunk index, seed), queued together
            items = [
                (i, key, (Item(plan.ref_wave, plan.model_ref_text + chunks[i], plan.frames[i], seed), plan.rms))
                for i, seed in jobs
            ]
            return self.scheduler.submit_many(owner, items)

        # The first chunk goes alone (first audio sooner, and it takes its turn before every later chunk); the
        # rest are queued together, taking turns with other requests' chunks and sharing runs where batching pays.
        # With the check on, each chunk is scored as it comes and retried (check.py). Closing the stream
        # cancels whatever has not started.
        scorer = self.hooks.check_scorer or whisper_scorer(self.transcriber)
        takes = ChunkTakes(submit, chunks, plan.options, plan.seed, scorer)
        if plan.stop is not None:  # the caller went away (inference/cancel.py): cancel from its thread
            plan.stop.on_cancel(takes.cancel)
        takes.start([0])
        seconds = generate_s = 0.0
        background = in_background()  # decided once: a generator may be closed from elsewhere
        self.metrics.count_generation(+1, background)
        fader = CrossFader(int(plan.options.cross_fade * SAMPLE_RATE))
        try:
            for i in range(len(chunks)):
                g0 = time.perf_counter()
                wave, mel, check = takes.result(i)
                generate_s += time.perf_counter() - g0
                if i == 0:
                    takes.start(range(1, len(chunks)))
                    self.metrics.first_audio.observe(time.perf_counter() - started)
                if plan.options.remove_silence:
                    wave = shorten_silences(wave, SAMPLE_RATE)
                last = i == len(chunks) - 1
                out = self.mark(gain(fader.add(wave, last), plan.options.volume_db), SAMPLE_RATE)  # each piece marked
                if progress:
                    progress(i + 1, len(chunks))
                seconds += len(out) / SAMPLE_RATE
                if last:
                    self.metrics.rtf.observe((time.perf_counter() - started) / max(seconds, 1e-3))
                yield plan.piece(i, out, mel, check, replace(plan.timings, generate_s=generate_s) if last else None)
        finally:
            self.metrics.count_generation(-1, background)
            takes.cancel()
            done(seconds)  # the audit log's line: the seconds delivered

    def sample(self, item: Item, rms: float, opts: SynthesisOptions, kind: str) -> tuple[np.ndarray, np.ndarray]:
        """One item as a request of its own, through the scheduler, batched only with items of the same `kind` and
        settings; returns its (wave, mel). Studio operations that build their own conditioning (speech editing)
        generate with it. It takes its turn as a later chunk does: such an item can be several chunks' worth of
        work, so every newcomer's first chunk goes before it (between two of its steps)."""
        future = self.scheduler.submit(self.scheduler.open(), 1, sampling_key(opts, kind), (item, rms))
        stop = current_stop()
        if stop is not None:
            stop.on_cancel(lambda: cancel_job(future))
        background = in_background()  # decided once: a generator may be closed from elsewhere
        self.metrics.count_generation(+1, background)
        try:
            return future.result()
        finally:
            self.metrics.count_generation(-1, background)
            cancel_job(future)

    @property
    def active(self) -> int:
        """Live generations in progress (streams started and not finished or closed); background work such as a
        project's segments is not counted (it gives way to them)."""
        return self.metrics.live_generations

    def _begin(self, key: SamplingKey, jobs: list[tuple[Item, float]]) -> Generation:
        """A sampling run for several chunks (the scheduler's worker thread calls this, then steps the run)."""
        return Generation(self.load(), key, jobs, self.hooks.fault)

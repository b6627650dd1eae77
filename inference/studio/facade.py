"""The studio's one contract: every operation an adapter offers (UI, REST, serverless) is one method here.

    studio = Studio(Engine(EngineSettings.from_env()))   # cheap: loads nothing
    request = studio.request("Hello there.", voice="alice", options={"nfe_step": 16})
    result = studio.synthesize(request)

Adapters import only what `inference` exports and call these methods; they never reach past them. The rules every
operation shares live here once: which seed a generation uses (`seed`) and which voice it clones (`reference`: a
saved voice or a recording, not both). The operations themselves live in the modules beside this one, each a
function over the engine; a new operation is one such function and one method here.
"""

# long: the one surface of every operation, each a few lines delegating to the module that does it

from __future__ import annotations

import threading
from collections.abc import Callable, Generator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..audio import watermark
from ..audio.decode import content_hash, decode_audio
from ..audit import AuditLog, doing, enabled
from ..check import whisper_scorer
from ..consent import Consents, Proof, consent_needed
from ..engine import Engine, EngineStatus, Progress
from ..errors import InputError
from ..metrics import Metrics
from ..options import SynthesisOptions, resolve_seed
from ..projects.export import Export
from ..projects.remote import Endpoint
from ..projects.render import Projects, ProjectStatus
from ..projects.schema import SegmentRow, Take
from ..projects.store import DB_NAME
from ..settings import EngineSettings
from ..text.pronounce import Dictionary, Entry, PronunciationStore
from ..types import AudioChunk, Reference, SynthesisRequest, SynthesisResult
from ..voices import Voice, VoiceLibrary
from . import captions as cap
from . import dialogue as dlg
from . import dubbing, editing, variations


class Studio:
    """Every studio operation over one Engine (which alone owns the models)."""

    def __init__(self, engine: Engine, render_endpoint: Callable[[], Endpoint] | None = None) -> None:
        self.engine = engine
        self.render_endpoint = render_endpoint  # projects render on this RunPod endpoint (F5_RENDER_ENDPOINT)
        self._projects: Projects | None = None  # the project store and its renderer, opened on first use
        self._projects_lock = threading.Lock()  # one Projects per studio, however many threads ask for it first
        self.audit: AuditLog | None = None  # who made what (start_audit)

    @classmethod
    def from_settings(cls, settings: EngineSettings) -> Studio:
        return cls(Engine(settings))

    # ---- what the adapters read -----------------------------------------------------------------------------------
    @property
    def settings(self) -> EngineSettings:
        return self.engine.settings

    @property
    def metrics(self) -> Metrics:
        return self.engine.metrics

    @property
    def voices(self) -> VoiceLibrary:
        """The saved voices (names, get, rename, delete); `save_voice` saves one from a recording."""
        return self.engine.voices

    @property
    def pronunciations(self) -> PronunciationStore:
        """The pronunciation dictionaries: global, and one per saved voice."""
        return self.engine.pronunciations

    @property
    def active(self) -> int:
        """Generations in progress."""
        return self.engine.active

    def status(self) -> EngineStatus:
        return self.engine.status()

    def preload(self) -> Any:
        """Start loading the model in the background (a thread)."""
        return self.engine.preload()

    def concurrency(self) -> int:
        """How many generations the adapters let in at once."""
        return self.engine.concurrency()

    def start_audit(self, login: bool, name: str) -> Path | None:
        """Keep the audit log (inference/audit.py) when F5_AUDIT asks for it (auto: when a `login` is set), in
        `<name>.jsonl`; returns its path, or None when no log is kept."""
        if self.audit is None and enabled(self.settings, login):
            self.audit = AuditLog.from_settings(self.settings, name)
            self.engine.witness = self.audit.witness
        return self.audit.path if self.audit else None

    # ---- the rules every operation shares ---------------------------------------------------------------------------
    @staticmethod
    def seed(value: Any = None, randomize: bool = False) -> int:
        """The seed a generation uses: `value` as an interface received it (None, -1 or '' = pick one), or a fresh one
        when `randomize` is on. Anything unusable (NaN, 7.5, out of range) is refused with the valid range."""
        return resolve_seed(None if randomize else SynthesisOptions.from_loose({"seed": value}).seed)

    def reference(self, voice: str | None = None, audio: Any = None, text: str | None = "") -> Reference:
        """The voice to clone: a saved voice by name, or a recording (a path or its bytes), not both; see
        Engine.reference. With consent required, a recording needs its owner's consent (`give_consent`)."""
        reference = self.engine.reference(voice=voice, audio=audio, text=text)
        if not reference.voice and self.settings.require_consent:
            self.require_consent(reference.audio)
        return reference

    def request(
        self,
        text: str,
        *,
        voice: str | None = None,
        audio: Any = None,
        ref_text: str | None = "",
        options: SynthesisOptions | Mapping[str, Any] | None = None,
        duration: float | None = None,
        max_seconds: float | None = None,
        limit_hint: str = "",
    ) -> SynthesisRequest:
        """A synthesis request from what an interface received: the voice (saved or recorded), the text and the
        options (a mapping is parsed leniently, naming what is wrong)."""
        if not isinstance(options, SynthesisOptions):
            options = SynthesisOptions.from_loose(options or {})
        reference = self.reference(voice=voice, audio=audio, text=ref_text)
        return SynthesisRequest(text, reference, options, duration, max_seconds, limit_hint)

    # ---- text ---------------------------------------------------------------------------------------------------
    def spoken_text(self, text: str, normalize: bool = True, voice: str | None = None) -> str:
        """The text as the model will speak it: normalized, pronunciations applied (the preview)."""
        return self.engine.spoken_text(text, normalize, voice)

    def transcribe(self, audio: Any) -> str:
        """The words spoken in a reference."""
        return self.engine.transcribe(audio)

    # ---- voices -------------------------------------------------------------------------------------------------
    def save_voice(
        self, name: str, audio: Any, text: str = "", overwrite: bool = False, consent: tuple[Any, str] | None = None
    ) -> Voice:
        """Save a recording as a voice. With consent required: its owner's consent, given before (`give_consent`)
        or now (`consent`: the recording of the owner reading the phrase, and the phrase's token); the proof is
        kept beside the voice."""
        proof = self.require_consent(audio, consent)
        return self.engine.save_voice(name, audio, text, overwrite, proof.to_json() if proof else None)

    # ---- generation ---------------------------------------------------------------------------------------------
    def synthesize(self, request: SynthesisRequest, progress: Progress | None = None) -> SynthesisResult:
        return self.engine.synthesize(request, progress)

    def stream(self, request: SynthesisRequest, progress: Progress | None = None) -> Generator[AudioChunk, None, None]:
        """Each chunk as soon as it is generated; closing the stream cancels what has not started."""
        return self.engine.stream(request, progress)

    def captions(self, chunks: Sequence[AudioChunk], cross_fade: float, level: str = "sentence") -> cap.Captions:
        """A take's captions, per sentence or (Whisper listening) per word."""
        return cap.captions_for(self.engine, chunks, cross_fade, level)

    def synthesize_with_captions(
        self, request: SynthesisRequest, level: str = "sentence", progress: Progress | None = None
    ) -> tuple[SynthesisResult, cap.Captions]:
        return cap.synthesize_with_captions(self.engine, request, level, progress)

    def variations(
        self, request: SynthesisRequest, n: object, progress: Progress | None = None
    ) -> list[SynthesisResult]:
        """n takes with seeds base, base + 1, ..., best first."""
        with doing("variations"):
            return variations.synthesize_variations(self.engine, request, n, progress)

    def dialogue(
        self,
        script: str,
        mapping: Any = None,
        uploads: Mapping[str, Reference] | None = None,
        pause_s: float = dlg.DEFAULT_PAUSE_S,
        options: SynthesisOptions | None = None,
        progress: Progress | None = None,
    ) -> dlg.DialogueResult:
        """A script of tagged turns spoken by several voices, as one wave."""
        with doing("dialogue"):
            return dlg.synthesize_script(self.engine, script, mapping, uploads, pause_s, options, progress)

    def dub(
        self,
        subtitles: str,
        voice: str | None = None,
        reference: Reference | None = None,
        mapping: Any = None,
        options: SynthesisOptions | None = None,
        max_speedup: float = dubbing.DEFAULT_MAX_SPEEDUP,
        progress: Progress | None = None,
        max_track: tuple[float, str] | None = None,
    ) -> dubbing.DubResult:
        """Every cue of an SRT or WebVTT file spoken in its slot, on one track."""
        with doing("dub"):
            return dubbing.dub(
                self.engine, subtitles, voice, reference, mapping, options, max_speedup, progress, max_track
            )

    def edit(self, request: editing.EditRequest, progress: Callable[[str], None] | None = None) -> editing.EditResult:
        """A recording with some of its words changed, regenerating only what changes (its voice is cloned: with
        consent required, the recording needs its owner's consent)."""
        if self.settings.require_consent:
            self.require_consent(request.audio)
        with doing("edit"):  # an edit samples without a stream: its line is written here
            done = self.engine.witness(SynthesisRequest(request.new_text, Reference(request.audio)))
            result = editing.edit_recording(self.engine, request, progress)
        done(result.duration)
        return result

    def transcribe_recording(self, audio: Any) -> str:
        """What a recording to edit says (its word times are kept for the edit that follows)."""
        return editing.transcribe_recording(self.engine, audio)

    def reference_notes(self, audio: Any) -> tuple[str, ...]:
        """What preparing a recording as a reference did or found (clipped, trimmed, too short, quiet, noisy)."""
        return tuple(self.engine.prepare(audio)[1].notes)

    # ---- provenance ---------------------------------------------------------------------------------------------
    def detect(self, audio: Any) -> watermark.Detection:
        """Whether a clip (a path or its bytes; any format, rate or channel count) carries the studio's mark, and
        with what confidence. Decoded as every upload is, under the same size limit; a longer clip is checked over
        its first watermark.MAX_DETECT_S seconds (`seconds` says how much was checked)."""
        max_bytes = self.settings.max_upload_mb * 1024 * 1024
        wave, sr = decode_audio(audio, max_bytes=max_bytes, max_seconds=watermark.MAX_DETECT_S)
        return watermark.detect(wave, sr)

    # ---- consent (F5_REQUIRE_CONSENT: inference/consent.py) ---------------------------------------------------------
    @property
    def consents(self) -> Consents:
        """Phrases, tokens and proofs, kept in the voices folder (shared by every worker on the volume)."""
        return Consents(self.settings.voices_dir)

    def consent_phrase(self) -> tuple[str, str]:
        """(token, phrase): a phrase made up now for the owner of a voice to read, good for ten minutes."""
        return self.consents.issue()

    def give_consent(self, reference_audio: Any, recording: Any, token: str) -> Proof:
        """The owner's consent to clone the voice of `reference_audio`: `recording` says the token's phrase (speech
        recognition) in that voice (speaker similarity). Returns the proof, kept by the reference's content hash,
        so that the reference is usable (and savable) from then on; InputError saying what to do otherwise."""
        from ..model.speaker import similarity

        key, reference = self.engine.prepare(reference_audio)
        _, spoken = self.engine.prepare(recording)
        return self.consents.check(
            (reference.wave, reference.sample_rate),
            (spoken.wave, spoken.sample_rate),
            token,
            whisper_scorer(self.engine.transcriber),
            similarity,
            key,
        )

    def require_consent(self, audio: Any, consent: tuple[Any, str] | None = None) -> Proof | None:
        """The one enforcement: with F5_REQUIRE_CONSENT on, the proof kept for this recording (or given now with
        `consent`: recording, token), else the refusal with the steps to give consent. Off: the proof if one was
        kept, else None."""
        if audio is None or (isinstance(audio, (str, bytes)) and not audio):
            return None  # nothing to clone: the engine says what is missing
        try:
            key = content_hash(audio)
        except InputError:
            return None  # no such file: the engine says so
        proof = self.consents.proof(key)
        if proof is None and consent is not None and consent[0] is not None and consent[1]:
            proof = self.give_consent(audio, consent[0], consent[1])
        if proof is None and self.settings.require_consent:
            raise consent_needed()
        return proof

    # ---- long-form projects (inference/projects/: source, store, render, export) ---------------------------------
    def _fix_in_place(
        self, audio: Path, typed: str, new_typed: str, request: SynthesisRequest
    ) -> tuple[np.ndarray, int, str, list[dict[str, Any]]]:
        """The speech-editing path as a project's fixes in place take it (inference/projects/fix.py): both texts as
        the voice speaks them (normalized, its pronunciations applied), as its renders did."""
        options, voice = request.options, request.reference.voice or None
        old, new = (self.engine.spoken_text(t, options.normalize, voice) for t in (typed, new_typed))
        result = editing.edit_recording(self.engine, editing.EditRequest(audio, new, old, (), options))
        return result.wave, result.seed, result.new_text, result.table()

    def start_projects(self, folder: Path | None = None) -> Projects:
        """Open the project store (settings.projects_folder, or `folder`) and start rendering its pending segments
        in the background (once; the model loads when the first segment renders). The server calls it at start."""
        with self._projects_lock:
            if self._projects is None:
                folder = folder or self.settings.projects_folder
                self._projects = Projects(self.engine, folder, self.render_endpoint, self._fix_in_place)
            return self._projects.start()

    def resume_projects(self) -> None:
        """At the server's start: resume rendering when a project store is there (after a restart); otherwise the
        first project operation opens one. Creates nothing."""
        if self._has_projects():
            self.start_projects()

    def _has_projects(self) -> bool:
        return self._projects is not None or (Path(self.settings.projects_folder) / DB_NAME).is_file()

    @property
    def _project_service(self) -> Projects:
        return self._projects if self._projects is not None else self.start_projects()

    def create_project(
        self,
        name: str,
        text: str | tuple[str, bytes],
        voice: str,
        voices: Mapping[str, str] | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> int:
        """A project from pasted text or an upload (file name, bytes: .txt, .md, .epub), narrated by `voice`, each
        dialogue tag spoken by its voice in `voices`; returns its id. It starts rendering."""
        return self._project_service.create(name, text, voice, voices, options)

    def projects(self) -> list[ProjectStatus]:
        return self._project_service.all()

    def project(self, project_id: int) -> ProjectStatus:
        """Its status (rendering, paused, cancelled, done, failed, stale, read-only) and progress."""
        return self._project_service.status(project_id)

    def segments(self, project_id: int, offset: int = 0, limit: int = 100) -> list[SegmentRow]:
        self._project_service.store.project(project_id)
        return self._project_service.store.segments(project_id, None, offset, limit)

    def segment(self, project_id: int, segment_id: int) -> SegmentRow:
        return self._project_service.segment_of(project_id, segment_id)

    def segment_audio(self, project_id: int, segment_id: int) -> Path:
        return self._project_service.segment_audio(project_id, segment_id)

    def edit_segment(
        self, project_id: int, segment_id: int, text: str | None = None, voice: str | None = None,
        seed: int | None = None, whole: bool = False,
    ) -> SegmentRow:  # fmt: skip
        """Change one segment's text, voice or seed: it alone renders again. A change of a few words in a long
        segment regenerates only those words in its kept take, unless `whole` (inference/projects/fix.py)."""
        return self._project_service.edit(project_id, segment_id, text, voice, seed, whole)

    def takes(self, project_id: int, segment_id: int) -> list[Take]:
        self._project_service.segment_of(project_id, segment_id)
        return self._project_service.store.takes(segment_id)

    def keep(self, project_id: int, segment_id: int, take_id: int) -> SegmentRow:
        """Make one of a segment's takes the one it plays."""
        if take_id not in {t.id for t in self.takes(project_id, segment_id)}:
            raise InputError(f"Segment {segment_id} has no take {take_id}.", "List its takes to see their ids.")
        return self._project_service.store.keep(take_id)

    def lock(self, project_id: int, segment_id: int, locked: bool = True) -> SegmentRow:
        self._project_service.segment_of(project_id, segment_id)
        return self._project_service.store.lock(segment_id, locked)

    def review(self, project_id: int, limit: int = 100) -> list[SegmentRow]:
        """The project's segments to listen to again, worst first (failed, then flagged by their checks)."""
        return self._project_service.store.review(project_id, limit)

    def pause(self, project_id: int) -> None:
        self._project_service.pause(project_id)

    def resume(self, project_id: int) -> None:
        self._project_service.resume(project_id)

    def cancel(self, project_id: int) -> None:
        self._project_service.cancel(project_id)

    def delete_project(self, project_id: int) -> None:
        self._project_service.delete(project_id)

    def mark_stale(self, word: str, case_sensitive: bool = False) -> int:
        """A pronunciation of `word` changed: the rendered segments that say it become stale; returns how many (no
        store is made for it where there is none)."""
        return self._project_service.mark_stale(word, case_sensitive) if self._has_projects() else 0

    def rerender_stale(self, project_id: int) -> int:
        return self._project_service.rerender_stale(project_id)

    def set_pronunciation(self, entry: Entry, voice: str | None = None) -> Dictionary:
        """Add or change a pronunciation (global, or `voice`'s) and mark the segments that say the word stale."""
        words = self.pronunciations.set(entry, voice)
        self.mark_stale(entry.word, entry.case_sensitive)
        return words

    def delete_pronunciation(self, word: str, voice: str | None = None) -> Dictionary:
        words = self.pronunciations.delete(word, voice)
        self.mark_stale(word)
        return words

    def export(self, project_id: int, fmt: str, chapter: int | None = None) -> Export:
        """The project (or chapter `chapter`, from 1) as m4b, mp3, wav, flac, srt, vtt or zip, streamed."""
        return self._project_service.export(project_id, fmt, chapter)

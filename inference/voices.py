"""The voice library: saved voices in VOICES_DIR, one `<name>.<audio ext>` plus `<name>.txt` (its transcript) each.

Users may copy voices in by hand in the same layout. The rules (docs/DESIGN.md, "The voice library"):
- a name is letters, digits, spaces, - and _, at most MAX_NAME characters and MAX_NAME_BYTES bytes, so that every
  file named after it fits the file system's 255-byte limit; a longer one is refused, never cut short;
- names are one voice whatever their case: "alice" finds "Alice", and the saved spelling is what lists show;
- saves write temporaries and rename them into place; a rename moves the audio, the transcript and the voice's
  pronunciations as one step, undone on any failure; temporaries left by a killed process are removed at start;
- a transcript is read as UTF-8 (with or without a BOM), else as Windows-1252, else Latin-1: a file saved by a
  Windows editor is read, never a reason to fail.
"""

from __future__ import annotations

import codecs
import contextlib
import errno
import logging
import os
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError, reason
from .names import VOICE_SUFFIX, sanitize_name, shown

log = logging.getLogger(__name__)

PROOF_SUFFIX = ".consent.json"  # the owner's consent beside a voice (inference/consent.py), moved and deleted with it
AUDIO_EXTS = (".wav", ".flac", ".mp3", ".ogg", ".m4a", ".webm", ".opus")
STALE_TEMP_S = 60  # seconds: a save's temporary older than this at start was left by a killed process
NAMES_SHOWN = 10  # saved voices an error names at most (the voice list has them all)
_READ_ONLY = (errno.EACCES, errno.EPERM, errno.EROFS)


@dataclass(frozen=True)
class Voice:
    name: str
    audio: Path
    text: str  # '' when no transcript was saved (it is transcribed on first use)


class VoiceNotFound(InputError):
    """No saved voice has that name (REST maps it to 404)."""


def decode_transcript(data: bytes) -> tuple[str, str]:
    """(text, encoding): UTF-8 (a BOM is dropped), else Windows-1252, else Latin-1 (which reads any bytes).
    b'caf\\xc3\\xa9' -> ('café', 'utf-8'); b'caf\\xe9' -> ('café', 'cp1252'); b'\\x81' -> ('\\x81', 'latin-1')."""
    if data.startswith(codecs.BOM_UTF8):
        data, encodings = data[len(codecs.BOM_UTF8) :], ("utf-8-sig", "cp1252", "latin-1")
    else:
        encodings = ("utf-8", "cp1252", "latin-1")
    for encoding in encodings:
        try:
            return data.decode("utf-8" if encoding == "utf-8-sig" else encoding), encoding
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes any bytes")  # pragma: no cover


def folder_error(e: OSError, action: str) -> InputError:
    """An OSError from the voices folder as a sentence for users: what happened and what to do, never a path."""
    if e.errno in _READ_ONLY:
        return InputError(
            f"The voices folder is read-only; the voice could not be {action}.",
            "Ask whoever runs the studio to make VOICES_DIR writable (on a pod or in a container: mount the volume "
            "read-write). Nothing was changed.",
        )
    return InputError(
        f"The voice could not be {action} ({reason(e)}).",
        "Check that the voices folder has free space and try again; nothing was changed.",
    )


class VoiceLibrary:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._lock = threading.Lock()
        self._reported: set[Path] = set()  # transcripts already logged as re-read in another encoding
        self.remove_stale_temporaries()

    def remove_stale_temporaries(self, older_than_s: float = STALE_TEMP_S) -> int:
        """Delete the `.tmp-*.part` files a killed save left behind (older than `older_than_s`); returns how many."""
        removed, cutoff = 0, time.time() - older_than_s
        try:
            for tmp in self.root.glob(".tmp-*.part"):
                if tmp.is_file() and tmp.stat().st_mtime < cutoff:
                    tmp.unlink(missing_ok=True)
                    removed += 1
        except OSError as e:
            log.warning("voices: stale temporaries in %s could not be removed (%s)", self.root, e)
        if removed:
            log.info("voices: removed %d temporary file(s) left by an interrupted save in %s", removed, self.root)
        return removed

    def _audio_files(self) -> dict[str, Path]:
        """casefolded name -> audio file, one per name (the first in sorted order); stray and hidden files ignored."""
        found: dict[str, Path] = {}
        try:
            paths = sorted(self.root.iterdir())
        except (FileNotFoundError, NotADirectoryError):
            return {}
        except OSError as e:  # e.g. a folder the server may not read: no voices, said once in the log
            if self.root not in self._reported:
                self._reported.add(self.root)
                log.warning("voices: the folder %s cannot be read (%s); no saved voices are listed", self.root, e)
            return {}
        for path in paths:
            if path.suffix.lower() not in AUDIO_EXTS or path.name.startswith(".") or not path.is_file():
                continue
            try:
                if sanitize_name(path.stem) != path.stem:
                    continue
            except InputError:
                continue
            found.setdefault(path.stem.casefold(), path)
        return found

    def all(self) -> list[Voice]:
        """Every voice in the folder, by name (hidden files, temporaries and stray names ignored)."""
        files = self._audio_files()
        return [self._voice(files[k]) for k in sorted(files)]

    def names(self) -> list[str]:
        return [v.name for v in self.all()]

    def _find(self, safe: str) -> Path | None:
        """The audio file of the voice called `safe` in any case (its exact spelling first)."""
        for ext in AUDIO_EXTS:
            path = self.root / f"{safe}{ext}"
            if path.is_file():
                return path
        return self._audio_files().get(safe.casefold())

    def get(self, name: str) -> Voice:
        audio = self._find(sanitize_name(name))
        if audio is None:
            raise VoiceNotFound(
                f"There is no saved voice called {shown(name)}.", f"Saved voices: {self._some_names()}."
            )
        return self._voice(audio)

    def _some_names(self) -> str:
        """'alice, bob' / 'none yet' / the first NAMES_SHOWN, 'and 40 more (the voice list shows them all)'."""
        names = self.names()
        if len(names) <= NAMES_SHOWN:
            return ", ".join(names) or "none yet"
        more = len(names) - NAMES_SHOWN
        return f"{', '.join(names[:NAMES_SHOWN])} and {more} more (the voice list shows them all)"

    def _voice(self, audio: Path) -> Voice:
        return Voice(audio.stem, audio, self._transcript(audio.with_suffix(".txt")))

    def _transcript(self, path: Path) -> str:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return ""
        except OSError as e:
            if path not in self._reported:
                self._reported.add(path)
                log.warning("voices: transcript %s cannot be read (%s); it will be transcribed instead", path, e)
            return ""
        text, encoding = decode_transcript(data)
        if encoding != "utf-8" and path not in self._reported:
            self._reported.add(path)
            log.warning("voices: transcript %s is not plain UTF-8; read it as %s", path, encoding)
        return text.strip()

    # long: one atomic save: its files written to temporaries, renamed into place, all cleaned up on any failure
    def save(
        self, name: str, wav_bytes: bytes, text: str, overwrite: bool = False, consent: bytes | None = None
    ) -> Voice:
        """Store a voice atomically: its files are written to temporaries, then renamed into place. A name that
        exists in another case is the same voice: refused, or with `overwrite` replaced under its saved spelling.
        `consent`: the owner's proof, kept beside it (`<name>.consent.json`); a voice replaced without one loses
        the old one's."""
        safe = sanitize_name(name)
        with self._lock:
            try:
                self.root.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                if e.errno in _READ_ONLY:
                    raise folder_error(e, "saved") from e
                log.warning("the voices folder %s cannot be created: %s", self.root, e)  # the path: for the log only
                raise InputError(
                    f"The voices folder cannot be created ({reason(e)}).",
                    "Check that the volume is mounted and writable (VOICES_DIR; the server log names the folder).",
                ) from e
            same = self._find(safe)
            if same is not None and not overwrite:
                raise InputError(
                    f"A voice called {same.stem!r} already exists.", "Pick another name or delete it first."
                )
            safe = same.stem if same is not None else safe
            existing = [self.root / f"{safe}{ext}" for ext in AUDIO_EXTS if (self.root / f"{safe}{ext}").exists()]
            audio, transcript = self.root / f"{safe}.wav", self.root / f"{safe}.txt"
            proof = self.root / f"{safe}{PROOF_SUFFIX}"
            tmp_audio = tmp_text = tmp_proof = None
            try:
                tmp_audio = self._write_temp(wav_bytes)
                tmp_text = self._write_temp(text.strip().encode("utf-8"))
                if consent is not None:
                    tmp_proof = self._write_temp(consent)
                    os.replace(tmp_proof, proof)
                else:
                    proof.unlink(missing_ok=True)  # a replaced voice's proof is not this recording's
                os.replace(tmp_text, transcript)
                os.replace(tmp_audio, audio)
                for old in existing:
                    if old != audio:
                        old.unlink(missing_ok=True)
            except OSError as e:
                with contextlib.suppress(OSError):  # the cleanup may fail for the same reason
                    for tmp in (tmp_audio, tmp_text, tmp_proof):
                        if tmp:
                            Path(tmp).unlink(missing_ok=True)
                    if not audio.exists():
                        transcript.unlink(missing_ok=True)
                        proof.unlink(missing_ok=True)
                raise folder_error(e, "saved") from e
        return Voice(safe, audio, text.strip())

    def _write_temp(self, data: bytes) -> str:
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".tmp-", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
        except OSError:
            Path(tmp).unlink(missing_ok=True)
            raise
        return tmp

    def rename(self, old: str, new: str) -> Voice:
        """Rename a voice's files (transcript, pronunciations, consent proof, then audio) as one step: any failure
        puts back the ones already moved. Changing only the case of a name is a rename too."""
        safe = sanitize_name(new)
        with self._lock:
            voice = self.get(old)
            if safe == voice.name:
                return voice
            clash = self._find(safe)
            if clash is not None and clash != voice.audio:
                raise InputError(f"A voice called {clash.stem!r} already exists.", "Pick another name.")
            kept = (".txt", VOICE_SUFFIX, PROOF_SUFFIX)
            moves = [(self.root / f"{voice.name}{s}", self.root / f"{safe}{s}") for s in kept]
            moves = [(src, dst) for src, dst in moves if src.exists()] + [
                (voice.audio, self.root / f"{safe}{voice.audio.suffix}")
            ]
            for src, dst in moves:
                if dst.exists() and not os.path.samefile(src, dst):  # a stray file would be overwritten
                    raise InputError(
                        f"The voices folder already has a file called {dst.name!r}.",
                        "Pick another name, or move that file away first.",
                    )
            self._move_all(moves)
        return Voice(safe, moves[-1][1], voice.text)

    def _move_all(self, moves: list[tuple[Path, Path]]) -> None:
        done: list[tuple[Path, Path]] = []
        try:
            for src, dst in moves:
                os.replace(src, dst)
                done.append((src, dst))
        except OSError as e:
            for src, dst in reversed(done):
                try:
                    os.replace(dst, src)
                except OSError as undo:
                    log.error("voices: could not move %s back to %s after a failed rename (%s)", dst, src, undo)
            raise folder_error(e, "renamed") from e

    def delete(self, name: str) -> Voice:
        """Delete a voice: its audio first (then it is gone even if the rest fails), its transcript, pronunciations,
        consent proof.
        Returns the voice as it was (its saved spelling)."""
        with self._lock:
            voice = self.get(name)
            try:
                voice.audio.unlink(missing_ok=True)
                voice.audio.with_suffix(".txt").unlink(missing_ok=True)
                (self.root / f"{voice.name}{VOICE_SUFFIX}").unlink(missing_ok=True)
                (self.root / f"{voice.name}{PROOF_SUFFIX}").unlink(missing_ok=True)
            except OSError as e:
                raise folder_error(e, "deleted") from e
        return voice

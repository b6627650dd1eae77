"""The voice library: saved voices in VOICES_DIR, one `<name>.<audio ext>` plus `<name>.txt` (its transcript) each.

Users may copy voices in by hand in the same layout. Names are sanitised so they can never leave the folder;
saves write temporary files and rename them into place, so a failed save leaves nothing half-written.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError, reason
from ..text.pronounce import VOICE_SUFFIX

AUDIO_EXTS = (".wav", ".flac", ".mp3", ".ogg", ".m4a", ".webm", ".opus")
MAX_NAME = 64  # characters
NAMES_SHOWN = 10  # saved voices an error names at most (the voice list has them all)
log = logging.getLogger(__name__)
_UNSAFE = re.compile(r"[^\w\- ]+")  # \w is Unicode-aware: letters and digits of any script, and _


@dataclass(frozen=True)
class Voice:
    name: str
    audio: Path
    text: str  # '' when no transcript was saved (it is transcribed on first use)


class VoiceNotFound(InputError):
    """No saved voice has that name (REST maps it to 404)."""


def sanitize_name(raw: str) -> str:
    """A safe file stem: 'My Voice!' -> 'My Voice', '../../etc/passwd' -> 'etc passwd', '.hidden' -> 'hidden'."""
    if not isinstance(raw, str):
        raise InputError("A voice name must be text.", "Type a name such as 'Alice'.")
    name = unicodedata.normalize("NFC", raw)
    name = _UNSAFE.sub(" ", name)
    name = " ".join(name.split()).strip(" ._-")[:MAX_NAME].strip(" ._-")
    if not name:
        raise InputError(f"{_shown(raw)} cannot be used as a voice name.", "Use letters, digits, spaces, - or _.")
    return name


def _shown(name: str) -> str:
    """A name as an error quotes it, at most MAX_NAME characters: 'alice', 'aaaa…' (a name may be any length)."""
    return repr(name if len(name) <= MAX_NAME else name[:MAX_NAME] + "…")


class VoiceLibrary:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._lock = threading.Lock()

    def all(self) -> list[Voice]:
        """Every voice in the folder, by name (hidden files and stray names ignored)."""
        if not self.root.is_dir():
            return []
        voices = {}
        for path in sorted(self.root.iterdir()):
            if path.suffix.lower() in AUDIO_EXTS and path.is_file() and not path.name.startswith("."):
                try:
                    if sanitize_name(path.stem) == path.stem and path.stem not in voices:
                        voices[path.stem] = self._voice(path)
                except InputError:
                    continue
        return [voices[k] for k in sorted(voices, key=str.casefold)]

    def names(self) -> list[str]:
        return [v.name for v in self.all()]

    def get(self, name: str) -> Voice:
        safe = sanitize_name(name)
        for ext in AUDIO_EXTS:
            path = self.root / f"{safe}{ext}"
            if path.is_file():
                return self._voice(path)
        raise VoiceNotFound(f"There is no saved voice called {_shown(name)}.", f"Saved voices: {self._some_names()}.")

    def _some_names(self) -> str:
        """'alice, bob' / 'none yet' / the first NAMES_SHOWN, 'and 40 more (the voice list shows them all)'."""
        names = self.names()
        if len(names) <= NAMES_SHOWN:
            return ", ".join(names) or "none yet"
        more = len(names) - NAMES_SHOWN
        return f"{', '.join(names[:NAMES_SHOWN])} and {more} more (the voice list shows them all)"

    def _voice(self, audio: Path) -> Voice:
        transcript = audio.with_suffix(".txt")
        text = transcript.read_text(encoding="utf-8").strip() if transcript.is_file() else ""
        return Voice(audio.stem, audio, text)

    def save(self, name: str, wav_bytes: bytes, text: str, overwrite: bool = False) -> Voice:
        """Store a voice atomically: both files are written to temporaries, then renamed into place."""
        safe = sanitize_name(name)
        with self._lock:
            try:
                self.root.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                log.warning("the voices folder %s cannot be created: %s", self.root, e)  # the path: for the log only
                raise InputError(
                    f"The voices folder cannot be created ({reason(e)}).",
                    "Check that the volume is mounted and writable (VOICES_DIR; the server log names the folder).",
                ) from e
            existing = [self.root / f"{safe}{ext}" for ext in AUDIO_EXTS if (self.root / f"{safe}{ext}").exists()]
            if existing and not overwrite:
                raise InputError(f"A voice called {safe!r} already exists.", "Pick another name or delete it first.")
            audio, transcript = self.root / f"{safe}.wav", self.root / f"{safe}.txt"
            tmp_audio = tmp_text = None
            try:
                tmp_audio = self._write_temp(wav_bytes)
                tmp_text = self._write_temp(text.strip().encode("utf-8"))
                os.replace(tmp_text, transcript)
                os.replace(tmp_audio, audio)
                for old in existing:
                    if old != audio:
                        old.unlink(missing_ok=True)
            except OSError as e:
                for tmp in (tmp_audio, tmp_text):
                    if tmp:
                        Path(tmp).unlink(missing_ok=True)
                if not audio.exists():
                    transcript.unlink(missing_ok=True)
                raise InputError(
                    f"The voice could not be saved ({reason(e)}).",
                    "Check free space and that the voices folder is writable; nothing was changed.",
                ) from e
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
        voice = self.get(old)
        safe = sanitize_name(new)
        with self._lock:
            if safe != voice.name and any((self.root / f"{safe}{ext}").exists() for ext in AUDIO_EXTS):
                raise InputError(f"A voice called {safe!r} already exists.", "Pick another name.")
            target = self.root / f"{safe}{voice.audio.suffix}"
            transcript = voice.audio.with_suffix(".txt")
            if transcript.exists():
                os.replace(transcript, self.root / f"{safe}.txt")
            words = self.root / f"{voice.name}{VOICE_SUFFIX}"  # the voice's own pronunciations go with it
            if words.exists():
                os.replace(words, self.root / f"{safe}{VOICE_SUFFIX}")
            os.replace(voice.audio, target)
        return Voice(safe, target, voice.text)

    def delete(self, name: str) -> None:
        voice = self.get(name)
        with self._lock:
            voice.audio.unlink(missing_ok=True)
            voice.audio.with_suffix(".txt").unlink(missing_ok=True)
            (self.root / f"{voice.name}{VOICE_SUFFIX}").unlink(missing_ok=True)

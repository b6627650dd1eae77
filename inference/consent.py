"""Consent to clone a voice (F5_REQUIRE_CONSENT): the owner reads a phrase made up on the spot.

    phrase, token = Consents(folder).issue()          # "Blue river, golden tiger, seventy two. I agree ..."
    proof = consents.check(ref_wave, sr, rec_wave, sr, token, transcriber, ref_sha256)

A phrase is issued as a signed token (HMAC-SHA256 over the phrase and its expiry, a random nonce in it), signed with
a key kept on the volume beside the voices (`VOICES_DIR/.consent-key`, made once), so that any worker sharing the
volume can check it. A token expires after TOKEN_TTL_S and is spent by the check that passes (a nonce file made
with O_EXCL, so two workers cannot both spend it). The check passes when speech recognition hears the phrase (word
error rate <= MAX_WORD_ERROR_RATE) and the voice reading it is the voice of the reference (speaker similarity >=
MIN_SIMILARITY). The proof it yields is kept under `VOICES_DIR/.consents/<reference sha256>.json`, so that the same
recording is not asked for again; a saved voice keeps a copy beside it (`<name>.consent.json`, inference/voices.py).

| a visitor...                                      | gets                                                      |
|---------------------------------------------------|-----------------------------------------------------------|
| reads the phrase, in the voice of the reference   | a proof: date, phrase, heard, scores, thresholds, sha256  |
| says other words                                  | "The recording did not say the phrase: read it again ..." |
| has another person read it                        | "The voice reading the phrase is not the voice of ..."    |
| sends the token after TOKEN_TTL_S                 | "The phrase has expired: ask for a new one."              |
| sends a token already spent by a passed check     | "This phrase was already used: ask for a new one."        |
| sends a token altered or signed with another key  | "This phrase was not issued by this studio: ..."          |
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import functools
import hashlib
import hmac
import json
import os
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from .errors import InputError, reason

# The thresholds, calibrated with `python -m bench.consent` (bench/RESULTS.md, docs/DESIGN.md "Consent"): on espeak-ng
# speech, Whisper tiny.en missed at most 1 of the 5 own words in 44-46 of 60 owners' readings, and 3 or more in
# every replay of another phrase; resemblyzer scored the reference's own voice 0.91-0.97 and voices of the other sex
# 0.52-0.77 (any threshold from 0.78 to 0.90 separates them).
MAX_WORD_ERROR_RATE = 0.4
MAX_MISSING_WORDS = 1  # of the phrase's 5 own words (not its lead), in order: an old recording misses 3 or more
MIN_SIMILARITY = 0.8
TOKEN_TTL_S = 600.0  # a phrase is good for ten minutes
KEY_FILE = ".consent-key"  # in VOICES_DIR: the signing key, shared by every worker on the volume
FOLDER = ".consents"  # in VOICES_DIR: proofs by reference sha256, and spent nonces

LEAD = "I agree that my voice may be cloned"
COLOURS = ("red", "blue", "green", "yellow", "orange", "purple", "brown", "black", "white", "silver", "golden", "pink")
THINGS = (
    "river", "mountain", "garden", "window", "apple", "table", "forest", "bridge", "candle", "pencil", "island",
    "rocket", "button", "kitchen", "ladder", "market", "pillow", "rabbit", "summer", "winter", "tiger", "dolphin",
)  # fmt: skip
TENS = ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
ONES = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def make_phrase(rng: secrets.SystemRandom | None = None) -> str:
    """A new phrase of common words: its own words first (two colours and things, a number from 21 to 99), then the
    lead: 'Blue river, golden tiger, seventy two. I agree that my voice may be cloned.' (about 5 million phrases).
    Own words first: Whisper heard them better there (bench/consent.py) than after the lead, where it often stopped."""
    rng = rng or secrets.SystemRandom()
    first, second = ((rng.choice(COLOURS), rng.choice(THINGS)) for _ in range(2))
    return f"{' '.join(first).capitalize()}, {' '.join(second)}, {rng.choice(TENS)} {rng.choice(ONES)}. {LEAD}."


@functools.cache
def _normalizer() -> Callable[[str], str]:
    from whisper_normalizer.english import EnglishTextNormalizer  # the one the word error rate uses (check.py)

    return EnglishTextNormalizer()


def own_words(phrase: str) -> list[str]:
    """The words that make a phrase this phrase (all but the lead), as the word error rate's normalizer writes
    them: own_words('Blue river, golden tiger, seventy two. I agree that my voice may be cloned.') ->
    ['blue', 'river', 'golden', 'tiger', '72']."""
    return _normalizer()(phrase.replace(LEAD, "")).split()


def unheard(words: list[str], heard: list[str]) -> tuple[str, ...]:
    """The `words` not heard in their order (those outside a longest common subsequence with `heard`), so that
    another phrase sharing some words in another order does not count them: unheard(['blue', 'river', '72'],
    ['a', 'blue', 'river', '27']) -> ('72',); unheard(['blue', 'river'], ['river', 'blue']) -> ('river',)."""
    table = [[0] * (len(heard) + 1) for _ in range(len(words) + 1)]
    for i, w in enumerate(words):
        for j, h in enumerate(heard):
            table[i + 1][j + 1] = table[i][j] + 1 if w == h else max(table[i][j + 1], table[i + 1][j])
    kept, i, j = set(), len(words), len(heard)
    while i and j:
        if words[i - 1] == heard[j - 1]:
            kept.add(i - 1)
            i, j = i - 1, j - 1
        elif table[i - 1][j] >= table[i][j - 1]:
            i -= 1
        else:
            j -= 1
    return tuple(w for k, w in enumerate(words) if k not in kept)


@dataclass(frozen=True)
class Scores:
    word_error_rate: float  # of what was heard against the whole phrase
    heard: str
    missing: tuple[str, ...]  # the phrase's own words not heard in order (another phrase's recording misses most)
    similarity: float  # of the voice reading it to the reference's voice


def measure(
    phrase: str,
    reference: tuple[np.ndarray, int],
    recording: tuple[np.ndarray, int],
    scorer: Scorer,
    similarity: Similarity,
) -> Scores:
    wer, heard = scorer(recording[0], recording[1], phrase)
    missing = unheard(own_words(phrase), _normalizer()(heard).split())
    return Scores(wer, heard, missing, similarity(reference[0], reference[1], recording[0], recording[1]))


def refusal(phrase: str, scores: Scores) -> InputError | None:
    """Why these scores do not show consent (None: they do). The words first: they say what to do best."""
    if scores.word_error_rate > MAX_WORD_ERROR_RATE or len(scores.missing) > MAX_MISSING_WORDS:
        return InputError(
            f"The recording did not say the phrase (heard: {scores.heard!r}).", f"Read it again, clearly: {phrase!r}"
        )
    if scores.similarity < MIN_SIMILARITY:
        return InputError(
            "The voice reading the phrase is not the voice of the reference "
            f"(similarity {scores.similarity:.2f}, at least {MIN_SIMILARITY:g} is needed).",
            "The person whose voice it is must read the phrase themselves.",
        )
    return None


@dataclass(frozen=True)
class Proof:
    """What a passed consent check found, kept on the volume as JSON."""

    date: str  # ISO 8601, UTC
    phrase: str
    heard: str
    word_error_rate: float
    similarity: float
    max_word_error_rate: float
    min_similarity: float
    reference_sha256: str

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), indent=2, ensure_ascii=False).encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes) -> Proof:
        return cls(**json.loads(data))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def not_issued() -> InputError:
    return InputError(
        "This phrase was not issued by this studio (the token is damaged or altered).", "Ask for a new phrase."
    )


def used() -> InputError:
    return InputError("This phrase was already used.", "Ask for a new one: each phrase serves one consent.")


Scorer = Callable[[np.ndarray, int, str], tuple[float, str]]  # (wave, sample rate, text) -> (WER, heard)
Similarity = Callable[[np.ndarray, int, np.ndarray, int], float]


@contextlib.contextmanager
def volume_errors() -> Iterator[None]:
    """An OSError of the voices folder (read-only, full, not mounted) as what to do, never a path."""
    try:
        yield
    except OSError as e:
        raise InputError(
            f"Consent cannot be recorded: the voices folder cannot be written ({reason(e)}).",
            "Ask whoever runs the studio to make VOICES_DIR writable (the volume, mounted read-write).",
        ) from e


class Consents:
    """Phrases, tokens and proofs over one voices folder (the volume)."""

    def __init__(self, voices_dir: Path, clock: Callable[[], float] = time.time) -> None:
        self.root = Path(voices_dir)
        self.folder = self.root / FOLDER
        self.clock = clock

    # ---- the signing key, made once per volume ------------------------------------------------------------------
    def _key(self) -> bytes:
        with volume_errors():
            return self._read_or_make_key()

    def _read_or_make_key(self) -> bytes:
        path = self.root / KEY_FILE
        with contextlib.suppress(FileNotFoundError):
            key = path.read_bytes()
            if len(key) >= 32:
                return key
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f".tmp-{secrets.token_hex(8)}.part"
        tmp.write_bytes(secrets.token_bytes(32))
        try:
            os.link(tmp, path)  # the first worker's key wins; others read it
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
        return path.read_bytes()

    # ---- tokens -------------------------------------------------------------------------------------------------
    def issue(self) -> tuple[str, str]:
        """(token, phrase): a fresh phrase, signed, good for TOKEN_TTL_S seconds and one passed check."""
        phrase = make_phrase()
        body = json.dumps({"p": phrase, "e": round(self.clock() + TOKEN_TTL_S), "n": secrets.token_hex(12)})
        payload = _b64(body.encode("utf-8"))
        signature = _b64(hmac.new(self._key(), payload.encode("ascii"), hashlib.sha256).digest())
        return f"{payload}.{signature}", phrase

    def read(self, token: str) -> tuple[str, str]:
        """(phrase, nonce) of a token this volume's key signed, not expired, not spent; InputError otherwise."""
        if not isinstance(token, str) or not token.strip():
            raise InputError("No consent phrase was given.", "Ask for a phrase, then record the owner reading it.")
        payload, _, signature = token.strip().partition(".")
        try:
            expected = hmac.new(self._key(), payload.encode("ascii"), hashlib.sha256).digest()
            if not hmac.compare_digest(expected, _unb64(signature)):
                raise not_issued()
            body = json.loads(_unb64(payload))
            phrase, expiry, nonce = str(body["p"]), float(body["e"]), str(body["n"])
        except (ValueError, KeyError, TypeError, UnicodeError, binascii.Error) as e:
            raise not_issued() from e
        if self.clock() > expiry:
            raise InputError("The phrase has expired.", "Ask for a new one, and record it within ten minutes.")
        if (self.folder / f"{nonce}.used").exists():
            raise used()
        return phrase, nonce

    def _spend(self, nonce: str) -> None:
        with volume_errors():
            self.folder.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(self.folder / f"{nonce}.used", os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError as e:
                raise used() from e
            os.close(fd)

    # ---- the check ----------------------------------------------------------------------------------------------
    def check(
        self,
        reference: tuple[np.ndarray, int],
        recording: tuple[np.ndarray, int],
        token: str,
        scorer: Scorer,
        similarity: Similarity,
        reference_sha256: str,
    ) -> Proof:
        """The owner's consent: the recording says the token's phrase, in the reference's voice. A passed check
        spends the token and keeps the proof (by the reference's sha256); a refusal leaves the token usable."""
        phrase, nonce = self.read(token)
        scores = measure(phrase, reference, recording, scorer, similarity)
        refused = refusal(phrase, scores)
        if refused is not None:
            raise refused
        self._spend(nonce)
        proof = Proof(
            datetime.now(UTC).isoformat(timespec="seconds"),
            phrase,
            scores.heard,
            round(scores.word_error_rate, 4),
            round(scores.similarity, 4),
            MAX_WORD_ERROR_RATE,
            MIN_SIMILARITY,
            reference_sha256,
        )
        self.keep(proof)
        return proof

    # ---- proofs by reference --------------------------------------------------------------------------------------
    def _proof_path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a sha256 hex digest: {sha256!r}")
        return self.folder / f"{sha256}.json"

    def keep(self, proof: Proof) -> None:
        path = self._proof_path(proof.reference_sha256)
        with volume_errors():
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".tmp-{secrets.token_hex(8)}.part")
            tmp.write_bytes(proof.to_json())
            os.replace(tmp, path)

    def proof(self, sha256: str) -> Proof | None:
        """The proof kept for the reference with this content hash, or None."""
        try:
            return Proof.from_json(self._proof_path(sha256).read_bytes())
        except FileNotFoundError:
            return None
        except (ValueError, TypeError, OSError):
            return None


def consent_needed() -> InputError:
    """The refusal of a new recording without consent: the steps to give it."""
    return InputError(
        "This studio clones a new voice only with its owner's consent.",
        "Ask for a consent phrase (the Clone tab's Consent group; REST: GET /v1/consent/phrase; serverless: a "
        "consent_phrase job), record the owner of the voice reading it aloud, and send that recording and the "
        "phrase's token with this reference. A saved voice needs none.",
    )

"""Tests for inference/audio.py: decoding every common format, reference preparation, and every user error.

All offline: real speech comes from the wav that f5_tts ships and from espeak-ng; other formats are made with ffmpeg.
"""

from __future__ import annotations

import ast
import doctest
import hashlib
import importlib.resources
import io
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from inference.audio import decode as audio
from inference.audio import prepare
from inference.audio.decode import content_hash, decode_audio, to_wav_bytes
from inference.audio.prepare import SAMPLE_RATE, PreparedAudio, clip_at_pause, find_pauses, prepare_reference
from inference.errors import InputError

REF_WAV = Path(str(importlib.resources.files("f5_tts").joinpath("infer/examples/basic/basic_ref_en.wav")))
needs_ffmpeg = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed")
needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")

# Encoder arguments per container, as a user's phone or browser would produce them.
FORMATS = {
    "mp3": ["-c:a", "libmp3lame", "-b:a", "128k"],
    "flac": ["-c:a", "flac"],
    "ogg": ["-c:a", "libvorbis", "-q:a", "4"],
    "m4a": ["-c:a", "aac", "-b:a", "128k"],
    "webm": ["-c:a", "libopus", "-b:a", "64k"],
}


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    """The shipped reference speech: 24 kHz mono float32, ~5.3 s."""
    wave, sr = sf.read(REF_WAV, dtype="float32")
    assert sr == SAMPLE_RATE
    return wave


@pytest.fixture(scope="module")
def encoded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The shipped speech converted by ffmpeg into every format in FORMATS (stereo 44.1 kHz for m4a)."""
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed")
    out = tmp_path_factory.mktemp("formats")
    paths = {}
    for ext, args in FORMATS.items():
        extra = ["-ac", "2", "-ar", "44100"] if ext == "m4a" else []
        paths[ext] = out / f"speech.{ext}"
        subprocess.run(
            ["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(REF_WAV), *extra, *args, str(paths[ext])],
            check=True,
            timeout=60,
        )
    return paths


def write_wav(path: Path, wave: np.ndarray, sr: int = SAMPLE_RATE, subtype: str = "PCM_16") -> Path:
    sf.write(path, wave, sr, subtype=subtype)
    return path


def assert_prepared(prepared: PreparedAudio, max_seconds: float = 12.0) -> None:
    """The invariants every PreparedAudio must hold."""
    assert isinstance(prepared, PreparedAudio)
    assert prepared.sample_rate == SAMPLE_RATE
    assert prepared.wave.dtype == np.float32
    assert prepared.wave.ndim == 1
    assert np.all(np.isfinite(prepared.wave))
    assert float(np.max(np.abs(prepared.wave))) <= 1.0
    assert 0 < prepared.seconds <= max_seconds + 0.1
    assert isinstance(prepared.notes, tuple)
    assert all(isinstance(note, str) and note for note in prepared.notes)


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.asarray(x, dtype=np.float64) ** 2)))


@pytest.mark.parametrize("module", [prepare, audio])
def test_docstring_examples_hold(module) -> None:
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0


@pytest.mark.parametrize("module", [prepare, audio])
def test_module_imports_only_numpy_soundfile_and_stdlib_at_top_level(module) -> None:
    tree = ast.parse(Path(module.__file__).read_text())
    top = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            top |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            top.add("." if node.level else node.module.split(".")[0])
    third_party = top - set(sys.stdlib_module_names) - {"__future__"}
    assert third_party <= {"numpy", "soundfile", "."}


def test_resampling_falls_back_to_scipy_without_soxr(
    tmp_path: Path, speech: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    from scipy.signal import resample_poly

    path = write_wav(tmp_path / "44k.wav", resample_poly(speech, 147, 80), sr=44100)
    with_soxr, _ = decode_audio(path)
    monkeypatch.setitem(sys.modules, "soxr", None)  # makes `import soxr` raise ImportError
    with_scipy, sr = decode_audio(path)
    assert sr == SAMPLE_RATE
    assert abs(len(with_scipy) - len(with_soxr)) <= 1
    n = min(len(with_scipy), len(with_soxr))
    assert rms(with_scipy[:n] - with_soxr[:n]) < 0.05 * rms(with_soxr)


@pytest.mark.parametrize("ext", ["wav", "mp3"])
def test_decode_stops_at_max_seconds(encoded: dict[str, Path], ext: str) -> None:
    wave, sr = decode_audio(REF_WAV if ext == "wav" else encoded[ext], max_seconds=2.0)
    assert abs(len(wave) / sr - 2.0) < 0.01


# --- real speech and formats ------------------------------------------------------------------------------------


def test_shipped_reference_is_prepared(speech: np.ndarray) -> None:
    prepared = prepare_reference(REF_WAV)
    assert_prepared(prepared)
    assert abs(prepared.seconds - len(speech) / SAMPLE_RATE) < 0.4
    tail = prepared.wave[-int(0.05 * SAMPLE_RATE) :]
    assert not tail.any(), "50 ms of silence is appended at the end"


@needs_espeak
def test_espeak_speech_at_22k_is_prepared(tmp_path: Path) -> None:
    path = tmp_path / "espeak.wav"
    subprocess.run(
        ["espeak-ng", "-w", str(path), "The quick brown fox jumps over the lazy dog. Then it rests."],
        check=True,
        timeout=30,
    )
    assert sf.info(path).samplerate != SAMPLE_RATE
    wave, sr = decode_audio(path)
    assert sr == SAMPLE_RATE
    assert abs(len(wave) / sr - sf.info(path).duration) < 0.01
    prepared = prepare_reference(path)
    assert_prepared(prepared)
    assert prepared.seconds > 2.0


@needs_ffmpeg
@pytest.mark.parametrize("ext", sorted(FORMATS))
@pytest.mark.parametrize("as_bytes", [False, True], ids=["path", "bytes"])
def test_every_format_decodes_to_24k_mono(
    encoded: dict[str, Path], speech: np.ndarray, ext: str, as_bytes: bool
) -> None:
    source = encoded[ext].read_bytes() if as_bytes else encoded[ext]
    wave, sr = decode_audio(source)
    assert sr == SAMPLE_RATE
    assert wave.dtype == np.float32
    assert wave.ndim == 1
    assert abs(len(wave) - len(speech)) / SAMPLE_RATE < 0.15
    assert rms(wave) > 0.3 * rms(speech)
    assert_prepared(prepare_reference(source))


@needs_ffmpeg
def test_without_ffmpeg_m4a_fails_clearly_but_wav_works(
    encoded: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", "")
    with pytest.raises(InputError) as err:
        decode_audio(encoded["m4a"])
    assert "ffmpeg" in err.value.hint
    assert_prepared(prepare_reference(REF_WAV))


# --- preparation ------------------------------------------------------------------------------------------------


def long_recording(speech: np.ndarray, seconds: float = 40.0, pause_s: float = 0.7) -> tuple[np.ndarray, list]:
    """Speech, pause, speech, ... until `seconds`; pauses hold faint noise (-66 dBFS). Returns (wave, pauses)."""
    noise = np.random.default_rng(0).normal(0, 5e-4, int(pause_s * SAMPLE_RATE)).astype(np.float32)
    parts, pauses, t = [], [], 0
    while t < seconds * SAMPLE_RATE:
        parts += [speech, noise]
        t += len(speech)
        pauses.append((t / SAMPLE_RATE, (t + len(noise)) / SAMPLE_RATE))
        t += len(noise)
    return np.concatenate(parts), pauses


def test_long_recording_is_clipped_in_a_pause(tmp_path: Path, speech: np.ndarray) -> None:
    wave, pauses = long_recording(speech)
    assert len(wave) / SAMPLE_RATE > 38
    clipped, how = clip_at_pause(wave, SAMPLE_RATE, 12.0)
    cut = len(clipped) / SAMPLE_RATE
    assert how == "at a pause"
    assert 4.0 <= cut <= 12.0
    assert any(start <= cut <= end for start, end in pauses), (cut, pauses)

    prepared = prepare_reference(write_wav(tmp_path / "long.wav", wave))
    assert_prepared(prepared)
    assert prepared.seconds > 6.0
    assert any("clipped from" in note and "at a pause" in note for note in prepared.notes), prepared.notes
    # The cut is not mid-word: just before the appended 50 ms, the signal is far quieter than the speech.
    before_tail = prepared.wave[-int(0.1 * SAMPLE_RATE) : -int(0.05 * SAMPLE_RATE)]
    assert rms(before_tail) < 0.05 * rms(prepared.wave)


def test_recording_without_pauses_is_cut_hard(tmp_path: Path) -> None:
    t = np.arange(int(20 * SAMPLE_RATE)) / SAMPLE_RATE
    tone = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    prepared = prepare_reference(write_wav(tmp_path / "tone.wav", tone), max_seconds=12.0)
    assert_prepared(prepared)
    assert 11.9 <= prepared.seconds <= 12.1
    assert any("no pause found" in note for note in prepared.notes)


def test_find_pauses_locates_gaps_in_real_speech(speech: np.ndarray) -> None:
    wave, pauses = long_recording(speech, seconds=10.0)
    found = find_pauses(wave, SAMPLE_RATE, min_pause_s=0.3)
    for start, end in pauses:
        assert any(abs(s - start) < 0.1 and abs(e - end) < 0.1 for s, e in found), (start, end, found)


def test_edge_silence_is_trimmed(tmp_path: Path, speech: np.ndarray) -> None:
    hiss = np.random.default_rng(1).normal(0, 3e-4, 3 * SAMPLE_RATE).astype(np.float32)
    wave = np.concatenate([np.zeros(2 * SAMPLE_RATE, np.float32), speech, hiss])
    prepared = prepare_reference(write_wav(tmp_path / "padded.wav", wave))
    assert_prepared(prepared)
    assert prepared.seconds < len(speech) / SAMPLE_RATE + 0.3
    assert any(note.startswith("trimmed") for note in prepared.notes), prepared.notes


def test_quiet_input_is_normalised(tmp_path: Path, speech: np.ndarray) -> None:
    prepared = prepare_reference(write_wav(tmp_path / "quiet.wav", speech * 0.01, subtype="FLOAT"))
    assert_prepared(prepared)
    body = prepared.wave[: -int(0.05 * SAMPLE_RATE)]
    assert 0.05 <= rms(body) <= 0.11
    assert float(np.max(np.abs(body))) <= 0.99 + 1e-6
    assert any(note.startswith("raised the volume") for note in prepared.notes)


def test_over_full_scale_float_input_is_limited(tmp_path: Path, speech: np.ndarray) -> None:
    prepared = prepare_reference(write_wav(tmp_path / "hot.wav", speech * 4.0, subtype="FLOAT"))
    assert_prepared(prepared)
    assert float(np.max(np.abs(prepared.wave))) <= 0.99 + 1e-6


@pytest.mark.parametrize("sr", [8000, 22050, 44100, 96000])
@pytest.mark.parametrize("channels", [1, 2, 6, 8])
def test_any_rate_and_channel_count_becomes_24k_mono(
    tmp_path: Path, speech: np.ndarray, sr: int, channels: int
) -> None:
    from scipy.signal import resample_poly

    native = resample_poly(speech, sr, SAMPLE_RATE).astype(np.float32)
    gains = np.linspace(1.0, 0.5, channels, dtype=np.float32)
    path = write_wav(tmp_path / f"{sr}_{channels}.wav", native[:, None] * gains[None, :], sr=sr)
    wave, out_sr = decode_audio(path)
    assert out_sr == SAMPLE_RATE
    assert wave.ndim == 1
    assert wave.dtype == np.float32
    assert abs(len(wave) - len(speech)) / SAMPLE_RATE < 0.01
    assert_prepared(prepare_reference(path))


# --- errors -----------------------------------------------------------------------------------------------------


def assert_input_error(source: object, message_part: str, **kwargs: object) -> InputError:
    with pytest.raises(InputError) as err:
        prepare_reference(source, **kwargs)
    assert message_part.lower() in err.value.message.lower(), err.value.message
    assert err.value.hint, "every error tells the user what to do"
    return err.value


def test_missing_file(tmp_path: Path) -> None:
    assert_input_error(tmp_path / "nope.wav", "could not find")


def test_empty_file_and_empty_bytes(tmp_path: Path) -> None:
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    assert_input_error(path, "empty")
    assert_input_error(b"", "empty")


def test_text_file_named_wav(tmp_path: Path) -> None:
    path = tmp_path / "notes.wav"
    path.write_text("This is not a recording, just some text.\n" * 50)
    err = assert_input_error(path, "could not read this file as audio")
    assert "WAV, MP3, FLAC, OGG, M4A or WebM" in err.hint


@pytest.mark.parametrize("seed", [0, 2, 3])
def test_random_bytes_named_mp3(tmp_path: Path, seed: int) -> None:
    path = tmp_path / "noise.mp3"
    path.write_bytes(np.random.default_rng(seed).integers(0, 256, 50_000, dtype=np.uint8).tobytes())
    assert_input_error(path, "could not read")


def test_wav_header_only(tmp_path: Path, speech: np.ndarray) -> None:
    path = tmp_path / "header.wav"
    path.write_bytes(to_wav_bytes(speech)[:44])
    with pytest.raises(InputError) as err:
        prepare_reference(path)
    assert err.value.hint


@pytest.mark.parametrize("ext", ["wav", "mp3", "flac", "ogg", "m4a", "webm"])
@pytest.mark.parametrize("fraction", [0.5, 0.02])
def test_truncated_files_give_audio_or_a_clear_error(
    tmp_path: Path, encoded: dict[str, Path], ext: str, fraction: float
) -> None:
    data = REF_WAV.read_bytes() if ext == "wav" else encoded[ext].read_bytes()
    path = tmp_path / f"cut.{ext}"
    path.write_bytes(data[: int(len(data) * fraction)])
    try:
        prepared = prepare_reference(path)
    except InputError as err:
        assert err.message
        assert err.hint
    else:
        assert_prepared(prepared)
        assert prepared.seconds < 5.4


def test_silence_only(tmp_path: Path) -> None:
    assert_input_error(write_wav(tmp_path / "zeros.wav", np.zeros(3 * SAMPLE_RATE, np.float32)), "silent")
    hum = np.random.default_rng(3).normal(0, 3e-4, 3 * SAMPLE_RATE).astype(np.float32)  # about -70 dBFS
    err = assert_input_error(write_wav(tmp_path / "hum.wav", hum), "silent")
    assert "microphone" in err.hint


def test_too_large_is_refused_before_decoding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("decoding started")

    monkeypatch.setattr(audio, "_decode_soundfile", fail)
    monkeypatch.setattr(audio, "_decode_ffmpeg", fail)
    assert_input_error(REF_WAV, "too large", max_bytes=100_000)
    assert_input_error(REF_WAV.read_bytes(), "too large", max_bytes=100_000)


def test_too_short(tmp_path: Path, speech: np.ndarray) -> None:
    blip = np.zeros(2 * SAMPLE_RATE, np.float32)
    blip[SAMPLE_RATE : SAMPLE_RATE + int(0.1 * SAMPLE_RATE)] = (
        speech[SAMPLE_RATE : SAMPLE_RATE + int(0.1 * SAMPLE_RATE)] * 5
    )
    err = assert_input_error(write_wav(tmp_path / "blip.wav", blip), "too short")
    assert "1 second" in err.hint
    assert "5 to 12 seconds" in err.hint


# --- properties -------------------------------------------------------------------------------------------------


def check_prepare(data: bytes, max_seconds: float) -> str:
    """prepare_reference returns a valid PreparedAudio or raises InputError; anything else fails the test.
    Returns what happened, for hypothesis's statistics (pytest --hypothesis-show-statistics)."""
    try:
        prepared = prepare_reference(data, max_seconds=max_seconds)
    except InputError as err:
        assert err.message
        assert err.hint
        return f"InputError: {err.message.split(':')[0].split('(')[0].strip()}"
    assert_prepared(prepared, max_seconds)
    return "prepared"


def float_wav(wave: np.ndarray, sr: int) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, wave, sr, format="WAV", subtype="FLOAT")
    return buf.getvalue()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seconds=st.floats(0.0, 15.0),
    sr=st.sampled_from([8000, 16000, 24000, 44100, 48000]),
    channels=st.integers(1, 3),
    amplitude_db=st.floats(-120.0, 20.0),
    kind=st.sampled_from(["noise", "sine", "bursts", "zeros", "spikes"]),
    poison=st.booleans(),
    max_seconds=st.sampled_from([3.0, 8.0, 12.0]),
    seed=st.integers(0, 2**32 - 1),
)
def test_prepare_random_signals(
    seconds: float, sr: int, channels: int, amplitude_db: float, kind: str, poison: bool, max_seconds: float, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    t = np.arange(n) / sr
    if kind == "noise":
        base = rng.normal(0, 1, n)
    elif kind == "sine":
        base = np.sin(2 * np.pi * rng.uniform(50, 3000) * t)
    elif kind == "bursts":
        base = rng.normal(0, 1, n) * (np.sin(2 * np.pi * rng.uniform(0.2, 3) * t) > 0.3)
    elif kind == "spikes":
        base = (rng.random(n) < rng.uniform(1e-5, 1e-2)) * rng.normal(0, 1, n)
    else:
        base = np.zeros(n)
    wave = (base * 10 ** (amplitude_db / 20))[:, None] * rng.uniform(0, 1, channels)[None, :]
    if poison and n:
        wave[rng.integers(0, n, 3), 0] = [np.nan, np.inf, -np.inf]
    event(f"{kind}: {check_prepare(float_wav(wave.astype(np.float32), sr), max_seconds)}")


@settings(max_examples=60, deadline=None)
@given(
    wave=hnp.arrays(np.float32, st.integers(0, 4000), elements=st.floats(width=32)),
    sr=st.sampled_from([8000, 24000, 96000]),
)
def test_prepare_arbitrary_float_arrays(wave: np.ndarray, sr: int) -> None:
    event(check_prepare(float_wav(wave, sr), 12.0))


@settings(max_examples=40, deadline=None)
@given(data=st.binary(min_size=0, max_size=2000))
def test_prepare_arbitrary_bytes(data: bytes) -> None:
    event(check_prepare(data, 12.0))


# --- helpers ----------------------------------------------------------------------------------------------------


def test_content_hash_is_stable_and_content_based(tmp_path: Path) -> None:
    data = REF_WAV.read_bytes()
    copy = tmp_path / "copy.wav"
    copy.write_bytes(data)
    assert content_hash(REF_WAV) == content_hash(copy) == content_hash(data) == hashlib.sha256(data).hexdigest()
    assert content_hash(str(copy)) == content_hash(copy)
    changed = bytearray(data)
    changed[-1] ^= 1
    assert content_hash(bytes(changed)) != content_hash(data)
    with pytest.raises(InputError):
        content_hash(tmp_path / "missing.wav")


def test_to_wav_bytes_round_trips(speech: np.ndarray) -> None:
    data = to_wav_bytes(np.concatenate([speech, [1.5, -1.5, np.nan]]).astype(np.float32), SAMPLE_RATE)
    info = sf.info(io.BytesIO(data))
    assert (info.samplerate, info.channels, info.subtype, info.format) == (SAMPLE_RATE, 1, "PCM_16", "WAV")
    back, _ = sf.read(io.BytesIO(data), dtype="float32")
    assert np.max(np.abs(back[: len(speech)] - speech)) < 1e-3
    assert back[-3] == pytest.approx(1.0, abs=1e-3)
    assert back[-2] == -1.0
    assert back[-1] == 0.0


def test_a_cross_fader_holds_each_tail_and_fades_it_into_the_next_piece() -> None:
    from inference.audio.postprocess import CrossFader

    fader = CrossFader(3)
    first = fader.add(np.ones(5, dtype=np.float32), last=False)
    second = fader.add(np.zeros(4, dtype=np.float32), last=True)
    assert (len(first), len(second)) == (2, 4)  # the first piece's 3-sample tail waits for the second
    np.testing.assert_allclose(np.concatenate([first, second]), [1, 1, 1, 0.5, 0, 0])
    assert CrossFader(0).add(np.ones(2, dtype=np.float32), last=False).tolist() == [1, 1]  # no fade: nothing held

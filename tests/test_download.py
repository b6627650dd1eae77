"""`python app.py download` for real: over HTTP from a local Hub look-alike (tests/hub_server.py), into fresh
HF_HOMEs, then loaded and used offline.

huggingface_hub reads HF_ENDPOINT, HF_HOME and HF_HUB_OFFLINE once, at import (and conftest.py has set this process
offline), so every download runs in a subprocess with its own environment.

Resumption, as huggingface_hub 1.33 does it: a transfer cut mid-way is resumed *within the run* with a Range request
(from the last 10 MiB chunk it wrote, hence a checkpoint served here padded past 10 MiB); a run that still fails
deletes its partial file, so the next run fetches that file again from the start while keeping every finished file.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from inference.model.random_weights import F5_CKPT, F5_REPO, F5_VOCAB, VOCOS_REPO
from tests.conftest import REF_TEXT
from tests.hub_server import HubServer
from tests.live import REPO, free_port

WHISPER_REPO = "openai/whisper-large-v3-turbo"
CKPT_KEY = (F5_REPO, F5_CKPT)
CHUNK = 10 * 1024 * 1024  # huggingface_hub writes downloads in chunks of this size (constants.DOWNLOAD_CHUNK_SIZE)
CUT = CHUNK + 123_457  # where the checkpoint transfer is cut: past the first chunk, so there is something to resume
ITEMS = ("F5-TTS checkpoint", "vocab", "vocoder config", "vocoder weights", "Whisper")


def padded_safetensors(src: Path, dst: Path, size: int) -> Path:
    """Copy of a .safetensors grown to about `size` bytes with a __metadata__ string: same tensors, still valid."""
    data = src.read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    header["__metadata__"] = {**header.get("__metadata__", {}), "padding": "0" * max(size - len(data), 0)}
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-(8 + len(raw)) % 8)  # keep the tensor data 8-byte aligned
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_bytes(struct.pack("<Q", len(raw)) + raw + data[8 + n :])
    return dst


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def repos(tiny: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Path]]:
    """What the hub serves: the tiny F5-TTS (checkpoint padded past one download chunk), Vocos and Whisper."""
    from tests.tiny_whisper import build_tiny_whisper

    src = tmp_path_factory.mktemp("hub-src")
    whisper = tiny["root"] / "whisper"
    if not (whisper / "config.json").is_file():
        whisper = build_tiny_whisper(src / "whisper")
    return {
        F5_REPO: {
            F5_CKPT: padded_safetensors(tiny["ckpt"], src / "model.safetensors", CHUNK + 2 * 1024 * 1024),
            F5_VOCAB: tiny["vocab"],
        },
        VOCOS_REPO: {name: tiny["vocoder"] / name for name in ("config.yaml", "pytorch_model.bin")},
        WHISPER_REPO: {p.relative_to(whisper).as_posix(): p for p in sorted(whisper.rglob("*")) if p.is_file()},
    }


@pytest.fixture(scope="module")
def hub(repos: dict[str, dict[str, Path]]):
    with HubServer(repos) as server:
        yield server


@pytest.fixture()
def fresh_hub(hub: HubServer) -> HubServer:
    """The module's server with a clean log and no fault injected."""
    hub.fail_after_bytes.clear()
    hub.refuse.clear()
    hub.clear_log()
    return hub


def hub_env(endpoint: str, hf_home: Path, offline: bool = False, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in (
            "HF_HUB_CACHE",
            "HUGGINGFACE_HUB_CACHE",
            "HF_TOKEN",
            "HUGGING_FACE_HUB_TOKEN",
            "F5_ASR_MODEL",
            "TRANSFORMERS_OFFLINE",
            "HF_HUB_ENABLE_HF_TRANSFER",
        )
    }
    env.update(
        HF_ENDPOINT=endpoint,
        HF_HOME=str(hf_home),
        HF_HUB_OFFLINE="1" if offline else "0",
        HF_HUB_DISABLE_XET="1",
        HF_HUB_ETAG_TIMEOUT="5",
        HF_HUB_DOWNLOAD_TIMEOUT="5",
        F5_ASR_MODEL=WHISPER_REPO,
        PYTHONUNBUFFERED="1",
        **extra,
    )
    return env


def download(endpoint: str, hf_home: Path, timeout: float = 90) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "app.py", "download"],
        cwd=REPO,
        env=hub_env(endpoint, hf_home),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def cached(hf_home: Path, hub: HubServer, repo_id: str, filename: str) -> Path:
    """The snapshot path of a file in the standard cache layout (checked on the way)."""
    repo_dir = hf_home / "hub" / f"models--{repo_id.replace('/', '--')}"
    commit = hub.commits[repo_id]
    assert (repo_dir / "refs" / "main").read_text() == commit
    path = repo_dir / "snapshots" / commit / filename
    assert path.is_symlink(), path
    assert path.resolve() == (repo_dir / "blobs" / hub.repos[repo_id][filename].etag).resolve()
    return path


def assert_complete(hf_home: Path, hub: HubServer) -> None:
    """Every served file is in the cache, byte for byte, and no partial download is left."""
    for repo_id, files in hub.repos.items():
        for name, f in files.items():
            assert sha256(cached(hf_home, hub, repo_id, name)) == f.sha256, (repo_id, name)
    assert not list(hf_home.rglob("*.incomplete"))


def assert_all_ok(proc: subprocess.CompletedProcess) -> None:
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    for item in ITEMS:
        at = next(i for i, line in enumerate(lines) if line.startswith(f"- {item} ("))
        assert lines[at + 1].startswith("  ok: "), lines[at : at + 2]
    assert f"All {len(ITEMS)} present and verified." in proc.stdout
    assert "Traceback" not in proc.stderr


@pytest.fixture(scope="module", autouse=True)
def hub_down_run(tmp_path_factory: pytest.TempPathFactory):
    """`download` with HF_ENDPOINT on a closed port, started before the other tests and checked last: most of its
    time is huggingface_hub's retry back-off (~25 s of sleeping), which then overlaps the other tests."""
    folder = tmp_path_factory.mktemp("hub-down")
    endpoint = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    run = {"endpoint": endpoint, "hf_home": folder / "hf", "stdout": folder / "out.txt", "stderr": folder / "err.txt"}
    with open(run["stdout"], "w") as out, open(run["stderr"], "w") as err:
        run["proc"] = subprocess.Popen(
            [sys.executable, "app.py", "download"],
            cwd=REPO,
            env=hub_env(endpoint, run["hf_home"]),
            stdout=out,
            stderr=err,
            text=True,
        )
    yield run
    if run["proc"].poll() is None:
        run["proc"].kill()
        run["proc"].wait()


@pytest.fixture(scope="module")
def downloaded(hub: HubServer, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One download into a fresh HF_HOME, the checkpoint transfer cut once mid-way (a network blip)."""
    hub.fail_after_bytes.clear()
    hub.refuse.clear()
    hub.clear_log()
    hub.fail_after_bytes[CKPT_KEY] = CUT
    hf_home = tmp_path_factory.mktemp("hf-downloaded")
    proc = download(hub.url, hf_home)
    return {"hf_home": hf_home, "proc": proc, "log": list(hub.log), "ckpt_gets": hub.gets(F5_CKPT)}


def test_download_fills_a_fresh_cache(downloaded: dict, hub: HubServer) -> None:
    assert_all_ok(downloaded["proc"])
    assert_complete(downloaded["hf_home"], hub)
    assert f"Hugging Face cache: {downloaded['hf_home'] / 'hub'}" in downloaded["proc"].stdout
    whisper_gets = [e for e in downloaded["log"] if e[0] == "GET" and "/whisper-large-v3-turbo/" in e[1]]
    assert any("/api/models/openai/whisper-large-v3-turbo/tree/" in e[1] for e in whisper_gets)  # snapshot listing
    assert len([e for e in whisper_gets if "/resolve/" in e[1]]) == len(hub.repos[WHISPER_REPO])


def test_a_cut_transfer_resumes_with_a_range_request(downloaded: dict, hub: HubServer) -> None:
    (first, resumed) = downloaded["ckpt_gets"]
    assert first[2] is None
    assert resumed[2] == f"bytes={CHUNK}-", "resumed from the end of the last chunk written, not from 0"
    assert "Trying to resume download" in downloaded["proc"].stderr
    ckpt = cached(downloaded["hf_home"], hub, F5_REPO, F5_CKPT)
    assert sha256(ckpt) == hub.repos[F5_REPO][F5_CKPT].sha256


def test_downloaded_cache_generates_offline(
    downloaded: dict, fresh_hub: HubServer, tiny: dict[str, Path], ref_wav: Path
) -> None:
    assert downloaded["proc"].returncode == 0
    script = textwrap.dedent(f"""
        from inference import Engine, Reference, EngineSettings, SynthesisOptions, SynthesisRequest
        engine = Engine(EngineSettings.from_env())
        for ref_text in ({REF_TEXT!r}, ""):  # "" transcribes the reference with the downloaded Whisper
            result = engine.synthesize(SynthesisRequest("Hello there.", Reference({str(ref_wav)!r}, ref_text),
                                                        SynthesisOptions(nfe_step=7, seed=1)))
            assert result.duration > 0 and result.ref_text, result
            print(f"duration {{result.duration:.2f}} ref_text {{result.ref_text[:20]!r}}")
    """)
    env = hub_env(
        fresh_hub.url,
        downloaded["hf_home"],
        offline=True,
        F5_MODEL=str(tiny["yaml"]),
        F5_DEVICE="cpu",
        VOICES_DIR=str(downloaded["hf_home"].parent / "voices"),
    )
    for var in ("F5_CKPT", "F5_VOCAB", "F5_VOCODER"):
        env.pop(var, None)
    proc = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    assert proc.stdout.count("duration ") == 2
    assert fresh_hub.log == [], "offline: nothing may reach the hub"


def test_second_download_fetches_nothing(downloaded: dict, fresh_hub: HubServer) -> None:
    assert downloaded["proc"].returncode == 0
    proc = download(fresh_hub.url, downloaded["hf_home"])
    assert_all_ok(proc)
    assert fresh_hub.gets() == [], "already cached: only HEADs (metadata), no file content"
    assert_complete(downloaded["hf_home"], fresh_hub)


def test_failed_run_keeps_finished_files_and_the_next_run_completes(fresh_hub: HubServer, tmp_path: Path) -> None:
    hf_home = tmp_path / "hf"
    fresh_hub.fail_after_bytes[CKPT_KEY] = CUT  # the transfer breaks mid-way...
    fresh_hub.refuse[CKPT_KEY] = 503  # ...and the checkpoint stays unreachable for the rest of the run
    proc = download(fresh_hub.url, hf_home)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "FAILED" in proc.stdout.split("- vocab (")[0], "the checkpoint is the item that failed"
    assert "1 of 5 failed" in proc.stdout
    assert "run `python app.py download` again" in proc.stdout
    assert "Traceback" not in proc.stderr
    assert [e[2] for e in fresh_hub.gets(F5_CKPT)] == [None, f"bytes={CHUNK}-"]
    # huggingface_hub 1.33 writes each transfer to a process-unique temp file and deletes it when the run fails.
    assert not list(hf_home.rglob("*.incomplete"))

    fresh_hub.refuse.clear()
    fresh_hub.clear_log()
    again = download(fresh_hub.url, hf_home)
    assert_all_ok(again)
    assert [e[1].rsplit("/", 2)[-1] for e in fresh_hub.gets()] == [F5_CKPT.rsplit("/", 1)[-1]], (
        "only the missing checkpoint is fetched: finished files are kept"
    )
    assert_complete(hf_home, fresh_hub)


def test_corrupt_cached_files_are_fetched_again(downloaded: dict, fresh_hub: HubServer, tmp_path: Path) -> None:
    assert downloaded["proc"].returncode == 0
    hf_home = tmp_path / "hf"
    shutil.copytree(downloaded["hf_home"], hf_home, symlinks=True)
    corrupt = [(F5_REPO, F5_CKPT), (VOCOS_REPO, "pytorch_model.bin"), (WHISPER_REPO, "model.safetensors")]
    for repo_id, name in corrupt:
        blob = cached(hf_home, fresh_hub, repo_id, name).resolve()
        with open(blob, "r+b") as f:
            f.truncate(blob.stat().st_size // 2)
    proc = download(fresh_hub.url, hf_home)
    assert_all_ok(proc)
    fetched = sorted(e[1].split("/resolve/", 1)[1].split("/", 1)[1] for e in fresh_hub.gets())
    assert fetched == sorted(name for _, name in corrupt), "exactly the corrupt files are fetched again"
    assert_complete(hf_home, fresh_hub)


def test_hub_down_fails_fast_with_advice(hub_down_run: dict) -> None:
    proc = hub_down_run["proc"]
    proc.wait(timeout=90)
    out, err = (hub_down_run[name].read_text() for name in ("stdout", "stderr"))
    assert proc.returncode == 1, out + err
    assert out.index(f"- F5-TTS checkpoint (hf://{F5_REPO}/{F5_CKPT}) ...") < out.index("  FAILED: ")
    assert f"The hub at {hub_down_run['endpoint']} cannot be reached" in out
    assert out.count("  skipped: the hub cannot be reached") == len(ITEMS) - 1, "one try, not one per file"
    assert f"{len(ITEMS)} of {len(ITEMS)} failed" in out
    assert "Check the network (or HF_ENDPOINT" in out and "run `python app.py download` again" in out
    assert "Traceback" not in err
    assert not list(hub_down_run["hf_home"].rglob("*.incomplete"))


def test_engine_with_an_empty_offline_cache_says_to_download(
    tiny: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from huggingface_hub import constants

    from inference import Engine, EngineSettings, ModelUnavailable

    empty = tmp_path / "empty-hub"
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(empty))  # read at call time; this process is offline
    with pytest.raises(ModelUnavailable) as info:
        Engine(EngineSettings(model=str(tiny["yaml"]), voices_dir=tmp_path / "voices")).load()
    message = str(info.value)
    assert f"hf://{F5_REPO}/{F5_CKPT}" in message and str(empty) in message
    assert "python app.py download" in message and "HF_HUB_OFFLINE=1" in message

"""The benchmark harness stays runnable: its scripts lint clean and the GPU script's plumbing works end to end on
tiny weights on the CPU. (Benchmarks report figures; these tests check only that they run and record them.)"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).parent.parent


@pytest.mark.parametrize("script", ["bench/gpu.sh", "bench/gpu_wheels.sh"])
def test_bench_scripts_pass_shellcheck(script: str) -> None:
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        pytest.fail("shellcheck is not installed: run `make test` (it installs it) or apt-get install shellcheck")
    proc = subprocess.run([shellcheck, script], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout


def test_bench_cli_documents_its_options() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "bench", "--help"], cwd=REPO, capture_output=True, text=True, timeout=120, check=True
    ).stdout
    assert "--quick" in out and "--only" in out


def test_gpu_script_runs_and_records_each_figure(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHON": sys.executable, "OUT": str(tmp_path), "GPU_BUDGET": "400"}
    proc = subprocess.run(
        ["bash", "bench/gpu.sh", "--tiny", "--only", "rtf,load,batching"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=420,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    rows = [json.loads(line) for line in (tmp_path / "gpu_results.jsonl").read_text().splitlines()]
    names = [r["name"] for r in rows]
    for expected in (
        "machine",
        "load",
        "RTF NFE 7 (torch.float32)",
        "RTF NFE 32 (torch.float32)",
        "model load, official vs ours",
        "chunk batching, 4 chunks, NFE 16",
    ):
        assert expected in names, names
    assert not [r for r in rows if "failed" in r["summary"]], rows
    rtf = next(r for r in rows if r["name"].startswith("RTF NFE 7"))
    assert rtf["audio_s"] > 1 and all(s > 0 for s in rtf["seconds"])
    assert "| chunk batching, 4 chunks, NFE 16 |" in (tmp_path / "gpu_results.md").read_text()


def test_gpu_script_refuses_an_unknown_section(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHON": sys.executable, "OUT": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-m", "bench.gpu", "--tiny", "--only", "rtff"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode != 0 and "unknown sections ['rtff']" in proc.stdout + proc.stderr


def test_the_launched_app_keeps_the_carried_packages_on_its_path() -> None:
    from bench.gpu import app_env

    env = app_env({"PYTHONPATH": "/tmp/bench-site", "PORT": "80"}, 7861, "tiny", "cpu")
    assert env["PYTHONPATH"].split(os.pathsep) == [str(REPO), "/tmp/bench-site"]
    assert "PORT" not in env and env["GRADIO_SERVER_PORT"] == "7861"
    assert app_env({}, 1, "tiny", "cpu")["PYTHONPATH"] == str(REPO)


def test_gpu_script_stops_before_gpu_time_when_an_import_fails(tmp_path: Path) -> None:
    """A package that refuses to import (as transformers does beside a too-new huggingface_hub) is named by the
    preflight, and gpu.sh stops there, before building weights or measuring."""
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    (shadow / "transformers.py").write_text("raise ImportError('huggingface-hub>=1.3.0,<2.0 is required')\n")
    out = tmp_path / "out"
    env = {**os.environ, "PYTHON": sys.executable, "OUT": str(out), "PYTHONPATH": str(shadow)}
    proc = subprocess.run(["bash", "bench/gpu.sh"], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 3, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "official pipeline: import transformers failed" in proc.stdout
    assert "building full-size random weights" not in proc.stdout and not (out / "gpu_results.jsonl").exists()


def test_gpu_preflight_passes_without_the_trainers_packages(tmp_path: Path) -> None:
    """The device image has no wandb or datasets (f5_tts.model/__init__ imports them for its trainer): the preflight
    imports f5_tts's model code as the engine does, so it passes there instead of stopping a run that would work."""
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    for name in ("wandb", "datasets"):
        (shadow / f"{name}.py").write_text(f"raise ModuleNotFoundError(\"No module named '{name}'\")\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(shadow)])}
    proc = subprocess.run(
        [sys.executable, "bench/gpu_preflight.py"], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "every section's imports work" in proc.stdout


def test_gpu_wheels_pins_the_hub_the_device_image_has() -> None:
    script = (REPO / "bench" / "gpu_wheels.sh").read_text()
    assert "huggingface_hub==1.33.0" in script and '"$DIR"/huggingface_hub-*.whl' in script


def test_abuse_bench_runs_briefly_and_reports_each_attack() -> None:
    """bench.abuse, a few seconds and three cheap attacks: honest visitors answered, each attack's row filled."""
    only = "latin1 transcript,long renames,anonymous gradio_api"
    proc = subprocess.run(
        [sys.executable, "-m", "bench.abuse", "--seconds", "3", "--visitors", "2", "--only", only, "--no-write"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    rows = {
        cells[0]: cells[1:]
        for line in proc.stdout.splitlines()
        if line.startswith("| ") and not line.startswith("| attack")
        for cells in [[c.strip() for c in line.strip("|").split("|")]]
    }
    assert list(rows) == only.split(",")
    requests, held, refused = (int(v) for v in rows["long renames"][:3])
    assert requests == refused == 3 and held == 0  # over-long names are refused
    assert rows["latin1 transcript"][:2] == ["2", "2"] and "Voilà" in rows["latin1 transcript"][-1]
    assert "0 failed" in proc.stdout and "/health:" in proc.stdout and "App RSS" in proc.stdout


def test_crash_bench_runs_briefly_and_counts_nothing_lost() -> None:
    """bench.projects_crash, two kills of a small project's studio process: it runs, and the store loses, duplicates
    and half-writes nothing (the bench exits 1 when it counts any)."""
    proc = subprocess.run(
        [sys.executable, "-m", "bench.projects_crash", "--kills", "2", "--segments", "8", "--max-delay", "1"]
        + ["--no-write"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    rows = {line.split("|")[1].strip(): line.split("|")[2].strip() for line in proc.stdout.splitlines() if "| " in line}
    lost = next(v for k, v in rows.items() if k.startswith("lost"))
    assert rows["segments"] == "8" and lost == "0", rows

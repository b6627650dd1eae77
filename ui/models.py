"""The model section: what this studio runs, and the community models an operator can switch to.

The list is read from SHARED.md, which f5-tts ships, so it follows the installed version. Switching is an
operator's choice made at start-up (F5_MODEL, F5_CKPT, F5_VOCAB), never one visitor's choice for everyone.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from inference import EngineSettings


@dataclass(frozen=True)
class CommunityModel:
    language: str  # the SHARED.md section, e.g. "French"
    title: str  # e.g. "F5-TTS Base @ fr @ RASPIAUDIO"
    ckpt: str  # hf:// URL
    vocab: str  # hf:// URL
    config: str  # the shipped config whose arch matches (F5_MODEL), or "" when none does


def shipped_archs() -> dict[str, dict]:
    folder = Path(str(files("f5_tts").joinpath("configs")))
    return {p.stem: yaml.safe_load(p.read_text())["model"]["arch"] for p in sorted(folder.glob("*.yaml"))}


DIT_DEFAULTS = {"text_mask_padding": True, "pe_attn_head": None, "qk_norm": None}  # what an omitted key means


def matching_config(arch: dict, archs: dict[str, dict]) -> str:
    """The shipped config whose arch agrees with the given one (omitted keys take DiT's defaults):
    {"dim": 768, "depth": 18, ...} -> "F5TTS_Small"."""
    full = {**DIT_DEFAULTS, **arch}
    for name, shipped in archs.items():
        if all(shipped.get(k, DIT_DEFAULTS.get(k)) == v for k, v in full.items()):
            return name
    return ""


def community_models(shared_md: str | None = None) -> list[CommunityModel]:
    """Entries with an hf:// checkpoint and vocab in f5-tts's SHARED.md (languages, authors, configs)."""
    text = shared_md if shared_md is not None else files("f5_tts").joinpath("infer/SHARED.md").read_text("utf-8")
    archs = shipped_archs()
    out, language, title = [], "", ""
    ckpt = vocab = None
    for line in text.splitlines():
        if line.startswith("## "):
            language = line[3:].strip()
        elif line.startswith("#### "):
            title, ckpt, vocab = line[5:].strip(), None, None
        elif m := re.match(r"^Model:\s*(hf://\S+)", line):
            ckpt = m.group(1)
        elif m := re.match(r"^Vocab:\s*(hf://\S+)", line):
            vocab = m.group(1)
        elif (m := re.match(r"^Config:\s*(\{.*\})", line)) and ckpt and vocab:
            try:
                arch = ast.literal_eval(m.group(1).replace("false", "False").replace("true", "True"))
            except (ValueError, SyntaxError):
                arch = {}
            out.append(CommunityModel(language, title, ckpt, vocab, matching_config(arch, archs)))
            ckpt = vocab = None
    return out


LOOPBACK = {"127.0.0.1", "::1", "localhost"}
VISITOR_MODEL_MARKDOWN = (
    "The operator chooses the model when starting the studio; a visitor cannot change it for everyone. Opened on "
    "the studio's own machine (http://127.0.0.1), this panel shows what runs and the community models to switch to."
)


def is_operator(client_host: str | None, host_header: str | None) -> bool:
    """The operator is who opens the studio on its own machine: the connection comes from a loopback address and
    the page was asked for by a loopback name. A share link (Host: *.gradio.live, tunnelled from localhost) or a
    proxy (RunPod's *.proxy.runpod.net) is a visitor, whatever the login.

    >>> is_operator("127.0.0.1", "127.0.0.1:7860"), is_operator("127.0.0.1", "abc.gradio.live")
    (True, False)
    """
    name = urlsplit(f"//{host_header or ''}").hostname or ""
    return (client_host or "") in LOOPBACK and name in LOOPBACK


def current_model_markdown(settings: EngineSettings) -> str:
    return (
        f"**Running:** `F5_MODEL={settings.model}` · `F5_CKPT={settings.ckpt}` · `F5_VOCAB={settings.vocab}` · "
        f"`F5_VOCODER={settings.vocoder}` · device `{settings.device}`\n\n"
        "To switch, the operator restarts the studio with other values (env vars or `--model/--ckpt/--vocab`); "
        "a visitor cannot change the model for everyone. Community models for other languages:"
    )


def community_rows() -> list[list[str]]:
    return [[m.language, m.title, m.config, m.ckpt, m.vocab] for m in community_models()]

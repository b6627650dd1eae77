"""A random-weight Whisper, built fully offline: tiny for the tests of `inference.model.asr`, or with a real model's
shapes for benchmarks (TURBO: whisper-large-v3-turbo's, for bench/guard_cost.py).

`build_tiny_whisper(out_dir)` writes a folder that `transformers.pipeline("automatic-speech-recognition", model=...)`
loads like a real checkpoint: config + safetensors weights, generation_config.json, a WhisperFeatureExtractor
(80 mel bins, 16 kHz, 30 s windows) and a byte-level BPE tokenizer made here from the 256 byte symbols (no merges)
plus Whisper's special tokens and its 1501 timestamp tokens. Its output is noise text, which is all the tests need.

`install_into_hf_cache(src_dir, hf_home)` lays such a folder out as the Hugging Face hub cache does
(`<hf_home>/hub/models--org--name/snapshots/<commit>/...` + `refs/main`), so that with HF_HOME=<hf_home> and
HF_HUB_OFFLINE=1 a repo id such as "openai/whisper-large-v3-turbo" resolves to it without any network.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

# Whisper's language tokens come right after <|startoftranscript|>; a handful is enough for tests.
LANGUAGES = ("en", "de", "fr", "es", "it", "zh", "ja")
TASKS = ("translate", "transcribe")
N_TIMESTAMPS = 1501  # <|0.00|> to <|30.00|> in 20 ms steps


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2 / Whisper byte-level alphabet: every byte maps to one printable unicode character."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs), strict=True))


def _special_tokens() -> list[str]:
    """Whisper's special tokens, in Whisper's order (endoftext, sot, languages, tasks, ..., notimestamps)."""
    return [
        "<|endoftext|>",
        "<|startoftranscript|>",
        *(f"<|{lang}|>" for lang in LANGUAGES),
        "<|translate|>",
        "<|transcribe|>",
        "<|startoflm|>",
        "<|startofprev|>",
        "<|nospeech|>",
        "<|notimestamps|>",
    ]


TINY = {
    "num_mel_bins": 80,
    "d_model": 32,
    "encoder_layers": 1,
    "decoder_layers": 1,
    "encoder_attention_heads": 2,
    "decoder_attention_heads": 2,
    "encoder_ffn_dim": 64,
    "decoder_ffn_dim": 64,
}
# whisper-large-v3-turbo's shapes (809 M parameters): 32 encoder and 4 decoder layers, d_model 1280, 128 mel bins,
# its 51866-entry vocabulary (the ids past this tokenizer's are never generated: suppressed)
TURBO = {
    "num_mel_bins": 128,
    "d_model": 1280,
    "encoder_layers": 32,
    "decoder_layers": 4,
    "encoder_attention_heads": 20,
    "decoder_attention_heads": 20,
    "encoder_ffn_dim": 5120,
    "decoder_ffn_dim": 5120,
    "vocab_size": 51866,
}


def _byte_tokenizer(out_dir: Path) -> tuple[Any, dict[str, int], dict[str, int]]:
    """Whisper's tokenizer, saved into out_dir: (tokenizer, special token -> id, byte symbol -> id). Byte-level BPE
    over the 256 byte symbols, no merges (each byte is a token), so any text round-trips."""
    from tokenizers import AddedToken
    from transformers import WhisperTokenizer

    byte_vocab = {ch: i for i, ch in enumerate(sorted(_bytes_to_unicode().values(), key=ord))}
    specials = _special_tokens()
    tokenizer = WhisperTokenizer(vocab=dict(byte_vocab), merges=[])
    tokenizer.add_special_tokens(
        {"extra_special_tokens": [AddedToken(t, special=True, normalized=False) for t in specials[1:]]},
        replace_extra_special_tokens=True,
    )
    ids: dict[str, int] = {t: tokenizer.convert_tokens_to_ids(t) for t in specials}  # type: ignore[misc]
    assert ids["<|endoftext|>"] == len(byte_vocab), ids  # unk/bos/eos are registered first by the constructor
    assert sorted(ids.values()) == list(range(len(byte_vocab), len(byte_vocab) + len(specials))), ids
    # Timestamp tokens <|0.00|> ... <|30.00|> follow the special tokens, as in Whisper v3 (plain added tokens).
    tokenizer.add_tokens([AddedToken(f"<|{i * 0.02:.2f}|>", normalized=False) for i in range(N_TIMESTAMPS)])
    tokenizer.save_pretrained(out_dir)
    return tokenizer, ids, byte_vocab


# long: one model built in the order transformers needs (config, weights, generation config, features), read top down
def build_tiny_whisper(out_dir: Path, dims: dict | None = None) -> Path:
    """Build and save a random Whisper (model, feature extractor, tokenizer, generation config) into out_dir: tiny,
    or with `dims` (e.g. TURBO) for its config."""
    import torch
    from transformers import GenerationConfig, WhisperConfig, WhisperFeatureExtractor, WhisperForConditionalGeneration

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tokenizer, ids, byte_vocab = _byte_tokenizer(out_dir)
    eot, sot = ids["<|endoftext|>"], ids["<|startoftranscript|>"]
    n_tokens = len(tokenizer)
    shape = {**TINY, "vocab_size": n_tokens, **(dims or {})}
    vocab_size = shape["vocab_size"]
    config = WhisperConfig(
        **shape,
        max_source_positions=1500,  # 30 s of 10 ms frames, halved by the conv stride: the real Whisper layout
        max_target_positions=448,
        pad_token_id=eot,
        bos_token_id=eot,
        eos_token_id=eot,
        decoder_start_token_id=sot,
        begin_suppress_tokens=None,
        suppress_tokens=None,
    )
    torch.manual_seed(0)
    model = WhisperForConditionalGeneration(config).eval()
    with torch.no_grad():
        # Zero output rows give EOT and the timestamp tokens a logit of 0, while some of the 256 byte tokens almost
        # surely score higher: greedy decoding then emits text (never timestamps, as a trained Whisper would after
        # <|notimestamps|>) and never stops early, so tests see non-empty text and the max_new_tokens cap at work.
        model.get_output_embeddings().weight[eot].zero_()
        model.get_output_embeddings().weight[n_tokens - N_TIMESTAMPS : n_tokens].zero_()
    model.generation_config = GenerationConfig(
        bos_token_id=eot,
        eos_token_id=eot,
        pad_token_id=eot,
        decoder_start_token_id=sot,
        max_length=448,
        is_multilingual=True,
        lang_to_id={f"<|{lang}|>": ids[f"<|{lang}|>"] for lang in LANGUAGES},
        task_to_id={task: ids[f"<|{task}|>"] for task in TASKS},
        no_timestamps_token_id=ids["<|notimestamps|>"],
        prev_sot_token_id=ids["<|startofprev|>"],
        begin_suppress_tokens=[byte_vocab["Ġ"], eot],
        suppress_tokens=list(range(n_tokens, vocab_size)),  # ids this tokenizer does not have
        return_timestamps=False,
        alignment_heads=[[0, 0], [0, 1]],  # (layer, head) pairs whose cross-attention gives word times
    )
    model.save_pretrained(out_dir)

    WhisperFeatureExtractor(feature_size=shape["num_mel_bins"], sampling_rate=16000, chunk_length=30).save_pretrained(
        out_dir
    )
    return out_dir


def install_into_hf_cache(src_dir: Path, hf_home: Path, repo_id: str = "openai/whisper-large-v3-turbo") -> None:
    """Copy the files of src_dir into <hf_home>/hub in the hub cache layout, as if `repo_id` had been downloaded."""
    src_dir, hf_home = Path(src_dir), Path(hf_home)
    repo_dir = hf_home / "hub" / ("models--" + repo_id.replace("/", "--"))
    commit = hashlib.sha1(f"tiny-whisper:{repo_id}".encode()).hexdigest()  # any 40-hex string does
    snapshot = repo_dir / "snapshots" / commit
    blobs = repo_dir / "blobs"
    snapshot.mkdir(parents=True, exist_ok=True)
    blobs.mkdir(parents=True, exist_ok=True)
    for src in sorted(p for p in src_dir.rglob("*") if p.is_file()):
        digest = hashlib.sha256(src.read_bytes()).hexdigest()
        blob = blobs / digest
        if not blob.exists():
            shutil.copyfile(src, blob)
        dest = snapshot / src.relative_to(src_dir)
        dest.parent.mkdir(parents=True, exist_ok=True)
        if dest.exists() or dest.is_symlink():
            dest.unlink()
        try:  # the real cache links snapshot files to blobs; fall back to copies where links are not allowed
            dest.symlink_to(Path(*[".."] * (len(dest.relative_to(snapshot).parts) + 1), "blobs", digest))
        except OSError:
            shutil.copyfile(src, dest)
    (repo_dir / "refs").mkdir(parents=True, exist_ok=True)
    (repo_dir / "refs" / "main").write_text(commit)

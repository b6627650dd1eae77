from __future__ import annotations

from pathlib import Path

import pytest

from inference import InputError, Settings
from inference.settings import DEFAULT_CKPT


def test_defaults_are_the_official_model() -> None:
    s = Settings.from_env({})
    assert (s.model, s.ckpt, s.host, s.port, s.preload) == ("F5TTS_v1_Base", DEFAULT_CKPT, "127.0.0.1", 7860, False)


def test_env_names_and_cli_overrides() -> None:
    env = {"F5_MODEL": "F5TTS_Base", "F5_CKPT": "/m.pt", "F5_VOCAB": "/v.txt", "F5_VOCODER": "/voc",
           "GRADIO_SERVER_NAME": "0.0.0.0", "GRADIO_SERVER_PORT": "9000", "F5_PRELOAD": "yes", "VOICES_DIR": "/vv"}
    s = Settings.from_env(env)
    assert (s.model, s.ckpt, s.vocab, s.vocoder, s.host, s.port, s.preload, s.voices_dir) == (
        "F5TTS_Base", "/m.pt", "/v.txt", "/voc", "0.0.0.0", 9000, True, Path("/vv"))
    assert Settings.from_env(env, port=1234, ckpt=None).port == 1234
    assert Settings.from_env(env, port=1234, ckpt=None).ckpt == "/m.pt"


def test_compile_is_off_unless_asked() -> None:
    assert Settings.from_env({}).compile is False
    assert Settings.from_env({"F5_COMPILE": "1"}).compile is True
    assert Settings.from_env({"F5_COMPILE": "1"}, compile=None).compile is True  # no --compile flag: env stands
    from app import parse_args, settings_from

    assert settings_from(parse_args(["--compile"])).compile is True


@pytest.mark.parametrize(("env", "words"), [
    ({"GRADIO_SERVER_PORT": "http"}, "whole number"),
    ({"GRADIO_SERVER_PORT": "70000"}, "out of range"),
    ({"F5_PRELOAD": "maybe"}, "yes/no"),
    ({"F5_COMPILE": "sometimes"}, "yes/no"),
    ({"F5_DEVICE": "tpu"}, "not a device"),
])
def test_bad_values_say_what_is_wrong(env: dict, words: str) -> None:
    with pytest.raises(InputError, match=words):
        Settings.from_env(env)

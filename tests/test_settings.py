"""Settings: each field names its environment variable; one reader, one yes/no parser, messages that say what to do."""

from __future__ import annotations

from pathlib import Path

import pytest

from app import ServerSettings, parse_args, settings_from
from inference import EngineSettings, InputError
from inference.settings import DEFAULT_CKPT, env_names, from_env, parse_bool
from serverless.handler import WorkerSettings


def test_defaults_are_the_official_model() -> None:
    s, server = EngineSettings.from_env({}), from_env(ServerSettings, {})
    assert (s.model, s.ckpt, s.preload) == ("F5TTS_v1_Base", DEFAULT_CKPT, False)
    assert (server.host, server.port, server.health_port) == ("127.0.0.1", 7860, None)


def test_env_names_and_cli_overrides() -> None:
    env = {
        "F5_MODEL": "F5TTS_Base",
        "F5_CKPT": "/m.pt",
        "F5_VOCAB": "/v.txt",
        "F5_VOCODER": "/voc",
        "GRADIO_SERVER_NAME": "0.0.0.0",
        "GRADIO_SERVER_PORT": "9000",
        "F5_PRELOAD": "yes",
        "VOICES_DIR": "/vv",
    }
    s, server = EngineSettings.from_env(env), from_env(ServerSettings, env)
    assert (s.model, s.ckpt, s.vocab, s.vocoder, s.preload, s.voices_dir) == (
        "F5TTS_Base",
        "/m.pt",
        "/v.txt",
        "/voc",
        True,
        Path("/vv"),
    )
    assert (server.host, server.port) == ("0.0.0.0", 9000)
    assert from_env(ServerSettings, env, port=1234).port == 1234
    assert EngineSettings.from_env(env, ckpt=None).ckpt == "/m.pt"


def test_runpod_port_wins_over_gradio_port() -> None:
    """RunPod's load balancer sets PORT (and PORT_HEALTH); the image sets GRADIO_SERVER_PORT."""
    server = from_env(ServerSettings, {"PORT": "80", "GRADIO_SERVER_PORT": "7860", "PORT_HEALTH": "8081"})
    assert (server.port, server.health_port) == (80, 8081)


def test_compile_is_off_unless_asked() -> None:
    assert EngineSettings.from_env({}).compile is False
    assert EngineSettings.from_env({"F5_COMPILE": "1"}).compile is True
    assert EngineSettings.from_env({"F5_COMPILE": "1"}, compile=None).compile is True  # no --compile flag: env stands
    assert settings_from(parse_args(["--compile"]))[1].compile is True


@pytest.mark.parametrize(
    ("cls", "env", "words"),
    [
        (ServerSettings, {"GRADIO_SERVER_PORT": "http"}, "GRADIO_SERVER_PORT='http' is not a whole number"),
        (ServerSettings, {"GRADIO_SERVER_PORT": "70000"}, "out of range"),
        (ServerSettings, {"PORT": "0"}, "PORT=0 is out of range"),
        (ServerSettings, {"F5_SHARE": "maybe"}, "F5_SHARE='maybe' is not a yes/no value"),  # was read as off, silently
        (ServerSettings, {"STUDIO_AUTH": "nopassword"}, "user:password"),
        (EngineSettings, {"F5_PRELOAD": "maybe"}, "yes/no"),
        (EngineSettings, {"F5_COMPILE": "sometimes"}, "yes/no"),
        (EngineSettings, {"F5_DEVICE": "tpu"}, "not a device"),
        (EngineSettings, {"F5_DEVICE": "gpu"}, "Use auto, cpu, cuda or cuda:N"),
        (EngineSettings, {"F5_DTYPE": "int8"}, "not a precision"),
        (EngineSettings, {"F5_BATCH_SIZE": "-1"}, "out of range"),
        (EngineSettings, {"F5_CONCURRENCY": "lots"}, "F5_CONCURRENCY='lots' is not a whole number"),
        (WorkerSettings, {"RUNPOD_MAX_PAYLOAD_MB": "ten"}, "RUNPOD_MAX_PAYLOAD_MB='ten' is not a number"),
        (WorkerSettings, {"RUNPOD_MAX_OUTPUT_MB": "0"}, "out of range"),
    ],
)
def test_bad_values_say_what_is_wrong(cls: type, env: dict, words: str) -> None:
    with pytest.raises(InputError, match=words):
        from_env(cls, env)


def test_a_cli_flag_is_checked_like_the_environment() -> None:
    with pytest.raises(InputError, match="not a device"):
        EngineSettings.from_env({}, device="gpu")


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("1", True),
        ("TRUE", True),
        (" yes ", True),
        ("on", True),
        ("0", False),
        ("false", False),
        ("No", False),
        ("off", False),
        ("", False),
    ],
)
def test_one_yes_no_parser(raw: str, value: bool) -> None:
    assert parse_bool("X", raw) is value
    assert from_env(ServerSettings, {"F5_MCP": raw}).mcp is value


def test_every_variable_is_read_once_and_documented() -> None:
    """No variable is read by two fields, and the README's configuration tables name every one."""
    names = [
        n
        for cls in (EngineSettings, ServerSettings, WorkerSettings)
        for v in env_names(cls).values()
        for n in ((v,) if isinstance(v, str) else v)
    ]
    assert len(names) == len(set(names)), sorted(names)
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert [n for n in names if f"`{n}`" not in readme] == []


def test_secrets_come_from_files_and_are_never_printed(tmp_path: Path) -> None:
    secret = tmp_path / "token"
    secret.write_text("s3cr3t\n")
    server = from_env(ServerSettings, {"STUDIO_API_TOKEN_FILE": str(secret), "STUDIO_AUTH": "ann:pw"})
    assert server.api_token == "s3cr3t" and server.auth == ("ann", "pw")
    assert "s3cr3t" not in repr(server) and "pw" not in repr(server) and "s3cr3t" not in repr(server.access)

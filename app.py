"""F5 Voice Studio: `python app.py` (or `f5-studio serve`) serves the UI and REST API; `download` fetches the weights.

The server answers within seconds: no model code is imported and no weights are loaded until the first
generation (or in the background with --preload).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no phoning home: it also slows start-up offline

from api.auth import Access
from inference import Engine, EngineSettings, InputError, Studio, StudioError, env, from_env

log = logging.getLogger("studio")
SHUTDOWN_GRACE_S = 5  # after SIGTERM, requests in flight get this long before the server stops
# an idle kept-alive connection stays open this long: longer than the pools of HTTP clients (httpx, aiohttp, urllib3:
# about 5 s, uvicorn's own default) and of proxies, so a client never reuses a connection the server is closing at
# that very moment ("Server disconnected without sending a response")
KEEP_ALIVE_S = 75


def _user_password(name: str, raw: str) -> tuple[str, str]:
    user, sep, password = raw.partition(":")
    if not sep or not user or not password:
        raise InputError(f"{name} must look like user:password.", "Set both, separated by a colon.")
    return user, password


@dataclass(frozen=True)
class ServerSettings:
    """The server's own concerns: where it listens, who may come in, what it exposes. The engine's are in
    inference/settings.py."""

    host: str = env("GRADIO_SERVER_NAME", "127.0.0.1")  # Gradio's own variable names, so its docs apply
    port: int = env(("PORT", "GRADIO_SERVER_PORT"), 7860, low=1, high=65535)  # PORT: RunPod's load balancer
    health_port: int | None = env("PORT_HEALTH", None, low=1, high=65535)  # /ping and /health on a port of their own
    share: bool = env("F5_SHARE", False)  # create a public *.gradio.live link as well
    mcp: bool = env("F5_MCP", False)  # expose the named endpoints as MCP tools (Gradio's MCP server)
    queue_max: int = env("F5_QUEUE_MAX", 32, low=1, high=10_000)  # generations waiting at once, then "busy"
    allow_remote_urls: bool = env("F5_ALLOW_REMOTE_URLS", False)  # let clients pass http(s) URLs for files
    max_body_kb: int = env("F5_MAX_BODY_KB", 1024, low=16, high=10_000_000)  # a request body other than an upload
    runpod_pod_id: str = env("RUNPOD_POD_ID", "")  # set by RunPod on a pod: the studio is public there
    # Secrets: never printed (repr=False), never logged, never in /health.
    auth: tuple[str, str] | None = env("STUDIO_AUTH", None, secret=True, parse=_user_password)  # UI login
    api_token: str | None = env("STUDIO_API_TOKEN", None, secret=True)  # bearer token for REST

    @property
    def access(self) -> Access:
        return Access(self.auth, self.api_token)

    @property
    def public(self) -> bool:
        return self.share or self.host in ("0.0.0.0", "::") or bool(self.runpod_pod_id)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("command", nargs="?", choices=["serve", "download"], default="serve")
    p.add_argument("--host", help="address to listen on (GRADIO_SERVER_NAME, default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (PORT or GRADIO_SERVER_PORT, default 7860)")
    p.add_argument("--share", action="store_true", default=None, help="also create a public gradio.live link")
    p.add_argument(
        "--preload", action="store_true", default=None, help="load the model in the background at start (F5_PRELOAD=1)"
    )
    p.add_argument(
        "--compile",
        action="store_true",
        default=None,
        help="torch.compile the model in the background, serving uncompiled meanwhile (F5_COMPILE=1; cached in "
        "F5_COMPILE_CACHE): minutes on a GPU the first time, then much faster generation",
    )
    p.add_argument("--mcp", action="store_true", default=None, help="expose synthesis as an MCP tool (F5_MCP=1)")
    p.add_argument("--model", help="f5-tts config name or YAML path (F5_MODEL, default F5TTS_v1_Base)")
    p.add_argument("--ckpt", help="checkpoint path or hf:// URL (F5_CKPT)")
    p.add_argument("--vocab", help="vocab path or hf:// URL (F5_VOCAB)")
    p.add_argument("--vocoder", help="local Vocos folder or hf:// repo (F5_VOCODER)")
    p.add_argument("--device", help="auto, cpu, cuda or cuda:N (F5_DEVICE)")
    return p.parse_args(argv)


def settings_from(args: argparse.Namespace) -> tuple[ServerSettings, EngineSettings]:
    """Both settings, from the environment with the CLI flags on top."""
    server = from_env(ServerSettings, host=args.host, port=args.port, share=args.share, mcp=args.mcp)
    engine = EngineSettings.from_env(
        preload=args.preload,
        compile=args.compile,
        model=args.model,
        ckpt=args.ckpt,
        vocab=args.vocab,
        vocoder=args.vocoder,
        device=args.device,
    )
    return server, engine


def create_app(settings: ServerSettings, studio: Studio) -> tuple[Any, Any]:
    """One FastAPI app over the studio: REST routes first, then the Gradio UI mounted at '/'. Returns (app, blocks)."""
    from ui.gradio_import import skip_stub_regeneration

    skip_stub_regeneration()  # before gradio is imported: about 1 s less before the UI answers
    from fastapi import FastAPI

    from api.auth import RestAuth
    from api.bodylimit import BodyLimit
    from api.consent import consent_router
    from api.detect import detect_router
    from api.health import health_router
    from api.metrics import metrics_router
    from api.openai import openai_router
    from api.projects import projects_router
    from api.voices import voices_router
    from ui import build_ui, mount, queue_depth

    audit = studio.start_audit(login=settings.access.protected, name="studio")  # F5_AUDIT: with a login, by default
    if audit is not None:
        log.info("audit log: %s", audit)
    app = FastAPI(title="F5 Voice Studio", docs_url="/docs")
    app.add_middleware(RestAuth, access=settings.access)
    max_upload = studio.settings.max_upload_mb * 1024 * 1024
    app.add_middleware(BodyLimit, max_body=settings.max_body_kb * 1024, max_upload=max_upload)  # every route
    app.include_router(health_router(studio, settings.access))
    app.include_router(openai_router(studio, max_in_progress=settings.queue_max))
    app.include_router(voices_router(studio))
    app.include_router(consent_router(studio))
    app.include_router(projects_router(studio))
    app.include_router(detect_router(studio))
    threading.Thread(target=studio.resume_projects, name="projects-start", daemon=True).start()
    demo = build_ui(studio)
    # generations run at once, each taking turns in the engine; the queue holds the others, and says so
    demo.queue(default_concurrency_limit=studio.concurrency(), max_size=settings.queue_max)
    app.include_router(metrics_router(studio, queue_depth=lambda: queue_depth(demo)))
    app = mount(
        app,
        demo,
        auth=settings.auth,
        max_file_size=max_upload,
        mcp=settings.mcp,
        allow_remote_urls=settings.allow_remote_urls,
        credentials=settings.access.header(),
    )
    app.state.studio = studio
    return app, demo


def warn_if_public(settings: ServerSettings) -> None:
    if not settings.public:
        return
    if not settings.access.protected:
        log.warning("!" * 78)
        log.warning("THIS STUDIO IS PUBLICLY REACHABLE WITHOUT A LOGIN: anyone with the URL can clone voices with it")
        log.warning("and use your GPU. Set STUDIO_AUTH=user:password (and STUDIO_API_TOKEN for REST).")
        log.warning("!" * 78)
    elif settings.access.token_only:
        log.warning(
            "Public with STUDIO_API_TOKEN only: the UI, /gradio_api and REST all need 'Authorization: Bearer <token>', "
            "so browsers cannot use the UI. Set STUDIO_AUTH=user:password for a browser login."
        )


def open_share_link(demo: Any, settings: ServerSettings, server: Any) -> None:
    """Ask Gradio's share server for a public tunnel once uvicorn is up; offline, say so and keep serving."""
    from gradio import networking

    while not server.started:
        time.sleep(0.1)
    try:
        url = networking.setup_tunnel(
            local_host="127.0.0.1",
            local_port=settings.port,
            share_token=demo.share_token,
            share_server_address=None,
            share_server_tls_certificate=None,
        )
        demo.share_url = url
        log.info("public share link: %s (temporary, up to 1 week)", url)
    except Exception as e:
        log.warning(
            "Could not create a share link (%s: %s). The studio is still serving locally on "
            "http://%s:%d; check the internet connection to get a public link.",
            type(e).__name__,
            e,
            settings.host,
            settings.port,
        )


def health_server(settings: ServerSettings, studio: Studio, port: int) -> Any:
    """RunPod's load balancer may probe /ping on a port of its own (PORT_HEALTH): a second small server for it, on
    `port`."""
    import uvicorn
    from fastapi import FastAPI

    from api.health import health_router

    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.include_router(health_router(studio, settings.access))
    config = uvicorn.Config(app, host=settings.host, port=port, log_level="warning", timeout_keep_alive=KEEP_ALIVE_S)
    return uvicorn.Server(config)


def studio_server(demo: Any, config: Any) -> Any:
    """uvicorn, stopping promptly on SIGTERM (docker stop, a pod stopping) before the SIGKILL 10 s later: every open
    browser tab holds a Gradio heartbeat stream that a graceful shutdown would wait for forever, so the signal ends
    those streams (ui.end_sessions), and requests still running after SHUTDOWN_GRACE_S are cancelled."""
    import uvicorn

    from ui import end_sessions

    class StudioServer(uvicorn.Server):
        def handle_exit(self, sig: int, frame: Any) -> None:
            end_sessions(demo)
            super().handle_exit(sig, frame)

    return StudioServer(config)


def serve(settings: ServerSettings, engine_settings: EngineSettings) -> None:
    import uvicorn

    from serverless.endpoint import connect  # F5_RENDER_ENDPOINT: projects render on a RunPod endpoint

    studio = Studio(Engine(engine_settings), render_endpoint=connect(engine_settings))
    app, demo = create_app(settings, studio)
    warn_if_public(settings)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level="warning",
        timeout_graceful_shutdown=SHUTDOWN_GRACE_S,
        timeout_keep_alive=KEEP_ALIVE_S,
    )
    server = studio_server(demo, config)
    if settings.share:
        threading.Thread(target=open_share_link, args=(demo, settings, server), daemon=True).start()
    health_port = settings.health_port  # None (PORT_HEALTH unset): /ping is served on the studio's own port only
    if health_port is not None and health_port != settings.port:
        threading.Thread(target=health_server(settings, studio, health_port).run, name="health", daemon=True).start()
        log.info("health checks on http://%s:%d/ping", settings.host, health_port)
    if engine_settings.preload:
        studio.preload()
    log.info("serving on http://%s:%d", settings.host, settings.port)
    server.run()


def download(settings: EngineSettings, say: Callable[[str], None] = print) -> int:
    """`python app.py download`: fetch and verify every weight, saying how each went; returns the exit code (0 when
    everything is present and sound). Once the hub proves unreachable, the remaining hub files are skipped rather than
    each retried through huggingface_hub's retries (~25 s each)."""
    from huggingface_hub import constants

    from inference import download_jobs, unreachable

    say(f"Hugging Face cache: {constants.HF_HUB_CACHE}")
    todo = download_jobs(settings)
    failures, hub_down = [], False
    for label, job, on_hub in todo:
        say(f"- {label} ...")
        if hub_down and on_hub:
            failures.append(label)
            say("  skipped: the hub cannot be reached")
            continue
        try:
            path = job()
        except Exception as e:
            failures.append(label)
            say(f"  FAILED: {type(e).__name__}: {str(e)[:300]}")
            if on_hub and unreachable(e):
                hub_down = True
                say(f"  The hub at {constants.ENDPOINT} cannot be reached: the other hub files are skipped.")
            continue
        say(f"  ok: {path}")
    if failures:
        say(
            f"{len(failures)} of {len(todo)} failed. Check the network (or HF_ENDPOINT / HF_TOKEN) and run "
            "`python app.py download` again: finished files are kept."
        )
        return 1
    say(f"All {len(todo)} present and verified.")
    return 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        args = parse_args(argv)
        server, engine = settings_from(args)
        if args.command == "download":
            return download(engine)
        serve(server, engine)
    except StudioError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

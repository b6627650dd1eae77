"""F5 Voice Studio: `python app.py` serves the UI and REST API; `python app.py download` fetches the weights.

The server answers within seconds: no model code is imported and no weights are loaded until the first
generation (or in the background with --preload).
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
import threading
import time
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no phoning home: it also slows start-up offline

from inference import Engine, Settings, StudioError  # noqa: E402  (light: no torch, no model code)

log = logging.getLogger("studio")
SHUTDOWN_GRACE_S = 5  # after SIGTERM, requests in flight get this long before the server stops


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("command", nargs="?", choices=["serve", "download"], default="serve")
    p.add_argument("--host", help="address to listen on (GRADIO_SERVER_NAME, default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (GRADIO_SERVER_PORT, default 7860)")
    p.add_argument("--share", action="store_true", default=None, help="also create a public gradio.live link")
    p.add_argument("--preload", action="store_true", default=None, help="load the model in the background at start "
                   "(F5_PRELOAD=1)")
    p.add_argument("--compile", action="store_true", default=None, help="torch.compile the model when it loads "
                   "(F5_COMPILE=1): about a minute more loading, then much faster generation on a GPU")
    p.add_argument("--mcp", action="store_true", default=None, help="expose synthesis as an MCP tool (F5_MCP=1)")
    p.add_argument("--model", help="f5-tts config name or YAML path (F5_MODEL, default F5TTS_v1_Base)")
    p.add_argument("--ckpt", help="checkpoint path or hf:// URL (F5_CKPT)")
    p.add_argument("--vocab", help="vocab path or hf:// URL (F5_VOCAB)")
    p.add_argument("--vocoder", help="local Vocos folder or hf:// repo (F5_VOCODER)")
    p.add_argument("--device", help="auto, cpu, cuda or cuda:N (F5_DEVICE)")
    return p.parse_args(argv)


def settings_from(args: argparse.Namespace) -> Settings:
    return Settings.from_env(host=args.host, port=args.port, share=args.share, preload=args.preload, mcp=args.mcp,
                             compile=args.compile,
                             model=args.model, ckpt=args.ckpt, vocab=args.vocab, vocoder=args.vocoder,
                             device=args.device)


def create_app(settings: Settings, engine: Engine | None = None) -> tuple[Any, Any]:
    """One FastAPI app: REST routes first, then the Gradio UI mounted at '/'. Returns (app, blocks)."""
    from ui.gradio_import import skip_stub_regeneration

    skip_stub_regeneration()  # before gradio is imported: about 1 s less before the UI answers
    import gradio as gr
    from fastapi import FastAPI

    from api.auth import RestAuth
    from api.health import health_router
    from api.openai_speech import openai_router
    from ui import build_ui

    engine = engine or Engine(settings)
    app = FastAPI(title="F5 Voice Studio", docs_url="/docs")
    app.add_middleware(RestAuth, settings=settings)
    if settings.auth is not None:
        app.add_middleware(HideApiInfoFromAnonymous)
    app.include_router(health_router(engine))
    app.include_router(openai_router(engine))
    demo = build_ui(engine)
    demo.queue(default_concurrency_limit=1, max_size=settings.queue_max)
    app = gr.mount_gradio_app(app, demo, path="/", ssr_mode=False, show_error=True, auth=settings.auth,
                              max_file_size=settings.max_upload_mb * 1024 * 1024, mcp_server=settings.mcp,
                              run_history=False)  # voices are personal data: keep no run history
    # Gradio refuses a file path a client names (/etc/passwd...) unless it was uploaded, but only once the Blocks
    # "has launched", which a mounted app never does: without this flag any server file could be read.
    demo.has_launched = True
    if not _flag("F5_ALLOW_REMOTE_URLS"):
        refuse_remote_files()
    app.state.engine = engine
    return app, demo


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def refuse_remote_files() -> None:
    """Never fetch a URL given where a file is expected (gradio_client's handle_file(url)): the server would
    otherwise download it (Gradio blocks private addresses, not the rest). F5_ALLOW_REMOTE_URLS=1 keeps Gradio's
    behaviour."""
    import gradio as gr
    from gradio import processing_utils

    async def refused(url: str, cache_dir: str) -> str:
        raise gr.Error("This server does not fetch files from URLs: upload the file itself (with gradio_client, "
                       "download it first and pass handle_file(local_path)).")

    processing_utils.async_ssrf_protected_download = refused


class HideApiInfoFromAnonymous:
    """ASGI middleware. Gradio embeds its API description in the login page too, with example values taken from the
    components (the saved voices' names among them): a visitor who has not logged in gets the page without it."""

    LOGIN_PAGE = b'"auth_required":true'
    API_INFO = re.compile(rb"window\.gradio_api_info = .*?;</script>", re.DOTALL)

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("method") != "GET" or scope["path"] != "/":
            await self.app(scope, receive, send)
            return
        start: dict = {}
        chunks: list[bytes] = []

        async def rewrite(message: dict) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = b"".join(chunks)
            if self.LOGIN_PAGE in body:
                body = self.API_INFO.sub(b"window.gradio_api_info = {};</script>", body, count=1)
            headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
            await send({**start, "headers": [*headers, (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, rewrite)


def warn_if_public(settings: Settings) -> None:
    public = settings.share or settings.host in ("0.0.0.0", "::") or bool(os.environ.get("RUNPOD_POD_ID"))
    if public and settings.auth is None:
        log.warning("!" * 78)
        log.warning("THIS STUDIO IS PUBLICLY REACHABLE WITHOUT A LOGIN: anyone with the URL can clone voices with it")
        log.warning("and use your GPU. Set STUDIO_AUTH=user:password (and STUDIO_API_TOKEN for REST).")
        log.warning("!" * 78)


def open_share_link(demo: Any, settings: Settings, server: Any) -> None:
    """Ask Gradio's share server for a public tunnel once uvicorn is up; offline, say so and keep serving."""
    from gradio import networking

    while not server.started:
        time.sleep(0.1)
    try:
        url = networking.setup_tunnel(local_host="127.0.0.1", local_port=settings.port, share_token=demo.share_token,
                                      share_server_address=None, share_server_tls_certificate=None)
        demo.share_url = url
        log.info("public share link: %s (temporary, up to 1 week)", url)
    except Exception as e:
        log.warning("Could not create a share link (%s: %s). The studio is still serving locally on "
                    "http://%s:%d; check the internet connection to get a public link.", type(e).__name__, e,
                    settings.host, settings.port)


def studio_server_class() -> type:
    import uvicorn

    class StudioServer(uvicorn.Server):
        """uvicorn, stopping promptly on SIGTERM (docker stop, a pod stopping) before the SIGKILL 10 s later.

        Every open browser tab holds a Gradio heartbeat stream that a graceful shutdown would wait for forever: the
        signal ends those streams (as Gradio's own launch does on close), and requests still running after
        SHUTDOWN_GRACE_S are cancelled."""

        def __init__(self, demo: Any, config: uvicorn.Config) -> None:
            super().__init__(config)
            self.demo = demo

        def handle_exit(self, sig: int, frame: Any) -> None:
            served = getattr(self.demo._queue, "server_app", None)  # the Gradio app mounted on ours
            if served is not None:
                served.stop_event.set()
            super().handle_exit(sig, frame)

    return StudioServer


def serve(settings: Settings) -> None:
    import uvicorn

    StudioServer = studio_server_class()  # noqa: N806 - a class, built here to keep uvicorn out of `import app`

    app, demo = create_app(settings)
    warn_if_public(settings)
    server = StudioServer(demo, uvicorn.Config(app, host=settings.host, port=settings.port, log_level="warning",
                                               timeout_graceful_shutdown=SHUTDOWN_GRACE_S))
    if settings.share:
        threading.Thread(target=open_share_link, args=(demo, settings, server), daemon=True).start()
    if settings.preload:
        app.state.engine.preload()
    log.info("serving on http://%s:%d", settings.host, settings.port)
    server.run()


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        args = parse_args(argv)
        settings = settings_from(args)
        if args.command == "download":
            from inference.download import download_all

            return download_all(settings)
        serve(settings)
    except StudioError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""F5 Voice Studio: `python app.py` serves the UI and REST API; `python app.py download` fetches the weights.

The server answers within seconds: no model code is imported and no weights are loaded until the first
generation (or in the background with --preload).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no phoning home: it also slows start-up offline

from inference import Engine, Settings, StudioError  # noqa: E402  (light: no torch, no model code)

log = logging.getLogger("studio")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("command", nargs="?", choices=["serve", "download"], default="serve")
    p.add_argument("--host", help="address to listen on (GRADIO_SERVER_NAME, default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (GRADIO_SERVER_PORT, default 7860)")
    p.add_argument("--share", action="store_true", default=None, help="also create a public gradio.live link")
    p.add_argument("--preload", action="store_true", default=None, help="load the model in the background at start "
                   "(F5_PRELOAD=1)")
    p.add_argument("--model", help="f5-tts config name or YAML path (F5_MODEL, default F5TTS_v1_Base)")
    p.add_argument("--ckpt", help="checkpoint path or hf:// URL (F5_CKPT)")
    p.add_argument("--vocab", help="vocab path or hf:// URL (F5_VOCAB)")
    p.add_argument("--vocoder", help="local Vocos folder or hf:// repo (F5_VOCODER)")
    p.add_argument("--device", help="auto, cpu, cuda or cuda:N (F5_DEVICE)")
    return p.parse_args(argv)


def settings_from(args: argparse.Namespace) -> Settings:
    return Settings.from_env(host=args.host, port=args.port, share=args.share, preload=args.preload,
                             model=args.model, ckpt=args.ckpt, vocab=args.vocab, vocoder=args.vocoder,
                             device=args.device)


def create_app(settings: Settings, engine: Engine | None = None):  # noqa: ANN201 - returns (FastAPI, Blocks)
    """One FastAPI app: REST routes first, then the Gradio UI mounted at '/'."""
    import gradio as gr
    from fastapi import FastAPI

    from api.health import health_router
    from api.openai_speech import openai_router
    from ui import build_ui

    engine = engine or Engine(settings)
    app = FastAPI(title="F5 Voice Studio", docs_url="/docs")
    app.include_router(health_router(engine))
    app.include_router(openai_router(engine))
    demo = build_ui(engine)
    demo.queue(default_concurrency_limit=1)
    app = gr.mount_gradio_app(app, demo, path="/", ssr_mode=False, show_error=True,
                              max_file_size=settings.max_upload_mb * 1024 * 1024)
    app.state.engine = engine
    return app, demo


def serve(settings: Settings) -> None:
    app, demo = create_app(settings)
    engine: Engine = app.state.engine
    if settings.preload:
        engine.preload()
    if settings.share:
        share_launch(demo, settings)
        return
    import uvicorn

    log.info("serving on http://%s:%d", settings.host, settings.port)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")


def share_launch(demo, settings: Settings) -> None:  # noqa: ANN001
    """Gradio's own launch, which can open a share tunnel; offline, it still serves locally."""
    try:
        demo.launch(server_name=settings.host, server_port=settings.port, share=True, ssr_mode=False,
                    show_error=True, prevent_thread_lock=False)
    except Exception as e:  # no tunnel could be made: keep serving locally
        log.warning("Could not create a share link (%s); serving locally on http://%s:%d only.", e, settings.host,
                    settings.port)
        demo.launch(server_name=settings.host, server_port=settings.port, share=False, ssr_mode=False,
                    show_error=True)


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

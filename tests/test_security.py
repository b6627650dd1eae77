"""Security of the launched app: no server file is read or served for a client, no URL is fetched for a client,
voice names stay inside VOICES_DIR, uploads are bounded before they are read, every route needs the login when
one is set, no secret is printed or returned, no run history is kept, and temporary uploads expire.

Facts this file pins (see also app.py):
  * Gradio checks that a file named in a request was uploaded by a client only once its Blocks "has launched",
    which a mounted app never does: app.py sets the flag, or any server file could be read.
  * URLs given where a file is expected are never fetched (app.py refuses them) unless F5_ALLOW_REMOTE_URLS=1;
    even then Gradio's own guard refuses private and loopback addresses.
  * With STUDIO_AUTH on, the only routes answering an anonymous visitor are the login page (without the API
    description, which would list saved voices), static assets, bare liveness (/health, /ping) and Gradio's
    session plumbing that acts only on ids the caller already holds (heartbeat, cancel, reset).
"""

from __future__ import annotations

import base64
import http.server
import json
import os
import re
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import psutil
import pytest
import soundfile as sf

from inference import SynthesisOptions
from tests.badinputs import assert_clear, report_tried, tried  # noqa: F401 - report_tried: autouse
from tests.conftest import REF_TEXT, serverless_worker
from tests.live import run_app
from ui.options import FORM_PARAMETERS

USER, PASSWORD, TOKEN = "studio-admin", "pw-S3cret-9f8e7d", "tok-S3cret-1a2b3c"
HF_SECRET = "hf_secretTOKENvalue0123456789"
ENV_MARKER = "env-marker-7c1d2e3f"  # an environment value: /proc/self/environ would show it
PASSWD_MARKER = "root:x:0:0"
SECRETS = (PASSWORD, TOKEN, HF_SECRET, ENV_MARKER)
AFTER_VOICE = FORM_PARAMETERS[FORM_PARAMETERS.index("voice") + 1 :]
WORD_DEFAULTS = [SynthesisOptions.defaults()[name] for name in AFTER_VOICE]  # /synthesize's last parameters


# ---- a recording HTTP server: any fetch of a URL shows up as a hit ----------------------------------------------
class Recorder(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:
        Recorder.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "audio/wav")
        self.end_headers()
        self.wfile.write(b"RIFF")

    do_HEAD = do_GET

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def recorder():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


# ---- the open app (no login) ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def site(tiny, tmp_path_factory, short_ref: Path):
    work = tmp_path_factory.mktemp("security")
    voices, tmp = work / "voices", work / "gradio-tmp"
    voices.mkdir()
    tmp.mkdir()
    (voices / "alice.wav").write_bytes(short_ref.read_bytes())
    (voices / "alice.txt").write_text(REF_TEXT, encoding="utf-8")
    (voices / "linked.wav").symlink_to("/etc/passwd")  # a voice that is really a link to a server file
    (voices / "linked.txt").write_text(REF_TEXT, encoding="utf-8")
    env = {
        "F5_MODEL": str(tiny["yaml"]),
        "VOICES_DIR": str(voices),
        "GRADIO_TEMP_DIR": str(tmp),
        "HF_TOKEN": HF_SECRET,
        "SECURITY_TEST_MARKER": ENV_MARKER,
    }
    log = work / "app.log"
    with run_app(env=env, log_path=log) as (base, proc):
        yield {"base": base, "voices": voices, "tmp": tmp, "work": work, "log": log, "pid": proc.pid}


def call(base: str, api: str, data: list, headers: dict | None = None) -> tuple[bool, str]:
    """Gradio's /call API over plain HTTP: (succeeded, everything the server said)."""
    start = httpx.post(f"{base}/gradio_api/call/{api}", json={"data": data}, headers=headers, timeout=30)
    if start.status_code != 200:
        return False, start.text
    events = httpx.get(f"{base}/gradio_api/call/{api}/{start.json()['event_id']}", headers=headers, timeout=60)
    return "event: complete" in events.text, events.text


def queue_join(base: str, api: str, data: list) -> tuple[bool, str]:
    """The browser's way in: /gradio_api/queue/join, then the session's event stream."""
    config = httpx.get(f"{base}/config", timeout=10).json()
    fn_index = next(i for i, d in enumerate(config["dependencies"]) if d.get("api_name") == api.strip("/"))
    fn_id = config["dependencies"][fn_index].get("id", fn_index)
    session = f"sec{time.time_ns()}"
    joined = httpx.post(
        f"{base}/gradio_api/queue/join",
        timeout=30,
        json={"data": data, "fn_index": fn_id, "session_hash": session, "event_data": None, "trigger_id": None},
    )
    if joined.status_code != 200:
        return False, joined.text
    text = ""
    with httpx.stream("GET", f"{base}/gradio_api/queue/data", params={"session_hash": session}, timeout=60) as r:
        for line in r.iter_lines():
            text += line + "\n"
            if '"process_completed"' in line:
                break
    return '"success": true' in text or '"success":true' in text, text


def file_data(path: str, url: str | None = None) -> dict:
    return {"path": path, "url": url, "meta": {"_type": "gradio.FileData"}}


def assert_nothing_leaked(text: str) -> None:
    assert PASSWD_MARKER not in text, "the content of /etc/passwd was returned"
    for secret in SECRETS:
        assert secret not in text, f"a secret ({secret[:6]}...) was returned"


def evil_paths(site: dict, ref_wav: Path) -> dict[str, str]:
    tmp = site["tmp"]
    links = tmp / "planted"
    links.mkdir(exist_ok=True)
    for name, target in (("passwd.wav", "/etc/passwd"), ("voice.wav", str(ref_wav))):
        if not (links / name).is_symlink():
            (links / name).symlink_to(target)
    return {
        "etc-passwd": "/etc/passwd",
        "dot-dot": "../../../../../../../../etc/passwd",
        "dot-dot-from-tmp": f"{tmp}/../../../../../../etc/passwd",
        "proc-environ": "/proc/self/environ",
        "file-url": "file:///etc/passwd",
        "home-tilde": "~/.bashrc",
        "dev-zero": "/dev/zero",
        "dev-urandom": "/dev/urandom",
        "nul-byte": "/etc/passwd\x00.wav",
        "server-audio-file": str(ref_wav),  # real audio, but not uploaded: must not be used either
        "voices-folder-file": str(site["voices"] / "alice.wav"),
        "repo-file": str(Path(__file__).resolve().parent.parent / "app.py"),
        "symlink-in-upload-dir-to-passwd": str(links / "passwd.wav"),
        "symlink-in-upload-dir-to-audio": str(links / "voice.wav"),
        "upload-dir-itself": str(tmp),
    }


def expected(name: str) -> str:
    """What the refusal says: Gradio's upload check, our URL refusal, or (for the upload folder itself, which Gradio
    lets through) the handler finding no file there."""
    if name == "upload-dir-itself":
        return "could not find the reference"
    if name == "nul-byte":
        return "not uploaded by a user|null byte|could not find"
    return "not uploaded by a user|does not fetch files"


def test_a_client_cannot_make_the_app_read_a_server_file(site: dict, ref_wav: Path) -> None:
    base = site["base"]
    for name, path in evil_paths(site, ref_wav).items():
        for api, data in (
            ("transcribe", [file_data(path)]),
            ("synthesize", [file_data(path), REF_TEXT, "Hi.", 1, 7, 1.0, 0.15, 2.0, False, None, *WORD_DEFAULTS]),
            ("save_voice", [file_data(path), "stolen", REF_TEXT]),
            ("edit_speech", [file_data(path), "", "Hi there.", None, 1, 7, 1.0, 2.0]),
        ):
            tried("gradio-http", "path", name)
            start = time.perf_counter()
            ok, text = call(base, api, data)
            assert not ok, f"{api} accepted {name}: {text[:300]}"
            assert_nothing_leaked(text)
            assert re.search(expected(name), text), (name, api, text[:300])
            assert time.perf_counter() - start < 20, (name, api)
        tried("gradio-queue", "path", name)
        data = [file_data(path), REF_TEXT, "Hello there.", 1, 7, 1.0, 0.15, 2.0, False, None, *WORD_DEFAULTS]
        ok, text = queue_join(base, "synthesize", data)
        assert not ok and re.search(expected(name), text), (name, text[:300])
        assert_nothing_leaked(text)
    assert not (site["voices"] / "stolen.wav").exists()
    copied = [p for p in site["tmp"].rglob("*") if p.is_file() and p.name in ("passwd", "environ", ".bashrc", "zero")]
    assert not copied, f"server files were copied into the cache: {copied}"
    assert_nothing_leaked(site["log"].read_text(errors="replace"))


FILE_TYPES = {"audio", "file", "uploadbutton", "image", "video"}


def file_endpoints(base: str) -> dict[str, tuple[list, list[int]]]:
    """Every public endpoint that takes a file: its inputs' default values, and which of them are files."""
    config = httpx.get(f"{base}/config", timeout=10).json()
    components = {c["id"]: c for c in config["components"]}
    out = {}
    for dep in config["dependencies"]:
        if not dep.get("api_name") or dep.get("api_visibility") != "public":
            continue
        inputs = [components[i] for i in dep["inputs"]]
        slots = [k for k, c in enumerate(inputs) if c["type"] in FILE_TYPES]
        if slots:
            out[dep["api_name"]] = ([c.get("props", {}).get("value") for c in inputs], slots)
    return out


def test_every_endpoint_that_takes_a_file_refuses_server_files(site: dict, ref_wav: Path) -> None:
    """Found from the app's own config, so that an endpoint added later is covered without being listed here."""
    endpoints = file_endpoints(site["base"])
    assert {"synthesize", "transcribe", "save_voice", "edit_speech", "dub", "synthesize_variations"} <= set(endpoints)
    paths = evil_paths(site, ref_wav)
    for api, (defaults, slots) in endpoints.items():
        for slot in slots:
            for name in (
                "etc-passwd",
                "dot-dot",
                "proc-environ",
                "server-audio-file",
                "symlink-in-upload-dir-to-passwd",
            ):
                tried("gradio-http", "path", name)
                data = list(defaults)
                data[slot] = file_data(paths[name])
                ok, text = call(site["base"], api, data)
                assert not ok, f"{api} (input {slot}) accepted {name}: {text[:300]}"
                assert re.search(expected(name), text), (api, slot, name, text[:300])
                assert_nothing_leaked(text)


def test_file_downloads_serve_no_server_file(site: dict, ref_wav: Path) -> None:
    base = site["base"]
    for name, path in evil_paths(site, ref_wav).items():
        if "\x00" in path:
            continue  # not a URL
        for route in ("/gradio_api/file=", "/gradio_api/file/"):
            tried("gradio-http", "download", name)
            response = httpx.get(base + route + path, timeout=10)
            assert response.status_code in (400, 403, 404), (name, route, response.status_code)
            assert_nothing_leaked(response.text)
            assert not response.content.startswith(b"RIFF"), (name, route)


def test_urls_are_never_fetched(site: dict, recorder: str) -> None:
    Recorder.hits.clear()
    urls = {
        "loopback": f"{recorder}/x.wav",
        "localhost": recorder.replace("127.0.0.1", "localhost") + "/y.wav",
        "public": "https://example.invalid/voice.wav",
        "metadata-ip": "http://169.254.169.254/latest/meta-data/",
    }
    for name, url in urls.items():
        for data in (file_data(url, url), file_data("x.wav", url), file_data(url)):
            tried("gradio-http", "url", name)
            ok, text = call(site["base"], "transcribe", [data])
            assert not ok, (name, text[:300])
            assert_clear(re.sub(r"event: \w+\s*data: ", "", text), None)
        response = httpx.get(f"{site['base']}/gradio_api/proxy={url}", timeout=10)
        assert response.status_code >= 400
    # Not a synchronisation: nothing is expected to happen, so no event can say it did not. A fetch would be made while
    # the request is handled (each has been answered above); this grace covers one started in the background.
    time.sleep(0.5)
    assert Recorder.hits == [], f"the server fetched {Recorder.hits}"


def test_urls_stay_unfetched_for_loopback_even_when_allowed(tiny, recorder: str, tmp_path: Path) -> None:
    """F5_ALLOW_REMOTE_URLS=1 hands URLs back to Gradio, whose own guard still refuses private addresses."""
    Recorder.hits.clear()
    env = {"F5_MODEL": str(tiny["yaml"]), "F5_ALLOW_REMOTE_URLS": "1", "GRADIO_TEMP_DIR": str(tmp_path / "tmp")}
    with run_app(env=env) as (base, _):
        tried("gradio-http", "url", "loopback-with-urls-allowed")
        ok, text = call(base, "transcribe", [file_data(f"{recorder}/z.wav", f"{recorder}/z.wav")])
        assert not ok and "does not fetch files" not in text  # Gradio answered, not our refusal
    assert Recorder.hits == []


def test_voice_names_cannot_leave_the_voices_folder(site: dict, short_ref: Path, engine, monkeypatch) -> None:
    from gradio_client import Client, handle_file
    from gradio_client.exceptions import AppError

    base, voices = site["base"], site["voices"]
    outside = voices.parent
    before = sorted(p.name for p in outside.iterdir())
    for name in (
        "../../etc/passwd",
        "/etc/passwd",
        "..",
        "../alice",
        "alice/../../x",
        "%2e%2e%2fetc%2fpasswd",
        "....//....//etc/passwd",
        "\\..\\..\\etc\\passwd",
        "alice\x00.wav",
        "",
    ):
        tried("rest", "voice-name", name)
        response = httpx.post(
            f"{base}/v1/audio/speech",
            timeout=30,
            json={"voice": name, "input": "Hello.", "response_format": "pcm", "nfe_step": 4},
        )
        # a name is reduced to letters, digits, spaces, - and _: "../alice" is just alice, inside the folder
        assert response.status_code in ((200,) if name == "../alice" else (400, 404)), (name, response.text)
        assert_nothing_leaked(response.text)
    tried("rest", "voice-name", "symlink-to-passwd")
    response = httpx.post(
        f"{base}/v1/audio/speech",
        timeout=30,
        json={"voice": "linked", "input": "Hello.", "response_format": "pcm", "nfe_step": 4},
    )
    assert response.status_code == 400 and "could not read" in response.json()["error"]["message"]
    assert_nothing_leaked(response.text)

    client = Client(base, verbose=False)
    tried("gradio_client", "voice-name", "save ../x")
    assert client.predict(handle_file(str(short_ref)), "../x", REF_TEXT, api_name="/save_voice") == "x"
    assert (voices / "x.wav").is_file()
    tried("gradio_client", "voice-name", "rename to ../../y")
    assert client.predict("x", "../../y", api_name="/rename_voice") == "y"
    assert (voices / "y.wav").is_file() and not (voices / "x.wav").exists()
    tried("gradio_client", "voice-name", "delete ../../etc/passwd")
    with pytest.raises(AppError, match="no saved voice"):
        client.predict("../../etc/passwd", api_name="/delete_voice")
    assert Path("/etc/passwd").is_file()
    tried("gradio_client", "voice-name", "synthesize with the symlinked voice")
    with pytest.raises(AppError) as info:
        client.predict(None, "", "Hello.", 1, nfe_step=7, voice="linked", api_name="/synthesize")
    assert "could not read" in str(info.value)
    assert_nothing_leaked(str(info.value))
    assert client.predict("y", api_name="/delete_voice") == "y"
    client.close()
    assert sorted(p.name for p in outside.iterdir()) == before  # nothing written next to the voices folder

    worker = serverless_worker(engine)
    for name in ("../../x", "/etc/passwd", "../../../etc/passwd"):
        tried("serverless", "voice-name", name)
        out = worker.handler({"id": "s", "input": {"text": "Hello.", "voice": name}})
        assert_clear(out["error"], "no saved voice")
        assert_nothing_leaked(out["error"])


# ---- upload size -------------------------------------------------------------------------------------------------
def test_uploads_over_the_limit_are_refused_before_they_are_read(tiny, tmp_path: Path, short_ref: Path) -> None:
    from gradio_client import Client, handle_file

    big = tmp_path / "big.wav"
    wave, sr = sf.read(short_ref, dtype="float32")
    sf.write(big, np.tile(wave, 30)[: 3 * 1024 * 1024 // 2], sr, subtype="PCM_16")  # ~3 MB
    assert big.stat().st_size > 3_000_000
    tmp = tmp_path / "gradio-tmp"
    env = {"F5_MODEL": str(tiny["yaml"]), "F5_MAX_UPLOAD_MB": "1", "GRADIO_TEMP_DIR": str(tmp)}
    with run_app(env=env) as (base, proc):
        tried("gradio_client", "upload", "3mb-over-1mb-limit")
        client = Client(base, verbose=False)
        with pytest.raises(Exception) as info:
            client.predict(handle_file(str(big)), REF_TEXT, "Hello.", 1, api_name="/synthesize")
        client.close()
        assert_clear(str(info.value), "exceeds the maximum file size")  # gradio_client checks before sending
        tried("gradio-http", "upload", "3mb-over-1mb-limit")  # the server checks too, for clients that do not
        response = httpx.post(f"{base}/gradio_api/upload", files={"files": ("big.wav", big.read_bytes(), "audio/wav")})
        assert response.status_code == 413 and assert_clear(response.text, "too large"), response.text

        app = psutil.Process(proc.pid)
        rss_before = app.memory_info().rss
        sent = 0

        def body():
            nonlocal sent
            boundary = b"--xyz\r\n"
            yield boundary + b'Content-Disposition: form-data; name="files"; filename="huge.wav"\r\n'
            yield b"Content-Type: audio/wav\r\n\r\n"
            for _ in range(200):
                sent += 1 << 20
                yield b"\0" * (1 << 20)
            yield b"\r\n--xyz--\r\n"

        tried("gradio-http", "upload", "200mb-streamed-over-1mb-limit")
        start = time.perf_counter()
        try:
            response = httpx.post(
                f"{base}/gradio_api/upload",
                content=body(),
                timeout=60,
                headers={"Content-Type": "multipart/form-data; boundary=xyz"},
            )
            status = response.status_code
        except httpx.HTTPError:
            status = None  # the server closed the connection on an oversized upload: also a refusal
        elapsed = time.perf_counter() - start
        rss_growth = app.memory_info().rss - rss_before
        assert status in (413, None), status
        assert rss_growth < 64 * 1024 * 1024, f"the app grew by {rss_growth / 1e6:.0f} MB while refusing"
        biggest = max((p.stat().st_size for p in tmp.rglob("*") if p.is_file()), default=0)
        assert biggest <= 1024 * 1024 + 65536, f"a {biggest / 1e6:.1f} MB file was kept"
        assert httpx.get(base + "/health").status_code == 200
        print(
            f"\n200 MB upload over a 1 MB limit: HTTP {status} after {sent / 1e6:.0f} MB sent, {elapsed:.1f} s; "
            f"app RSS {rss_growth / 1e6:+.1f} MB"
        )


def test_serverless_payload_limit_is_checked_before_decoding(engine, monkeypatch) -> None:

    worker = serverless_worker(engine)
    monkeypatch.delenv("RUNPOD_MAX_PAYLOAD_MB", raising=False)
    huge = "A" * (40 * 1_000_000)
    tried("serverless", "upload", "40mb-base64")
    start = time.perf_counter()
    out = worker.handler({"id": "s", "input": {"text": "Hi.", "ref_audio_base64": huge}})
    assert assert_clear(out["error"], "at most 10 MB") and time.perf_counter() - start < 1


# ---- with a login -------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def locked(tiny, tmp_path_factory, short_ref: Path):
    work = tmp_path_factory.mktemp("locked")
    voices = work / "voices"
    voices.mkdir()
    (voices / "privatevoicename.wav").write_bytes(short_ref.read_bytes())
    (voices / "privatevoicename.txt").write_text(REF_TEXT, encoding="utf-8")
    env = {
        "F5_MODEL": str(tiny["yaml"]),
        "VOICES_DIR": str(voices),
        "GRADIO_TEMP_DIR": str(work / "tmp"),
        "STUDIO_AUTH": f"{USER}:{PASSWORD}",
        "STUDIO_API_TOKEN": TOKEN,
        "HF_TOKEN": HF_SECRET,
        "SECURITY_TEST_MARKER": ENV_MARKER,
    }
    log = work / "app.log"
    with run_app(["--mcp"], env=env, log_path=log) as (base, _):
        yield {"base": base, "log": log, "bodies": []}


# Routes an anonymous visitor may get a 2xx from, and why.
OPEN = {
    "/": "the login page (its API description is removed, see app.py)",
    "/health": "bare liveness: {'status': 'ok'} only",
    "/ping": "RunPod's readiness probe: a status code only",
    "/login": "the login form posts here",
    "/login/": "the same",
    "/favicon.ico": "static",
    "/theme.css": "static",
    "/gradio_api/theme.css": "static",
    "/robots.txt": "static",
    "/manifest.json": "static (the app's title)",
    "/static/{path:path}": "static",
    "/assets/{path:path}": "static",
    "/svelte/{path:path}": "static",
    "/pwa_icon": "static",
    "/pwa_icon/{size}": "static",
    "/gradio_api/startup-events": "a boolean",
    "/gradio_api/app_id": "a random id",
    "/gradio_api/app_id/": "the same",
    "/gradio_api/user": "null for anonymous",
    "/gradio_api/user/": "the same",
    "/gradio_api/token": "nulls for anonymous",
    "/gradio_api/token/": "the same",
    "/gradio_api/heartbeat/{session_hash}": "keep-alive of one's own session",
    "/gradio_api/cancel": "acts only on an event id the caller already holds",
    "/gradio_api/reset": "the same",
    "/gradio_api/reset/": "the same",
    "/logout": "a redirect",
}
SAMPLE = {
    "path": "index.html",
    "size": "192",
    "session_hash": "abc123",
    "event_id": "abc123",
    "api_name": "list_voices",
    "url_path": "http://127.0.0.1:9/x.wav",
    "path_or_url": "/etc/passwd",
    "id": "0",
    "environment": "client",
    "type": "index",
    "file_name": "x.js",
    "run": "0",
    "component_id": "1",
    "segment_id": "0",
    "ext": "ts",
}
BODIES = {
    "/gradio_api/queue/join": {"data": [], "fn_index": 0, "session_hash": "abc123"},
    "/gradio_api/cancel": {"event_id": "abc123", "session_hash": "abc123", "fn_index": 0},
    "/gradio_api/reset": {"event_id": "abc123"},
    "/gradio_api/reset/": {"event_id": "abc123"},
    "/v1/audio/speech": {"voice": "privatevoicename", "input": "Hello.", "response_format": "pcm"},
}


def routes_of_the_app() -> list[tuple[str, str]]:
    """(method, path template) of every route the app serves, Gradio's and the MCP server's included."""
    from starlette.routing import Mount

    from app import ServerSettings, create_app
    from inference import Engine, EngineSettings, Studio

    app, _ = create_app(
        ServerSettings(auth=(USER, PASSWORD), api_token=TOKEN, mcp=True), Studio(Engine(EngineSettings()))
    )
    found: set[tuple[str, str]] = set()

    def walk(routes, prefix: str) -> None:
        for route in routes:
            if isinstance(route, Mount):
                sub = getattr(route.app, "routes", None)
                if sub:
                    walk(sub, prefix + route.path)
                else:
                    found.add(("POST", prefix + route.path + "/"))
                    found.add(("GET", prefix + route.path + "/"))
            elif hasattr(route, "original_router"):
                walk(route.original_router.routes, prefix)
            else:
                for method in sorted(getattr(route, "methods", None) or ["GET"]):
                    if method != "HEAD":
                        found.add((method, prefix + route.path))

    walk(app.routes, "")
    return sorted(found)


def concrete(template: str) -> str:
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: SAMPLE.get(m.group(1), "x"), template)


def anonymous(locked: dict, method: str, path: str) -> httpx.Response | None:
    try:
        if method == "GET":
            with httpx.stream("GET", locked["base"] + path, timeout=5) as r:
                body = b""
                for block in r.iter_bytes():
                    body += block
                    if len(body) > 200_000:
                        break
                r._content = body
                return r
        return httpx.request(method, locked["base"] + path, timeout=10, json=BODIES.get(path, {"data": []}))
    except httpx.ReadTimeout:
        return None  # an open event stream with nothing in it (e.g. a heartbeat)


def test_every_route_needs_the_login(locked: dict) -> None:
    problems, seen = [], []
    for method, template in routes_of_the_app():
        path = concrete(template)
        response = anonymous(locked, method, path)
        if response is None:
            assert template in OPEN, f"{method} {template} keeps a stream open for anonymous visitors"
            continue
        text = response.text
        locked["bodies"].append(text)
        seen.append(f"{response.status_code} {method} {template}")
        if "privatevoicename" in text or PASSWD_MARKER in text or any(s in text for s in SECRETS):
            problems.append(f"{method} {template}: leaks data to anonymous visitors")
        if 200 <= response.status_code < 300 and template not in OPEN:
            problems.append(f"{method} {template}: {response.status_code} for an anonymous visitor: {text[:120]!r}")
    assert not problems, "\n".join(problems + ["", "all:"] + seen)
    assert len(seen) > 80  # Gradio's routes, the MCP server's and ours were all found
    print(f"\n{len(seen)} routes probed anonymously; 2xx only on the {len(OPEN)} open ones listed in OPEN")


def test_the_login_opens_every_door(locked: dict, short_ref: Path) -> None:
    from gradio_client import Client, handle_file

    base = locked["base"]
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    assert httpx.get(base + "/v1/voices", headers=bearer).json() == {
        "voices": [{"name": "privatevoicename", "has_transcript": True}]
    }
    assert httpx.get(base + "/openapi.json", headers=bearer).status_code == 200
    assert httpx.get(base + "/docs", headers=bearer).status_code == 200
    assert httpx.get(base + "/gradio_api/mcp/schema", headers=bearer).status_code == 200
    assert httpx.get(base + "/gradio_api/mcp/schema").status_code == 401
    details = httpx.get(base + "/health", headers=bearer).json()
    assert details["model"] in ("not_loaded", "loading", "ready") and httpx.get(base + "/health").json() == {
        "status": "ok"
    }
    client = Client(base, auth=(USER, PASSWORD), verbose=False)
    audio, *_ = client.predict(handle_file(str(short_ref)), REF_TEXT, "Hello.", 1, nfe_step=7, api_name="/synthesize")
    assert Path(audio).stat().st_size > 0
    client.close()
    session = httpx.Client(base_url=base, timeout=30)
    assert session.post("/login", data={"username": USER, "password": PASSWORD}).status_code == 200
    config = session.get("/config").json()
    assert config.get("run_history") is False  # voices are personal: Gradio keeps no run history
    assert session.get("/gradio_api/runs").status_code == 404
    page = session.get("/").text
    assert '"auth_required":true' not in page and "privatevoicename" in page  # logged in: the full page
    uploaded = session.post("/gradio_api/upload", files={"files": ("a.wav", short_ref.read_bytes(), "audio/wav")})
    cached = uploaded.json()[0]
    assert session.get(f"/gradio_api/file={cached}").content == short_ref.read_bytes()
    assert httpx.get(f"{base}/gradio_api/file={cached}").status_code in (401, 403)  # not without the login
    locked["bodies"] += [json.dumps(config), page, json.dumps(details)]


def test_no_secret_in_logs_errors_or_health(locked: dict) -> None:
    base = locked["base"]
    bodies = locked["bodies"]
    for headers in (
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Bearer {TOKEN}"},
        {"Authorization": "Basic " + base64.b64encode(f"{USER}:wrong".encode()).decode()},
    ):
        for path in ("/health", "/v1/models", "/gradio_api/info"):
            bodies.append(httpx.get(base + path, headers=headers).text)
    bodies.append(httpx.post(base + "/login", data={"username": USER, "password": "wrong"}).text)
    bodies.append(
        httpx.post(
            base + "/v1/audio/speech",
            headers={"Authorization": f"Bearer {TOKEN}"},
            json={"voice": "nobody", "input": "Hi."},
        ).text
    )
    bodies.append(
        httpx.post(base + "/v1/audio/speech", headers={"Authorization": f"Bearer {TOKEN}"}, content=b"{broken").text
    )
    text = "\n".join(bodies) + locked["log"].read_text(errors="replace")
    for secret in SECRETS:
        assert secret not in text, f"{secret[:6]}... appears in a response or the log"
    assert len(bodies) > 20


# ---- temporary files -------------------------------------------------------------------------------------------------
def test_the_app_deletes_temporary_files_within_an_hour() -> None:
    from inference import Engine, EngineSettings, Studio
    from ui import build_ui

    frequency, age = build_ui(Studio(Engine(EngineSettings()))).delete_cache
    assert 0 < frequency <= 900 and 0 < age <= 3600, (frequency, age)


def test_gradio_deletes_uploads_on_the_schedule(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The mechanism the app relies on, on a tiny Blocks with a one-second schedule, mounted as app.py mounts."""
    import gradio as gr
    from fastapi import FastAPI
    from gradio_client import Client, handle_file

    from tests.badinputs import serve

    with gr.Blocks(delete_cache=(1, 1)) as demo:
        upload = gr.File()
        size = gr.Number()
        upload.change(lambda f: os.path.getsize(f) if f else 0, upload, size, api_name="size")
    app = gr.mount_gradio_app(FastAPI(), demo, path="/")
    demo.has_launched = True
    src = tmp_path / "note.txt"
    src.write_text("temporary " * 100)
    with serve(app) as base:
        client = Client(base, verbose=False)
        assert client.predict(handle_file(str(src)), api_name="/size") == src.stat().st_size
        client.close()
        kept = [p for s in demo.temp_file_sets for p in s]
        assert kept and all(Path(p).exists() for p in kept)
        deadline = time.monotonic() + 10
        while any(Path(p).exists() for p in kept) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(Path(p).exists() for p in kept), "uploads outlived the delete_cache schedule"


# ---- dependencies ------------------------------------------------------------------------------------------------
def test_audit_says_when_nothing_was_audited() -> None:
    """tools/audit.py (`make audit`): pip-audit offline skips everything yet says "No known vulnerabilities"."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("audit", Path(__file__).resolve().parent.parent / "tools/audit.py")
    audit = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(audit)
    offline = {
        "dependencies": [
            {"name": "gradio", "skip_reason": "Dependency not found on PyPI and could not be audited: gradio (6.31.0)"}
        ]
    }
    status, text = audit.summarize(offline)
    assert status == 0 and "NOTHING WAS AUDITED" in text
    found = {
        "dependencies": [
            {"name": "gradio", "version": "6.31.0", "vulns": [{"id": "GHSA-xxxx", "fix_versions": ["6.32.0"]}]},
            {"name": "torch", "version": "2.11.0", "vulns": []},
            {"name": "local-thing", "skip_reason": "Dependency not found on PyPI and could not be audited"},
        ]
    }
    status, text = audit.summarize(found)
    assert status == 1 and "GHSA-xxxx (fixed in 6.32.0)" in text and "2 packages audited, 1 skipped" in text
    status, text = audit.summarize({"dependencies": [{"name": "torch", "version": "2.11.0", "vulns": []}]})
    assert status == 0 and "no known vulnerabilities" in text

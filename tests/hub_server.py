"""A local Hugging Face Hub look-alike for tests: serves model repos over HTTP on 127.0.0.1, offline.

Point HF_ENDPOINT at `HubServer.url` and huggingface_hub's `hf_hub_download` / `snapshot_download` fetch from it
exactly as from huggingface.co (as of huggingface_hub 1.33):

- HEAD/GET /{repo_id}/resolve/{revision}/{filename}: 200 with X-Repo-Commit, ETag, Content-Length and
  Accept-Ranges. "LFS" files (.safetensors, .bin, .pt, .pth, .ckpt) also carry X-Linked-Etag (sha256 of the content)
  and X-Linked-Size, as the Hub sends them; the other files have the git blob sha1 as ETag. GET honours
  `Range: bytes=N-` / `bytes=N-M` with 206 + Content-Range (416 past the end). No X-Xet-* header is ever sent, so the
  plain HTTP path is used even with hf_xet installed.
- GET /api/models/{repo_id}[/revision/{revision}]: model info ({"id", "sha", "siblings": [{"rfilename"}], ...}).
- GET /api/models/{repo_id}/tree/{revision}[/{path}]?recursive=...: the tree listing (oid, size, lfs) used by
  snapshot_download.
- GET /api/agent-harnesses: an empty registry (huggingface_hub fetches it, best-effort, for its user agent).
- Unknown repo, revision or file: 404 with the Hub's X-Error-Code (RepoNotFound, RevisionNotFound, EntryNotFound).

Revisions are "main" or the repo's commit sha (a sha1 of its content, stable across runs).

Test knobs (all thread-safe to set between requests):
- `fail_after_bytes[(repo_id, filename)] = N`: the next GET of that file sends its headers (full length) but only N
  bytes of body, then drops the connection: an interrupted download. One-shot (the entry is removed).
- `refuse[(repo_id, filename)] = status`: every GET of that file's content answers `status` (e.g. 503), HEADs still
  succeed, until the entry is removed. A pending fail_after_bytes cut is served first: together they make a
  transfer that breaks mid-way and cannot be resumed in this run.
- `log`: (method, path, Range header or None) of every request, in order; `gets(filename)` filters content GETs.
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

LFS_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".msgpack", ".h5")
CHUNK = 64 * 1024


@dataclass(frozen=True)
class RepoFile:
    path: Path
    size: int
    sha256: str
    git_oid: str  # sha1 of "blob {size}\0" + content: the git blob id the Hub reports
    lfs: bool

    @property
    def etag(self) -> str:
        return self.sha256 if self.lfs else self.git_oid


def _describe(name: str, path: Path) -> RepoFile:
    data = Path(path).read_bytes()
    git_oid = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
    return RepoFile(Path(path), len(data), hashlib.sha256(data).hexdigest(), git_oid, name.endswith(LFS_SUFFIXES))


class HubServer:
    """Serve {repo_id: {filename_in_repo: local Path}} as Hub model repos. Use as a context manager or start/stop."""

    def __init__(self, repos: Mapping[str, Mapping[str, Path]], host: str = "127.0.0.1", port: int = 0) -> None:
        self.repos = {repo: {name: _describe(name, p) for name, p in files.items()} for repo, files in repos.items()}
        self.commits = {
            repo: hashlib.sha1(json.dumps([repo, sorted((n, f.sha256) for n, f in files.items())]).encode()).hexdigest()
            for repo, files in self.repos.items()
        }
        self.fail_after_bytes: dict[tuple[str, str], int] = {}
        self.refuse: dict[tuple[str, str], int] = {}
        self.log: list[tuple[str, str, str | None]] = []
        self._lock = threading.Lock()
        self._host, self._port = host, port
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- lifetime ---------------------------------------------------------------------------------------------
    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the hub server is not running")
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self.port}"

    def start(self) -> HubServer:
        hub = self

        class Handler(_Handler):
            server_hub = hub

        self._httpd = ThreadingHTTPServer((self._host, self._port), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="hub-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> HubServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- helpers for tests ------------------------------------------------------------------------------------
    def record(self, method: str, path: str, range_header: str | None) -> None:
        with self._lock:
            self.log.append((method, path, range_header))

    def clear_log(self) -> None:
        with self._lock:
            self.log.clear()

    def gets(self, filename: str | None = None) -> list[tuple[str, str, str | None]]:
        """GETs of file content (/resolve/), optionally only those of `filename` (path in the repo)."""
        with self._lock:
            entries = list(self.log)
        return [
            e
            for e in entries
            if e[0] == "GET"
            and "/resolve/" in e[1]
            and (filename is None or unquote(e[1]).split("?")[0].endswith("/" + filename))
        ]

    def take_cut(self, key: tuple[str, str]) -> int | None:
        with self._lock:
            return self.fail_after_bytes.pop(key, None)


_RESOLVE = re.compile(r"^/(?P<repo>.+?)/resolve/(?P<rev>[^/]+)/(?P<file>.+)$")
_INFO = re.compile(r"^/api/models/(?P<repo>.+?)(?:/revision/(?P<rev>[^/]+))?$")
_TREE = re.compile(r"^/api/models/(?P<repo>.+?)/tree/(?P<rev>[^/]+)(?:/(?P<sub>.*))?$")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_hub: HubServer  # set on the subclass made by HubServer.start

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_HEAD(self) -> None:
        self._dispatch(head=True)

    def do_GET(self) -> None:
        self._dispatch(head=False)

    # ---- routing ----------------------------------------------------------------------------------------------
    def _dispatch(self, head: bool) -> None:
        hub = self.server_hub
        hub.record(self.command, self.path, self.headers.get("Range"))
        split = urlsplit(self.path)
        path, query = unquote(split.path), parse_qs(split.query)
        try:
            if path == "/api/agent-harnesses":  # huggingface_hub's best-effort user-agent registry: none here
                return self._json({"standardEnvVars": [], "harnesses": {}}, head)
            if path.startswith("/api/models/"):
                m = _TREE.match(path)
                if m:
                    return self._tree(m["repo"], m["rev"], (m["sub"] or "").strip("/"), query, head)
                m = _INFO.match(path)
                if m:
                    return self._info(m["repo"], m["rev"] or "main", head)
            else:
                m = self._match_resolve(path)
                if m:
                    return self._resolve(*m, head=head)
            self._error(404, "RepoNotFound", "Repository not found", head=head)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _match_resolve(self, path: str) -> tuple[str, str, str] | None:
        for prefix in ("/models/", "/"):  # /models/{repo} is accepted too, as on the Hub
            if path.startswith(prefix):
                m = _RESOLVE.match("/" + path[len(prefix) :])
                if m:
                    return m["repo"], m["rev"], m["file"]
        return None

    def _repo(self, repo_id: str, revision: str, head: bool) -> dict[str, RepoFile] | None:
        hub = self.server_hub
        if repo_id not in hub.repos:
            self._error(404, "RepoNotFound", f"Repository {repo_id} not found", head=head)
            return None
        if revision not in ("main", hub.commits[repo_id]):
            self._error(404, "RevisionNotFound", f"Invalid rev id: {revision}", head=head)
            return None
        return hub.repos[repo_id]

    # ---- endpoints --------------------------------------------------------------------------------------------
    def _info(self, repo_id: str, revision: str, head: bool) -> None:
        files = self._repo(repo_id, revision, head)
        if files is None:
            return
        sha = self.server_hub.commits[repo_id]
        self._json(
            {
                "_id": sha[:24],
                "id": repo_id,
                "modelId": repo_id,
                "author": repo_id.split("/")[0],
                "sha": sha,
                "private": False,
                "gated": False,
                "disabled": False,
                "downloads": 0,
                "likes": 0,
                "tags": [],
                "lastModified": "2024-01-01T00:00:00.000Z",
                "createdAt": "2024-01-01T00:00:00.000Z",
                "siblings": [{"rfilename": name} for name in sorted(files)],
            },
            head,
        )

    def _tree(self, repo_id: str, revision: str, sub: str, query: dict[str, list[str]], head: bool) -> None:
        files = self._repo(repo_id, revision, head)
        if files is None:
            return
        recursive = query.get("recursive", ["false"])[0].lower() in ("1", "true")
        prefix = f"{sub}/" if sub else ""
        if sub and not any(name.startswith(prefix) for name in files):
            self._error(404, "EntryNotFound", f"{sub} does not exist on {revision}", head=head)
            return
        entries, folders = [], set()
        for name in sorted(files):
            if not name.startswith(prefix):
                continue
            rest = name[len(prefix) :]
            if "/" in rest and not recursive:
                folders.add(prefix + rest.split("/")[0])
                continue
            if recursive:  # the Hub lists the folders on the way too
                parts = rest.split("/")[:-1]
                folders.update(prefix + "/".join(parts[: i + 1]) for i in range(len(parts)))
            f = files[name]
            entry = {"type": "file", "oid": f.git_oid, "size": f.size, "path": name}
            if f.lfs:
                entry["lfs"] = {"oid": f.sha256, "size": f.size, "pointerSize": 134}
            entries.append(entry)
        dirs = [
            {"type": "directory", "oid": hashlib.sha1(d.encode()).hexdigest(), "size": 0, "path": d}
            for d in sorted(folders)
        ]
        self._json(dirs + entries, head)

    def _resolve(self, repo_id: str, revision: str, filename: str, head: bool) -> None:
        hub = self.server_hub
        files = self._repo(repo_id, revision, head)
        if files is None:
            return
        commit = hub.commits[repo_id]
        f = files.get(filename)
        if f is None:
            self._error(
                404,
                "EntryNotFound",
                f"{filename} does not exist on {revision}",
                head=head,
                extra={"X-Repo-Commit": commit},
            )
            return
        key = (repo_id, filename)
        cut = None if head else hub.take_cut(key)
        if cut is None and not head and key in hub.refuse:
            self._error(hub.refuse[key], None, "Service unavailable", head=False)
            return
        start, end = 0, f.size - 1
        status = 200
        wanted = self.headers.get("Range")
        if wanted and not head:
            m = re.fullmatch(r"bytes=(\d*)-(\d*)", wanted.strip())
            if m is not None and m[1]:
                start, end = int(m[1]), min(int(m[2]) if m[2] else f.size - 1, f.size - 1)
            elif m is not None and m[2]:  # suffix range: the last N bytes
                start = max(f.size - int(m[2]), 0)
            if m is None or not (m[1] or m[2]) or start >= f.size or start > end:
                self._error(416, None, "Range not satisfiable", False, extra={"Content-Range": f"bytes */{f.size}"})
                return
            status = 206
        length = end - start + 1
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(length))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("ETag", f'"{f.etag}"')
        self.send_header("X-Repo-Commit", commit)
        if f.lfs:
            self.send_header("X-Linked-Etag", f'"{f.sha256}"')
            self.send_header("X-Linked-Size", str(f.size))
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{end}/{f.size}")
        if cut is not None:
            self.send_header("Connection", "close")
        self.end_headers()
        if head:
            return
        budget = length if cut is None else min(cut, length)
        with open(f.path, "rb") as src:
            src.seek(start)
            while budget > 0:
                chunk = src.read(min(CHUNK, budget))
                if not chunk:
                    break
                self.wfile.write(chunk)
                budget -= len(chunk)
        if cut is not None:  # drop the connection mid-body: the client sees a short read
            self.wfile.flush()
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    # ---- responses --------------------------------------------------------------------------------------------
    def _json(self, payload: object, head: bool) -> None:
        body = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _error(
        self, status: int, code: str | None, message: str, head: bool, extra: Mapping[str, str] | None = None
    ) -> None:
        body = json.dumps({"error": message}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        if code:
            self.send_header("X-Error-Code", code)
        self.send_header("X-Error-Message", message)
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if not head:
            self.wfile.write(body)

"""A bounded abuse run: the attacks found in the studio replayed against `python app.py` (tiny random model,
loopback only), mixed with VISITORS honest visitors, for a couple of minutes.

    .venv/bin/python -m bench.abuse [--seconds 120] [--visitors 20] [--flac-seconds 600] [--no-write]

The app runs with an API token set (STUDIO_API_TOKEN, no login): honest visitors send it, attackers do not. A
second app with a login (STUDIO_AUTH) only takes the brute-force logins. The attacks start together when the
visitors do (the full queue half-way), each in its own thread, bounded in count and in time (REQUEST_S per request;
the flood and the logins stop at the deadline):

  pronunciation flood   up to 2,001 /set_pronunciation calls through gradio_client
  latin1 transcript     a voice whose transcript is Latin-1, copied in before the start; /v1/voices and /list_voices
  long pronunciation    a 200-character spoken form, then a 600-character /v1/audio/speech input made of its word
  number-heavy text     the 419-character number-heavy text of a serverless job, sent through /v1/audio/speech
  huge flac             a FLAC of --flac-seconds (600) at 655,350 Hz in 8 channels (3.5 MB) as /synthesize's reference
  anonymous gradio_api  /gradio_api/info and /gradio_api/call/list_voices without the token
  brute-force logins    LOGINS wrong passwords against /login
  dropped checks        /v1/audio/speech with check=true, the connection dropped after DROP_S
  word diff             32 KB of words to the edit tab's diff (the browser's own call: /gradio_api/run/predict)
  find speakers         a 240 KB script to the dialogue tab's find_speakers (the browser's own call)
  100 MB body           a 100 MB JSON body to /gradio_api/queue/join
  long renames          /rename_voice to over-long names (65 letters, 64 four-byte letters, 100,000 letters)
  full queue            BURST long /v1/audio/speech requests at once, half-way through the run

Reported: the honest requests answered, told busy and failed; the app's RSS over time; /health latency percentiles;
and per attack, how each request ended ("held": the server worked on it and answered; "refused": it said no;
"dropped": we hung up; "broke": a 5xx or a broken connection) with the seconds it held a connection (its slot).
Several attacks are still held on a branch that has not fixed them: the report says which. Appended to
bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import http.client
import json
import secrets
import shlex
import signal
import statistics
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .common import REF_TEXT, full_ref_wav, loadavg, machine
from .fairness import LONG_SENTENCE, SHORT, launch
from .load import busy, percentile
from .report import RESULTS
from .weights import CACHE

REQUEST_S = 60.0  # s, the longest we wait for one abusive request before hanging up
HONEST_S = 180.0  # s, an honest request unanswered after this counts as failed
DROP_S = 1.5  # s, a dropped check request hangs up after this
FLOOD = 2001  # set_pronunciation calls
LOGINS = 200  # wrong passwords
BURST = 40  # simultaneous long requests (the default queue takes 32)
NUMBERS = (
    "Order 4471-2290-8834 shipped 12/31/2024 at 10:45 PM for $1,234,567.89 plus 8.25% tax, 3,141,592 units, "
    "ref 0049 1512 3456 7890, call +1 (415) 555-0199 ext. 8841 before 07/04/2025; "
)
NUMBERS = (NUMBERS * 3)[:419]
FLAC_RATE = 655_350  # Hz, the highest a FLAC header can say


@dataclass
class Attack:
    name: str
    outcomes: list[tuple[str, float, str]] = field(default_factory=list)  # (ended how, seconds, status or note)
    lock: threading.Lock = field(default_factory=threading.Lock)
    closed: bool = False  # set when the run ends: requests ending later (the app being stopped) are not counted

    def record(self, how: str, seconds: float, status: str) -> None:
        with self.lock:
            if not self.closed:
                self.outcomes.append((how, seconds, status))

    def close(self, still_running: int, seconds: float) -> None:
        """The run ends: `still_running` requests are counted as dropped after `seconds`, later outcomes ignored."""
        for _ in range(still_running):
            self.record("dropped", seconds, "still held when the run ended")
        self.closed = True

    def timed(self, fn: Callable[[], tuple[str, str]]) -> None:
        """Run one abusive request: fn returns (ended how, status); exceptions are a broken request."""
        start = time.perf_counter()
        try:
            how, status = fn()
        except TimeoutError:
            how, status = "dropped", "no answer in time (we hung up)"
        except Exception as e:  # every failure is reported, none stops the run
            how, status = _classify_exception(e)
        self.record(how, time.perf_counter() - start, status)


def _classify_exception(e: Exception) -> tuple[str, str]:
    text = f"{type(e).__name__}: {e}"[:90]
    if type(e).__name__ == "AppError":  # gradio_client: the app answered with a message
        return "refused", text
    if isinstance(e, (TimeoutError, http.client.RemoteDisconnected)) or "timed out" in str(e):
        return "dropped", text
    return "broke", text


def http_call(
    method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None, timeout: float = REQUEST_S
) -> tuple[str, str]:
    """One HTTP request, `timeout` seconds in all (then we hang up: dropped): 2xx held, 4xx refused, 5xx broke."""
    request = urllib.request.Request(url, body, headers or {}, method=method)
    start = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as r:
            while r.read(1 << 16):
                if time.monotonic() - start > timeout:
                    return "dropped", f"HTTP {r.status}, still sending after {timeout:.0f} s (we hung up)"
            status = r.status
    except urllib.error.HTTPError as e:
        status = e.code
    return ("held" if status < 400 else "refused" if status < 500 else "broke"), f"HTTP {status}"


def ask(client: Any, *args: Any, api_name: str, timeout: float = REQUEST_S, **kwargs: Any) -> Any:
    """client.predict, bounded: on timeout the job is cancelled and TimeoutError raised (a hung app never hangs us)."""
    job = client.submit(*args, api_name=api_name, **kwargs)
    try:
        return job.result(timeout=timeout)
    except TimeoutError:
        job.cancel()
        raise


def held(call: Callable[[], Any], note: str = "answered") -> Callable[[], tuple[str, str]]:
    """A gradio_client call as one abusive request: answered = held (an AppError, raised, is a refusal)."""

    def run() -> tuple[str, str]:
        call()
        return "held", note

    return run


class Target:
    """The app under attack: its URL, token, voices folder and a gradio_client per thread."""

    def __init__(self, base: str, token: str, voices: Path, login_base: str, args: argparse.Namespace) -> None:
        self.base, self.token, self.voices, self.login_base, self.args = base, token, voices, login_base, args
        self.deadline = 0.0

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def client(self) -> Any:
        from gradio_client import Client

        return Client(self.base, verbose=False, headers=self.headers(), httpx_kwargs={"timeout": REQUEST_S})

    def speech(self, text: str, timeout: float = REQUEST_S, **extra: Any) -> tuple[str, str]:
        body = {"model": "tts-1", "voice": "bench", "input": text, "response_format": "wav", "nfe_step": 7, **extra}
        headers = {**self.headers(), "Content-Type": "application/json"}
        return http_call("POST", f"{self.base}/v1/audio/speech", json.dumps(body).encode(), headers, timeout)

    def browser_call(self, api_name: str, values: dict[str, Any]) -> tuple[str, str]:
        """Call an event the way the browser does (private events have no gradio_client endpoint): its inputs'
        current values from /config, with `values` (by label) replaced."""
        request = urllib.request.Request(f"{self.base}/config", headers=self.headers())  # the token guards /config too
        with urllib.request.urlopen(request, timeout=REQUEST_S) as r:
            config = json.load(r)
        components = {c["id"]: c for c in config["components"]}
        dep = next(d for d in config["dependencies"] if d.get("api_name") == api_name)
        data = []
        for i in dep["inputs"]:
            props = components[i].get("props", {})
            data.append(values.get(props.get("label"), props.get("value")))
        body = json.dumps({"data": data, "fn_index": dep["id"], "session_hash": secrets.token_hex(6)}).encode()
        headers = {**self.headers(), "Content-Type": "application/json"}
        return http_call("POST", f"{self.base}/gradio_api/run/predict", body, headers)


# ---- the attacks ----------------------------------------------------------------------------------------------
def pronunciation_flood(t: Target, a: Attack) -> None:
    client = t.client()
    for i in range(t.args.flood):
        if time.monotonic() > t.deadline:
            break
        a.timed(held(lambda i=i: ask(client, f"flood{i}", "flud", False, "", api_name="/set_pronunciation"), "saved"))


def latin1_transcript(t: Target, a: Attack) -> None:
    a.timed(lambda: http_call("GET", f"{t.base}/v1/voices", headers=t.headers()))
    client = t.client()

    def listed() -> tuple[str, str]:
        voices = ask(client, api_name="/list_voices")
        text = next((v["transcript"] for v in voices if v["name"] == "latin1"), None)
        return "held", f"transcript {text!r}"

    a.timed(listed)


def long_pronunciation(t: Target, a: Attack) -> None:
    spoken = ("zorblax " * 30)[:200]
    a.timed(held(lambda: ask(t.client(), "zork", spoken, False, "", api_name="/set_pronunciation"), "saved"))
    a.timed(lambda: t.speech(("zork " * 120)[:600]))


def number_heavy(t: Target, a: Attack) -> None:
    a.timed(lambda: t.speech(NUMBERS))


def huge_flac(t: Target, a: Attack) -> None:
    from gradio_client import handle_file

    path = flac_file(t.args.flac_seconds)

    def send() -> tuple[str, str]:
        ask(t.client(), handle_file(str(path)), "", "Hello.", 0, nfe_step=7, api_name="/synthesize")
        return "held", f"{path.stat().st_size / 1e6:.1f} MB answered"

    a.timed(send)


def anonymous_gradio(t: Target, a: Attack) -> None:
    a.timed(lambda: http_call("GET", f"{t.base}/gradio_api/info"))
    body = json.dumps({"data": []}).encode()
    for _ in range(3):
        a.timed(
            lambda: http_call(
                "POST", f"{t.base}/gradio_api/call/list_voices", body, {"Content-Type": "application/json"}
            )
        )


def brute_force_logins(t: Target, a: Attack) -> None:
    for i in range(t.args.logins):
        if time.monotonic() > t.deadline:
            break
        a.timed(lambda i=i: _login(t, f"username=bench&password=guess{i}".encode()))


def _login(t: Target, form: bytes) -> tuple[str, str]:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    _, status = http_call("POST", f"{t.login_base}/login", form, headers)
    return ("refused" if status == "HTTP 429" else "held"), status  # a wrong password checked is a slot held


def dropped_checks(t: Target, a: Attack) -> None:
    text = " ".join([LONG_SENTENCE] * 4)
    for _ in range(4):
        a.timed(lambda: t.speech(text, timeout=DROP_S, check=True))


def word_diff(t: Target, a: Attack) -> None:
    old = " ".join(f"alpha{i}" for i in range(2300))[:16_000]
    new = " ".join(f"beta{i}" for i in range(2300))[:16_000]
    a.timed(
        lambda: t.browser_call(
            "show_diff", {"Transcript: what the recording says": old, "New text: change, add or remove words": new}
        )
    )


def find_speakers(t: Target, a: Attack) -> None:
    script = "".join(f"[Speaker{i % 50}] Hello there, this is line {i}.\n" for i in range(8000))[:240_000]
    a.timed(lambda: t.browser_call("find_speakers", {"Script": script}))


def huge_body(t: Target, a: Attack) -> None:
    size = 100 * 2**20

    def send() -> tuple[str, str]:
        head = b'{"data": ["'
        body = head + b"a" * (size - len(head) - 3) + b'"]}'
        return http_call(
            "POST", f"{t.base}/gradio_api/queue/join", body, {**t.headers(), "Content-Type": "application/json"}
        )

    a.timed(send)


def long_renames(t: Target, a: Attack) -> None:
    client = t.client()
    for name in ("x" * 65, "𠀀" * 64, "x" * 100_000):
        renamed: list[str] = []
        a.timed(
            held(
                lambda name=name, renamed=renamed: renamed.append(
                    ask(client, "victim", name, api_name="/rename_voice")
                ),
                "renamed",
            )
        )
        for new in renamed:  # put it back for the next try
            with contextlib.suppress(Exception):
                ask(client, new, "victim", api_name="/rename_voice")


def full_queue(t: Target, a: Attack) -> None:
    """Half-way through the run, so that the other attacks are first measured on a queue that is not full."""
    text = " ".join([LONG_SENTENCE] * 12)
    time.sleep(max(0.0, t.deadline - t.args.seconds / 2 - time.monotonic()))
    start = time.monotonic()
    threads = [
        threading.Thread(target=a.timed, args=(lambda: t.speech(text),), daemon=True) for _ in range(t.args.burst)
    ]
    start_all(threads)
    a.close(len(join_all(threads, start + REQUEST_S + 30)), time.monotonic() - start)


ATTACKS: dict[str, Callable[[Target, Attack], None]] = {
    "pronunciation flood": pronunciation_flood,
    "latin1 transcript": latin1_transcript,
    "anonymous gradio_api": anonymous_gradio,
    "long renames": long_renames,
    "word diff": word_diff,
    "find speakers": find_speakers,
    "number-heavy text": number_heavy,
    "long pronunciation": long_pronunciation,
    "dropped checks": dropped_checks,
    "brute-force logins": brute_force_logins,
    "100 MB body": huge_body,
    "huge flac": huge_flac,
    "full queue": full_queue,
}


def flac_file(seconds: float) -> Path:
    """A FLAC of `seconds` of silence at FLAC_RATE in 8 channels (3.5 MB for 600 s), written once into the cache."""
    import numpy as np
    import soundfile as sf

    path = CACHE / "abuse" / f"huge-{seconds:.0f}s.flac"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        block = np.zeros((FLAC_RATE, 8), dtype=np.int16)
        tmp = path.with_suffix(".part")
        with sf.SoundFile(tmp, "w", samplerate=FLAC_RATE, channels=8, format="FLAC", subtype="PCM_16") as f:
            for _ in range(int(seconds)):
                f.write(block)
        tmp.replace(path)
    return path


# ---- the honest side and the run ------------------------------------------------------------------------------
@dataclass
class Honest:
    latencies: list[float] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def honest_visitor(t: Target, h: Honest, i: int) -> None:
    """A visitor with a short text, through gradio_client (even i) or the OpenAI client (odd i), until the deadline."""
    from openai import OpenAI

    via_gradio = i % 2 == 0
    client = (
        t.client() if via_gradio else OpenAI(base_url=f"{t.base}/v1", api_key=t.token, max_retries=0, timeout=HONEST_S)
    )
    seed = i * 1000
    while time.monotonic() < t.deadline:
        seed += 1
        start = time.perf_counter()
        try:
            if via_gradio:
                ask(client, None, "", SHORT, seed, nfe_step=7, voice="bench", api_name="/synthesize", timeout=HONEST_S)
            else:
                client.audio.speech.create(
                    model="tts-1",
                    voice="bench",
                    input=SHORT,
                    response_format="wav",
                    extra_body={"nfe_step": 7, "seed": seed},
                ).read()
            with h.lock:
                h.outcomes["answered"] += 1
                h.latencies.append(time.perf_counter() - start)
        except Exception as e:  # every failure is counted and listed
            kind = "busy" if busy(str(e)) else "failed"
            with h.lock:
                h.outcomes[kind] += 1
                if kind == "failed":
                    h.failures.append(
                        f"{'gradio_client' if via_gradio else 'openai'}: {type(e).__name__}: {str(e)[:160]}"
                    )
            time.sleep(1)


def watch(
    t: Target, app: Any, stop: threading.Event, health: list[float], rss: list[tuple[float, int]], t0: float
) -> None:
    """/health latency every 0.5 s and the app's RSS every 2 s, until `stop`."""
    last_rss = 0.0
    while not stop.is_set():
        start = time.perf_counter()
        try:
            urllib.request.urlopen(f"{t.base}/health", timeout=10).close()
            health.append(time.perf_counter() - start)
        except OSError:
            health.append(float("inf"))
        if time.monotonic() - last_rss >= 2:
            last_rss = time.monotonic()
            with contextlib.suppress(Exception):
                rss.append((last_rss - t0, app.memory_info().rss))
        stop.wait(0.5)


def start_all(threads: list[threading.Thread]) -> None:
    for th in threads:
        th.start()


def join_all(threads: list[threading.Thread], until: float) -> list[str]:
    """Wait for the threads until `until` (monotonic); returns the names of those still running (hung)."""
    for th in threads:
        th.join(max(0.0, until - time.monotonic()))
    return [th.name for th in threads if th.is_alive()]


def run_attacks(t: Target, attacks: dict[str, Attack]) -> None:
    """Every attack at once, each in its own thread (the flood and the logins go on until the deadline)."""

    def one(name: str, fn: Callable[[Target, Attack], None]) -> None:
        try:
            fn(t, attacks[name])
        except Exception as e:  # one attack's harness failing must not stop the others
            attacks[name].record("broke", 0.0, f"harness: {type(e).__name__}: {str(e)[:80]}")

    threads = [threading.Thread(target=one, args=(n, ATTACKS[n]), daemon=True, name=n) for n in attacks]
    start_all(threads)
    hung = join_all(threads, t.deadline + 2 * REQUEST_S + 30)
    for name in hung:
        attacks[name].close(1, time.monotonic() - t.deadline + t.args.seconds)


def prepare_voices() -> Path:
    voices = Path(tempfile.mkdtemp(prefix="abuse-voices-"))
    wav = full_ref_wav().read_bytes()
    for name in ("bench", "latin1", "victim"):
        (voices / f"{name}.wav").write_bytes(wav)
    (voices / "bench.txt").write_text(REF_TEXT, encoding="utf-8")
    (voices / "victim.txt").write_text(REF_TEXT, encoding="utf-8")
    (voices / "latin1.txt").write_bytes("Voilà, ça coûte très cher.".encode("latin-1"))  # a Windows editor's save
    return voices


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench.abuse", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--seconds", type=float, default=120)
    p.add_argument("--visitors", type=int, default=20)
    p.add_argument("--flood", type=int, default=FLOOD, help="set_pronunciation calls")
    p.add_argument("--logins", type=int, default=LOGINS, help="wrong passwords")
    p.add_argument("--burst", type=int, default=BURST, help="simultaneous long requests")
    p.add_argument("--flac-seconds", type=float, default=600, help="the huge FLAC's length (shorter: cheaper to write)")
    p.add_argument("--only", help=f"comma-separated attacks to run (default: all): {', '.join(ATTACKS)}")
    p.add_argument("--no-write", action="store_true")
    args = p.parse_args(argv)
    args.attacks = [a.strip() for a in args.only.split(",")] if args.only else list(ATTACKS)
    unknown = [a for a in args.attacks if a not in ATTACKS]
    if unknown:
        p.error(f"unknown attacks {unknown}; choose from: {', '.join(ATTACKS)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a stopped run still stops its apps (finally blocks)
    from inference.model.random_weights import build

    tiny = CACHE / "tiny"
    if not (tiny / "custom" / "model.yaml").is_file():
        build(tiny)
    if "huge flac" in args.attacks:
        flac_file(args.flac_seconds)  # written before the clock starts
    voices, token = prepare_voices(), secrets.token_urlsafe(16)
    env = {
        "HF_HOME": str(tiny / "hf"),
        "HF_HUB_OFFLINE": "1",
        "VOICES_DIR": str(voices),
        "F5_DEVICE": "cpu",
        "F5_MODEL": str(tiny / "custom" / "model.yaml"),
    }
    started, load_start = dt.datetime.now(dt.UTC), loadavg()
    attacks = {name: Attack(name) for name in args.attacks}
    honest, health, rss = Honest(), list[float](), list[tuple[float, int]]()
    logins = {**env, "STUDIO_AUTH": f"bench:{secrets.token_urlsafe(12)}"}
    with launch({**env, "STUDIO_API_TOKEN": token}) as base:
        with launch(logins) if "brute-force logins" in attacks else contextlib.nullcontext("") as login_base:
            t = Target(base, token, voices, login_base, args)
            elapsed, hung = run(t, attacks, honest, health, rss)
    lines = report(args, honest, health, rss, attacks, started, load_start, elapsed)
    lines += [f"- still running when the run was cut short (hung): {', '.join(hung)}"] if hung else []
    print("\n".join(lines))
    if not args.no_write:
        with RESULTS.open("a", encoding="utf-8") as f:
            f.write("\n" + "\n".join(lines) + "\n")
    return 0 if not honest.failures else 1


def run(t: Target, attacks: dict[str, Attack], honest: Honest, health: list, rss: list) -> tuple[float, list[str]]:
    """Warm up, then the visitors and the attacks until the deadline; returns (seconds it took, hung threads)."""
    import psutil

    port = int(t.base.rsplit(":", 1)[1])
    app = next(  # the app under attack: the child listening on its port
        c
        for c in psutil.Process().children()
        if any(n.laddr.port == port and n.status == psutil.CONN_LISTEN for n in c.net_connections("tcp"))
    )
    ask(t.client(), None, "", SHORT, 0, nfe_step=7, voice="bench", api_name="/synthesize")  # warm up
    t0 = time.monotonic()
    t.deadline = t0 + t.args.seconds
    stop = threading.Event()
    watcher = threading.Thread(target=watch, args=(t, app, stop, health, rss, t0), daemon=True)
    watcher.start()
    visitors = [
        threading.Thread(target=honest_visitor, args=(t, honest, i), daemon=True, name=f"visitor {i}")
        for i in range(t.args.visitors)
    ]
    attacker = threading.Thread(target=run_attacks, args=(t, attacks), daemon=True, name="attacks")
    start_all([*visitors, attacker])
    hung = join_all([*visitors, attacker], t.deadline + HONEST_S + REQUEST_S + 60)
    stop.set()
    watcher.join()
    return time.monotonic() - t0, hung


def report(args, honest, health, rss, attacks, started, load_start, elapsed) -> list[str]:
    m = machine()
    answered = [h for h in health if h != float("inf")]
    lines = [
        f"## {started:%Y-%m-%d %H:%M} UTC — `.venv/bin/python -m bench.abuse {shlex.join(sys.argv[1:])}`".rstrip(),
        "",
        f"Machine: {', '.join(f'{k} {v}' for k, v in m.items())}, load average at start {load_start}, at end "
        f"{loadavg()}",
        "",
        f"{args.visitors} honest visitors with a short text (half gradio_client `/synthesize`, half the OpenAI "
        "client), "
        f"NFE 7, tiny random model, default settings, for {args.seconds:.0f} s (the last attacks and requests ended "
        f"at {elapsed:.0f} s), while the attacks below ran. Seconds are how long each request held its connection.",
        "",
        f"- Honest requests: {honest.outcomes['answered']} answered, {honest.outcomes['busy']} told busy, "
        f"{honest.outcomes['failed']} failed; latency p50 {percentile(honest.latencies, 50):.2f} s, "
        f"p90 {percentile(honest.latencies, 90):.2f} s, max {max(honest.latencies, default=float('nan')):.2f} s.",
        f"- /health: {len(answered)} answered of {len(health)}; latency p50 {percentile(answered, 50) * 1000:.0f} ms, "
        f"p99 {percentile(answered, 99) * 1000:.0f} ms, max {max(answered, default=float('nan')) * 1000:.0f} ms.",
        "- App RSS (MB) every ~10 s: "
        + ", ".join(f"{s:.0f}s {r / 2**20:.0f}" for s, r in rss[::5])
        + (f"; peak {max(r for _, r in rss) / 2**20:.0f}" if rss else "not sampled"),
        "",
        "| attack | requests | held | refused | dropped | broke | seconds (p50 / max) | statuses |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, a in attacks.items():
        kinds = Counter(how for how, _, _ in a.outcomes)
        held = [s for _, s, _ in a.outcomes]
        statuses = Counter(status[:70] for _, _, status in a.outcomes).most_common(2)
        shown = ", ".join(f"{status} x{n}" for status, n in statuses) or "-"
        times = f"{statistics.median(held):.2f} / {max(held):.2f}" if held else "-"
        lines.append(
            f"| {name} | {len(a.outcomes)} | {kinds['held']} | {kinds['refused']} | {kinds['dropped']} | "
            f"{kinds['broke']} | {times} | {shown.replace('|', '/')} |"
        )
    lines += [f"- honest failure: {f}" for f in honest.failures[:10]]
    return lines


if __name__ == "__main__":
    sys.exit(main())

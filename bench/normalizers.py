"""Which text normalizer: each candidate that is installed in this interpreter, measured on the studio's table.

    python -m bench.normalizers [--json]                 # in the project's venv: the chosen one (wetext)
    PYTHONPATH=. /tmp/normvenv-nemo/bin/python -m bench.normalizers   # a throwaway venv per candidate

It installs nothing. For each candidate found (wetext; nemo-text-processing; num2words + cn2an; the studio's) it
measures: the pass rate per category on tests/normalize_table.py (a case passes when its spoken form is one of the
case's accepted readings, compared by the table's one rule, `canonical`); milliseconds per 1,000 characters (English
and Chinese: the table's sentences, one call each, as the studio calls it, best of three once warm); the first load;
the installed size (the candidate and every distribution it requires, from their metadata); and whether it works
with the network switched off (every socket connection refused). Only the standard library is needed besides the
candidate, so it runs in a bare venv.
"""

from __future__ import annotations

import argparse
import importlib.metadata as md
import importlib.util
import json
import re
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
TABLE_FILE = REPO / "tests" / "normalize_table.py"
Normalize = Callable[[str, str], str]  # (text, "en" | "zh") -> spoken


def load_table() -> Any:
    """tests/normalize_table.py as a module (CASES, CATEGORIES, accepts), loaded by path: no test packages needed."""
    spec = importlib.util.spec_from_file_location("normalize_table", TABLE_FILE)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {TABLE_FILE}")
    module = importlib.util.module_from_spec(spec)
    sys.modules["normalize_table"] = module  # its NamedTuple needs its module registered
    spec.loader.exec_module(module)
    return module


# ---- the candidates: each returns a normalize function, built on first use --------------------------------------
def wetext() -> Normalize:
    from wetext import Normalizer

    grammars = {lang: Normalizer(lang=lang, operator="tn") for lang in ("en", "zh")}
    return lambda text, lang: grammars[lang].normalize(text)


def nemo() -> Normalize:
    from nemo_text_processing.text_normalization.normalize import Normalizer

    cache = Path("/tmp/nemo-tn-cache")
    grammars = {lang: Normalizer(input_case="cased", lang=lang, cache_dir=str(cache)) for lang in ("en", "zh")}
    return lambda text, lang: grammars[lang].normalize(text)


def num2words_cn2an() -> Normalize:
    """num2words for English numbers (it reads numbers only: dates, money and units are left as they are), cn2an's
    transform for Chinese (numbers, dates, percentages)."""
    import cn2an
    from num2words import num2words

    number = re.compile(r"\d+(?:\.\d+)?")

    def english(text: str) -> str:
        return number.sub(lambda m: num2words(float(m[0]) if "." in m[0] else int(m[0])), text)

    return lambda text, lang: cn2an.transform(text, "an2cn") if lang == "zh" else english(text)


def studio() -> Normalize:
    """What the studio runs: our rules for what wetext misreads, then wetext, per sentence, with its fallbacks
    (inference/text/normalize.py, english.py, chinese.py)."""
    from inference.text.normalize import normalize

    return lambda text, lang: normalize(text)


# name -> (the modules it needs, which are also its distributions' names, and how to build it)
CANDIDATES: dict[str, tuple[tuple[str, ...], Callable[[], Normalize]]] = {
    "wetext": (("wetext",), wetext),
    "nemo-text-processing": (("nemo_text_processing",), nemo),
    "num2words + cn2an": (("num2words", "cn2an"), num2words_cn2an),
    "the studio's (our rules + wetext)": (("wetext", "num2words", "inference"), studio),
}


# ---- measuring ------------------------------------------------------------------------------------------------------
def installed_bytes(names: list[str]) -> int:
    """Bytes on disk of these distributions and everything they require (each counted once)."""
    seen: set[str] = set()
    total = 0
    todo = list(names)
    while todo:
        name = re.split(r"[\s;<>=!~\[(]", todo.pop(), maxsplit=1)[0].lower().replace("_", "-")
        if not name or name in seen:
            continue
        seen.add(name)
        try:
            dist = md.distribution(name)
        except md.PackageNotFoundError:
            continue
        for f in dist.files or []:
            path = Path(str(dist.locate_file(f)))
            if path.is_file():
                total += path.stat().st_size
        todo += [r for r in dist.requires or [] if "extra ==" not in r]
    return total


class _NoNetwork:
    """Every socket connection refused while inside (DNS included)."""

    def __enter__(self) -> None:
        self.connect, self.lookup = socket.socket.connect, socket.getaddrinfo

        def refuse(*_: Any, **__: Any) -> Any:
            raise OSError("network switched off by the benchmark")

        socket.socket.connect = refuse  # type: ignore[method-assign]
        socket.getaddrinfo = refuse  # type: ignore[assignment]

    def __exit__(self, *_: Any) -> None:
        socket.socket.connect, socket.getaddrinfo = self.connect, self.lookup  # type: ignore[method-assign]


def per_1000_chars(normalize: Normalize, texts: list[str], lang: str) -> float:
    """Milliseconds to normalize 1,000 characters of these sentences, one call per sentence; the best of three."""
    batch, size = [], 0
    while size < 1000:
        for t in texts:
            batch.append(t)
            size += len(t)
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for t in batch:
            try:
                normalize(t, lang)
            except Exception:  # counted in the coverage; its time still counts here
                pass
        best = min(best, time.perf_counter() - start)
    return best * 1000 * 1000 / size


def measure(name: str, modules: tuple[str, ...], build: Callable[[], Normalize]) -> dict[str, Any]:
    table = load_table()
    with _NoNetwork():
        start = time.perf_counter()
        try:
            normalize = build()
            offline = True
        except OSError as e:
            return {"candidate": name, "offline": False, "error": str(e)[:200]}
        load_s = time.perf_counter() - start
        passed: dict[str, list[int]] = {}  # "en cardinal" -> [passed, cases]
        failed = []
        for case in table.CASES:
            try:
                spoken = normalize(case.written, case.language)
            except Exception as e:  # a candidate that raises on a case fails that case
                spoken = f"<{type(e).__name__}>"
            ok = table.accepts(case, spoken)
            tally = passed.setdefault(f"{case.language} {case.category}", [0, 0])
            tally[0] += ok
            tally[1] += 1
            if not ok:
                failed.append(f"{case.language}/{case.category}: {case.written!r} -> {spoken!r}")
        speed = {
            lang: round(per_1000_chars(normalize, [c.written for c in table.CASES if c.language == lang], lang), 1)
            for lang in ("en", "zh")
        }
    return {
        "candidate": name,
        "per_category": {k: f"{v[0]}/{v[1]}" for k, v in passed.items()},
        **{f"passed_{lang}": _total(passed, lang) for lang in ("en", "zh")},
        "passed": _total(passed, ""),
        "ms_per_1000_chars_en": speed["en"],
        "ms_per_1000_chars_zh": speed["zh"],
        "first_load_s": round(load_s, 2),
        "installed_mb": round(installed_bytes(list(modules)) / 1e6, 1),
        "offline": offline,
        "failed": failed,
    }


def _total(passed: dict[str, list[int]], lang: str) -> str:
    rows = [v for k, v in passed.items() if k.startswith(lang)]
    return f"{sum(r[0] for r in rows)}/{sum(r[1] for r in rows)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--json", action="store_true", help="print the measurements as JSON lines")
    parser.add_argument("--failed", action="store_true", help="list every case each candidate fails")
    args = parser.parse_args()
    found = {n: c for n, c in CANDIDATES.items() if all(importlib.util.find_spec(m) for m in c[0])}
    if not found:
        print("none of the candidates is installed here:", ", ".join(CANDIDATES))
        return
    missing = [n for n in CANDIDATES if n not in found]
    results = [measure(name, modules, build) for name, (modules, build) in found.items()]
    for m in results:
        if args.json:
            print(json.dumps(m, ensure_ascii=False))
        if "error" in m:
            print(f"{m['candidate']}: failed to load: {m['error']}")
    ok = [m for m in results if "error" not in m]
    print("| category | " + " | ".join(m["candidate"] for m in ok) + " |")
    print("|---|" + "---|" * len(ok))
    for key in ok[0]["per_category"] if ok else []:
        print(f"| {key} | " + " | ".join(m["per_category"][key] for m in ok) + " |")
    for label, field in (("all, English", "passed_en"), ("all, Chinese", "passed_zh"), ("all", "passed")):
        print(f"| **{label}** | " + " | ".join(f"**{m[field]}**" for m in ok) + " |")
    for label, field in (
        ("ms / 1,000 chars en", "ms_per_1000_chars_en"),
        ("ms / 1,000 chars zh", "ms_per_1000_chars_zh"),
    ):
        print(f"| {label} | " + " | ".join(str(m[field]) for m in ok) + " |")
    for label, field in (("first load (s)", "first_load_s"), ("installed MB", "installed_mb")):
        print(f"| {label} | " + " | ".join(str(m[field]) for m in ok) + " |")
    print("| offline | " + " | ".join("yes" if m["offline"] else "no" for m in ok) + " |")
    if missing:
        print("\nnot installed here, not measured:", ", ".join(missing))
    if args.failed:
        for m in ok:
            for line in m["failed"]:
                print(f"    {m['candidate']} failed {line}")


if __name__ == "__main__":
    main()

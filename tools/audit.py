"""Audit the installed dependencies for known vulnerabilities with pip-audit (PyPI's vulnerability data).

    .venv/bin/python tools/audit.py        # `make audit`

Exit 0 when no known vulnerability was found, 1 when some were (each printed with the versions that fix it).
pip-audit needs the network: when PyPI cannot be reached it skips every package and would still say "No known
vulnerabilities found", so this prints how many packages were really audited and, when none were, says the audit
did not happen (exit 0: an unreachable service must not fail an offline build, but it is reported).
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any


def summarize(report: dict[str, Any]) -> tuple[int, str]:
    """(exit status, what to print) for pip-audit's JSON report."""
    deps = report.get("dependencies", [])
    skipped = [d for d in deps if d.get("skip_reason")]
    audited = [d for d in deps if not d.get("skip_reason")]
    vulnerable = [d for d in audited if d.get("vulns")]
    lines = []
    for dep in vulnerable:
        for vuln in dep["vulns"]:
            fixes = ", ".join(vuln.get("fix_versions") or []) or "no fixed version yet"
            lines.append(f"  {dep['name']} {dep.get('version', '?')}: {vuln.get('id', '?')} (fixed in {fixes})")
    if deps and not audited:
        reasons = sorted({d["skip_reason"].split(":")[0] for d in skipped})
        return 0, (
            f"pip-audit: NOTHING WAS AUDITED: all {len(deps)} packages were skipped ({'; '.join(reasons)}). "
            "The vulnerability service is probably unreachable; run `make audit` with network access."
        )
    head = f"pip-audit: {len(audited)} packages audited, {len(skipped)} skipped" + (
        f" ({', '.join(sorted(d['name'] for d in skipped))})" if skipped else ""
    )
    if vulnerable:
        return 1, "\n".join([f"{head}; KNOWN VULNERABILITIES in {len(vulnerable)}:", *lines])
    return 0, f"{head}; no known vulnerabilities."


def main() -> int:
    cmd = [sys.executable, "-m", "pip_audit", "--format", "json", "--progress-spinner", "off", "--timeout", "20"]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        print(f"pip-audit: could not run ({e}); nothing was audited.")
        return 0
    try:
        report = json.loads(proc.stdout)
    except ValueError:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        print(f"pip-audit: no report ({last}); nothing was audited. The vulnerability service may be unreachable.")
        return 0
    status, text = summarize(report)
    print(text)
    return status


if __name__ == "__main__":
    sys.exit(main())

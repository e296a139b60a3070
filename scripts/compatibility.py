"""Writes the README's compatibility table from the last test run (.engines/last-run.json, written by the tests).

Only a run in which every engine of the matrix ran and nothing failed or was skipped rewrites it; otherwise it
says why and leaves the README as it is.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import CHECKS, RESULTS  # noqa: E402

BEGIN, END = "<!-- compatibility: written by make test -->", "<!-- /compatibility -->"


def table(results: dict) -> str:
    rows = ["| Engine | Version | Checked on it (tests passed) |", "| --- | --- | --- |"]
    for engine in results.values():
        ordered = sorted(engine["checks"].items(), key=lambda kv: list(CHECKS).index(kv[0]))
        checked = "; ".join(f"{CHECKS[module]} ({counts['passed']})" for module, counts in ordered)
        rows.append(f"| {engine['title']} | {engine['version']} | {checked} |")
    return "\n".join(rows)


def why_not(results: dict) -> str | None:
    for engine in results.values():
        if engine["version"] is None or not engine["checks"]:
            return f"{engine['title']} did not run"
        for module, counts in engine["checks"].items():
            if counts["failed"] or counts["skipped"]:
                return f"{engine['title']}: {module} had {counts['failed']} failed, {counts['skipped']} skipped"
    return None


def main(readme: str) -> int:
    if not RESULTS.is_file():
        print(f"compatibility: no {RESULTS.relative_to(ROOT)}: run the tests first", file=sys.stderr)
        return 0
    results = json.loads(RESULTS.read_text())
    reason = why_not(results)
    if reason:
        print(f"compatibility: table left as it is ({reason})", file=sys.stderr)
        return 0
    path = Path(readme)
    text = path.read_text()
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    new = f"{head}{BEGIN}\n{table(results)}\n{END}{tail}"
    if new != text:
        path.write_text(new)
        print(f"compatibility: {readme}'s table rewritten from this run")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "README.md")))

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

from crdb_dash.simulation import engines  # noqa: E402
from tests.conftest import CHECKS, RESULTS, RULE_ENGINES  # noqa: E402

BEGIN, END = "<!-- compatibility: written by make test -->", "<!-- /compatibility -->"
RULE_MODULES = ("test_alerts", "test_absent_inputs", "test_custom_labels")


def expected(engine: engines.Engine) -> set[str]:
    """The modules whose tests must have run on this engine for the row to be true."""
    modules = {"test_scenarios", "test_victoriametrics" if engine.kind == "victoriametrics" else "test_alerts"}
    return modules | (set(RULE_MODULES) if engine in RULE_ENGINES else set())


def table(results: dict) -> str:
    rows = ["| Engine | Version | Checked on it (tests passed) |", "| --- | --- | --- |"]
    for engine in engines.MATRIX:
        checks = results[engine.key]["checks"]
        checked = "; ".join(f"{text} ({checks[module]['passed']})" for module, text in CHECKS.items()
                            if module in checks)
        rows.append(f"| {engine.title} | {results[engine.key]['version']} | {checked} |")
    return "\n".join(rows)


def why_not(results: dict) -> str | None:
    for engine in engines.MATRIX:
        ran = results.get(engine.key, {"version": None, "checks": {}})
        if ran["version"] is None or not expected(engine) <= set(ran["checks"]):
            return f"{engine.title} did not run every check"
        for module, counts in ran["checks"].items():
            if counts["failed"] or counts["skipped"]:
                return f"{engine.title}: {module} had {counts['failed']} failed, {counts['skipped']} skipped"
    return None


def main(readme: str) -> int:
    if not RESULTS.is_file():
        print(f"compatibility: no {RESULTS.relative_to(ROOT)}: run the tests first", file=sys.stderr)
        return 0
    results = json.loads(RESULTS.read_text())
    for key, ran in results.items():
        seconds = sum(counts.get("seconds", 0) for counts in ran["checks"].values())
        print(f"compatibility: {key}: {seconds:.0f} s of tests on it (both workers' time added up)")
    reason = why_not(results)
    if reason:
        print(f"compatibility: table left as it is ({reason})", file=sys.stderr)
        return 0
    path = Path(readme)
    text = path.read_text()
    if not 0 <= text.find(BEGIN) < text.find(END):
        print(f"compatibility: {readme} has no table markers ({BEGIN} ... {END})", file=sys.stderr)
        return 1
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    new = f"{head}{BEGIN}\n{table(results)}\n{END}{tail}"
    if new != text:
        path.write_text(new)
        print(f"compatibility: {readme}'s table rewritten from this run")

    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "README.md")))

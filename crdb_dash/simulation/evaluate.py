"""Run a dashboard's queries against Prometheus the way Grafana does."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from crdb_dash.pipeline.interpolate import Vars, substitute
from crdb_dash.simulation.promrun import Prometheus


@dataclass
class Result:
    expr: str  # after substitution
    series: list[dict]  # Prometheus result: [{metric, value}] (instant) or [{metric, values}] (range)
    samples: int  # totalQueryableSamples read by Prometheus


def range_seconds(model: dict) -> int:
    """The dashboard's default time range, e.g. now-24h -> 86400."""
    from crdb_dash.model.config import parse_duration

    return parse_duration(model["time"]["from"].removeprefix("now-"))


def run(prom: Prometheus, target: dict, v: Vars, at: int) -> Result:
    """An instant query for instant targets (stat panels), else a range query over the range ending at ``at``.

    The target's min step (``interval``, which our panels also set as their min interval) bounds the step
    and sets the scrape interval ``$__rate_interval`` is computed from, as in Grafana.
    """
    if target.get("interval"):
        from crdb_dash.model.config import parse_duration

        v = replace(v, min_interval=parse_duration(target["interval"]))
    expr = substitute(target["expr"], v)
    if target.get("instant"):
        data = prom.query(expr, at, stats=True)
    else:
        step = v.step
        end = at - at % step
        data = prom.query_range(expr, end - v.range_seconds, end, step, stats=True)
    samples = data.get("stats", {}).get("samples", {}).get("totalQueryableSamples", 0)
    return Result(expr, data["result"], samples)


def walk(node, visit, inside: str | None = None) -> None:
    """Call ``visit(node, inside)`` on every node of a promql_parser AST; ``inside`` is the enclosing function."""
    import promql_parser

    visit(node, inside)
    name = node.func.name if isinstance(node, promql_parser.Call) else inside
    for attr in ("expr", "lhs", "rhs", "param", "vector_selector"):
        child = getattr(node, attr, None)
        if isinstance(child, promql_parser.Expr):
            walk(child, visit, name)
    for arg in getattr(node, "args", None) or []:
        walk(arg, visit, name)


def selectors(expr: str) -> set[str]:
    """The series selectors of a PromQL expression, as text."""
    import promql_parser

    found: set[str] = set()

    def visit(node, _) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            found.add(re.sub(r" offset \S+$", "", str(node)))  # the same series, read earlier

    walk(promql_parser.parse(expr), visit)
    return found


def last_values(result: Result) -> dict[tuple, float]:
    """Label set -> the value a stat panel would show (instant) or the last point (range)."""
    out = {}
    for s in result.series:
        key = tuple(sorted(s["metric"].items()))
        out[key] = float(s["value"][1]) if "value" in s else float(s["values"][-1][1])
    return out

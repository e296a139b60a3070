"""Grafana's variable substitution for Prometheus queries, to run dashboard queries as Grafana would.

Grafana picks a range query's step ($__interval) from the time range divided by the panel's
data points, rounded to a friendly interval and never below the datasource's scrape interval;
$__rate_interval is max($__interval + scrape interval, 4 x scrape interval).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Grafana's friendly intervals (kbn.roundInterval, simplified to the ones a dashboard meets).
_STEPS = [1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1200, 1800, 3600, 7200, 10800, 21600, 43200, 86400]
_REGEX_META = re.compile(r"([\\.+*?()|\[\]{}^$])")


def seconds_text(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def step_for(range_seconds: int, scrape_seconds: int, max_data_points: int = 1000) -> int:
    raw = range_seconds / max_data_points
    rounded = next((s for s in _STEPS if s >= raw), _STEPS[-1])
    return max(rounded, scrape_seconds)


@dataclass(frozen=True)
class Vars:
    """The values a user picked and the time range a panel is drawn over."""

    cluster: str
    range_seconds: int
    scrape_seconds: int
    nodes: list[str] | None = None  # None means All
    tenants: list[str] | None = None  # None means All
    tenant_ids: list[str] | None = None  # virtual cluster IDs of host schedules; None means All
    datasource: str = "prometheus"
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def step(self) -> int:
        return step_for(self.range_seconds, self.scrape_seconds)

    @property
    def rate_interval(self) -> int:
        return max(self.step + self.scrape_seconds, 4 * self.scrape_seconds)


def _multi(values: list[str] | None) -> str:
    """A multi-value variable in a regex matcher: All is '.*' (the variables' allValue)."""
    if values is None:
        return ".*"
    escaped = [_REGEX_META.sub(r"\\\\\1", v) for v in values]
    return escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"


def substitute(expr: str, v: Vars) -> str:
    values = {
        "__rate_interval": seconds_text(v.rate_interval),
        "__interval": seconds_text(v.step),
        "__range": seconds_text(v.range_seconds),
        "cluster": v.cluster,
        "node": _multi(v.nodes),
        "tenant": _multi(v.tenants),
        "tenant_id": _multi(v.tenant_ids),
        "datasource": v.datasource,
        **v.extra,
    }

    def replace(match: re.Match) -> str:
        name = match.group(1) or match.group(2)
        if name not in values:
            raise KeyError(f"unknown variable ${name} in {expr!r}")
        return values[name]

    return re.sub(r"\$\{(\w+)\}|\$(\w+)", replace, expr)

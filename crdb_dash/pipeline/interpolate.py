"""Grafana's variable substitution for Prometheus queries, to run dashboard queries as Grafana would.

Modelled on Grafana's Prometheus backend (pkg/promlib/models/query.go) and its interval calculator:

- the frontend's interval is the time range divided by the panel's data points, rounded to a friendly
  interval (``round_interval``), and never below the panel's min interval (or, without one, the
  datasource's scrape interval);
- the query's step is that interval, or the query's min step (``interval`` on the target) when the raw
  interval is below it; ``$__interval`` / ``${__interval_ms}`` are the step;
- ``$__rate_interval`` is max(interval + S, 4 x S), S being the query's min step if set, else the
  datasource's scrape interval (15s when the datasource does not say).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_REGEX_META = re.compile(r"([\\.+*?()|\[\]{}^$])")
# Grafana's rangeutil roundInterval: (below this many seconds, use this interval).
_ROUNDING = [(1.5, 1), (3.5, 2), (7.5, 5), (12.5, 10), (17.5, 15), (25, 20), (45, 30), (90, 60), (210, 120),
             (450, 300), (750, 600), (1050, 900), (1500, 1200), (2700, 1800), (5400, 3600), (9000, 7200),
             (16200, 10800), (32400, 21600), (86400, 43200), (604800, 86400), (1814400, 604800),
             (3628800, 2592000)]
SAFE_RESOLUTION = 11000  # Grafana never asks Prometheus for more points than this


def seconds_text(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def round_interval(seconds: float) -> int:
    """Grafana's friendly interval for a raw interval (kbn/rangeutil roundInterval, whole seconds)."""
    return next((friendly for below, friendly in _ROUNDING if seconds < below), 31536000)


@dataclass(frozen=True)
class Vars:
    """The values a user picked, the time range a panel is drawn over and the intervals Grafana knows."""

    cluster: str
    range_seconds: int
    scrape_seconds: int  # the datasource's scrape interval (timeInterval); Grafana assumes 15s when unset
    nodes: list[str] | None = None  # None means All
    tenants: list[str] | None = None  # None means All
    tenant_ids: list[str] | None = None  # virtual cluster IDs of host schedules; None means All
    cluster_filter: list[str] | None = None  # the Fleet dashboard's clusters; None means All
    datasource: str = "prometheus"
    extra: dict[str, str] = field(default_factory=dict)
    min_interval: int | None = None  # the panel's min interval and the query's min step, when set
    max_data_points: int = 1000

    @property
    def interval(self) -> int:
        """The frontend's interval: range / data points, rounded, at least the min interval or scrape."""
        low = self.min_interval or self.scrape_seconds
        return max(round_interval(self.range_seconds / self.max_data_points), low)

    @property
    def step(self) -> int:
        raw = self.range_seconds / self.max_data_points
        low = self.min_interval or self.interval
        step = low if raw < low else round_interval(raw)
        return max(step, round_interval(self.range_seconds / SAFE_RESOLUTION))

    @property
    def rate_interval(self) -> int:
        scrape = self.min_interval or self.scrape_seconds
        return max(self.interval + scrape, 4 * scrape)


def multi_value(values: list[str] | None) -> str:
    """A multi-value variable in a regex matcher: All is '.*' (the variables' allValue)."""
    if values is None:
        return ".*"
    escaped = [_REGEX_META.sub(r"\\\\\1", v) for v in values]
    return escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"


def substitute(expr: str, v: Vars) -> str:
    values = {
        "__rate_interval": seconds_text(v.rate_interval),
        "__interval": seconds_text(v.step),
        "__interval_ms": str(v.step * 1000),
        "__range": seconds_text(v.range_seconds),
        "__range_s": str(v.range_seconds),
        "cluster": v.cluster,
        "node": multi_value(v.nodes),
        "tenant": multi_value(v.tenants),
        "tenant_id": multi_value(v.tenant_ids),
        "cluster_filter": multi_value(v.cluster_filter),
        "datasource": v.datasource,
        **v.extra,
    }

    def replace(match: re.Match) -> str:
        name = match.group(1) or match.group(2)
        if name not in values:
            raise KeyError(f"unknown variable ${name} in {expr!r}")
        return values[name]

    return re.sub(r"\$\{(\w+)\}|\$(\w+)", replace, expr)

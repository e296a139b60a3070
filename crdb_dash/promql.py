"""PromQL for each kind of metric, following CockroachDB's per-node semantics.

One ``Scope`` says which series a query reads and how it groups them: dashboards use
Grafana's variables, alert rules the configured selector. Panels and rules both build
their expressions here, so each aggregation rule is written once.
"""

from __future__ import annotations

from dataclasses import dataclass

from crdb_dash.catalog import COUNTING, Kind, Metric, metric
from crdb_dash.config import Config

RATE_INTERVAL = "$__rate_interval"
STEP = "${__interval_ms}ms"  # exactly the query's step ($__interval is truncated to a whole unit)
RANGE = "$__range"
RATE_UNITS = {"Bps": "bytes"}  # counters shown as a per-second rate; the rest as counts per window
# Recording rule: each cluster's newest backup completion over the RPO window (see newest_completion).
RPO_RECORD = "cluster_tenant:schedules_BACKUP_last_completed_time:max_over_window"


@dataclass(frozen=True)
class Scope:
    matchers: str  # selects one cluster's series
    node_matchers: str  # the same, narrowed to the chosen nodes
    by: tuple[str, ...]  # labels a cluster-wide value keeps
    node_label: str
    tenant_label: str
    rpo_window: str
    recorded: str = ""  # matchers on RPO_RECORD when dashboards read the recording rule; "" reads raw series

    def grouping(self, m: Metric | None = None) -> str:
        labels = self.by + ((m.by_label,) if m is not None and m.by_label else ())
        return ", ".join(labels)


def dashboard_scope(cfg: Config) -> Scope:
    base = f'{cfg["selector"]}, {cfg.cluster}="$cluster", {cfg.tenant}=~"$tenant"'
    recorded = f'{cfg.cluster}="$cluster", {cfg.tenant}=~"$tenant"' if cfg.get("rpo.recorded") else ""
    return Scope(base, f'{base}, {cfg.node}=~"$node"', (cfg.cluster, cfg.tenant), cfg.node, cfg.tenant,
                 cfg.get("rpo.window"), recorded)


def rule_scope(cfg: Config) -> Scope:
    return Scope(cfg["selector"], cfg["selector"], (cfg.cluster, cfg.tenant), cfg.node, cfg.tenant,
                 cfg.get("rpo.window"))


def series(m: Metric, matchers: str) -> str:
    return f"{m.exported}{{{matchers}}}"


def selector(m: Metric, scope: Scope) -> str:
    """Work a node did itself can be narrowed to chosen nodes; cluster-wide gauges cannot."""
    return series(m, scope.node_matchers if m.per_node else scope.matchers)


def increase(m: Metric, scope: Scope, window: str, by: str | None = None) -> str:
    """Events in ``window`` summed over nodes; counter resets at node restarts are handled by increase."""
    return f"sum by ({scope.grouping(m) if by is None else by}) (increase({selector(m, scope)}[{window}]))"


def rate(m: Metric, scope: Scope, window: str = RATE_INTERVAL, by: str | None = None) -> str:
    return f"sum by ({scope.grouping(m) if by is None else by}) (rate({selector(m, scope)}[{window}]))"


def latest_completion(m: Metric, scope: Scope) -> str:
    """Newest completion time across nodes; absent (unknown) when every node reports 0 over the window.

    A node reports 0 until it completes a backup and again after a restart, so each node's
    maximum over the window is taken first, then the maximum across nodes.
    """
    return f"{newest_completion(m, scope)} > 0"


def newest_completion(m: Metric, scope: Scope) -> str:
    if scope.recorded and not m.by_label:
        return f"max by ({scope.grouping(m)}) ({RPO_RECORD}{{{scope.recorded}}})"
    return f"max by ({scope.grouping(m)}) (max_over_time({selector(m, scope)}[{scope.rpo_window}]))"


def rpo_status(m: Metric, scope: Scope) -> str:
    """Like ``age``, but -1 where every node reports 0 over the window: a stat panel maps it to "Unknown"."""
    newest = newest_completion(m, scope)
    return f"time() - ({newest} > 0) or ({newest} == 0) - 1"


def age(m: Metric, scope: Scope) -> str:
    """Seconds since a unix-time gauge's newest non-zero value; no result means unknown or never."""
    if m.kind is Kind.LAST_COMPLETED:
        return f"time() - ({latest_completion(m, scope)})"
    return f"time() - (max by ({scope.grouping(m)}) ({selector(m, scope)}) > 0)"


def per_step(m: Metric, scope: Scope, by: str | None = None) -> str:
    """Events of a counter in each step of a graph, summed over nodes: whole numbers, steps that do not overlap.

    Each node's count is its counter's value at the end of the step minus its value at the end of the step
    before, with no extrapolation, so every event falls in exactly one step. After a restart (the value went
    down) the count is the value since the restart; a series first seen in the step counts from its first
    sample, as ``increase`` would.
    """
    now = selector(m, scope)
    delta = f"{now} - {_offset(now, m, STEP)}"
    return f"sum by ({scope.grouping(m) if by is None else by}) (({delta}) >= 0 or {now} and ({delta}) < 0)"


def _offset(expr: str, m: Metric, by: str) -> str:
    """``expr`` with its selector of ``m`` read ``by`` earlier.

    The offset goes right after the selector's braces, so it stays valid inside a function such as label_replace.
    """
    start = expr.index(m.exported + "{") + len(m.exported)
    quoted = False
    for i in range(start, len(expr)):
        if expr[i] == '"' and expr[i - 1] != "\\":
            quoted = not quoted
        elif expr[i] == "}" and not quoted:
            return f"{expr[:i + 1]} offset {by}{expr[i + 1:]}"
    raise ValueError(f"no selector of {m.exported} in {expr!r}")


def current(m: Metric, scope: Scope, window: str = RATE_INTERVAL) -> str:
    """The cluster-wide value of ``m`` as a time series, by its kind."""
    if m.kind in COUNTING:
        return rate(m, scope, window) if m.unit in RATE_UNITS else per_step(m, scope)
    if m.kind is Kind.RUNNING:
        return f"sum by ({scope.grouping(m)}) ({selector(m, scope)})"
    if m.kind is Kind.POLLER:
        return poller_gauge(m, scope)
    if m.kind is Kind.SCHEDULER:
        return f"max by ({scope.grouping(m)}) ({selector(m, scope)})"
    return age(m, scope)


def poller_gauge(m: Metric, scope: Scope) -> str:
    """The value on the node running the jobs metrics poller; the max across nodes while none reports it.

    A node that ran the poller before keeps exporting the value it last set until it restarts, so a
    plain max can show a paused job long after it was resumed.
    """
    running = series(metric("jobs_poll_jobs_stats_currently_running"), scope.matchers)
    fresh = f"{selector(m, scope)} and on ({scope.node_label}, {scope.tenant_label}) ({running} > 0)"
    return f"max by ({scope.grouping(m)}) ({fresh}) or max by ({scope.grouping(m)}) ({selector(m, scope)})"


def by_node(m: Metric, scope: Scope, window: str = RATE_INTERVAL) -> str:
    """The same value split by node, for metrics each node reports its own share of."""
    label = scope.node_label
    if m.kind in COUNTING:
        return rate(m, scope, window, by=label) if m.unit in RATE_UNITS else per_step(m, scope, by=label)
    return f"sum by ({label}) ({selector(m, scope)})"


def success_ratio(scope: Scope, window: str) -> str:
    """Succeeded / (succeeded + failed) scheduled backups that finished in ``window``; no value (not NaN) if none."""
    ok = increase(metric("schedules_BACKUP_succeeded"), scope, window)
    failed = increase(metric("schedules_BACKUP_failed"), scope, window)
    return f"{ok} / ({ok} + {failed} > 0)"

"""PromQL for each kind of metric, following CockroachDB's per-node semantics.

One ``Scope`` says which series a query reads and how it groups them: dashboards use
Grafana's variables, alert rules the configured selector. Panels and rules both build
their expressions here, so each aggregation rule is written once.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from crdb_dash.catalog import COUNTING, Kind, Metric, metric
from crdb_dash.config import Config

RATE_INTERVAL = "$__rate_interval"
RANGE = "$__range"
RATE_UNITS = {"Bps": "bytes"}  # counters shown as a per-second rate; the rest as counts per window
# Recording rule: each cluster's newest backup completion over the RPO window (see newest_completion).
RPO_RECORD = "cluster_tenant:schedules_BACKUP_last_completed_time:max_over_window"
# Alert rules read gauges through last_over_time over this window. A failed scrape writes staleness markers
# that hide a series at once, which would reset an alert's `for`; this bridges a gap as an instant query
# bridges missing samples (Prometheus' default lookback), without them.
GAP = "5m"


@dataclass(frozen=True)
class Scope:
    matchers: str  # selects one cluster's series
    node_matchers: str  # the same, narrowed to the chosen nodes
    by: tuple[str, ...]  # labels a cluster-wide value keeps
    node_label: str
    tenant_label: str
    rpo_window: str
    recorded: str = ""  # matchers on RPO_RECORD when dashboards read the recording rule; "" reads raw series
    gap: str = ""  # rules: gauges keep their last value over this window across a failed scrape (see GAP)

    def grouping(self, m: Metric | None = None) -> str:
        labels = self.by + ((m.by_label,) if m is not None and m.by_label else ())
        return ", ".join(labels)

    @property
    def cluster_label(self) -> str:
        return self.by[0]


def dashboard_scope(cfg: Config) -> Scope:
    base = f'{cfg["selector"]}, {cfg.cluster}="$cluster", {cfg.tenant}=~"$tenant"'
    recorded = f'{cfg.cluster}="$cluster", {cfg.tenant}=~"$tenant"' if cfg.get("rpo.recorded") else ""
    return Scope(base, f'{base}, {cfg.node}=~"$node"', (cfg.cluster, cfg.tenant), cfg.node, cfg.tenant,
                 cfg.get("rpo.window"), recorded)


def rule_scope(cfg: Config) -> Scope:
    return Scope(cfg["selector"], cfg["selector"], (cfg.cluster, cfg.tenant), cfg.node, cfg.tenant,
                 cfg.get("rpo.window"), gap=GAP)


def series(m: Metric, matchers: str) -> str:
    return f"{m.exported}{{{matchers}}}"


def selector(m: Metric, scope: Scope) -> str:
    """Work a node did itself can be narrowed to chosen nodes; cluster-wide gauges cannot."""
    return series(m, scope.node_matchers if m.per_node else scope.matchers)


def gauge(m: Metric, scope: Scope) -> str:
    """A gauge's per-node series; in rules, its last value within ``scope.gap``, so one failed scrape leaves no hole."""
    return f"last_over_time({selector(m, scope)}[{scope.gap}])" if scope.gap else selector(m, scope)


def total(*values: str) -> str:
    """The sum of values any of which may be absent (a metric removed in a version, or not yet exported).

    ``a + b`` is empty where either side is; ``a + b or a or b`` is the sum where both exist, else the one that does.
    """
    first, *rest = values
    if not rest:
        return first
    others = total(*rest)
    return f"{first} + {others} or {first} or {others}"


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


def current(m: Metric, scope: Scope, window: str = RATE_INTERVAL) -> str:
    """The cluster-wide value of ``m`` as a time series, by its kind."""
    if m.kind in COUNTING:
        return rate(m, scope, window) if m.unit in RATE_UNITS else increase(m, scope, window)
    if m.kind is Kind.RUNNING:
        return f"sum by ({scope.grouping(m)}) ({gauge(m, scope)})"
    if m.kind is Kind.POLLER:
        return poller_gauge(m, scope)
    if m.kind is Kind.SCHEDULER:
        return f"max by ({scope.grouping(m)}) ({gauge(m, scope)})"
    return age(m, scope)


def poller_gauge(m: Metric, scope: Scope) -> str:
    """The value on the node running the jobs metrics poller; the max across nodes while none reports it.

    A node that ran the poller before keeps exporting the value it last set until it restarts, so a
    plain max can show a paused job long after it was resumed.
    Nodes are matched within their cluster: two clusters from one StatefulSet spec share pod names.
    """
    poller = metric("jobs_poll_jobs_stats_currently_running")
    running = gauge(poller, replace(scope, node_matchers=scope.matchers))  # whichever node holds it, not $node
    node = ", ".join((scope.cluster_label, scope.node_label, scope.tenant_label))
    fresh = f"{gauge(m, scope)} and on ({node}) ({running} > 0)"
    return f"max by ({scope.grouping(m)}) ({fresh}) or max by ({scope.grouping(m)}) ({gauge(m, scope)})"


def by_node(m: Metric, scope: Scope, window: str = RATE_INTERVAL) -> str:
    """The same value split by node, for metrics each node reports its own share of."""
    label = f"{scope.cluster_label}, {scope.node_label}"
    if m.kind in COUNTING:
        if m.unit in RATE_UNITS:
            return rate(m, scope, window, by=label)
        return increase(m, scope, window, by=label)
    return f"sum by ({label}) ({gauge(m, scope)})"


def success_ratio(scope: Scope, window: str) -> str:
    """Succeeded / (succeeded + failed) scheduled backups that finished in ``window``; either counter may be absent."""
    ok = increase(metric("schedules_BACKUP_succeeded"), scope, window)
    failed = increase(metric("schedules_BACKUP_failed"), scope, window)
    return f"({ok} or {failed} * 0) / ({total(ok, failed)})"

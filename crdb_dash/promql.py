"""PromQL for each kind of metric, following CockroachDB's per-node semantics.

One ``Scope`` says which series a query reads and how it groups them: dashboards use
Grafana's variables, alert rules the configured selector. Panels and rules both build
their expressions here, so each aggregation rule is written once.

CockroachDB adds ``tenant="system"`` to the system tenant's series only once a virtual cluster
starts, so one node's series can change labels mid-history. Every per-node value is read with a
missing tenant label as the system tenant (``Scope.per_node``) before it is aggregated.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from crdb_dash.catalog import COUNTING, Kind, Metric, metric
from crdb_dash.config import Config

RATE_INTERVAL = "$__rate_interval"
STEP = "${__interval_ms}ms"  # exactly the query's step ($__interval is truncated to a whole unit)
RANGE = "$__range"
RATE_UNITS = {"Bps": "bytes"}  # counters shown as a per-second rate; the rest as counts per window
SYSTEM_TENANT = "system"  # what a series without a tenant label belongs to
SELECTED = "tenant_selected"  # a label marking series of the tenants chosen on a dashboard
UNLABELLED = "tenant_unlabelled"  # a label marking series that had no tenant label
# Recording rules: the newest backup completion ever known per cluster (see remembered_completion).
RPO_RECORD = "cluster_tenant:schedules_BACKUP_last_completed_time:max_known"
RECORDS = {
    "schedules_BACKUP_last_completed_time": RPO_RECORD,
    "schedules_BACKUP_last_completed_time_by_virtual_cluster":
        "cluster_tenant_id:schedules_BACKUP_last_completed_time_by_virtual_cluster:max_known",
}


@dataclass(frozen=True)
class Scope:
    matchers: str  # selects one cluster's series (any tenant: tenants are chosen after normalising, see per_node)
    node_matchers: str  # the same, narrowed to the chosen nodes
    by: tuple[str, ...]  # labels a cluster-wide value keeps
    node_label: str
    tenant_label: str
    rpo_window: str
    record_matchers: str = ""  # the cluster matcher on the recording rules' series; "" reads every cluster
    recorded: bool = False  # dashboards read only the recording rules for the recovery point
    tenants: str = ""  # regex of the tenants kept (a dashboard's $tenant); "" keeps every tenant
    by_label_variables: bool = False  # narrow a metric's extra label with the variable of the same name

    def grouping(self, m: Metric | None = None) -> str:
        labels = self.by + ((m.by_label,) if m is not None and m.by_label else ())
        return ", ".join(labels)

    def per_node(self, expr: str) -> str:
        """``expr`` (per-node series) with a missing tenant label read as the system tenant, narrowed to the
        chosen tenants (a matcher cannot: ``tenant=~"system"`` misses label-less series). A label-less series
        keeps a marker so that it never collides with the same node's labelled one; aggregation drops both."""
        t = self.tenant_label
        marked = f'label_replace({expr}, "{UNLABELLED}", "1", "{t}", "")'
        normal = f'label_replace({marked}, "{t}", "{SYSTEM_TENANT}", "{UNLABELLED}", "1")'
        if not self.tenants:
            return normal
        return (f'(label_replace({normal}, "{SELECTED}", "1", "{t}", "{self.tenants}") '
                f'and on ({SELECTED}) label_replace(vector(1), "{SELECTED}", "1", "", ""))')

    def as_system(self, expr: str) -> str:
        """``expr`` (aggregated without a tenant) labelled as the system tenant's."""
        return f'label_replace({expr}, "{self.tenant_label}", "{SYSTEM_TENANT}", "", "")'


def dashboard_scope(cfg: Config) -> Scope:
    base = f'{cfg["selector"]}, {cfg.cluster}="$cluster"'
    return Scope(base, f'{base}, {cfg.node}=~"$node"', (cfg.cluster, cfg.tenant), cfg.node, cfg.tenant,
                 cfg.get("rpo.window"), f'{cfg.cluster}="$cluster"', bool(cfg.get("rpo.recorded")), "$tenant",
                 by_label_variables=True)


def rule_scope(cfg: Config) -> Scope:
    return Scope(cfg["selector"], cfg["selector"], (cfg.cluster, cfg.tenant), cfg.node, cfg.tenant,
                 cfg.get("rpo.window"))


def series(m: Metric, matchers: str) -> str:
    return f"{m.exported}{{{matchers}}}"


def selector(m: Metric, scope: Scope) -> str:
    """Work a node did itself can be narrowed to chosen nodes; cluster-wide gauges cannot."""
    matchers = scope.node_matchers if m.per_node else scope.matchers
    if m.by_label and scope.by_label_variables:
        matchers += f', {m.by_label}=~"${m.by_label}"'
    return series(m, matchers)


def _tenants(m: Metric, scope: Scope, expr: str) -> str:
    """Per-node values with the tenant normalised; a metric split by its own label (the by-virtual-cluster
    gauge, exported by the system tenant) is narrowed by that label instead of the tenant."""
    if m.by_label:
        return replace(scope, tenants="").per_node(expr)
    return scope.per_node(expr)


def increase(m: Metric, scope: Scope, window: str, by: str | None = None) -> str:
    """Events in ``window`` summed over nodes; counter resets at node restarts are handled by increase."""
    events = _tenants(m, scope, f"increase({selector(m, scope)}[{window}])")
    return f"sum by ({scope.grouping(m) if by is None else by}) ({events})"


def rate(m: Metric, scope: Scope, window: str = RATE_INTERVAL, by: str | None = None) -> str:
    per_second = _tenants(m, scope, f"rate({selector(m, scope)}[{window}])")
    return f"sum by ({scope.grouping(m) if by is None else by}) ({per_second})"


def latest_completion(m: Metric, scope: Scope) -> str:
    """Newest completion time across nodes; absent (unknown) when none is known."""
    return f"{newest_completion(m, scope)} > 0"


def _newest_per_node(m: Metric, scope: Scope) -> str:
    """Each node's newest value over the window: a node reports 0 until it completes a backup and again after
    a restart, so its maximum over the window is taken before the maximum across nodes."""
    return _tenants(m, scope, f"max_over_time({selector(m, scope)}[{scope.rpo_window}])")


def record(m: Metric, scope: Scope) -> str:
    """The recording rule's series of ``m`` (already per cluster, tenant normalised)."""
    if not scope.record_matchers:
        return RECORDS[m.exported]
    narrowed = f'{m.by_label}=~"${m.by_label}"' if m.by_label else f'{scope.tenant_label}=~"{scope.tenants}"'
    return f"{RECORDS[m.exported]}{{{scope.record_matchers}, {narrowed}}}"


def remembered_completion(m: Metric, scope: Scope) -> str:
    """The recording rule: the newest completion seen over the window, or else the rule's own last value.

    A restarted node reports 0, so a completion leaves the window ``rpo.window`` after its node restarted
    although no newer backup exists: the rule keeps it for as long as the cluster exports the gauge (and
    across a Prometheus restart shorter than the window), so the recovery point keeps ageing instead of
    becoming unknown. 0 means no completion has been seen.
    """
    g = scope.grouping(m)
    fresh = _newest_per_node(m, scope)
    kept = f"last_over_time({RECORDS[m.exported]}[{scope.rpo_window}]) and on ({g}) max by ({g}) ({fresh})"
    return f"max by ({g}) ({fresh} or ({kept}))"


def newest_completion(m: Metric, scope: Scope) -> str:
    """Newest completion time per cluster, 0 where none is known: the raw window and the recording rule's
    memory (when Prometheus has the rule); only the rule's series when dashboards are set to read them."""
    g = scope.grouping(m)
    if scope.recorded:
        return f"max by ({g}) ({record(m, scope)})"
    return f"max by ({g}) ({_newest_per_node(m, scope)} or {record(m, scope)})"


def rpo_status(m: Metric, scope: Scope) -> str:
    """Like ``age``, but -1 where no completion is known: a stat panel maps it to "Unknown"."""
    newest = newest_completion(m, scope)
    return f"time() - ({newest} > 0) or ({newest} == 0) - 1"


def age(m: Metric, scope: Scope) -> str:
    """Seconds since a unix-time gauge's newest non-zero value; no result means unknown or never."""
    if m.kind is Kind.LAST_COMPLETED:
        return f"time() - ({latest_completion(m, scope)})"
    return f"time() - (max by ({scope.grouping(m)}) ({_tenants(m, scope, selector(m, scope))}) > 0)"


def per_step(m: Metric, scope: Scope, by: str | None = None) -> str:
    """Events of a counter in each step of a graph, summed over nodes: whole numbers, steps that do not overlap.

    Each node's count is its counter's value at the end of the step minus its value at the end of the step
    before, with no extrapolation, so every event falls in exactly one step. After a restart (the value went
    down) the count is the value since the restart; a series first seen in the step counts from its first
    sample, as ``increase`` would.
    """
    now = _tenants(m, scope, selector(m, scope))
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
        return f"sum by ({scope.grouping(m)}) ({_tenants(m, scope, selector(m, scope))})"
    if m.kind is Kind.POLLER:
        return poller_gauge(m, scope)
    if m.kind is Kind.SCHEDULER:
        return f"max by ({scope.grouping(m)}) ({_tenants(m, scope, selector(m, scope))})"
    return age(m, scope)


def poller_gauge(m: Metric, scope: Scope) -> str:
    """The value on the node running the jobs metrics poller; the max across nodes while none reports it.

    A node that ran the poller before keeps exporting the value it last set until it restarts, so a
    plain max can show a paused job long after it was resumed.
    """
    running = scope.per_node(series(metric("jobs_poll_jobs_stats_currently_running"), scope.matchers))
    value = _tenants(m, scope, selector(m, scope))
    fresh = f"{value} and on ({scope.node_label}, {scope.tenant_label}) ({running} > 0)"
    return f"max by ({scope.grouping(m)}) ({fresh}) or max by ({scope.grouping(m)}) ({value})"


def by_node(m: Metric, scope: Scope, window: str = RATE_INTERVAL) -> str:
    """The same value split by node, for metrics each node reports its own share of."""
    label = scope.node_label
    if m.kind in COUNTING:
        return rate(m, scope, window, by=label) if m.unit in RATE_UNITS else per_step(m, scope, by=label)
    return f"sum by ({label}) ({_tenants(m, scope, selector(m, scope))})"


def success_ratio(scope: Scope, window: str) -> str:
    """Succeeded / (succeeded + failed) scheduled backups that finished in ``window``; no value (not NaN) if none."""
    ok = increase(metric("schedules_BACKUP_succeeded"), scope, window)
    failed = increase(metric("schedules_BACKUP_failed"), scope, window)
    return f"{ok} / ({ok} + {failed} > 0)"

"""PromQL for each kind of metric, following CockroachDB's per-node semantics.

One ``Scope`` says which series a query reads and how it groups them: dashboards use
Grafana's variables, alert rules the configured selector. Panels and rules both build
their expressions here, so each aggregation rule is written once.

CockroachDB adds ``tenant="system"`` to the system tenant's series only once a virtual cluster
starts, so one node's series can change labels mid-history. Every per-node value is read with a
missing tenant label as the system tenant (``Scope.per_node``) before it is aggregated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from crdb_dash.model.catalog import PRESENCE, UNKNOWN, UPTIME, Kind, Metric, metric
from crdb_dash.model.config import Config, override_level, parse_duration
from crdb_dash.model.naming import Naming

RATE_INTERVAL = "$__rate_interval"
STEP = "${__interval_ms}ms"  # exactly the query's step ($__interval is truncated to a whole unit)
RANGE = "$__range"
RANGE_SECONDS = "$__range_s"
SYSTEM_TENANT = "system"  # what a series without a tenant label belongs to
SELECTED = "tenant_selected"  # a label marking series of the tenants chosen on a dashboard
UNLABELLED = "tenant_unlabelled"  # a label marking series that had no tenant label
PART = "summand"  # a label telling apart the values ``total`` adds up
# Recording rules, the alerts' memory (alerts.recording_rules): when each cluster last reported, its newest backup
# completion (see remembered_completion), its last scheduled success and, before any, its first scheduled run.
SEEN_RECORD = "cluster_tenant:backup_metrics:last_seen_time"
SUCCESS_RECORD = "cluster_tenant:schedules_BACKUP_succeeded:last_time"
FIRST_RUN_RECORD = "cluster_tenant:schedules_BACKUP_started:first_time"
RPO_RECORD = "cluster_tenant:schedules_BACKUP_last_completed_time:max_known"
RECORDS = {
    "schedules_BACKUP_last_completed_time": RPO_RECORD,
    "schedules_BACKUP_last_completed_time_by_virtual_cluster":
        "cluster_tenant_id:schedules_BACKUP_last_completed_time_by_virtual_cluster:max_known",
}
# Alert rules read gauges through last_over_time over this window. A failed scrape writes staleness markers
# that hide a series at once, which would reset an alert's `for`; this bridges a gap as an instant query
# bridges missing samples (Prometheus' default lookback), without them.
GAP = "5m"
# The Fleet's own records: per node, when it last exported backup metrics; scheduled backups failed in each minute
# any failed (a sparse series: the Fleet sums only minutes with failures)
NODE_SEEN_RECORD = "cluster_tenant_node:backup_metrics:last_seen_time"
FAILED_RECORD = "cluster_tenant:schedules_BACKUP_failed:events_1m"
RULES_VERSION_RECORD = "crdb_backups:recording_rules:version"  # which recording rules are loaded
RULES_VERSION = 2  # raised when the dashboards need a record older rule files lack
RULES_FILE = "rules/crdb-backups.rules.yml"  # where the build writes the rules Prometheus loads
SUCCESS_STEP = "1m"  # the resolution of the time a scheduled backup last succeeded
EVENT_STEP = "60000ms"  # rules count a counter's events step by step at this resolution (see step_events)


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
    gap: str = ""  # rules: gauges keep their last value over this window across a failed scrape (see GAP)
    naming: Naming = Naming()  # how the metrics are named where they reach Prometheus

    def grouping(self, m: Metric | None = None) -> str:
        labels = self.by + ((m.by_label,) if m is not None and m.by_label else ())
        return ", ".join(labels)

    @property
    def cluster_label(self) -> str:
        return self.by[0]

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
                 by_label_variables=True, naming=cfg.naming)


def rule_scope(cfg: Config) -> Scope:
    return Scope(cfg["selector"], cfg["selector"], (cfg.cluster, cfg.tenant), cfg.node, cfg.tenant,
                 cfg.get("rpo.window"), gap=GAP, naming=cfg.naming)


def selector(m: Metric, scope: Scope) -> str:
    """Work a node did itself can be narrowed to chosen nodes; cluster-wide gauges cannot."""
    matchers = scope.node_matchers if m.per_node else scope.matchers
    if m.by_label and scope.by_label_variables:
        matchers += f', {m.by_label}=~"${m.by_label}"'
    return scope.naming.selector(m.exported, matchers)


def _tenants(m: Metric, scope: Scope, expr: str) -> str:
    """Per-node values with the tenant normalised; a metric split by its own label (the by-virtual-cluster
    gauge, exported by the system tenant) is narrowed by that label instead of the tenant."""
    if m.by_label:
        return replace(scope, tenants="").per_node(expr)
    return scope.per_node(expr)


def gauge(m: Metric, scope: Scope) -> str:
    """A gauge's per-node series, tenants normalised; in rules, its last value within ``scope.gap``, so one
    failed scrape leaves no hole."""
    raw = f"last_over_time({selector(m, scope)}[{scope.gap}])" if scope.gap else selector(m, scope)
    return _tenants(m, scope, raw)


def total(*values: str) -> str:
    """The sum of values any of which may be absent (a metric removed in a version, or not yet exported).

    ``a + b`` is empty where either side is. Each value is marked apart, so that ``or`` keeps them all, and summed
    without the mark.
    """
    if len(values) == 1:
        return values[0]
    marked = " or ".join(f'label_replace({v}, "{PART}", "{i}", "", "")' for i, v in enumerate(values))
    return f"sum without ({PART}) ({marked})"


def increase(m: Metric, scope: Scope, window: str) -> str:
    """Events in ``window`` summed over nodes; counter resets at node restarts are handled by increase."""
    events = _tenants(m, scope, f"increase({selector(m, scope)}[{window}])")
    return f"sum by ({scope.grouping(m)}) ({events})"


def rate(m: Metric, scope: Scope, by: str | None = None) -> str:
    per_second = _tenants(m, scope, f"rate({selector(m, scope)}[{RATE_INTERVAL}])")
    return f"sum by ({scope.grouping(m) if by is None else by}) ({per_second})"


def latest_completion(m: Metric, scope: Scope) -> str:
    """Newest completion time across nodes; absent (unknown) when none is known."""
    return f"{newest_completion(m, scope)} > 0"


def newest_per_node(m: Metric, scope: Scope) -> str:
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
    return f"max by ({g}) ({newest_per_node(m, scope)} or {remembered(RECORDS[m.exported], scope)})"


def remembered(record: str, scope: Scope) -> str:
    """A recording rule's own last value, kept while its cluster is known (``SEEN_RECORD``, which forgets a cluster
    ``alerts.forget_after`` after it last reported). Read back over ``rpo.window``: the memory survives a Prometheus
    restart shorter than that."""
    return f"(last_over_time({record}[{scope.rpo_window}]) and on ({scope.grouping()}) {SEEN_RECORD})"


# Metrics every node exports from start-up: a cluster (and tenant) reports while a node exports one of them.
REPORTED = (PRESENCE, "schedules_BACKUP_last_completed_time", "schedules_BACKUP_succeeded")


def reporting_now(scope: Scope) -> str:
    """1 per cluster and tenant a node of which exports backup metrics now (no lookback beyond the default)."""
    g = scope.grouping()
    return " or ".join(f"count by ({g}) ({scope.per_node(selector(metric(m), scope))}) * 0 + 1" for m in REPORTED)


def last_seen(scope: Scope, forget: str) -> str:
    """The recording rule: the time a node of the cluster last exported backup metrics, forgotten ``forget`` later."""
    now = f"({reporting_now(scope)}) * time()"
    return f"{now} or (last_over_time({SEEN_RECORD}[{scope.rpo_window}]) > time() - {parse_duration(forget)})"


def last_scheduled_success(scope: Scope) -> str:
    """The recording rule: when a scheduled backup last succeeded, kept while the cluster is known. Seen over
    ``rpo.window`` (as the dashboards read it), so a rule evaluated without its own past (a backfill, a
    Prometheus restart) still knows recent successes."""
    return f"{last_success(scope, scope.rpo_window)} or {remembered(SUCCESS_RECORD, scope)}"


def first_scheduled_run(scope: Scope) -> str:
    """The recording rule: when a scheduled backup was first seen starting or failing (a schedule that cannot even
    start its job counts only a failure), kept while the cluster is known; the freshness alert counts from it while
    no success is known (a schedule that never succeeds)."""
    runs = " or ".join(last_success(scope, scope.rpo_window, f"schedules_BACKUP_{c}") for c in ("started", "failed"))
    return f"{remembered(FIRST_RUN_RECORD, scope)} or max by ({scope.grouping()}) ({runs})"


def newest_completion(m: Metric, scope: Scope) -> str:
    """Newest completion time per cluster, 0 where none is known: the raw window and the recording rule's
    memory (when Prometheus has the rule); only the rule's series when dashboards are set to read them."""
    g = scope.grouping(m)
    if scope.recorded:
        return f"max by ({g}) ({record(m, scope)})"
    return f"max by ({g}) ({newest_per_node(m, scope)} or {record(m, scope)})"


def rpo_status(m: Metric, scope: Scope) -> str:
    """Like ``age``, but ``UNKNOWN`` where no completion is known (``newest == 0`` is 0 there)."""
    newest = newest_completion(m, scope)
    return f"time() - ({newest} > 0) or ({newest} == 0) - {-UNKNOWN}"


def age(m: Metric, scope: Scope) -> str:
    """Seconds since a unix-time gauge's newest non-zero value; no result means unknown or never."""
    if m.kind is Kind.LAST_COMPLETED:
        return f"time() - ({latest_completion(m, scope)})"
    return f"time() - (max by ({scope.grouping(m)}) ({_tenants(m, scope, selector(m, scope))}) > 0)"


def age_over_time(m: Metric, scope: Scope) -> str:
    """``age`` for a graph, reading each sample about once whatever the range.

    ``max_over_time`` over the window at every step would read the whole window again at each step. Here the
    newest value of each step (``max_over_time`` over one step, a subquery at the graph's step) is computed once
    over the range, and the window's maximum is taken over those: the same value as the window's own maximum,
    except that the window reaches back up to one step further. The panel's step is coarse (see
    panels.schedules), so the maximum covers few points.
    """
    if scope.recorded:
        return age(m, scope)
    g = scope.grouping(m)
    newest = f"max_over_time(max_over_time({selector(m, scope)}[{STEP}])[{scope.rpo_window}:{STEP}])"
    return f"time() - (max by ({g}) ({_tenants(m, scope, newest)} or {record(m, scope)}) > 0)"


def _per_node_counter(m: Metric, scope: Scope, expr: str) -> str:
    """``expr`` (read from a counter's per-node series) as one series per node, a missing tenant label read
    as the system tenant.

    The system tenant's series gain ``tenant="system"`` when the first virtual cluster starts: a new series that
    goes on counting from where the label-less one stopped. Merged, ``increase`` sees one counter going on;
    apart, VictoriaMetrics would count the new series' first value as events (it assumes that a series
    appearing with a small value started from 0), and Prometheus would miss the events between the two.
    """
    return f"max without ({UNLABELLED}) ({_tenants(m, scope, expr)})"


def step_events(m: Metric, scope: Scope, step: str = STEP) -> str:
    """Per node, the events a counter counted in the ``step`` (a duration in ms) ending now: its value now minus
    its value one step before, or its value now if that is lower (the node restarted in the step), with no
    extrapolation, so every event falls in exactly one step. A node with no value a step before counts nothing in
    this step. In rules, each value is the last within ``scope.gap``, so a failed scrape loses no event.

    ``irate`` over a subquery at the step takes exactly that difference between its last two points, per second;
    times the step, it is the count. The subquery's range is a second longer than the step so that it holds two
    points on every engine: Prometheus 3 made ranges left-open, where ``[step:step]`` holds one and counts
    nothing. It is read once over a graph's whole range. ``increase`` would extrapolate, and VictoriaMetrics counts
    a series' first value (a counter first seen in the window) as events.
    """
    raw = f"last_over_time({selector(m, scope)}[{scope.gap}])" if scope.gap else selector(m, scope)
    values = _per_node_counter(m, scope, raw)
    return f"round(irate(({values})[1s{step}:{step}]) * {step.removesuffix('ms')} / 1000)"


def counted(m: Metric, scope: Scope, window: str, step: str = STEP) -> str:
    """Events a counter counted in ``window``, summed over nodes: the sum of the counts of the steps (see
    step_events) that end in the window, each sample read about once whatever the window.

    ``offset -1ms`` ends the subquery just after the evaluation time, so its first point is one step after the
    window's start on every engine: Prometheus 2 included a point exactly at a range's start, Prometheus 3 does not.
    """
    per_step_counts = f"{step_events(m, scope, step)}[{window}:{step}] offset -1ms"
    return f"sum by ({scope.grouping(m)}) (sum_over_time({per_step_counts}))"


def per_step(m: Metric, scope: Scope, by: str | None = None) -> str:
    """Events of a counter in each step of a graph, summed over nodes: whole numbers, steps that do not overlap
    (see step_events). Grafana aligns a graph's points to its step, so each point counts the step it ends."""
    return f"sum by ({scope.grouping(m) if by is None else by}) ({step_events(m, scope)})"


def current(m: Metric, scope: Scope) -> str:
    """The cluster-wide value of ``m`` as a time series, by its kind."""
    if m.counting:
        return rate(m, scope) if m.per_second else per_step(m, scope)
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


def by_node(m: Metric, scope: Scope) -> str:
    """The same value split by node, for metrics each node reports its own share of."""
    label = f"{scope.cluster_label}, {scope.node_label}"
    if m.counting:
        return rate(m, scope, by=label) if m.per_second else per_step(m, scope, by=label)
    return f"sum by ({label}) ({gauge(m, scope)})"


def happened(m: Metric, scope: Scope) -> str:
    """Steps of a graph in which a counter counted events (how many, per cluster and tenant), for an annotation."""
    return f"{per_step(m, scope)} > 0"


def restarted(scope: Scope) -> str:
    """Nodes whose process started in each step of a graph (1 per node), for an annotation.

    A node's uptime is below the step at the first scrape after it started, and only there: a scrape gap or a
    Prometheus restart leaves the uptime high, and counters going back to 0 are no signal of their own.
    """
    uptime = scope.naming.selector(UPTIME, scope.node_matchers)
    return f"count by ({scope.by[0]}, {scope.node_label}) ({uptime} < {STEP.removesuffix('ms')} / 1000)"


def failed_each_minute(scope: Scope) -> str:
    """The recording rule ``FAILED_RECORD``: scheduled backups failed in the latest whole minute (``counted``: minutes
    aligned as the dashboards' steps are, whatever second of the minute the rule is evaluated at), only where any
    did."""
    return f"{counted(metric('schedules_BACKUP_failed'), scope, SUCCESS_STEP, EVENT_STEP)} > 0"


def failed_in(scope: Scope, window: str) -> str:
    """Scheduled backups failed in ``window``, as the Overview counts them (``counted``), or (``scope.recorded``) the
    sum of ``FAILED_RECORD``'s minutes in the window, as many samples as minutes with failures."""
    if not scope.recorded:
        return counted(metric("schedules_BACKUP_failed"), scope, window)
    minutes = f"{recorded(FAILED_RECORD, scope)}[{window}] offset -1ms"  # the window's minutes, as ``counted``'s
    return f"sum by ({scope.grouping()}) (sum_over_time({minutes}))"


def success_ratio(scope: Scope, window: str) -> str:
    """Succeeded / (succeeded + failed) scheduled backups that finished in ``window``: no value (not NaN) when
    none did; either counter may be absent."""
    ok = counted(metric("schedules_BACKUP_succeeded"), scope, window)
    failed = counted(metric("schedules_BACKUP_failed"), scope, window)
    return f"({ok} or {failed} * 0) / (({total(ok, failed)}) > 0)"


def not_reporting(scope: Scope) -> str:
    """Seconds since a cluster (and tenant) none of whose nodes reports now last reported (``SEEN_RECORD``, which
    keeps it for ``alerts.forget_after``).

    Tenants are normalised, so the system tenant's series gaining ``tenant="system"`` when a virtual cluster
    starts is not a tenant disappearing. A cluster with one node left reporting is absent.
    """
    return f"time() - {SEEN_RECORD} unless on ({scope.grouping()}) ({reporting_now(scope)})"


def node_last_seen(scope: Scope, forget: str) -> str:
    """The recording rule: per node, the time of its newest sample of ``PRESENCE`` (every node exports it from
    start-up), forgotten ``forget`` later; what the Fleet reads for the nodes seen in its range."""
    by = f"{scope.grouping()}, {scope.node_label}"
    newest = f"max by ({by}) ({scope.per_node(f'timestamp({selector(metric(PRESENCE), scope)})')})"
    kept = f"last_over_time({NODE_SEEN_RECORD}[{scope.rpo_window}]) > time() - {parse_duration(forget)}"
    return f"{newest} or ({kept})"


def nodes_reporting(scope: Scope) -> str:
    """Per node of the cluster: 1 when it reports now, 0 when it reported in the dashboard's range but not now."""
    m = metric(PRESENCE)
    by = f"{scope.cluster_label}, {scope.node_label}"
    every_node = scope.naming.selector(m.exported, scope.matchers)  # not narrowed to the chosen nodes
    return f"group by ({by}) ({every_node}) or group by ({by}) (last_over_time({every_node}[{RANGE}])) * 0"


def last_success(scope: Scope, window: str, counter: str = "schedules_BACKUP_succeeded") -> str:
    """Unix time, to ``SUCCESS_STEP``, a scheduled backup last succeeded (``counter`` last went up) within ``window``,
    per cluster and tenant.

    Needs no schedule option. A success is a node's ``schedules_BACKUP_succeeded`` above its value one step
    before: a restart zeroing the counter is not one (``changes`` would count it), and a success stays in the
    record after its node restarted. The cluster-wide counter, not the chosen nodes.
    Each series is compared with itself inside the subquery; tenants are normalised once, on its result.
    """
    m = metric(counter)
    every_node = replace(scope, node_matchers=scope.matchers)
    sel = selector(m, every_node)
    newest = f"max_over_time(timestamp({sel} > {sel} offset {SUCCESS_STEP})[{window}:{SUCCESS_STEP}])"
    return f"max by ({scope.grouping()}) ({_tenants(m, every_node, newest)})"


def success_age(scope: Scope) -> str:
    """Seconds since a scheduled backup last succeeded, for dashboards: seen within ``rpo.window`` or remembered
    by the recording rule (only the rule's series when dashboards are set to read them); none when neither
    knows one."""
    g = scope.grouping()
    if scope.recorded:
        return f"time() - max by ({g}) ({recorded(SUCCESS_RECORD, scope)})"
    return f"time() - max by ({g}) ({last_success(scope, scope.rpo_window)} or {recorded(SUCCESS_RECORD, scope)})"


def unsuccessful_since(scope: Scope) -> str:
    """For dashboards: seconds since a scheduled backup last succeeded (``success_age``) or, while none is known,
    since one was first seen starting (the recording rule)."""
    first = f"time() - max by ({scope.grouping()}) ({recorded(FIRST_RUN_RECORD, scope)})"
    return f"{success_age(scope)} or {first}"


def unsuccessful_for(scope: Scope) -> str:
    """Seconds since a scheduled backup last succeeded or, while none is known, since one was first seen starting:
    the freshness alert's value, while the cluster exports the counter (a silent cluster is NotReporting's)."""
    g = scope.grouping()
    exported = f"count by ({g}) ({gauge(metric('schedules_BACKUP_succeeded'), scope)})"
    return f"(time() - {SUCCESS_RECORD} or time() - {FIRST_RUN_RECORD}) and on ({g}) {exported}"


# ---- per-cluster RPO targets and RPO compliance (recording rules in alerts.recording_rules) -------------------------
TARGET_RECORD = "cluster_tenant:backup_rpo_target_seconds:configured"  # labels: cluster, tenant, severity
FRESHNESS_RECORD = "cluster_tenant:backup_freshness_target_seconds:configured"  # the same for freshness.*
TARGET_RECORDS = {"rpo": TARGET_RECORD, "freshness": FRESHNESS_RECORD}
COMPLIANT_RECORD = "cluster_tenant:backup_rpo_within_target:ratio"  # 1 within target, 0 over, unknown as configured
PERIOD_RECORD = "cluster_tenant:backup_rpo_within_target:ratio_period"  # its average over rpo.compliance.period


def rpo_target(cfg: Config, rows: str, severity: str, kind: str = "rpo") -> str:
    """Each row's ``severity`` target in seconds for ``kind`` (rpo or freshness): the first of ``rpo.overrides``
    whose labels match, else ``<kind>.<severity>``. ``rows`` is a per-cluster expression (its labels are kept, its
    value dropped); ``or`` keeps a row matched by an earlier override, which is how the first match wins."""
    parts = []
    for override in cfg.get("rpo.overrides"):
        matchers = ", ".join(f'{label}=~"{_quoted(regex)}"' for label, regex in override["match"].items())
        seconds = parse_duration(override_level(cfg.raw, override, kind, severity))
        parts.append(f"(0 * {rows}{{{matchers}}} + {seconds})" if _METRIC_NAME.fullmatch(rows)
                     else _matched(rows, override["match"], seconds, f"{cfg.cluster}, {cfg.tenant}"))
    parts.append(f"(0 * ({rows}) + {cfg.seconds(f'{kind}.{severity}')})")
    return " or ".join(parts)


_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_MATCHED = "rpo_override_matched"  # a label marking rows an override's regex matches, removed again


def _matched(rows: str, match: dict, seconds: int, by: str) -> str:
    """``rows`` (grouped ``by``) narrowed by regex label matchers, for a row expression that is not a plain series
    name: a marker set where the label matches (label_replace's regex is anchored, as a matcher's is) and
    kept only where it is set."""
    keep = f"0 * ({rows})"
    for label, regex in match.items():
        marked = f'label_replace({keep}, "{_MATCHED}", "1", "{label}", "{_quoted(regex)}")'
        every = f'label_replace({keep}, "{_MATCHED}", "1", "", "")'
        only = f"({marked} and on ({by}, {_MATCHED}) {every})"
        keep = f'label_replace({only}, "{_MATCHED}", "", "", "")'
    return f"({keep} + {seconds})"


def _quoted(regex: str) -> str:
    return regex.replace("\\", "\\\\").replace('"', '\\"')


def record_target(cfg: Config, severity: str, kind: str = "rpo") -> str:
    """The recording rule's expression: targets for every (cluster, tenant) known (``SEEN_RECORD``)."""
    return rpo_target(cfg, SEEN_RECORD, severity, kind)


def target_of(scope: Scope, severity: str, kind: str = "rpo") -> str:
    """The recorded target of each cluster (``severity``), narrowed as ``scope`` reads recorded series."""
    narrowed = f", {scope.record_matchers}" if scope.record_matchers else ""
    return f'{TARGET_RECORDS[kind]}{{severity="{severity}"{narrowed}}}'


def over_target(age_expr: str, scope: Scope, severity: str, group_left: bool = False, kind: str = "rpo") -> str:
    """``age_expr`` where it is above its cluster's ``severity`` target (the value stays the age)."""
    on = f"on ({scope.grouping()})" + (" group_left" if group_left else "")
    return f"({age_expr}) > {on} {target_of(scope, severity, kind)}"


def within_target(cfg: Config, scope: Scope) -> str:
    """The compliance rule: 1 where the recovery point is known and within its target, 0 where it is over.

    Unknown (no completion known, or no node of the cluster reported the gauge within ``scope.gap``, a scrape
    gap) counts as ``rpo.compliance.unknown`` says: 0 (violation), 1 (compliant) or no sample (excluded), and only
    for a cluster whose recovery point was once known.
    """
    g = scope.grouping()
    last = metric("schedules_BACKUP_last_completed_time")
    target = target_of(scope, cfg.get("rpo.compliance.target"))
    reporting = f"max by ({g}) ({gauge(last, scope)})"
    known = f"(time() - ({RPO_RECORD} > 0)) and on ({g}) {reporting}"
    within = f"(({known}) <= bool on ({g}) {target})"
    unknown = cfg.get("rpo.compliance.unknown")
    if unknown == "excluded":
        return within
    # Only where a recovery point was once known: a cluster whose schedules never set the gauge has no RPO to keep.
    once_known = f"0 * max by ({g}) ({RPO_RECORD} > 0)"
    return f"{within} or on ({g}) ({once_known} + {1 if unknown == 'compliant' else 0})"


def recorded(name: str, scope: Scope) -> str:
    """A compliance rule's series, narrowed to the scope's clusters and tenants (rules read every one)."""
    if not scope.record_matchers:
        return name
    tenants = f', {scope.tenant_label}=~"{scope.tenants}"' if scope.tenants else ""
    return f"{name}{{{scope.record_matchers}{tenants}}}"


def compliance(scope: Scope, window: str) -> str:
    """The share of rule evaluations in ``window`` with the recovery point within its target."""
    return f"avg_over_time({recorded(COMPLIANT_RECORD, scope)}[{window}])"


def compliance_from_sums(scope: Scope, window: str) -> str:
    """``compliance`` from the compliance rule's running sums (``compliance_total``): six samples a row whatever the
    window. Their growth over the window where one run of them spans it (the same start, ``COMPLIANT_SINCE_RECORD``,
    then and now); else, where they began again within it (after an outage longer than ``rpo.window``, or on
    install), all of the current run."""
    s, c, since = (recorded(r, scope) for r in (COMPLIANT_SUM_RECORD, COMPLIANT_COUNT_RECORD, COMPLIANT_SINCE_RECORD))
    g = scope.grouping()
    one_run = f"({since} offset {window} == {since})"
    grown = f"({s} - {s} offset {window}) / ({c} - {c} offset {window} > 0) and on ({g}) {one_run}"
    return f"({grown}) or ({s} / ({c} > 0) unless on ({g}) {one_run})"


def compliance_over_period(scope: Scope) -> str:
    return recorded(PERIOD_RECORD, scope)


# The compliance rule's running sums: of its values (evaluations within target) and of its evaluations. The share
# within target over any window is then the growth of one over the other's (``compliance``).
COMPLIANT_SUM_RECORD = "cluster_tenant:backup_rpo_within_target:sum"
COMPLIANT_COUNT_RECORD = "cluster_tenant:backup_rpo_within_target:count"
COMPLIANT_SINCE_RECORD = "cluster_tenant:backup_rpo_within_target:since"  # when the current run of the sums began
COMPLIANT_TOTALS = (COMPLIANT_SUM_RECORD, COMPLIANT_COUNT_RECORD, COMPLIANT_SINCE_RECORD)
HISTORY = "3650d"  # all of a stored history


def compliance_total(cfg: Config, scope: Scope, record: str) -> str:
    """The recording rule ``record`` (a running sum): its own last value plus this evaluation's compliance value (or
    1 for the count), kept while the cluster is known. The value is computed here as the compliance rule computes
    it, not read from that rule: an engine may read a rule of the same group one evaluation late."""
    value = within_target(cfg, scope)
    kept = remembered(record, scope)
    if record == COMPLIANT_SINCE_RECORD:  # kept as the sums are, so it begins again when they do
        return f"{kept} or (0 * ({value}) + time())"
    step = value if record == COMPLIANT_SUM_RECORD else f"0 * ({value}) + 1"
    return f"({kept} + on ({scope.grouping()}) ({step})) or ({step}) or {kept}"


def compliance_total_history(record: str) -> str:
    """``compliance_total`` as one expression of the compliance rule's stored samples, for a history evaluated at
    once (a backfill, a replay), where a rule cannot read its own earlier values."""
    if record == COMPLIANT_SINCE_RECORD:  # one run all along
        return f"0 * count_over_time({COMPLIANT_RECORD}[{HISTORY}])"
    function = "sum_over_time" if record == COMPLIANT_SUM_RECORD else "count_over_time"
    return f"{function}({COMPLIANT_RECORD}[{HISTORY}])"


def budget_left(cfg: Config, scope: Scope) -> str:
    """The error budget left over the compliance period: 1 untouched, 0 spent, below 0 overspent."""
    allowed = 1 - cfg.get("rpo.compliance.objective")
    return f"1 - (1 - {compliance_over_period(scope)}) / {allowed:g}"


def burn_rate(cfg: Config, scope: Scope, window: str) -> str:
    """How many times faster than the objective allows the budget is spent over ``window``."""
    allowed = 1 - cfg.get("rpo.compliance.objective")
    return f"(1 - max by ({scope.grouping()}) ({compliance(scope, window)})) / {allowed:g}"


FLEET_FILTER = "cluster_filter"  # the Fleet dashboard's regex of clusters


def fleet_scope(cfg: Config, recorded: bool = True) -> Scope:
    """Every cluster the Fleet dashboard's filter matches, every tenant, every node; what depends on the range read
    from the recording rules unless ``recorded`` is false (the raw forms, which read every sample in the range)."""
    every = f'{cfg["selector"]}, {cfg.cluster}=~"${FLEET_FILTER}"'
    return Scope(every, every, (cfg.cluster, cfg.tenant), cfg.node, cfg.tenant, cfg.get("rpo.window"),
                 f'{cfg.cluster}=~"${FLEET_FILTER}"', recorded, tenants=".*", naming=cfg.naming)

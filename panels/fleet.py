"""The Fleet table: one row per cluster and virtual cluster, worst first, each linked to its Overview.

Every column is an instant query by (cluster, tenant) in table format; Grafana merges them into one row per
cluster and tenant. What depends on the time range is read from recording rules (nodes seen, failures, compliance,
the recovery point, the last success), so a row costs a few hundred samples whatever the range and the fleet's
size; ``recorded=False`` gives the same columns from the raw series, which the tests compare them with.
Grafana colours a table column by one set of thresholds, so the recovery point is judged against each cluster's
own targets (rpo.overrides) in PromQL: the Status column.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from grafanalib import core as G

from crdb_dash.model import catalog, promql
from crdb_dash.model.alerts import PREFIX
from crdb_dash.model.catalog import metric
from crdb_dash.panels.base import (
    BUDGET_LEVELS,
    UNKNOWN_MAPPING,
    Ctx,
    absent_mapping,
    compliance_levels,
    freshness_levels,
    stat,
    thresholds,
)

LAST = metric("schedules_BACKUP_last_completed_time")
PRESENCE = metric(catalog.PRESENCE)
# Status values, worst highest; the table is sorted by it.
STATUSES = ((7, "Not reporting", "red"), (6, "RPO critical", "red"), (5, "No success: critical", "red"),
            (4, "RPO warning", "yellow"), (3, "No success: warning", "yellow"), (2, "Needs a look", "blue"),
            (1, "No backup known", "blue"), (0, "OK", "green"))


@dataclass(frozen=True)
class Column:
    title: str
    expr: str
    unit: str
    description: str
    steps: tuple = ()  # (colour, from) pairs; a first pair from None is the base, else the base is green; () none
    mappings: tuple = ()
    decimals: int | None = None
    absent_is_bad: bool = False  # an empty cell is bad news (orange), not merely nothing to show


def _rows_now(scope: promql.Scope) -> str:
    """(cluster, tenant) of every cluster reporting now, value 0."""
    return f"0 * {_count(scope, _nodes_now(scope))}"


def _nodes_now(scope: promql.Scope) -> str:
    """The nodes exporting backup metrics now, by cluster, tenant and node."""
    sel = promql.selector(PRESENCE, scope)
    return f"group by ({scope.grouping()}, {scope.node_label}) ({replace(scope, tenants='').per_node(sel)})"


def _nodes_seen(scope: promql.Scope) -> str:
    """The nodes that exported backup metrics in the range: the per-node recording rule, or every sample in it."""
    by = f"{scope.grouping()}, {scope.node_label}"
    if scope.recorded:
        seen = f"{promql.recorded(promql.NODE_SEEN_RECORD, scope)} > time() - {promql.RANGE_SECONDS}"
        return f"{_nodes_now(scope)} or group by ({by}) ({seen})"
    sel = promql.selector(PRESENCE, scope)
    return f"group by ({by}) ({replace(scope, tenants='').per_node(f'max_over_time({sel}[{promql.RANGE}])')})"


def _count(scope: promql.Scope, nodes: str) -> str:
    return f"count by ({scope.grouping()}) ({nodes})"


def reporting(scope: promql.Scope) -> str:
    """The share of the nodes seen in the range that report now (within the lookback); 0 when none does."""
    seen = _count(scope, _nodes_seen(scope))
    return f"({_count(scope, _nodes_now(scope))} or 0 * {seen}) / {seen}"


def _alerts(ctx: Ctx) -> str:
    scope = promql.fleet_scope(ctx.cfg, recorded=False)  # nothing recorded: the alerts firing now
    firing = f'ALERTS{{alertstate="firing", alertname=~"{PREFIX}.+", {ctx.cfg.cluster}=~"${promql.FLEET_FILTER}"}}'
    return f"count by ({scope.grouping()}) ({firing}) or {_rows_now(scope)}"


def _failures(scope: promql.Scope) -> str:
    """Scheduled backups failed in the range, 0 for a cluster seen in it without any."""
    return f"{promql.failed_in(scope, promql.RANGE)} or 0 * {_count(scope, _nodes_seen(scope))}"


def _pts(scope: promql.Scope) -> str:
    """The older of the backup schedules' and the backup jobs' oldest protected timestamp records."""
    schedules = promql.current(metric("schedules_BACKUP_protected_age_sec"), scope)
    jobs = promql.current(metric("jobs_backup_protected_age_sec"), scope)
    return f"(({schedules}) > ({jobs})) or ({jobs}) or ({schedules})"


def status(ctx: Ctx, recorded: bool = True) -> str:
    """The worst of: not reporting; the recovery point over its critical target, no scheduled success for the
    critical freshness level, the same at the warning levels; failures / paused jobs / firing alerts; no backup
    known at all; else OK. Targets are each cluster's own (rpo.overrides). An unknown recovery point with fresh
    successes is OK: most schedules do not maintain the gauge."""
    met = conditions(ctx, recorded)
    levels = [f"(0 * ({met[level]}) + {level})" for level, _, _ in STATUSES if level in met]
    return " or ".join([*levels, _rows_now(promql.fleet_scope(ctx.cfg, recorded))])


def conditions(ctx: Ctx, recorded: bool = True) -> dict[int, str]:
    """Each status level's condition, by level: the rows it holds for. Targets are the recorded ones (one series a
    row whatever rpo.overrides holds), or in the raw forms the overrides written out."""
    scope, cfg = promql.fleet_scope(ctx.cfg, recorded), ctx.cfg
    g = scope.grouping()
    rows = _rows_now(scope)
    age, unsuccessful = promql.age(LAST, scope), promql.unsuccessful_since(scope)

    def over(value: str, severity: str, kind: str) -> str:
        if recorded:  # of the rows reporting now, as in the raw forms
            return f"{promql.over_target(value, scope, severity, kind=kind)} and on ({g}) {rows}"
        return f"({value}) > on ({g}) ({promql.rpo_target(cfg, rows, severity, kind)})"

    paused = [promql.current(metric(f"jobs_{kind}_currently_paused"), scope) for kind in ("backup", "restore")]
    attention = " or ".join(f"(({e}) > 0)" for e in (_failures(scope), *paused, _alerts(ctx)))
    return {7: f"({reporting(scope)}) == 0", 6: over(age, "critical", "rpo"),
            5: over(unsuccessful, "critical", "freshness"), 4: over(age, "warning", "rpo"),
            3: over(unsuccessful, "warning", "freshness"), 2: attention,
            1: f"{rows} unless on ({g}) ({age}) unless on ({g}) ({unsuccessful})"}


def columns(ctx: Ctx, recorded: bool = True) -> list[Column]:
    """The table's columns, reading the recording rules; ``recorded=False``: the same values from the raw series
    (every sample of the range), which the recorded forms are tested against."""
    scope, cfg = promql.fleet_scope(ctx.cfg, recorded), ctx.cfg
    objective = f"{cfg.get('rpo.compliance.objective') * 100:g}%"
    period = cfg.get("rpo.compliance.period")
    status_map = {"type": "value", "options": {str(level): {"text": text, "color": colour, "index": i}
                                               for i, (level, text, colour) in enumerate(STATUSES)}}
    compliance_steps = compliance_levels(cfg)
    return [
        Column("Status", status(ctx, recorded), "none",
               "The worst of: not reporting; the recovery point, or the time since a scheduled backup last succeeded, "
               "over the cluster's critical level, then its warning level (rpo.overrides, freshness); failures in "
               "the range, paused jobs or firing alerts; no backup known at all. An unknown recovery point with "
               "recent successes is OK.",
               mappings=(status_map,)),
        Column("Recovery point age", promql.rpo_status(LAST, scope), "s",
               "Time since the newest completed backup's AS OF time; the Status says whether it is within the "
               "cluster's own targets.", mappings=(UNKNOWN_MAPPING,)),
        Column("Since last successful backup", promql.success_age(scope), "s",
               "Time since a scheduled backup last succeeded (schedules_BACKUP_succeeded): no schedule option "
               "needed; empty when none is known (none within rpo.window, and the recording rule knows none)."
               + (" Coloured by the Status, which applies each cluster's own levels (rpo.overrides)."
                  if cfg.get("rpo.overrides") else ""),
               () if cfg.get("rpo.overrides") else freshness_levels(cfg), absent_is_bad=True),
        Column("Scheduled backups failed", _failures(scope), "short",
               "Scheduled backups that failed in the selected time range.", (("red", 1),), decimals=0),
        Column("Backups running", promql.current(metric("jobs_backup_currently_running"), scope), "short",
               "Backup jobs running now.", decimals=0),
        Column("Backups paused", promql.current(metric("jobs_backup_currently_paused"), scope), "short",
               "Backup jobs paused now: a paused backup stops the recovery point from moving.",
               (("yellow", 1),), decimals=0),
        Column("Restores running", promql.current(metric("jobs_restore_currently_running"), scope), "short",
               "Restore jobs running now.", decimals=0),
        Column("Restores paused", promql.current(metric("jobs_restore_currently_paused"), scope), "short",
               "Restore jobs paused now.", (("yellow", 1),), decimals=0),
        Column("Oldest backup PTS", _pts(scope), "s",
               "Age of the oldest protected timestamp record held by backup schedules or backup jobs.",
               (("red", cfg.seconds("alerts.protected_age")),)),
        Column("Reporting", reporting(scope), "percentunit",
               "Share of the nodes seen in the range whose metrics Prometheus has now; 0% is a cluster not "
               "reporting.", (("red", None), ("yellow", 0.01), ("green", 1)), decimals=0),
        Column("Alerts firing", _alerts(ctx), "short",
               f"Backup alerts ({PREFIX}*) firing now, from Prometheus' ALERTS series (Prometheus-evaluated "
               "alerts only).", (("red", 1),), decimals=0),
        Column("RPO compliance in range", (promql.compliance_from_sums if recorded else promql.compliance)(
                   scope, promql.RANGE), "percentunit",
               "Share of the selected time range the recovery point was within its target (from the compliance "
               "recording rule's running sums).", compliance_steps, decimals=2),
        Column(f"RPO compliance, {period}", promql.compliance_over_period(scope), "percentunit",
               f"Share of the last {period} the recovery point was within its target.", compliance_steps,
               decimals=2),
        Column("Error budget left", promql.budget_left(cfg, scope), "percentunit",
               f"The share of the error budget of the {objective} objective over {period} not yet spent; "
               "below 0 the objective is missed.", BUDGET_LEVELS,
               decimals=0),
    ]


def rules_loaded(ctx: Ctx) -> G.Stat:
    """The one place that says whether the table's recording rules are loaded, and of this release: an older rule
    file (which records no version) reads 0."""
    rule_file = promql.RULES_FILE
    version = promql.RULES_VERSION
    older = {"type": "range", "options": {"from": 0, "to": version - 0.5, "result": {
        "text": f"Out of date: the table needs this release's recording rules ({rule_file})", "color": "orange",
        "index": 1}}}
    current = {"type": "value", "options": {str(version): {"text": "Loaded", "color": "transparent", "index": 0}}}
    loaded = f"min({promql.RULES_VERSION_RECORD}) or 0 * max({promql.RPO_RECORD})"
    return stat("Recording rules", "The table reads what the recording rules keep per cluster (the recovery point, "
                f"the last success, failures, nodes seen, compliance): without them loaded ({rule_file}, in the "
                "Prometheus this datasource reads) those cells are empty.",
                loaded, "none", thresholds(("text", None)), mappings=[current, older],
                no_value=f"Not loaded: the table needs its recording rules ({rule_file})",
                absent_color="red", size=(24, 2))


def _cell(colour_steps: tuple) -> dict:
    """A coloured cell when the column has thresholds."""
    return {"type": "color-background" if colour_steps else "auto"}


def _steps(column: Column) -> list[dict]:
    steps = list(column.steps)
    if steps and steps[0][1] is None:
        return [{"color": c, "value": v} for c, v in steps]
    return [{"color": "green", "value": None}, *({"color": c, "value": v} for c, v in steps)]


def _override(ref: str, column: Column) -> dict:
    props = [{"id": "displayName", "value": column.title}, {"id": "unit", "value": column.unit},
             {"id": "description", "value": column.description},
             {"id": "custom.cellOptions", "value": _cell(column.steps or column.title == "Status")}]
    if column.steps:
        props.append({"id": "thresholds", "value": {"mode": "absolute", "steps": _steps(column)}})
    mappings = list(column.mappings)
    if column.steps or column.title == "Status":  # an empty coloured cell: a text and a colour, never green
        mappings.append(absent_mapping("No data", "orange" if column.absent_is_bad else "text", len(mappings)))
    if mappings:
        props.append({"id": "mappings", "value": mappings})
    if column.decimals is not None:
        props.append({"id": "decimals", "value": column.decimals})
    return {"matcher": {"id": "byName", "options": f"Value #{ref}"}, "properties": props}


def overview_link(ctx: Ctx, overview_uid: str) -> dict:
    """A data link from a row to that cluster's Overview, keeping the time range and the datasource."""
    c, t = ctx.cfg.cluster, ctx.cfg.tenant
    return {"title": "Overview of ${__data.fields.%s}" % c, "targetBlank": False,
            "url": f"/d/{overview_uid}?var-datasource=${{datasource}}&var-cluster=${{__data.fields.{c}}}"
                   f"&var-tenant=${{__data.fields.{t}}}&${{__url_time_range}}"}


def table(ctx: Ctx, overview_uid: str) -> G.Table:
    cols = columns(ctx)
    refs = [chr(ord("A") + i) for i in range(len(cols))]
    targets = [G.Target(expr=c.expr, instant=True, format="table", legendFormat="") for c in cols]
    cluster, tenant = ctx.cfg.cluster, ctx.cfg.tenant
    order = {cluster: 0, tenant: 1, **{f"Value #{r}": i + 2 for i, r in enumerate(refs)}}
    panel = G.Table(
        title="Clusters, worst first",
        description="One row per cluster and virtual cluster, the ones needing attention first (by Status). "
                    "Click a row to open that cluster's Overview with the same time range.",
        targets=targets, unit="none", sortBy=[G.TableSortByField(displayName="Status", desc=True)],
        overrides=[_override(r, c) for r, c in zip(refs, cols, strict=True)]
        + [{"matcher": {"id": "byName", "options": cluster},
            "properties": [{"id": "displayName", "value": "Cluster"}, {"id": "custom.width", "value": 160}]},
           {"matcher": {"id": "byName", "options": tenant},
            "properties": [{"id": "displayName", "value": "Virtual cluster"}, {"id": "custom.width", "value": 120}]}],
        gridPos=G.GridPos(h=20, w=24, x=0, y=0),
        transformations=[{"id": "merge", "options": {}},
                         {"id": "organize", "options": {"excludeByName": {"Time": True}, "indexByName": order,
                                                        "renameByName": {}, "includeByName": {}}}],
        extraJson={"fieldConfig": {"defaults": {"links": [overview_link(ctx, overview_uid)]}}},
    )
    return panel

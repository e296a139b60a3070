"""The Fleet read from its recording rules shows what the raw series show, on every scenario and rule engine.

Each engine's rule-test tool (promtool for Prometheus 3 and 2, vmalert-tool for VictoriaMetrics) evaluates the
shipped recording rules minute by minute over a scenario's series, as a running Prometheus or vmalert does (the
rules that read their own past included, which a backfill cannot build), and checks, at times and ranges where both
ends of the range fall between two evaluations, that every column of the table read from the records equals the
same column computed from every raw sample of the range, row for row. VictoriaMetrics 1.79 has no vmalert-tool.
"""

from __future__ import annotations

import re

import pytest

from crdb_dash.model import catalog, promql
from crdb_dash.panels import fleet
from crdb_dash.panels.base import Ctx
from crdb_dash.pipeline import rules
from crdb_dash.pipeline.interpolate import Vars, substitute
from crdb_dash.pipeline.serialize import to_yaml
from crdb_dash.simulation.scenarios import SCENARIOS
from crdb_dash.simulation.simulator import Simulation, promtool_series
from tests.conftest import configured, rule_test

H = 3600
ROW = "cluster, tenant"
# (range, time): at the end, a range shorter than the history (the sums' growth within it); early, a range longer
# than the history so far (all of it). Each time half a minute off the evaluations, so no evaluation sits on either
# end of a range.
def _checks(duration: int) -> tuple:
    return (6 * H, duration - 30), (24 * H, 5 * H + 30)


def _cfg():
    return configured(scrape_interval=f"{SCENARIOS['healthy-hourly-backups'].scrape}s")


def _differences(recorded: str, raw: str) -> list[str]:
    """Queries of the rows where the two forms differ: a value apart, or a row in one form only (three queries, each
    short enough for VictoriaMetrics' longest query)."""
    return [f"abs(({recorded}) - on ({ROW}) ({raw})) > 1e-9", f"({recorded}) unless on ({ROW}) ({raw})",
            f"({raw}) unless on ({ROW}) ({recorded})"]


def _metrics_read(texts: list[str]) -> list[str]:
    """The simulated metrics these expressions (and the rules) read."""
    names = [m.exported for m in catalog.seed()] + ["up", catalog.UPTIME,
                                                   "schedules_BACKUP_last_completed_time_by_virtual_cluster"]
    joined = "\n".join(texts)
    return sorted({n for n in names if re.search(rf"\b{n}\b", joined)})


def _rows_seen(sim: Simulation, cluster: str, at: int, span: int) -> int:
    """(cluster, tenant) rows with a node exporting backup metrics within ``span`` before ``at`` (the system
    tenant's series read without a tenant label as its own): the rows the Status column must have."""
    rows = set()
    for s in sim.series(catalog.PRESENCE):
        if s.labels["cluster"] == cluster and any(at - span < t - sim.start <= at for t, _ in s.samples):
            rows.add((s.labels["cluster"], s.labels.get("tenant", promql.SYSTEM_TENANT)))
    return len(rows)


@pytest.fixture(scope="module")
def records_file(tmp_path_factory):
    """The shipped recording rules alone: the alerts only add the firing-alert column, read alike by both forms."""
    path = tmp_path_factory.mktemp("fleet-records") / "records.rules.yml"
    groups = [g for g in rules.prometheus_groups(_cfg()) if g["name"] == rules.RECORDS_GROUP]
    path.write_text(to_yaml({"groups": groups}))
    return path


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_every_column_from_the_records_equals_the_raw_form(name, records_file, tmp_path, rule_engine):
    """Each column but the Status, and each of the Status's conditions (the Status is one function of them, and the
    whole of it in both forms is longer than VictoriaMetrics takes in one query)."""
    cfg = _cfg()
    ctx = Ctx.for_dashboards(cfg)
    scenario = SCENARIOS[name]
    sim = Simulation(scenario, scenario.duration)  # starts at 0, the rule-test tool's time
    pairs = [(a.title, a.expr, b.expr) for a, b in zip(fleet.columns(ctx), fleet.columns(ctx, recorded=False),
                                                       strict=True) if a.title != "Status"]
    # The period's column reads its record in both forms: that record too, against the average over the period
    # (as of one evaluation earlier on vmalert, which reads the sums, rules of the same group, one evaluation late).
    period = cfg.get("rpo.compliance.period")
    late = " offset 1m" if rule_engine.kind == "victoriametrics" else ""
    raw_period = promql.compliance(promql.fleet_scope(cfg, recorded=False), period).replace(
        f"[{period}])", f"[{period}]{late})")
    pairs.append(("period", promql.compliance_over_period(promql.fleet_scope(cfg)), raw_period))
    raw_conditions = fleet.conditions(ctx, recorded=False)
    pairs += [(f"Status {level}", f"0 * ({e}) + {level}", f"0 * ({raw_conditions[level]}) + {level}")
              for level, e in fleet.conditions(ctx).items()]
    for cluster in scenario.clusters:  # one at a time: the rule-test tools read at most 50,000 samples a query
        checks = []
        for span, at in _checks(scenario.duration):
            v = Vars(cluster="unused", range_seconds=span, scrape_seconds=scenario.scrape,
                     cluster_filter=[cluster.name])
            checks += [{"expr": e, "eval_time": f"{at}s", "exp_samples": []} for _, recorded, raw in pairs
                       for e in _differences(substitute(recorded, v), substitute(raw, v))]
            rows = _rows_seen(sim, cluster.name, at, span)
            checks.append({"expr": f"count({substitute(fleet.status(ctx), v)})", "eval_time": f"{at}s",
                           "exp_samples": [{"labels": "{}", "value": rows}] if rows else []})
        read = _metrics_read([c["expr"] for c in checks] + [records_file.read_text()])
        series = {k: v for k, v in promtool_series(sim, read).items() if f'cluster="{cluster.name}"' in k}
        rule_test(tmp_path, series, {"promql_expr_test": checks}, records_file, interval=f"{scenario.scrape}s",
                  engine=rule_engine)


def test_a_column_that_differs_is_found(records_file, tmp_path):
    """The comparison can fail: the failures column read over a range one minute longer than the raw form's."""
    cfg = _cfg()
    ctx = Ctx.for_dashboards(cfg)
    scenario = SCENARIOS["failing-schedule"]
    sim = Simulation(scenario, scenario.duration)
    (recorded,) = [c for c in fleet.columns(ctx) if c.title == "Scheduled backups failed"]
    (raw,) = [c for c in fleet.columns(ctx, recorded=False) if c.title == "Scheduled backups failed"]
    at = scenario.duration - 30
    v = Vars(cluster="unused", range_seconds=6 * H, scrape_seconds=scenario.scrape)
    longer = substitute(recorded.expr, v).replace("[6h]", "[12h]")
    check = {"expr": _differences(longer, substitute(raw.expr, v))[0], "eval_time": f"{at}s", "exp_samples": []}
    read = _metrics_read([check["expr"], records_file.read_text()])
    rule_test(tmp_path, promtool_series(sim, read), {"promql_expr_test": [check]}, records_file,
              interval=f"{scenario.scrape}s", passes=False)


def test_compliance_after_the_sums_began_again_counts_the_current_run(tmp_path, rule_engine):
    """The running sums begin again after an outage of the rules longer than rpo.window: a window reaching back
    before it reads the current run alone (all within target here), not the difference across the two runs (which
    would read 40 within target of 19 evaluations)."""
    since, s, c = promql.COMPLIANT_SINCE_RECORD, promql.COMPLIANT_SUM_RECORD, promql.COMPLIANT_COUNT_RECORD
    row = '{cluster="c1", tenant="system"}'
    # run 1: minutes 0-29, every evaluation over target; no evaluation for 11 minutes; run 2 from minute 41, all within
    series = {f"{since}{row}": "0x29 _x11 2460x39", f"{c}{row}": "1+1x29 _x11 1+1x39",
              f"{s}{row}": "0x29 _x11 1+1x39"}
    scope = promql.rule_scope(_cfg())
    checks = [{"expr": promql.compliance_from_sums(scope, window), "eval_time": at,
               "exp_samples": [{"labels": row, "value": 1}]} for window, at in (("1h", "80m"), ("20m", "50m"))]
    # one run spanning the window: its growth (minutes 11-20 of run 1: none within target)
    checks.append({"expr": promql.compliance_from_sums(scope, "10m"), "eval_time": "20m",
                   "exp_samples": [{"labels": row, "value": 0}]})
    rule_test(tmp_path, series, {"promql_expr_test": checks}, engine=rule_engine)

"""The Fleet dashboard and RPO compliance on a real Prometheus, over a simulated fleet, checked against the truth.

One stale, one failing and one paused cluster among healthy ones, and a daily-backup cluster whose own targets
(rpo.overrides) make its 25-hour-old recovery point fine. The recording rules (the recovery point, the targets,
the compliance) are evaluated over the history one after another, as Prometheus would have recorded them.
"""

from __future__ import annotations

import pytest

from crdb_dash.model import alerts, config, promql
from crdb_dash.model.catalog import UNKNOWN
from crdb_dash.panels import fleet
from crdb_dash.panels.base import Ctx
from crdb_dash.pipeline import compiled, rules
from crdb_dash.pipeline.interpolate import Vars
from crdb_dash.pipeline.serialize import to_yaml
from crdb_dash.preview.run import scenario_end
from crdb_dash.simulation import evaluate, promrun
from crdb_dash.simulation.simulator import Cluster, Scenario, Schedule, Simulation, Tenant, openmetrics
from tests.conftest import configured

H, M = 3600, 60
STATUS = {level: text for level, text, _ in fleet.STATUSES}
END = scenario_end()
DAY = 24 * H
OVERRIDES = [{"match": {"cluster": "fleet-daily"}, "warning": "26h", "critical": "30h"}]


def _hourly(**kw) -> Schedule:
    return Schedule(cadence=H, duration=10 * M, **{"first": 5 * M, **kw})


FLEET = Scenario("fleet", 30 * H, (
    Cluster("fleet-ok-1", tenants=(Tenant(schedule=_hourly()),)),
    # backups stop at 18h: the recovery point is over the 6h critical target for the last 6h of 24
    Cluster("fleet-stale", tenants=(Tenant(schedule=_hourly(first=0, until=18 * H)),)),
    Cluster("fleet-failing", tenants=(Tenant(schedule=_hourly(fail_runs=frozenset({28}))),)),
    Cluster("fleet-ok-2", nodes=4, tenants=(Tenant(schedule=_hourly(first=20 * M)),)),
    # the backup of 28h is paused to the end: the recovery point is 3h old, over the hourly cluster's 2h warning
    Cluster("fleet-paused", tenants=(Tenant(schedule=_hourly(first=0, on_previous_running="wait",
                                                              pauses=((28, 2 * M, 5 * H),))),)),
    # one backup a day, the last at 5h: 25h old at the end, within its own 26h warning target
    Cluster("fleet-daily", tenants=(Tenant(schedule=Schedule(cadence=DAY, duration=10 * M, first=5 * H,
                                                             until=6 * H)),)),
    # schedules without the RPO gauge (CockroachDB's default): judged by their successes alone
    Cluster("fleet-nogauge", tenants=(Tenant(schedule=_hourly(updates_metric=False)),)),
    # its last success about 4h45m before the end: over the 2h freshness warning level
    Cluster("fleet-nogauge-stale", tenants=(Tenant(schedule=_hourly(updates_metric=False, until=25 * H)),)),
), scrape=30)


def _cfg(overrides=OVERRIDES) -> config.Config:
    return configured(scrape_interval="30s", rpo={"overrides": overrides})


@pytest.fixture(scope="module")
def sim():
    return Simulation(FLEET, END)


@pytest.fixture(scope="module")
def prom(sim):
    try:
        with promrun.serve(openmetrics([sim]), rules.history_file(_cfg()), (sim.start, END)) as server:
            yield server
    except promrun.PrometheusError as exc:
        pytest.fail(str(exc))


def _fleet_model(cfg):

    return compiled.dashboards(cfg)[f"{cfg.get('grafana.uid_prefix')}-fleet"]


def table(prom, cfg=None, at=END) -> dict[str, dict[str, float]]:
    """The Fleet table as Grafana merges it: cluster -> column title -> value."""
    cfg = cfg or _cfg()
    model = _fleet_model(cfg)
    (panel,) = [p for p in model["panels"] if p["type"] == "table"]
    titles = {o["matcher"]["options"]: o["properties"][0]["value"] for o in panel["fieldConfig"]["overrides"]}
    v = Vars(cluster="unused", range_seconds=evaluate.range_seconds(model), scrape_seconds=15)
    rows: dict[str, dict[str, float]] = {}
    for target in panel["targets"]:
        assert target["instant"] and target["format"] == "table"
        for series in evaluate.run(prom, target, v, at).series:
            assert series["metric"]["tenant"] == "system"
            rows.setdefault(series["metric"]["cluster"], {})[titles[f"Value #{target['refId']}"]] = \
                float(series["value"][1])
    return rows


def test_the_stale_failing_and_paused_clusters_come_first_with_the_scenarios_values(prom, sim):
    rows = table(prom)
    assert set(rows) == {c.name for c in FLEET.clusters}
    worst_first = sorted(rows, key=lambda c: -rows[c]["Status"])
    assert set(worst_first[:4]) == {"fleet-stale", "fleet-nogauge-stale", "fleet-failing", "fleet-paused"}, rows
    assert worst_first[0] == "fleet-stale" and worst_first[-1] not in ("fleet-nogauge-stale", "fleet-failing")
    statuses = {c: STATUS[rows[c]["Status"]] for c in rows}
    assert statuses == {"fleet-stale": "RPO critical", "fleet-nogauge-stale": "No success: warning",
                        "fleet-paused": "RPO warning", "fleet-failing": "Needs a look", "fleet-ok-1": "OK",
                        "fleet-ok-2": "OK", "fleet-daily": "OK", "fleet-nogauge": "OK"}
    for name, row in rows.items():
        if name.startswith("fleet-nogauge"):
            assert row["Recovery point age"] == UNKNOWN, name
        else:
            age = END - sim.truth_last_completed(name, None, END)
            assert abs(row["Recovery point age"] - age) <= FLEET.scrape, name
        succeeded = [t for t, _ in sim.models[name].events("schedules_BACKUP_succeeded", None)
                     if t <= END - sim.start]
        since = END - (sim.start + max(succeeded)) if succeeded else None
        # seen at the first scrape after it, to the minute, within rpo.window; older ones need the recording rule's
        # memory, which a history backfilled one rule at a time does not build (test_alerts checks it)
        if since < 6 * H or "Since last successful backup" in row:
            assert since - 60 <= row["Since last successful backup"] <= since + 60 + FLEET.scrape, name
        assert row["Scheduled backups failed"] == sim.truth_count(name, "schedules_BACKUP_failed", END - DAY, END)
        for kind, title in (("backup", "Backups"), ("restore", "Restores")):
            assert row[f"{title} paused"] == sim.truth_jobs(name, kind, "paused", END), name
            assert row[f"{title} running"] == sim.truth_jobs(name, kind, "running", END), name
        assert row["Reporting"] == 1 and row["Alerts firing"] == 0
    assert rows["fleet-failing"]["Scheduled backups failed"] == 1 and rows["fleet-paused"]["Backups paused"] == 1


def test_compliance_of_a_cluster_stale_for_6h_of_the_last_24h_reads_75_percent(prom):
    rows = table(prom)
    step = 60 / DAY  # one rule evaluation of the 24h range
    assert abs(rows["fleet-stale"]["RPO compliance in range"] - 0.75) <= step, rows["fleet-stale"]
    for name in ("fleet-ok-1", "fleet-ok-2", "fleet-failing", "fleet-paused", "fleet-daily"):
        assert rows[name]["RPO compliance in range"] == 1, name
    # the period (30d) holds only the 30h of history: 6h over target, and the first minutes before any backup
    assert 0.75 < rows["fleet-stale"]["RPO compliance, 30d"] < 0.81
    spent = (1 - rows["fleet-stale"]["RPO compliance, 30d"]) / (1 - 0.995)
    assert rows["fleet-stale"]["Error budget left"] == pytest.approx(1 - spent)


def test_each_cluster_is_coloured_by_its_own_targets(prom):
    """The daily cluster's 25h is fine under its override (the recorded targets) and RPO critical under the default
    targets (the raw form, which writes the config's targets out)."""
    daily = table(prom)["fleet-daily"]
    assert daily["Status"] == 0 and abs(daily["Recovery point age"] - 25 * H) <= FLEET.scrape
    cfg = _cfg(overrides=[])
    status = {"expr": fleet.status(Ctx.for_dashboards(cfg), recorded=False), "instant": True}
    v = Vars(cluster="unused", range_seconds=DAY, scrape_seconds=15)
    (daily,) = [s for s in evaluate.run(prom, status, v, END).series if s["metric"]["cluster"] == "fleet-daily"]
    assert STATUS[float(daily["value"][1])] == "RPO critical"


def test_overrides_in_one_fleet_daily_at_25h_raises_nothing_hourly_at_3h_warns(prom):
    cfg = _cfg()
    fired = set()
    for alert in alerts.table(cfg):
        if alert.name == "RecoveryPointTooOld":
            fired |= {(s["metric"]["cluster"], alert.severity) for s in prom.query(alert.expr, END)["result"]}
    assert fired == {("fleet-paused", "warning"), ("fleet-stale", "warning"), ("fleet-stale", "critical")}


def test_recorded_targets_follow_the_first_matching_override(prom):
    result = prom.query(f'{promql.TARGET_RECORD}{{cluster=~"fleet-(daily|ok-1)"}}', END)["result"]
    targets = {(s["metric"]["cluster"], s["metric"]["severity"]): float(s["value"][1]) for s in result}
    assert targets == {("fleet-daily", "warning"): 26 * H, ("fleet-daily", "critical"): 30 * H,
                       ("fleet-ok-1", "warning"): 2 * H, ("fleet-ok-1", "critical"): 6 * H}


def test_the_cluster_filter_narrows_the_table(prom):
    cfg = _cfg()
    model = _fleet_model(cfg)
    (panel,) = [p for p in model["panels"] if p["type"] == "table"]
    v = Vars(cluster="unused", range_seconds=DAY, scrape_seconds=15, cluster_filter=["fleet-ok-1", "fleet-daily"])
    seen = {s["metric"]["cluster"] for t in panel["targets"] for s in evaluate.run(prom, t, v, END).series}
    assert seen == {"fleet-ok-1", "fleet-daily"}


def test_rows_link_to_their_clusters_overview_keeping_time_and_datasource():
    cfg = _cfg()
    model = _fleet_model(cfg)
    (panel,) = [p for p in model["panels"] if p["type"] == "table"]
    (link,) = panel["fieldConfig"]["defaults"]["links"]
    assert link["url"].startswith(f"/d/{cfg.get('grafana.uid_prefix')}-overview?")
    for part in ("var-cluster=${__data.fields.cluster}", "var-tenant=${__data.fields.tenant}",
                 "var-datasource=${datasource}", "${__url_time_range}"):
        assert part in link["url"]
    assert panel["options"]["sortBy"] == [{"displayName": "Status", "desc": True}]
    assert [t["id"] for t in panel["transformations"]] == ["merge", "organize"]
    assert fleet.STATUSES[0][0] == max(level for level, _, _ in fleet.STATUSES)


# ---- cost: 2 million samples a refresh for 1,000 clusters of 2 virtual clusters each ---------------------------------
ROW_BUDGET = 1000  # samples a row of the table may read


def _samples(server, targets, v) -> int:
    return sum(evaluate.run(server, t, v, END).samples for t in targets)


def test_a_fleet_refresh_reads_at_most_its_budget_of_samples_a_row(prom):
    """Read from the records, the table costs a few samples a row whatever the range; its raw forms (every sample of
    the range) cost dozens of times the budget."""
    cfg = _cfg()
    model = _fleet_model(cfg)
    v = Vars(cluster="unused", range_seconds=DAY, scrape_seconds=15)
    rows = len(FLEET.clusters)
    shipped = _samples(prom, [t for p in model["panels"] for t in p.get("targets", [])], v)
    assert shipped <= ROW_BUDGET * rows, shipped / rows
    raw = [{"expr": c.expr, "instant": True} for c in fleet.columns(Ctx.for_dashboards(cfg), recorded=False)]
    assert _samples(prom, raw, v) > 10 * ROW_BUDGET * rows


def test_a_clusters_own_dashboards_read_the_same_samples_in_a_fleet_as_alone(prom):
    """Every per-cluster dashboard reads only its cluster's series: its cost does not grow with the fleet."""
    cfg = _cfg()
    alone = Scenario("alone", FLEET.duration, tuple(c for c in FLEET.clusters if c.name == "fleet-ok-1"),
                     scrape=FLEET.scrape)
    sim = Simulation(alone, END)
    models = {uid: m for uid, m in compiled.dashboards(cfg).items() if not uid.endswith("-fleet")}

    def cost(server) -> dict[str, int]:
        return {uid: _samples(server, [t for p in m["panels"] for t in p.get("targets", [])],
                              Vars(cluster="fleet-ok-1", range_seconds=evaluate.range_seconds(m), scrape_seconds=15))
                for uid, m in models.items()}

    with promrun.serve(openmetrics([sim]), rules.history_file(cfg), (sim.start, END)) as single:
        in_fleet, by_itself = cost(prom), cost(single)
    assert sum(in_fleet.values()) > 0 and in_fleet == by_itself


@pytest.mark.parametrize(("loaded", "shown"), [("none", "Not loaded"), ("older", "Out of date"),
                                               ("this release's", "Loaded")])
def test_one_tile_says_whether_the_tables_recording_rules_are_loaded(loaded, shown):
    """Without the records the table's cells are empty: the tile above it says so, and when the rule file is older
    than the dashboards (it records the recovery point but no version), as Grafana draws it."""
    from crdb_dash.preview import query, view

    cfg = _cfg()
    (tile,) = [p for p in _fleet_model(cfg)["panels"] if p["title"] == "Recording rules"]
    scenario = Scenario("tile", H, FLEET.clusters[:1], scrape=FLEET.scrape)
    sim = Simulation(scenario, END)
    records = {"none": [], "older": [{"record": promql.RPO_RECORD, "expr": "vector(1)"}],
               "this release's": [{"record": promql.RULES_VERSION_RECORD, "expr": f"vector({promql.RULES_VERSION})"}]}
    text = to_yaml({"groups": [{"name": "records", "interval": "1m", "rules": records[loaded]}]})
    with promrun.serve(openmetrics([sim]), text if records[loaded] else "", (sim.start, END)) as server:
        results = query.run_panel(server, tile, {}, END, H, FLEET.scrape)
    (stat,) = view.build(tile, results, END).stats
    assert stat.text.startswith(shown), stat.text

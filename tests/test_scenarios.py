"""Every panel query on a real Prometheus, over simulated CockroachDB clusters, checked against the truth.

All scenarios are backfilled into one TSDB (each scenario's clusters have their own names) and
queried as Grafana would: variables substituted, range queries over the dashboard's default range with
Grafana's step, instant queries for stat panels.
"""

from __future__ import annotations

import itertools
import math
import re
import time
from dataclasses import replace

import pytest

from crdb_dash.model import alerts, catalog, promql
from crdb_dash.model.catalog import UNKNOWN
from crdb_dash.model.config import parse_duration
from crdb_dash.pipeline.interpolate import Vars, substitute
from crdb_dash.preview.run import scenario_end
from crdb_dash.simulation import engines, evaluate, promrun
from crdb_dash.simulation.scenarios import SCENARIOS
from crdb_dash.simulation.simulator import Simulation, openmetrics
from tests.conftest import by_key, configured, need

END = scenario_end()
H = 3600
SCRAPE = SCENARIOS["healthy-hourly-backups"].scrape
assert all(s.scrape == SCRAPE for s in SCENARIOS.values())
DATASOURCE_SCRAPE = 15  # what Grafana assumes for a datasource that sets no scrape interval


@pytest.fixture(scope="module")
def models():
    """The dashboards as a user whose Prometheus scrapes every SCRAPE seconds builds them."""
    from crdb_dash.pipeline import compiled

    return compiled.dashboards(configured(scrape_interval=f"{SCRAPE}s"))
M = 60
RPO_SERIES = ["schedules_BACKUP_last_completed_time", "schedules_BACKUP_last_completed_time_by_virtual_cluster", "up"]
RPO_ALERTS = ("RecoveryPointTooOld", "VirtualClusterRecoveryPointTooOld", "RecoveryPointUnknown")


@pytest.fixture(scope="module")
def sims():
    return {name: Simulation(s, END) for name, s in SCENARIOS.items()}


@pytest.fixture(scope="module", params=by_key(engines.MATRIX))
def prom(request, sims, cfg):
    """One server with every scenario, and the recording rules evaluated over their history, on each engine of
    the matrix (Prometheus 3 and 2, VictoriaMetrics current and 1.79) with the same history: every check runs on
    each."""
    from crdb_dash.pipeline import rules
    from crdb_dash.simulation import vmrun

    engine = need(request.param)
    serve = vmrun.serve if engine.kind == "victoriametrics" else promrun.serve
    span = (min(s.start for s in sims.values()), END)
    try:
        with serve(openmetrics(list(sims.values())), rules.history_file(cfg), span, engine) as server:
            yield server
    except promrun.PrometheusError as exc:
        pytest.fail(str(exc))


def _vars(model, cluster, **kw) -> Vars:
    kw.setdefault("range_seconds", evaluate.range_seconds(model))
    return Vars(cluster=cluster, scrape_seconds=DATASOURCE_SCRAPE, **kw)


def _panel(models, uid_key, title):
    model = next(m for uid, m in models.items() if uid.endswith(uid_key))
    (panel,) = [p for p in model["panels"] if p.get("title") == title]
    return model, panel


def _stat(prom, models, uid_key, title, cluster, at=END, **kw) -> list[float]:
    model, panel = _panel(models, uid_key, title)
    result = evaluate.run(prom, panel["targets"][0], _vars(model, cluster, **kw), at)
    return sorted(evaluate.last_values(result).values())


def test_every_query_runs_in_every_scenario_and_every_panel_has_data_when_everything_happens(prom, models, sims):
    from crdb_dash.simulation import vmrun

    # vmalert's replay over stored history cannot feed the compliance rules the recovery-point memory they
    # read (a rule reading its own past output); live, vmalert evaluates them like Prometheus.
    replayed = isinstance(prom, vmrun.VictoriaMetrics)
    empty = []
    for name, sim in sims.items():
        cluster = sim.scenario.clusters[0].name
        for uid, model in models.items():
            v = _vars(model, cluster)
            for panel in model["panels"]:
                for target in panel.get("targets", []):
                    result = evaluate.run(prom, target, v, END)  # raises on any query error
                    if replayed and any(r in target["expr"] for r in (promql.COMPLIANT_RECORD, promql.PERIOD_RECORD)):
                        continue  # see below
                    if name == "everything-at-once" and not result.series:
                        empty.append((uid, panel["title"], target["refId"]))
    assert empty == []


@pytest.mark.parametrize("name", ["healthy-hourly-backups", "failing-schedule", "stuck-backup-job", "paused-backup",
                                  "rolling-restart", "restore-with-retries"])
def test_rpo_is_the_true_age_of_the_last_completed_backup(prom, models, sims, name):
    sim = sims[name]
    cluster = sim.scenario.clusters[0].name
    for at in (END - 7 * H, END - 3 * H, END):
        truth = at - sim.truth_last_completed(cluster, None, at)
        (shown,) = _stat(prom, models, "overview", "Time since last completed backup", cluster, at=at)
        assert abs(shown - truth) <= sim.scenario.scrape, (at, shown, truth)


@pytest.mark.parametrize("name", ["full-restart-without-backups", "no-rpo-schedule"])
def test_rpo_is_unknown_not_decades_when_no_node_knows(prom, models, sims, name):
    cluster = sims[name].scenario.clusters[0].name
    assert _stat(prom, models, "overview", "Time since last completed backup", cluster) == [UNKNOWN]
    model, panel = _panel(models, "overview", "Time since last completed backup over time")
    result = evaluate.run(prom, panel["targets"][0], _vars(model, cluster), END)
    points = [float(v) for s in result.series for _, v in s["values"]]
    assert all(0 <= p < 24 * H for p in points), max(points, default=None)


def test_rpo_after_full_restart_is_known_while_the_window_remembers(prom, models, sims):
    sim = sims["full-restart-without-backups"]
    at = sim.start + 5 * H  # all nodes restarted at 3h; the 6h window still holds the pre-restart value
    truth = at - sim.truth_last_completed("restarted", None, at)
    (shown,) = _stat(prom, models, "overview", "Time since last completed backup", "restarted", at=at)
    assert abs(shown - truth) <= sim.scenario.scrape


@pytest.mark.parametrize("name", ["healthy-hourly-backups", "failing-schedule", "rolling-restart",
                                  "stuck-backup-job", "everything-at-once"])
def test_started_succeeded_failed_in_range_equal_the_simulated_counts(prom, models, sims, name):
    sim = sims[name]
    cluster = sim.scenario.clusters[0].name
    for title, exported in (("Scheduled backups started in range", "schedules_BACKUP_started"),
                            ("Scheduled backups succeeded in range", "schedules_BACKUP_succeeded"),
                            ("Scheduled backups failed in range", "schedules_BACKUP_failed")):
        truth = sim.truth_count(cluster, exported, END - 24 * H, END)
        shown = _stat(prom, models, "overview", title, cluster)
        assert round(sum(shown)) == truth, (title, shown, truth)
    if name == "failing-schedule":
        assert sim.truth_count(cluster, "schedules_BACKUP_failed", END - 24 * H, END) >= 7


def test_success_ratio(prom, models, sims):
    sim = sims["failing-schedule"]
    ok = sim.truth_count("failing", "schedules_BACKUP_succeeded", END - 24 * H, END)
    bad = sim.truth_count("failing", "schedules_BACKUP_failed", END - 24 * H, END)
    (shown,) = _stat(prom, models, "overview", "Scheduled backup success ratio", "failing")
    assert shown == pytest.approx(ok / (ok + bad), abs=0.01)


def test_running_and_paused_after_the_poller_moved(prom, models, sims):
    sim = sims["paused-backup"]
    at = sim.start + 6 * H + 30 * 60  # paused 4h07m..7h07m; the poller moved to node 2 at 6h
    assert sim.truth_jobs("paused", "backup", "paused", at) == 1
    assert _stat(prom, models, "overview", "Backup jobs paused now", "paused", at=at) == [1]
    assert _stat(prom, models, "overview", "Backup jobs running now", "paused", at=at) == [0]
    after = sim.start + 8 * H
    assert _stat(prom, models, "overview", "Backup jobs paused now", "paused", at=after) == [0]


def test_stuck_job_shows_running_and_skips(prom, models, sims):
    sim = sims["stuck-backup-job"]
    assert sim.truth_jobs("stuck", "backup", "running", END) == 1
    assert _stat(prom, models, "overview", "Backup jobs running now", "stuck") == [1]
    model, panel = _panel(models, "schedules", "Schedules skipped (previous run still running)")
    result = evaluate.run(prom, panel["targets"][0], _vars(model, "stuck"), END)
    total = sum(float(v) for s in result.series for _, v in s["values"])
    assert total > 0


def test_restore_counts_and_running(prom, models, sims):
    sim = sims["restore-with-retries"]
    assert _stat(prom, models, "restore-jobs", "Restore jobs completed in range", "restores") == [2]
    assert _stat(prom, models, "restore-jobs", "Restore jobs failed in range", "restores") == [1]
    at = sim.start + 8 * H + 30 * 60  # the third restore is paused
    assert _stat(prom, models, "restore-jobs", "Restore jobs paused now", "restores", at=at) == [1]
    at = sim.start + 2 * H + 15 * 60
    assert _stat(prom, models, "restore-jobs", "Restore jobs running now", "restores", at=at) == [1]


def test_protected_timestamp_ages(prom, models, sims):
    sim = sims["paused-backup"]
    at = sim.start + 6 * H + 30 * 60
    job_start = sim.start + 4 * H + 5 * 60
    (age,) = _stat(prom, models, "protected-ts", "Oldest PTS record of backup jobs now", "paused", at=at)
    assert abs(age - (at - job_start)) <= sim.scenario.scrape
    (schedule_age,) = _stat(prom, models, "protected-ts", "Oldest PTS record of backup schedules now", "paused",
                            at=at)
    assert abs(schedule_age - (at - sim.truth_last_completed("paused", None, at))) <= sim.scenario.scrape


def test_cluster_variable_isolates_one_cluster_of_a_fleet(prom, models, sims):
    sim = sims["fleet-of-clusters"]
    seen = set()
    for c in sim.scenario.clusters:
        truth = sim.truth_count(c.name, "schedules_BACKUP_started", END - 24 * H, END)
        assert _stat(prom, models, "overview", "Scheduled backups started in range", c.name) == [truth]
        seen.add(truth)
    assert len(seen) > 1, "the fleet's clusters must differ for this test to mean anything"


def test_tenant_variable_selects_a_virtual_cluster(prom, models, sims):
    sim = sims["virtual-cluster"]
    both = _stat(prom, models, "overview", "Scheduled backups started in range", "tenants")
    app = _stat(prom, models, "overview", "Scheduled backups started in range", "tenants", tenants=["app"])
    assert app == [sim.truth_count("tenants", "schedules_BACKUP_started", END - 24 * H, END, tenant="app")]
    assert sorted(both) == sorted([app[0], sim.truth_count("tenants", "schedules_BACKUP_started", END - 24 * H, END,
                                                            tenant="system")])


def test_node_variable_narrows_per_node_panels(prom, models, sims):
    sim = sims["healthy-hourly-backups"]
    node = "healthy-n1:8080"
    one = _stat(prom, models, "overview", "Scheduled backups started in range", "healthy", nodes=[node])
    every = _stat(prom, models, "overview", "Scheduled backups started in range", "healthy")
    truth = sum(1 for t, n in sim.models["healthy"].events("schedules_BACKUP_started", None) if n == 1)
    assert one == [truth] and every[0] > truth


def _points(result):
    for s in result.series:
        for _, value in s.get("values", [s.get("value")] if "value" in s else []):
            yield float(value)


def test_no_panel_shows_nan_or_infinity_in_any_scenario_or_range(prom, models, sims):
    bad = []
    for name, sim in sims.items():
        for cluster in sim.scenario.clusters:
            for uid, model in models.items():
                for range_seconds in (H, 24 * H):
                    v = _vars(model, cluster.name, range_seconds=range_seconds)
                    for panel in model["panels"]:
                        for target in panel.get("targets", []):
                            points = list(_points(evaluate.run(prom, target, v, END)))
                            if any(math.isnan(p) or math.isinf(p) for p in points):
                                bad.append((name, cluster.name, range_seconds, uid, panel["title"]))
    assert bad == []


def test_success_ratio_is_no_data_when_no_scheduled_backup_finished(prom, models, sims):
    sim = sims["stuck-backup-job"]
    finished = sum(sim.truth_count("stuck", m, END - H, END) for m in ("schedules_BACKUP_succeeded",
                                                                        "schedules_BACKUP_failed"))
    assert finished == 0
    for key in ("overview", "schedules"):
        _, panel = _panel(models, key, "Scheduled backup success ratio")
        assert "None in range" in panel["description"]
        assert _stat(prom, models, key, "Scheduled backup success ratio", "stuck", range_seconds=H) == []


def _bar_targets(models):
    """(model, panel, target, metric) of every query drawn as bars; a graph of several metrics names them in its
    targets' order ("Metrics: a, b.")."""
    for model in models.values():
        for panel in model["panels"]:
            if panel["type"] == "timeseries" and panel["fieldConfig"]["defaults"]["custom"]["drawStyle"] == "bars":
                names = re.search(r"Metrics?: ([\w, ]+)\.", panel["description"]).group(1).split(", ")
                for target, name in zip(panel["targets"], names, strict=True):
                    yield model, panel, target, catalog.metric(name)


def _countable(sim, cluster, exported, since, until) -> int:
    """The events in (since, until], but of a node that restarted meanwhile only what a per-step count can see:
    its counter's value at the end, or the difference if that is not below the value at the start (README: such
    a restart is not seen as one, and the events its node counted before it are lost to the step)."""
    from crdb_dash.simulation.simulator import NODE_DOWN

    model = sim.models[cluster]
    total = 0
    for node in model.node_ids:
        if not any(since < sim.start + r + NODE_DOWN <= until for n, r in model.spec.restarts if n == node):
            total += sum(1 for tn in model.tenants for t, n in model.events(exported, tn)
                         if n == node and since < sim.start + t <= until)
            continue
        for tn in model.tenants:
            before, after = (model.counter(exported, node, tn, t - sim.start) for t in (since, until))
            total += int(after if after < before else after - before)
    return total


@pytest.mark.parametrize("name", ["healthy-hourly-backups", "failing-schedule", "stuck-backup-job", "rolling-restart",
                                  "restore-with-retries", "virtual-cluster", "everything-at-once"])
def test_bars_count_whole_events_each_in_exactly_one_bar(prom, models, sims, name):
    """Every bar equals the events that happened in the step it ends: whole numbers, no overlap, none lost but
    to a restart in the step."""
    sim = sims[name]
    cluster = sim.scenario.clusters[0].name
    checked = 0
    for model, panel, target, m in _bar_targets(models):
        for range_seconds in (6 * H, 24 * H, 72 * H):
            v = replace(_vars(model, cluster, range_seconds=range_seconds), min_interval=SCRAPE)
            result = evaluate.run(prom, target, v, END)
            bars: dict[int, float] = {}
            for series in result.series:
                for t, value in series["values"]:
                    bars[int(t)] = bars.get(int(t), 0) + float(value)
            assert all(value.is_integer() for value in bars.values()), (panel["title"], m.exported, range_seconds)
            shown = {t: value for t, value in bars.items() if value}
            truth = {t: _countable(sim, cluster, m.exported, t - v.step, t)
                     for t in range(END - range_seconds, END + 1, v.step)}
            assert shown == {t: n for t, n in truth.items() if n}, (panel["title"], m.exported, range_seconds, v.step)
            checked += sum(shown.values())
    assert checked > 0


def test_kms_stat_is_red_right_after_a_kms_failure_and_green_later(prom, models, sims):
    from tests.test_dashboards import colour

    sim = sims["everything-at-once"]
    title = "Time since a backup failed: KMS inaccessible now"
    _, panel = _panel(models, "backup-jobs", title)
    at = sim.start + 9 * H + 10 * 60
    (soon,) = _stat(prom, models, "backup-jobs", title, "everything", at=at, tenants=["system"])
    assert abs(soon - 10 * 60) <= SCRAPE and colour(panel, soon) == "red"
    (later,) = _stat(prom, models, "backup-jobs", title, "everything", tenants=["system"])
    assert abs(later - 3 * H) <= SCRAPE and colour(panel, later) == "green"
    assert _stat(prom, models, "backup-jobs", title, "healthy") == []
    assert colour(panel, None) == "text"  # no value is also a cluster that reports nothing




# The RPO alerts read the recording rule's memory, which backfilled history cannot have: they are checked with
# the rule engine running (test_rpo_alerts_and_stat_with_the_recording_rule_follow_the_truth). So does
# NoSuccessfulBackup beyond rpo.window (6h): promtool's backfill evaluates each rule over the whole history at once,
# so a rule reading its own past sees successes within that window only; vmalert's replay goes forward in time and
# remembers (REMEMBERED_ON_REPLAY). The live checks are
# test_no_successful_backup_alert_follows_the_truth_without_the_schedule_option.
NO_SUCCESS = {("NoSuccessfulBackup", "warning", "system"), ("NoSuccessfulBackup", "critical", "system")}
# the last success 8h45m before the end
REMEMBERED_ON_REPLAY = {"failing-schedule", "stuck-backup-job", "restart-after-last-backup"}
ALERTS_AT_END = {
    "healthy-hourly-backups": set(),
    # NoSuccessfulBackup: the last success 8h45m (failing, stuck, lastbackup), 10h45m (restarted), 3h45m (everything)
    # before the end
    "failing-schedule": {("ScheduledBackupFailed", "warning", "system"), ("JobFailed", "warning", "system")},
    "stuck-backup-job": {("JobRunningLong", "warning", "system"), ("ScheduleOverlapping", "warning", "system")},
    "paused-backup": set(),
    "restore-with-retries": set(),
    "rolling-restart": set(),
    "full-restart-without-backups": set(),
    "no-rpo-schedule": set(),
    "virtual-cluster": set(),
    "virtual-cluster-starts": set(),
    "restart-after-last-backup": set(),
    "cluster-stops-reporting": set(),  # the cluster that stays: see test_a_cluster_that_stops_being_scraped
    "everything-at-once": {("JobRunningLong", "warning", "system"),
                           ("ScheduleOverlapping", "warning", "system"), ("RestoreJobPaused", "warning", "system"),
                           ("SchedulesInError", "warning", "system"), ("SchedulesInError", "warning", "app"),
                           ("SchedulesMalformed", "warning", "system"), ("SchedulesMalformed", "warning", "app"),
                           # the KMS failure at 9h: no backup of the system tenant completed since
                           ("KMSInaccessible", "critical", "system"), ("NoSuccessfulBackup", "warning", "system")},
}


@pytest.mark.parametrize("name", sorted(ALERTS_AT_END))
def test_alert_conditions_at_the_end_of_each_scenario(prom, sims, cfg, name):
    """Each alert's condition (its `for` aside) on the scenario's history, on a real Prometheus."""

    cluster = sims[name].scenario.clusters[0].name
    true = set()
    for alert in alerts.table(cfg):
        if alert.name in RPO_ALERTS or alert.name == "RecoveryPointBudgetBurn":  # compliance: see test_fleet
            continue
        for series in prom.query(alert.expr, END)["result"]:
            if series["metric"].get("cluster") == cluster:
                true.add((alert.name, alert.severity, series["metric"].get("tenant", "")))
    expected = ALERTS_AT_END[name]
    if prom.engine.kind == "victoriametrics" and name in REMEMBERED_ON_REPLAY:
        expected = expected | NO_SUCCESS
    assert true == expected


@pytest.fixture(scope="module")
def recorded_models():
    """The dashboards as built with rpo.recorded: true."""
    from crdb_dash.pipeline import compiled

    return compiled.dashboards(configured(scrape_interval=f"{SCRAPE}s", rpo={"recorded": True}))


@pytest.mark.parametrize("name", ["healthy-hourly-backups", "rolling-restart", "full-restart-without-backups",
                                  "failing-schedule", "no-rpo-schedule"])
def test_recording_rule_mode_shows_the_same_recovery_point(prom, models, recorded_models, sims, name):
    """The same answer as the raw query (checked against the truth above), up to one rule evaluation."""
    from crdb_dash.model import promql

    sim = sims[name]
    cluster = sim.scenario.clusters[0].name
    title = "Time since last completed backup"
    _, panel = _panel(recorded_models, "overview", title)
    assert promql.RPO_RECORD in panel["targets"][0]["expr"] and "max_over_time" not in panel["targets"][0]["expr"]
    for at in (END - 5 * H, END - 5 * H // 2, END):
        (raw,) = _stat(prom, models, "overview", title, cluster, at=at)
        (recorded,) = _stat(prom, recorded_models, "overview", title, cluster, at=at)
        if raw == UNKNOWN:
            assert recorded == UNKNOWN, at
        else:
            assert abs(recorded - raw) <= sim.scenario.scrape + 60, (at, recorded, raw)
    if name in ("full-restart-without-backups", "no-rpo-schedule"):
        assert recorded == UNKNOWN


# ---- the RPO with the recording rule running: promtool evaluates every rule minute by minute over the history ----


def _seen_until(sim, cluster, at) -> int:
    """``at``, or the last scrape of a cluster Prometheus stopped scraping before it: what Prometheus knows."""
    (c,) = [c for c in sim.scenario.clusters if c.name == cluster]
    return at if c.scraped_until is None else min(at, sim.start + c.scraped_until)


def _fires(sim, cluster, tenant, at, threshold) -> bool:
    """Whether an age alert with `for: 5m` fires at ``at`` by the truth; fails on a time too close to call."""
    ages = []
    for t in (at - 300, at):
        done = sim.truth_last_completed(cluster, tenant, _seen_until(sim, cluster, t))
        ages.append(None if done is None else t - done)
    if None in ages:
        return False
    assert abs(ages[0] - threshold) > 90, f"{cluster} at {at}: too close to the threshold, pick another time"
    return min(ages) > threshold


def _rpo_truth(sim, cfg, at):
    """The RPO alerts that must fire at ``at``, and what the recovery point stat must show."""
    alerts, shown = set(), {}
    for c in sim.scenario.clusters:
        model = sim.models[c.name]
        for index, tenant in enumerate(model.tenants):
            if not model.exists(tenant, at - sim.start):
                continue
            # a cluster no longer scraped keeps its remembered recovery point ageing (besides NotReporting)
            label = tenant or "system"
            done = sim.truth_last_completed(c.name, tenant, _seen_until(sim, c.name, at))
            shown[(c.name, label)] = UNKNOWN if done is None else at - done
            # RecoveryPointUnknown: never here, the recording rule keeps every completion it saw (issue 9 item 2)
            for severity in ("warning", "critical"):
                if _fires(sim, c.name, tenant, at, cfg.seconds(f"rpo.{severity}")):
                    alerts.add(("RecoveryPointTooOld", severity, c.name, label, ""))
                    if index:
                        alerts.add(("VirtualClusterRecoveryPointTooOld", severity, c.name, "system", str(index + 1)))
    return alerts, shown


def _firing_alerts(names) -> str:
    """The firing alerts of these names; vmalert adds the label ``alertgroup``, left out to compare the same."""
    firing = f'ALERTS{{alertstate="firing", alertname=~"{alerts.PREFIX}({"|".join(names)})"}}'
    return f'label_replace({firing}, "alertgroup", "", "", "")'


def _rule_expr_test(sim, series: list[str], checks: list[dict], tmp_path, engine) -> None:
    """The engine's rule-test tool evaluates the shipped rules over the simulation's samples of these metrics, one
    scrape interval apart; each check's expression must give exactly its expected samples at its time."""
    from crdb_dash.pipeline import rules
    from crdb_dash.simulation.simulator import promtool_series
    from tests.conftest import ROOT, rule_test

    rule_test(tmp_path, promtool_series(sim, series), {"promql_expr_test": checks}, ROOT / rules.RULES_FILE,
              interval=f"{sim.scenario.scrape}s", engine=engine)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_rpo_alerts_and_stat_with_the_recording_rule_follow_the_truth(models, recorded_models, cfg, name, tmp_path,
                                                                       rule_engine):
    """Node restarts must never make a known recovery point unknown while the cluster is watched; a tenant label
    appearing mid-history must not leave a phantom system tenant behind. Both dashboard modes show the same."""
    scenario = SCENARIOS[name]
    sim = Simulation(scenario, scenario.duration)  # starts at 0, promtool's time
    stats = [_panel(m, "overview", "Time since last completed backup") for m in (models, recorded_models)]
    checks = []
    for at in (scenario.duration - 7 * H // 2, scenario.duration):
        fired, shown = _rpo_truth(sim, cfg, at)
        checks.append({"expr": _firing_alerts(RPO_ALERTS),
                       "eval_time": f"{at}s", "exp_samples": [
                           {"labels": "ALERTS{" + ", ".join(
                               f'{k}="{v}"' for k, v in (("alertname", alerts.PREFIX + a), ("alertstate", "firing"),
                                                        ("cluster", c), ("severity", sev), ("tenant", t),
                                                        ("tenant_id", tid)) if v) + "}", "value": 1}
                           for a, sev, c, t, tid in sorted(fired)]})
        for (model, panel), cluster in itertools.product(stats, {c for c, _ in shown}):
            expr = substitute(panel["targets"][0]["expr"], _vars(model, cluster))
            checks.append({"expr": expr, "eval_time": f"{at}s", "exp_samples": [
                {"labels": f'{{cluster="{c}", tenant="{t}"}}', "value": v} for (c, t), v in shown.items()
                if c == cluster]})
    _rule_expr_test(sim, RPO_SERIES, checks, tmp_path, rule_engine)


# ---- tenants, virtual clusters, retries and missed scrapes ----------------------------------------------------------
def _variable_values(prom, models, name, cluster) -> list[str]:
    import re

    model = next(iter(models.values()))
    (var,) = [v for v in model["templating"]["list"] if v["name"] == name]
    query = var["query"]["query"] if isinstance(var["query"], dict) else var["query"]
    inner = substitute(query.removeprefix("query_result(").removesuffix(")"), _vars(model, cluster))
    found = [re.search(var["regex"].strip("/"), json_line(s)) for s in prom.query(inner, END)["result"]]
    return sorted(m.group(1) for m in found if m)


def json_line(series) -> str:
    """A query_result line as Grafana matches a variable's regex against it."""
    labels = ", ".join(f'{k}="{v}"' for k, v in sorted(series["metric"].items()))
    return f"{{{labels}}} {series['value'][1]} {series['value'][0]}"


@pytest.mark.parametrize("name, expected", [("healthy-hourly-backups", ["system"]),
                                            ("virtual-cluster-starts", ["app", "system"]),
                                            ("virtual-cluster", ["app", "system"])])
def test_tenant_variable_reads_a_missing_label_as_the_system_tenant(prom, models, sims, name, expected):
    cluster = sims[name].scenario.clusters[0].name
    assert _variable_values(prom, models, "tenant", cluster) == expected


def test_system_tenant_keeps_its_history_from_before_the_tenant_label(prom, models, sims):
    sim = sims["virtual-cluster-starts"]
    title = "Scheduled backups started in range"
    for tenant in ("system", "app"):
        truth = sim.truth_count("vcstart", "schedules_BACKUP_started", END - 24 * H, END, tenant=tenant)
        (shown,) = _stat(prom, models, "overview", title, "vcstart", tenants=[tenant])
        assert round(shown) == truth, tenant  # each series extrapolates a little at its end, as increase does
    assert sim.truth_count("vcstart", "schedules_BACKUP_started", END - 24 * H, sim.start + 6 * H, "system") >= 5
    # a plain cluster's series, label-less, are the system tenant's
    every = _stat(prom, models, "overview", title, "healthy")
    assert _stat(prom, models, "overview", title, "healthy", tenants=["system"]) == every != []


def test_recovery_point_has_no_phantom_system_tenant_after_the_label_appears(prom, models, sims):
    sim = sims["virtual-cluster-starts"]
    at = sim.start + 8 * H  # the label-less series still lies inside the 6h window
    model, panel = _panel(models, "overview", "Time since last completed backup")
    result = evaluate.run(prom, panel["targets"][0], _vars(model, "vcstart"), at)
    shown = {s["metric"]["tenant"]: float(s["value"][1]) for s in result.series}
    assert set(shown) == {"system", "app"}
    assert abs(shown["system"] - (at - sim.truth_last_completed("vcstart", "system", at))) <= sim.scenario.scrape


def test_by_virtual_cluster_panel_is_narrowed_by_tenant_id_not_tenant(prom, models, sims):
    sim = sims["virtual-cluster"]
    model, panel = _panel(models, "schedules", "Time since last completed backup, by virtual cluster")

    def shown(**kw):
        result = evaluate.run(prom, panel["targets"][0], _vars(model, "tenants", **kw), END)
        return {s["metric"]["tenant_id"]: float(s["values"][-1][1]) for s in result.series}

    (age,) = shown(tenant_ids=["2"]).values()
    assert abs(age - (END - sim.truth_last_completed("tenants", "app", END))) <= sim.scenario.scrape + 60
    assert shown(tenant_ids=["9"]) == {}
    assert set(shown(tenants=["app"])) == {"2"}  # its series carry tenant="system": the tenant variable does not apply


@pytest.mark.parametrize("name", ["paused-backup", "rolling-restart"])
def test_retry_errors_count_pauses_and_node_shutdowns(prom, models, sims, name):
    sim = sims[name]
    cluster = sim.scenario.clusters[0].name
    assert sim.truth_count(cluster, "jobs_backup_resume_retry_error", END - 24 * H, END) >= 1
    model, panel = _panel(models, "backup-jobs", "Backup job retryable errors")
    result = evaluate.run(prom, panel["targets"][0], _vars(model, cluster), END)
    assert max(float(v) for s in result.series for _, v in s["values"]) >= 1


def test_a_missed_scrape_leaves_a_gap_and_a_stale_marker(sims):
    from crdb_dash.simulation.simulator import promtool_series

    sim = sims["restart-after-last-backup"]
    gap = range(sim.start + 6 * H, sim.start + 6 * H + 10 * M)
    (up,) = [s for s in sim.series("up") if s.labels["instance"] == "lastbackup-n2:8080"]
    assert {v for t, v in up.samples if t in gap} == {0.0}
    (last,) = [s for s in sim.series("schedules_BACKUP_last_completed_time") if s.labels["node_id"] == "2"]
    assert not [t for t, _ in last.samples if t in gap] and [t for t, _ in last.samples if t > gap[-1]]
    text = promtool_series(Simulation(sim.scenario, sim.scenario.duration), ["schedules_BACKUP_last_completed_time"])
    assert any("stale _x19" in values for series, values in text.items() if 'node_id="2"' in series)


def test_live_nodes_gain_the_tenant_label_when_the_virtual_cluster_starts():
    from crdb_dash.simulation.live import Clock, exposition
    from crdb_dash.simulation.simulator import ClusterModel

    scenario = SCENARIOS["virtual-cluster-starts"]
    model = ClusterModel(scenario.clusters[0], scenario.duration)
    before = exposition(model, 1, Clock(time.time() - 5 * H))
    after = exposition(model, 1, Clock(time.time() - 7 * H))
    assert 'schedules_BACKUP_started{node_id="1"} ' in before and "tenant=" not in before
    assert 'schedules_BACKUP_started{node_id="1",tenant="system"} ' in after
    assert 'schedules_BACKUP_started{node_id="1",tenant="app"} ' in after


# ---- annotations: backup events marked on every graph ----------------------------------------------------------------
EVENT_ANNOTATIONS = {
    "Scheduled backups completed": ("schedules_BACKUP_succeeded",),
    "Scheduled backups failed": ("schedules_BACKUP_failed",),
    "Jobs failed": ("jobs_backup_resume_failed", "jobs_restore_resume_failed"),
}


def _marks(prom, annotation, v, at) -> set[int]:
    """The times Grafana marks: the steps of the annotation's range query with a value above 0."""
    result = evaluate.run(prom, {"expr": annotation["expr"], "interval": annotation["step"]}, v, at)
    return {int(t) for s in result.series for t, value in s["values"] if float(value) > 0}


@pytest.mark.parametrize("name", ["everything-at-once", "rolling-restart", "failing-schedule", "restore-with-retries",
                                  "full-restart-without-backups", "restart-after-last-backup"])
def test_annotations_mark_each_event_in_the_step_it_happened(prom, models, sims, name):
    from crdb_dash.simulation.simulator import NODE_DOWN

    sim = sims[name]
    spec = sim.scenario.clusters[0]
    model = next(m for uid, m in models.items() if uid.endswith("overview"))
    annotations = {a["name"]: a for a in model["annotations"]["list"]}
    assert set(annotations) == {*EVENT_ANNOTATIONS, "Node restarts"}
    marked = 0
    for range_seconds in (6 * H, 24 * H):
        v = _vars(model, spec.name, range_seconds=range_seconds)
        for title, annotation in annotations.items():
            step = replace(v, min_interval=SCRAPE).step
            steps = range(END - range_seconds, END + 1, step)
            if title == "Node restarts":
                starts = [sim.start + at + NODE_DOWN for _, at in spec.restarts]
                truth = {t for t in steps if any(t - step < s <= t for s in starts)}
            else:
                truth = {t for t in steps if any(sim.truth_count(spec.name, e, t - step, t)
                                                 for e in EVENT_ANNOTATIONS[title])}
            assert _marks(prom, annotation, v, END) == truth, (title, range_seconds, step)
            marked += len(truth)
    assert marked > 0


def test_a_restart_mark_names_the_node(prom, models):
    model = next(m for uid, m in models.items() if uid.endswith("overview"))
    (restarts,) = [a for a in model["annotations"]["list"] if a["name"] == "Node restarts"]
    result = evaluate.run(prom, {"expr": restarts["expr"], "interval": restarts["step"]},
                          _vars(model, "rolling", range_seconds=24 * H), END)
    assert sorted(s["metric"]["instance"] for s in result.series) == [f"rolling-n{n}:8080" for n in (1, 2, 3)]
    assert all(f"{{{{{label}}}}}" in restarts["textFormat"] for label in ("instance", "cluster"))


# ---- cost: what one full refresh reads, as bench/run.py measures it --------------------------------------------------
def test_a_full_refresh_reads_at_most_its_budget_of_samples(cfg, recorded_models):
    """24h of one cluster (bench/run.py's fleet): every dashboard reads at most 1.5x the samples its shown series
    need, 1.0x with the recording rules (Prometheus' own count, stats=all)."""
    import importlib.util

    from crdb_dash.pipeline import compiled, rules
    from tests.conftest import ROOT

    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "bench" / "run.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    sim = Simulation(bench._fleet(1), END)
    budgets = {1.5: compiled.dashboards(cfg), 1.0: recorded_models}
    over = []
    with promrun.serve(openmetrics([sim]), rules.history_file(cfg), (sim.start, END)) as server:
        for budget, models in budgets.items():
            for uid, model in models.items():
                cost = bench._refresh(server, model, END)
                if cost["samples"] > budget * cost["needed"]:
                    over.append((uid, budget, cost["samples"], cost["needed"]))
    assert over == []


@pytest.mark.parametrize("name", ["healthy-hourly-backups", "rolling-restart", "full-restart-without-backups",
                                  "restart-after-last-backup", "virtual-cluster-starts", "everything-at-once"])
def test_recovery_point_graph_is_the_window_maximum_within_one_step(prom, models, sims, cfg, name):
    """The graph's form (promql.age_over_time) against the exact one (promql.age: the window's maximum read at
    every step): at each point the newest completion is the exact one's there or one step earlier (Prometheus'
    windows include their start, VictoriaMetrics' do not)."""
    from crdb_dash.model import promql
    from crdb_dash.panels.schedules import LAST_COMPLETED

    cluster = sims[name].scenario.clusters[0].name
    model, panel = _panel(models, "overview", "Time since last completed backup over time")
    exact = {**panel["targets"][0], "expr": promql.age(LAST_COMPLETED, promql.dashboard_scope(cfg))}
    assert exact["expr"] != panel["targets"][0]["expr"]
    v = _vars(model, cluster)

    def newest(target) -> dict[tuple, float]:
        result = evaluate.run(prom, target, v, END)
        return {(s["metric"]["tenant"], int(t)): int(t) - float(age) for s in result.series for t, age in s["values"]}

    shown, truth = newest(panel["targets"][0]), newest(exact)
    step = replace(v, min_interval=parse_duration(panel["interval"])).step
    keys = {k for k in {**shown, **truth} if END - v.range_seconds + step <= k[1] <= END}
    off = {k: (shown.get(k), truth.get(k), truth.get((k[0], k[1] - step))) for k in keys
           if shown.get(k) not in (truth.get(k), truth.get((k[0], k[1] - step)))}
    assert off == {}
    assert len(shown) > 10


def test_uptime_starts_again_from_zero_when_a_node_restarts(sims):
    from crdb_dash.simulation.live import Clock, exposition
    from crdb_dash.simulation.simulator import NODE_DOWN

    sim = sims["rolling-restart"]
    (node, at), *_ = sim.scenario.clusters[0].restarts
    (uptime,) = [s for s in sim.series("sys_uptime") if s.labels["node_id"] == str(node)]
    values = dict(uptime.samples)
    start = sim.start + at + NODE_DOWN
    assert values[start] == 0 and values[start + 300] == 300
    assert values[start - NODE_DOWN - 30] > values[sim.start] > 86400 and start - NODE_DOWN not in values
    model = sim.models["rolling"]
    live = exposition(model, node, Clock(time.time() - (at + NODE_DOWN + 120)))
    assert "# TYPE sys_uptime gauge" in live and f'sys_uptime{{node_id="{node}"}} 120' in live

# ---- issue 9: a cluster that stops being scraped; freshness without the schedule option ----------------------------
SILENCE_ALERTS = ("NotReporting", "NoSuccessfulBackup", "RecoveryPointUnknown")
SILENCE_SERIES = ["jobs_backup_currently_running", "schedules_BACKUP_succeeded", "up", *RPO_SERIES[:2]]


def _firing(sim, checks: dict[int, set], tmp_path, engine) -> None:
    """The rule-test tool runs every rule minute by minute over the scenario: at each time, exactly these alerts fire
    (alert name, severity, cluster, tenant) among SILENCE_ALERTS."""
    tests = [{"expr": _firing_alerts(SILENCE_ALERTS),
              "eval_time": f"{at}s", "exp_samples": [
                  {"labels": f'ALERTS{{alertname="{alerts.PREFIX}{a}", alertstate="firing", cluster="{c}", '
                             f'severity="{sev}", tenant="{t}"}}', "value": 1} for a, sev, c, t in sorted(fired)]}
             for at, fired in checks.items()]
    _rule_expr_test(sim, SILENCE_SERIES, tests, tmp_path, engine)


def test_a_cluster_that_stops_being_scraped_alerts_within_15_minutes_and_keeps_firing(tmp_path, rule_engine):
    scenario = SCENARIOS["cluster-stops-reporting"]
    sim = Simulation(scenario, scenario.duration)
    gone = scenario.clusters[1].scraped_until
    lost = {("NotReporting", "warning", "vanished", "system")}
    _firing(sim, {gone + 5 * M: set(), gone + 15 * M: lost, gone + 10 * H: lost}, tmp_path, rule_engine)


def _success_truth(sim, cluster, tenant, at) -> int | None:
    model = sim.models[cluster]
    ends = [j.end for j in model.completions_any(tenant) if j.end <= at - sim.start]
    return sim.start + max(ends) if ends else None


@pytest.mark.parametrize("name", ["no-rpo-schedule", "healthy-hourly-backups", "full-restart-without-backups",
                                  "failing-schedule", "stuck-backup-job", "restart-after-last-backup"])
def test_no_successful_backup_alert_follows_the_truth_without_the_schedule_option(cfg, tmp_path, name, rule_engine):
    """Quiet on a healthy hourly schedule whose schedule keeps no RPO gauge; a warning, then a critical alert, once
    no scheduled backup has succeeded for freshness.warning / .critical, across a restart of every node."""
    scenario = SCENARIOS[name]
    sim = Simulation(scenario, scenario.duration)
    cluster = scenario.clusters[0].name
    checks = {}
    for at in range(3 * H + 40 * M, scenario.duration + 1, 2 * H):
        age = at - _success_truth(sim, cluster, None, at)
        fired = set()
        for severity in ("warning", "critical"):
            limit = cfg.seconds(f"freshness.{severity}") + 5 * M
            assert abs(age - limit) > 3 * M, f"{at}: too close to the {severity} level, pick another time"
            if age > limit:
                fired.add(("NoSuccessfulBackup", severity, cluster, "system"))
        checks[at] = fired
    if name in ("no-rpo-schedule", "healthy-hourly-backups"):
        assert not any(checks.values())
    if name in ("full-restart-without-backups", "failing-schedule"):
        assert ("NoSuccessfulBackup", "critical", cluster, "system") in checks[max(checks)]
    _firing(sim, checks, tmp_path, rule_engine)


@pytest.mark.parametrize("name", ["no-rpo-schedule", "rolling-restart", "full-restart-without-backups",
                                  "failing-schedule"])
def test_time_since_last_success_is_the_true_age(prom, models, sims, name):
    sim = sims[name]
    cluster = sim.scenario.clusters[0].name
    for key in ("overview", "schedules"):
        for at in (END - 5 * H, END - 3 * H, END):
            truth = at - _success_truth(sim, cluster, None, at)
            if truth > 6 * H:  # beyond rpo.window only the recording rule's memory knows it: not in backfilled history
                continue
            (shown,) = _stat(prom, models, key, "Time since last successful scheduled backup", cluster, at=at)
            assert truth - M - sim.scenario.scrape <= shown <= truth, (key, at, shown, truth)


def test_nodes_reporting_now_versus_over_the_range(prom, models, sims):
    title = "Nodes reporting"
    sim = sims["cluster-stops-reporting"]
    assert _stat(prom, models, "overview", title, "vanished") == [0, 0, 0]
    assert _stat(prom, models, "overview", title, "steady") == [1, 1, 1]
    sim = sims["restart-after-last-backup"]
    model, panel = _panel(models, "overview", title)
    at = sim.start + 6 * H + 5 * M  # node 2 is not scraped from 6h to 6h10m
    result = evaluate.run(prom, panel["targets"][0], _vars(model, "lastbackup"), at)
    assert {s["metric"]["instance"]: float(s["value"][1]) for s in result.series} == {
        "lastbackup-n1:8080": 1, "lastbackup-n2:8080": 0, "lastbackup-n3:8080": 1}

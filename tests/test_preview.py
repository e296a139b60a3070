"""``crdb-dash preview`` on a real Prometheus over simulated clusters: what each panel would show a Grafana user.

The tests read the renderer's decisions (texts, colours, series, intervals), not pixels.
"""

from __future__ import annotations

import contextlib
import re
import tempfile
import time
from pathlib import Path

import pytest

from crdb_dash import cli
from crdb_dash.pipeline import rules
from crdb_dash.preview import format as F
from crdb_dash.preview import run
from crdb_dash.simulation import promrun
from crdb_dash.simulation.scenarios import SCENARIOS
from crdb_dash.simulation.simulator import Cluster, Scenario, Schedule, Simulation, Tenant, openmetrics

END = run.scenario_end()
H, M = 3600, 60
RPO = "Time since last completed backup"
OVERVIEW, SCHEDULES, FLEET = "crdb-backups-overview", "crdb-backups-schedules", "crdb-backups-fleet"
# Backups succeed for three runs, then fail for a day and a half: the recovery point is more than a day old.
STALE = Scenario("stale-for-a-day", 36 * H, (Cluster("stale", tenants=(Tenant(schedule=Schedule(
    cadence=H, duration=10 * M, first=5 * M, fail_runs=frozenset(range(3, 40)))),)),))
NAMES = ["healthy-hourly-backups", "failing-schedule", "full-restart-without-backups"]


@pytest.fixture(scope="module")
def sims():
    return {**{name: Simulation(SCENARIOS[name], END) for name in NAMES}, STALE.name: Simulation(STALE, END)}


@pytest.fixture(scope="module")
def prom(sims):
    try:
        with promrun.serve(openmetrics(list(sims.values()))) as server:
            yield server
    except promrun.PrometheusError as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="module")
def reports(prom, models, sims):
    """Every dashboard, as seen for each simulated cluster at the end of its history."""
    out = {}
    for sim in sims.values():
        cluster = sim.scenario.clusters[0].name
        out[cluster] = {uid: run.evaluate(model, prom, END, 30, "prometheus", {"cluster": cluster})
                        for uid, model in models.items()}
    return out


def _stat(reports, cluster, uid, title):
    (value,) = reports[cluster][uid].panel(title).stats
    return value


@pytest.mark.parametrize("uid", [OVERVIEW, SCHEDULES])
def test_rpo_reads_unknown_in_orange_after_every_node_restarted(reports, uid):
    rpo = _stat(reports, "restarted", uid, RPO)
    assert (rpo.text, rpo.color, rpo.hex) == ("Unknown", "orange", "#FF9830")


def test_rpo_reads_a_day_scale_age_in_red_when_backups_stopped_succeeding(reports, sims):
    sim = sims[STALE.name]
    truth = END - sim.truth_last_completed("stale", None, END)
    assert 33 * H < truth < 34 * H
    rpo = _stat(reports, "stale", OVERVIEW, RPO)
    assert abs(rpo.value - truth) <= STALE.scrape
    assert (rpo.text, rpo.color) == ("1.41 day", "red")


def test_healthy_cluster_reads_green_minutes_full_success_and_never_a_kms_failure(reports, sims):
    sim = sims["healthy-hourly-backups"]
    truth = END - sim.truth_last_completed("healthy", None, END)
    rpo = _stat(reports, "healthy", OVERVIEW, RPO)
    assert rpo.color == "green" and re.fullmatch(r"\d+(\.\d)? min", rpo.text), rpo.text
    assert rpo.text == str(F.format_value(rpo.value, "s")) and abs(rpo.value - truth) <= 30
    ratio = _stat(reports, "healthy", OVERVIEW, "Scheduled backup success ratio")
    assert (ratio.text, ratio.color) == ("100%", "green")
    failed = _stat(reports, "healthy", OVERVIEW, "Scheduled backups failed in range")
    assert (failed.text, failed.color) == ("0", "green")
    kms = _stat(reports, "healthy", "crdb-backups-backup-jobs", "Time since a backup failed: KMS inaccessible now")
    assert (kms.value, kms.text, kms.color) == (None, "Never", "text")  # no value: not good news by itself


def test_failing_schedule_reads_its_failures_and_ratio_in_red(reports, sims):
    sim = sims["failing-schedule"]
    ok = sim.truth_count("failing", "schedules_BACKUP_succeeded", END - 24 * H, END)
    bad = sim.truth_count("failing", "schedules_BACKUP_failed", END - 24 * H, END)
    failed = _stat(reports, "failing", OVERVIEW, "Scheduled backups failed in range")
    assert (failed.text, failed.color) == (str(bad), "red")
    ratio = _stat(reports, "failing", OVERVIEW, "Scheduled backup success ratio")
    assert ratio.color == "red" and ratio.text == str(F.format_value(ok / (ok + bad), "percentunit"))


def test_variables_are_resolved_by_their_own_queries(prom, models):
    report = run.evaluate(models[OVERVIEW], prom, END, 30, "prometheus")
    assert report.variables["cluster"] == ["failing"]  # the first of the sorted label values
    assert report.variables["tenant"] is None and report.variables["node"] is None  # All
    assert report.variables["datasource"] == ["prometheus"]


def test_time_series_use_grafanas_interval_thresholds_and_legend(reports):
    over_time = reports["healthy"][OVERVIEW].panel(RPO + " over time")
    ((_, expr, step),) = over_time.queries
    assert step == 600  # 24 h over a half-width panel is 2m, below the panel's min interval (RPO_GRAPH_STEP)
    assert [value for value, _ in over_time.threshold_lines] == [7200, 21600]
    assert over_time.legend_calcs == ["lastNotNull", "max"] and list(over_time.series[0].legend) == ["Last *", "Max"]
    assert len(over_time.series[0].times) > 0 and all(t % 600 == 0 for t in over_time.series[0].times)
    failures = reports["healthy"][OVERVIEW].panel("Failures and retries")
    assert all("[1s120000ms:120000ms]" in expr for _, expr, _ in failures.queries)  # ${__interval_ms}: 12-wide panel
    writes = reports["healthy"]["crdb-backups-backup-jobs"].panel("Cloud storage writes")
    # a full-width panel (1872 px): 46 s rounds to 1m; the query's min step is 10s: max(1m + 10s, 4 x 10s)
    assert all("[70s]" in expr and step == 60 for _, expr, step in writes.queries)


def test_every_panel_of_every_dashboard_is_evaluated_without_errors(reports):
    for cluster, by_uid in reports.items():
        for uid, report in by_uid.items():
            assert report.errors == [], (cluster, uid)
            for v in report.views:
                if v.type == "stat":
                    assert v.stats and all(s.text for s in v.stats), (uid, v.title)


def test_the_report_carries_the_layout_check(reports):
    for report in reports["healthy"].values():
        assert report.problems == [], (report.uid, [str(p) for p in report.problems])


def test_cli_preview_against_a_running_prometheus(prom, capsys, cfg):
    with tempfile.TemporaryDirectory() as out:
        with_credentials = prom.url.replace("http://", "http://viewer:s3cret@")  # sent as basic auth, never shown
        code = cli.main(["preview", "--prometheus", with_credentials, "--at", str(END), "--var", "cluster=restarted",
                         "--dashboard", OVERVIEW, "--out", out])
        png = Path(out) / f"{OVERVIEW}.png"
        assert code == 0, capsys.readouterr().err
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size < 300_000
    assert run.source(cfg, None, with_credentials, END).name == prom.url  # what the pictures are titled with
    said = capsys.readouterr()
    assert "1 dashboard drawn" in said.out and "s3cret" not in said.out + said.err


def test_cli_preview_runs_a_scenario_and_stops_its_prometheus(capsys, monkeypatch):
    started = []
    serve = run.scenario_prometheus

    @contextlib.contextmanager
    def watched(*args):
        with serve(*args) as server:
            started.append((server, server.tsdb))
            yield server

    monkeypatch.setattr(run, "scenario_prometheus", watched)
    with tempfile.TemporaryDirectory() as out:
        code = cli.main(["preview", "--scenario", "no-rpo-schedule", "--dashboard", OVERVIEW, "--out", out])
        assert code == 0, capsys.readouterr().err
        assert (Path(out) / f"{OVERVIEW}.png").is_file()
    ((server, tsdb),) = started
    assert server.process is None and not tsdb.exists()  # Prometheus stopped, its temporary TSDB removed


def test_a_scenario_has_the_recording_rules_so_rpo_compliance_shows(models, cfg):
    """A scenario's Prometheus has the shipped recording rules evaluated over its history, as one that loads
    rules/ does: the compliance stats, which read only those, show a share instead of No data."""
    with run.scenario_prometheus(cfg, SCENARIOS["healthy-hourly-backups"], END) as server:
        report = run.evaluate(models[OVERVIEW], server, END, 30, "prometheus", {"cluster": "healthy"})
        group = next(g for g in rules.prometheus_rules(cfg)["groups"] if g["name"] == rules.RECORDS_GROUP)
        records = "|".join(r["record"] for r in group["rules"])
        evaluated = {s["values"][-1][0] for s in server.query(f'{{__name__=~"{records}"}}[5m]', END)["result"]}
    assert len(evaluated) == 1, evaluated  # every record of a group at one time, as Prometheus evaluates a group
    for title in ("RPO compliance in range", "RPO compliance, last 30d"):
        (value,) = report.panel(title).stats
        assert (value.value, value.color) == (1, "green"), (title, value)


@pytest.fixture(scope="module")
def relabelled(tmp_path_factory):
    """The Overview and the Fleet of failing-schedule, previewed with other label names, selector and metric names."""
    from crdb_dash.model import config
    from crdb_dash.pipeline import compiled

    path = tmp_path_factory.mktemp("relabelled") / "c.yaml"
    path.write_text("selector: 'job=\"crdb\", env=\"prod\"'\nlabels: {cluster: k8s_cluster, node: pod, tenant: vc}\n"
                    "naming: {prefix: acme_}\n")
    cfg = config.load(path)
    models = compiled.dashboards(cfg)
    with run.scenario_prometheus(cfg, SCENARIOS["failing-schedule"], END) as server:
        return {uid: run.evaluate(models[uid], server, END, 30, "prometheus", {}) for uid in (OVERVIEW, FLEET)}


def test_a_scenario_is_labelled_and_named_as_the_config_says(sims, relabelled):
    """With other label names, selector and metric names, a scenario's panels show what the default shows."""
    report = relabelled[OVERVIEW]
    bad = sims["failing-schedule"].truth_count("failing", "schedules_BACKUP_failed", END - 24 * H, END)
    (failed,) = report.panel("Scheduled backups failed in range").stats
    assert (failed.text, failed.color) == (str(bad), "red") and bad > 0
    assert report.variables["cluster"] == ["failing"]


def test_a_scenario_has_its_alerts_states_so_a_cluster_in_trouble_shows_alerts_firing(relabelled):
    """The shipped alerting rules evaluated over the scenario's history, as a Prometheus that loads rules/ has
    them: the Fleet counts the alerts a failing cluster fires (its failures, its recovery point too old)."""
    table = relabelled[FLEET].panel("Clusters, worst first")
    ((cluster, firing),) = [(row[0], row[table.columns.index("Alerts firing")]) for row in table.rows]
    assert cluster == "failing" and int(firing) > 0


def test_cli_preview_refuses_labels_a_scenario_cannot_have(tmp_path, capsys):
    path = tmp_path / "c.yaml"
    path.write_text("labels: {cluster: tenant, tenant: vc}\n")
    argv = ["--config", str(path), "preview", "--scenario", "healthy-hourly-backups", "--out", str(tmp_path / "o")]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert "simulated clusters cannot use labels.cluster 'tenant'" in err and err.count("\n") == 1, err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("argv, message", [
    (["--prometheus", "http://127.0.0.1:9"], "cannot reach Prometheus at http://127.0.0.1:9"),
    (["--scenario", "no-such-scenario"], "unknown scenario 'no-such-scenario'"),
    (["--scenario", "healthy-hourly-backups", "--dashboard", "nope"], "unknown dashboard nope"),
    (["--scenario", "healthy-hourly-backups", "--at", "yesterday"], "--at 'yesterday' is neither"),
    (["--scenario", "healthy-hourly-backups", "--var", "cluster"], "--var 'cluster' must be NAME=VALUE"),
    ([], "no Prometheus: pass --prometheus URL"),
    (["--scenario", "healthy-hourly-backups", "--out", __file__], "is not a directory"),
    (["--scenario", "healthy-hourly-backups", "--scale", "0"], "--scale must be between 0.25 and 4"),
])
def test_cli_preview_bad_input_is_one_line_and_exit_2(argv, message, capsys, monkeypatch, tmp_path):
    monkeypatch.delenv("PROMETHEUS_URL", raising=False)
    start = time.monotonic()
    assert cli.main(["preview", "--out", str(tmp_path / "out"), *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err
    assert time.monotonic() - start < 30


def test_a_failing_query_is_shown_in_its_panel_and_reported(prom, models):
    model = {**models[OVERVIEW], "panels": [
        {"type": "stat", "title": "Broken", "gridPos": {"x": 0, "y": 0, "w": 24, "h": 4},
         "targets": [{"refId": "A", "expr": "sum(rate(x[$__rate_interval])", "instant": True}]}]}
    report = run.evaluate(model, prom, END, 30, "prometheus")
    assert report.panel("Broken").error.startswith("bad_data") and report.errors == [
        f"Broken: {report.panel('Broken').error}"]

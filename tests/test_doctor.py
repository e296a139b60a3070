"""``crdb-dash doctor`` on a real Prometheus holding each setup's data (NAMING.md), and its errors."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import subprocess
import sys
import time

import pytest
import yaml

from crdb_dash.delivery import doctor
from crdb_dash.model import config
from crdb_dash.model.naming import Naming
from crdb_dash.simulation import promrun, setups, simulator
from crdb_dash.simulation.scenarios import H, M
from crdb_dash.simulation.simulator import Cluster, Scenario, Schedule, Tenant
from tests.stub_server import StubServer


def _now() -> int:
    """Histories end when a test starts, not when the module was imported (with two workers, minutes earlier):
    doctor asks what reports now."""
    return int(time.time())


def _scenario(updates_metric: bool = True) -> Scenario:
    hourly = Schedule(cadence=H, duration=10 * M, first=5 * M, updates_metric=updates_metric)
    return Scenario("doctor", 3 * H, tuple(Cluster(name, tenants=(Tenant(schedule=hourly),))
                                          for name in ("east", "west")))


def _serve(sims, setup):
    return promrun.serve(simulator.openmetrics(sims, setups.SETUPS[setup]))


def crdb_dash(*args: str, config: str | None = None, env: dict | None = None):
    cmd = [sys.executable, "-m", "crdb_dash.cli", *(["--config", config] if config else []), "doctor", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)


@pytest.fixture(scope="module")
def prometheus_by_setup():
    """One Prometheus holding the same two healthy clusters as each setup stores them, started lazily."""
    started = {}
    with contextlib.ExitStack() as stack:

        def get(setup: str):
            if setup not in started:
                started[setup] = stack.enter_context(_serve([simulator.Simulation(_scenario(), _now())], setup))
            return started[setup]

        yield get


def test_self_hosted_data_fits_the_default_config(prometheus_by_setup):
    result = crdb_dash("--prometheus", prometheus_by_setup("self-hosted").url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 cluster(s), 6 node(s) report now" in result.stdout
    assert "the dashboards will show true data" in result.stdout


@pytest.mark.parametrize("setup, cause", [
    ("metrics-endpoint", "naming"),
    ("cloud", "naming"),
    ("dedicated", "naming"),
    ("helm", "labels"),  # the chart's default release name: the selector fits, every cluster would merge
])
def test_each_setup_fails_with_the_defaults_and_fits_the_config_doctor_writes(prometheus_by_setup, tmp_path,
                                                                               setup, cause):
    url = prometheus_by_setup(setup).url
    written = tmp_path / "fits.yaml"
    result = crdb_dash("--prometheus", url, "--write-config", str(written))
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"[FAIL] {cause}:" in result.stdout
    assert f"preset {setup}" in result.stdout
    data = yaml.safe_load(written.read_text())
    assert data["preset"] == setup
    again = crdb_dash("--prometheus", url, config=str(written))
    assert again.returncode == 0, again.stdout
    assert "2 cluster(s), 6 node(s) report now" in again.stdout


def test_write_config_keeps_the_users_other_settings(prometheus_by_setup, tmp_path):
    mine = tmp_path / "mine.yaml"
    mine.write_text("rpo: {warning: 3h, critical: 8h, window: 8h}\ntags: [prod]\n")
    written = tmp_path / "fits.yaml"
    crdb_dash("--prometheus", prometheus_by_setup("cloud").url, "--write-config", str(written), config=str(mine))
    data = yaml.safe_load(written.read_text())
    assert data["rpo"] == {"warning": "3h", "critical": "8h", "window": "8h"} and data["tags"] == ["prod"]
    assert data["naming"]["prefix"] == "crdb_cloud_" and data["labels"]["node"] == "node_id"


def test_helm_duplicate_scrapes_are_named(prometheus_by_setup, tmp_path):
    loose = tmp_path / "loose.yaml"
    loose.write_text("selector: 'job=~\".+\"'\nlabels: {cluster: namespace, node: pod}\n"
                     "kubernetes: {service_monitor: false}\n")
    result = crdb_dash("--prometheus", prometheus_by_setup("helm").url, config=str(loose))
    assert result.returncode == 1
    assert "[FAIL] duplicates: 6 node(s) are scraped more than once" in result.stdout
    assert 'selector: \'job=~".*cockroachdb"\'' in result.stdout


def test_json_output(prometheus_by_setup):
    result = crdb_dash("--prometheus", prometheus_by_setup("dedicated").url, "--json")
    report = json.loads(result.stdout)
    assert report["healthy"] is False and result.returncode == 1
    assert report["detected"]["naming"] == {"prefix": "crdb_dedicated_", "lower_case": True, "static_labels": False}
    assert report["suggested_config"]["preset"] == "dedicated"
    assert {f["level"] for f in report["findings"]} <= {"ok", "warn", "fail"}


def test_a_cluster_that_stopped_reporting_and_a_schedule_without_the_rpo_option(tmp_path):
    now = _now()
    healthy = simulator.Simulation(_scenario(), now)
    gone = simulator.Simulation(Scenario("gone", 3 * H, (Cluster("lost"),)), now - 10 * H)
    no_option = simulator.Simulation(Scenario("nooption", 3 * H, (Cluster(
        "blind", tenants=(Tenant(schedule=Schedule(cadence=H, duration=10 * M, updates_metric=False)),)),)), now)
    with promrun.serve(simulator.openmetrics([healthy, gone, no_option])) as prom:
        result = crdb_dash("--prometheus", prom.url)
    assert "[warn] reporting: stopped reporting in the last 24h: cluster(s) lost" in result.stdout
    assert "no schedule maintains schedules_BACKUP_last_completed_time in blind" in result.stdout
    assert "updates_cluster_last_backup_time_metric = 'true'" in result.stdout


def test_naming_detection_prefers_the_layout_holding_most_metrics():
    assert doctor.detect_naming({"jobs_backup_currently_running", "up"}) == Naming()
    assert doctor.detect_naming({"jobs", "jobs_resume", "schedules"}) == Naming(static_labels=True)
    assert doctor.detect_naming({"crdb_cloud_jobs_backup_currently_running"}) == Naming(prefix="crdb_cloud_")
    assert doctor.detect_naming({"node_cpu_seconds_total"}) is None


def test_versions_explain_missing_metrics():
    assert doctor._absent_in("removed in v25.4", "v25.4.1")
    assert not doctor._absent_in("removed in v25.4", "v25.2.0")
    assert doctor._absent_in("v25.3+", "v24.3.2") and not doctor._absent_in("v25.3+", "v26.1.0")


# ---- endpoints that cannot be read -------------------------------------------------------------------------

@pytest.mark.parametrize("status, body, content_type, message", [
    (200, b"<html>Grafana</html>", "text/html", "does not look like Prometheus"),
    (401, b'{"status":"error"}', "application/json", "answered 401"),
    (403, b'{"status":"error"}', "application/json", "answered 403"),
    (200, b'{"status":"success","data":[]}', "application/json", "holds no series at all"),
    (200, b'{"status":"success","data":["up", "node_cpu_seconds_total"]}', "application/json",
     "holds no CockroachDB backup metric under any known name or prefix"),
])
def test_unreadable_endpoints_are_one_line_errors(status, body, content_type, message):
    with StubServer(status, body, content_type) as server:
        result = crdb_dash("--prometheus", server.url)
    assert result.returncode == 2
    assert result.stdout == ""
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_unreachable_prometheus_and_bad_usage():
    unreachable = crdb_dash("--prometheus", f"http://127.0.0.1:{promrun.free_port()}")
    assert unreachable.returncode == 2 and "could not reach Prometheus" in unreachable.stderr
    assert len(unreachable.stderr.strip().splitlines()) == 1
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_URL"}
    nowhere = crdb_dash(env=env)
    assert nowhere.returncode == 2 and "no Prometheus: pass --prometheus URL (or set PROMETHEUS_URL)" in nowhere.stderr
    from_env = crdb_dash(env={**env, "PROMETHEUS_URL": f"http://127.0.0.1:{promrun.free_port()}"})
    assert from_env.returncode == 2 and "could not reach Prometheus" in from_env.stderr
    assert "must be an http" in crdb_dash("--prometheus", "prometheus:9090").stderr


def test_credentials_in_the_url_are_sent_as_basic_auth_and_never_shown():
    with StubServer(401, b"") as server:
        result = crdb_dash("--prometheus", server.url.replace("http://", "http://ann:s3cr%40t@"))
        assert server.received[0]["Authorization"] == "Basic " + base64.b64encode(b"ann:s3cr@t").decode()
    assert result.returncode == 2 and f"{server.url} answered 401" in result.stderr
    unreachable = crdb_dash("--prometheus", f"http://ann:s3cret@127.0.0.1:{promrun.free_port()}/")
    assert "could not reach Prometheus at http://127.0.0.1:" in unreachable.stderr
    assert "s3cr" not in result.stderr + unreachable.stderr + crdb_dash("--prometheus", "ftp://a:s3cret@x").stderr
    for cut in ("s3cr/et", "1234/5", "s3cr#et", "s3cr?et"):  # a password read as the port, path, ...
        refused = crdb_dash("--prometheus", f"http://ann:{cut}@127.0.0.1:9/")
        assert refused.returncode == 2 and "must be percent-encoded" in refused.stderr, refused.stderr
        assert cut.split("/")[0][:4] not in refused.stderr and "Traceback" not in refused.stderr


def test_json_says_why_on_every_exit():
    """Issue 21: --json prints JSON on exit 2 too (a machine reading stdout learns why), and the line on stderr."""
    result = crdb_dash("--prometheus", f"http://127.0.0.1:{promrun.free_port()}", "--json")
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    report = json.loads(result.stdout)
    assert report["healthy"] is False and "could not reach Prometheus" in report["error"]


def test_doctor_through_grafanas_datasource_proxy(prometheus_by_setup):
    """--grafana reads the same API through Grafana, with the deploy's credentials, as the dashboards do."""
    import os

    from tests.grafana_double import GrafanaDouble

    token = "glsa_doctor_CANARY_9c1e"
    with GrafanaDouble(tokens={token: "Viewer"}) as grafana:
        grafana.datasources["crdb-backups-prometheus"] = prometheus_by_setup("self-hosted").url
        env = {**os.environ, "GRAFANA_URL": grafana.url, "GRAFANA_TOKEN": token, "GRAFANA_USER": "",
               "GRAFANA_PASSWORD": ""}
        ok = crdb_dash("--grafana", env=env)
        grafana.datasources.clear()
        missing = crdb_dash("--grafana", env=env)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "Grafana datasource crdb-backups-prometheus" in ok.stdout and "6 node(s) report now" in ok.stdout
    assert any(p.startswith("/api/datasources/proxy/uid/crdb-backups-prometheus/api/v1/") for _, p, _ in
               grafana.requests)
    assert missing.returncode == 2 and len(missing.stderr.strip().splitlines()) == 1
    assert "Grafana has no datasource with uid crdb-backups-prometheus: set datasource.uid" in missing.stderr
    assert token not in ok.stdout + ok.stderr + missing.stdout + missing.stderr


def test_write_config_never_overwrites_another_file(tmp_path):
    other = tmp_path / "other.yaml"
    other.write_text("selector: 'job=\"mine\"'\n")
    result = crdb_dash("--prometheus", "http://127.0.0.1:1", "--write-config", str(other))
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert f"--write-config {other} exists: name a new file" in result.stderr
    assert other.read_text() == "selector: 'job=\"mine\"'\n"


def test_no_cockroachdb_data_writes_no_config(tmp_path):
    names = b'{"status":"success","data":["up"]}'
    with StubServer(200, names, "application/json") as server:
        result = crdb_dash("--prometheus", server.url, "--write-config", str(tmp_path / "fits.yaml"))
    assert result.returncode == 2 and "no CockroachDB backup metric" in result.stderr
    assert not (tmp_path / "fits.yaml").exists()


def test_grafana_managed_alerts_without_the_recording_rules_fail(prometheus_by_setup, tmp_path):
    """Issue 19 item 3: Grafana-managed alerts read the recorded memory and targets: doctor says they need them."""
    cfg = tmp_path / "grafana-managed.yaml"
    cfg.write_text("alerts: {grafana_managed: true}\n")
    result = crdb_dash("--prometheus", prometheus_by_setup("self-hosted").url, config=str(cfg))
    assert result.returncode != 0, result.stdout
    (line,) = [line for line in result.stdout.splitlines() if "recording rules" in line]
    assert "cannot fire without them" in line and "rule_files" in result.stdout
    plain = crdb_dash("--prometheus", prometheus_by_setup("self-hosted").url)
    assert "recording rules" in plain.stdout and plain.returncode == 0  # a warning for the dashboards alone


def test_doctor_through_grafana_says_whether_the_grafana_managed_rules_are_there(prometheus_by_setup, tmp_path):
    """Grafana-managed: all of our alert rules in Grafana, or how many are missing; beside the recording rules they
    read. Prometheus-managed: rules of ours left in Grafana, which would fire twice."""
    from crdb_dash.delivery import alert_rules
    from crdb_dash.model import config
    from tests.grafana_double import GrafanaDouble
    from tests.test_deploy import CANARY
    from tests.test_deploy import crdb_dash as deploy

    managed = tmp_path / "managed.yaml"
    managed.write_text("alerts: {grafana_managed: true}\n")
    n = len(alert_rules.desired(config.load(str(managed))))
    env = {**os.environ, "GRAFANA_TOKEN": CANARY, "GRAFANA_USER": "", "GRAFANA_PASSWORD": ""}

    def lines(result, topic: str) -> list[str]:
        return [line for line in result.stdout.splitlines() if f" {topic}: " in line]

    with GrafanaDouble(tokens={CANARY: "Admin"}) as grafana:
        grafana.datasources["crdb-backups-prometheus"] = prometheus_by_setup("self-hosted").url
        env["GRAFANA_URL"] = grafana.url
        where = "(folder crdb-backups, group cockroachdb-backups)"
        none = crdb_dash("--grafana", config=str(managed), env=env)
        assert lines(none, "alert rules") == [f"[FAIL] alert rules: {n} of the {n} Grafana-managed alert rules are "
                                              f"missing in Grafana {where}: those alerts cannot fire"]
        assert "cannot fire without them" in lines(none, "recording rules")[0]
        assert deploy(grafana.url, "deploy", config=str(managed)).returncode == 0
        for uid in list(grafana.rules)[:2]:
            grafana.rules.pop(uid)
        some = crdb_dash("--grafana", config=str(managed), env=env)
        assert lines(some, "alert rules")[0].startswith(f"[FAIL] alert rules: 2 of the {n} Grafana-managed")
        assert deploy(grafana.url, "deploy", config=str(managed)).returncode == 0
        retries = tmp_path / "retries.yaml"
        retries.write_text("alerts: {grafana_managed: true, retries: 5}\n")
        every = crdb_dash("--grafana", config=str(retries), env=env)
        assert lines(every, "alert rules") == [
            f"[ok]   alert rules: all {n} Grafana-managed alert rules are in Grafana {where}",
            "[warn] alert rules: 2 of them differ from what this config builds"]
        left = crdb_dash("--grafana", env=env)
        assert lines(left, "alert rules") == [f"[warn] alert rules: {n} alert rule(s) of crdb-dash are in Grafana "
                                              "while alerts.grafana_managed is false: each fires beside Prometheus' "
                                              "alert"]
        assert "crdb-dash deploy --prune deletes them" in left.stdout
    assert CANARY not in none.stdout + none.stderr + every.stdout + left.stdout


class _JustStarted:
    """A Prometheus started a moment ago with a cockroachdb scrape job whose target discovery lists on the second
    ask."""

    where = "http://prometheus:9090"

    def __init__(self):
        self.asked = 0

    def get(self, path: str, params: dict | None = None):
        if path == "/api/v1/targets":
            self.asked += 1
            return {"activeTargets": [{"labels": {"job": "cockroachdb"}, "scrapeInterval": "10s"}] * (self.asked > 1)}
        if path == "/api/v1/status/runtimeinfo":
            return {"startTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 5))}
        return {"yaml": "scrape_configs:\n- job_name: cockroachdb\n  scrape_interval: 10s\n"}


def test_targets_not_yet_discovered_right_after_a_start_are_asked_for_again(monkeypatch):
    """Issue 21: right after Prometheus starts, discovery may list no target yet: no false warning."""
    monkeypatch.setattr(doctor, "DISCOVERY_WAIT", 0)
    api = _JustStarted()
    checked = doctor.Doctor(api, config.load())
    checked.report.detected["jobs"] = ["cockroachdb"]
    checked._check_scrape_interval()
    assert api.asked == 2
    assert [(f.level, f.topic) for f in checked.report.findings] == [("ok", "scrape interval")]


def test_a_node_label_no_series_has_fails(prometheus_by_setup, tmp_path):
    """Issue 21 (trial): a config naming nodes by a label the data lacks would merge each cluster's nodes."""
    path = tmp_path / "pods.yaml"
    path.write_text("labels: {node: pod}\n")
    result = crdb_dash("--prometheus", prometheus_by_setup("self-hosted").url, config=str(path))
    assert result.returncode == 1, result.stdout
    assert "[FAIL] labels: no series has the label pod, so each cluster's nodes would show as one" in result.stdout
    assert "fix: labels.node: instance" in result.stdout


def test_doctor_tells_rules_built_from_another_config(tmp_path):
    """After rpo.* changed, the dashboards come from the new config but Prometheus may still record the old targets:
    doctor compares each recorded target with this config's."""
    from crdb_dash.pipeline import rules

    other = tmp_path / "other.yaml"
    other.write_text("rpo: {overrides: [{match: {cluster: west}, warning: 3h, critical: 5h}]}\n")
    rule_file = tmp_path / "crdb-backups.rules.yml"
    rule_file.write_text(rules.prometheus_file(config.load(other)))
    tsdb, now = tmp_path / "tsdb", _now()
    sim = simulator.Simulation(_scenario(), now)
    promrun.backfill(simulator.openmetrics([sim]), tsdb)
    with promrun.Prometheus(tsdb, config=f"rule_files: [{rule_file}]\n") as prom:
        promrun.backfill_recording_rules(prom, rules.history_file(config.load(other)), (sim.start, now), tmp_path)
        differs, agrees = crdb_dash("--prometheus", prom.url), crdb_dash("--prometheus", prom.url, config=str(other))
    assert "[warn] recording rules: loaded, but built from another config: they record rpo.warning 3h for west " \
           "(system), where this config says 2h" in differs.stdout, differs.stdout
    assert "[ok]   recording rules: loaded\n" in agrees.stdout, agrees.stdout


@pytest.mark.parametrize("older", [False, True], ids=["this release's rules", "an older rule file"])
def test_doctor_tells_an_older_rule_file_from_this_releases(tmp_path, older):
    """The Fleet reads records that older rule files lack: doctor says which rule file Prometheus has loaded."""
    from crdb_dash.model import promql
    from crdb_dash.pipeline import rules

    groups = rules.prometheus_groups(config.load(None))
    if older:
        groups = [{**g, "rules": [r for r in g["rules"] if r.get("record") != promql.RULES_VERSION_RECORD]}
                  for g in groups]
    rule_file = tmp_path / "crdb-backups.rules.yml"
    rule_file.write_text(yaml.safe_dump({"groups": groups}))
    tsdb = tmp_path / "tsdb"
    promrun.backfill(simulator.openmetrics([simulator.Simulation(_scenario(), _now())]), tsdb)
    with promrun.Prometheus(tsdb, config=f"rule_files: [{rule_file}]\n") as prom:
        result = crdb_dash("--prometheus", prom.url)
    (line,) = [line for line in result.stdout.splitlines() if "recording rules" in line]
    assert ("an older rule file is loaded" in line) == older and line.endswith("loaded") != older, result.stdout

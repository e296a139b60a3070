"""docker-compose.yml for users with Docker: its structure, the paths it mounts, its Prometheus config."""

import json
import subprocess

import pytest
import yaml

from crdb_dash.model import alerts, config
from crdb_dash.pipeline import build, compiled, rules
from tests.conftest import ROOT, promtool


def _compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _binds(service):
    for volume in service.get("volumes", []):
        source, target = volume.split(":")[:2]
        if source.startswith("."):
            yield ROOT / source, target


def test_services_and_three_cockroachdb_nodes():
    services = _compose()["services"]
    assert {"roach1", "roach2", "roach3", "roach-init", "prometheus", "grafana"} <= set(services)
    for name in ("roach1", "roach2", "roach3"):
        assert "--insecure" in services[name]["command"]
        assert "roach1:26257,roach2:26257,roach3:26257" in services[name]["command"]


def test_every_mounted_path_exists():
    for name, service in _compose()["services"].items():
        for source, _ in _binds(service):
            assert source.exists(), f"{name} mounts {source}, which does not exist"


def test_grafana_mounts_provisioning_where_grafana_reads_it(cfg):
    (source, target), = _binds(_compose()["services"]["grafana"])
    assert source == ROOT / "provisioning" and target == "/etc/grafana/provisioning"
    datasource = yaml.safe_load((ROOT / "provisioning/datasources/crdb-backups.yaml").read_text())
    assert datasource["datasources"][0]["url"] == "http://prometheus:9090"


def test_backup_schedule_updates_the_rpo_metric():
    sql = (ROOT / "compose/backup-schedule.sql").read_text()
    assert "CREATE SCHEDULE" in sql and "updates_cluster_last_backup_time_metric" in sql


def test_prometheus_config_passes_promtool_and_matches_the_selector(tmp_path, cfg):
    service = _compose()["services"]["prometheus"]
    mounts = {target: source for source, target in _binds(service)}
    config = yaml.safe_load((ROOT / "compose/prometheus.yml").read_text())
    for i, rule_file in enumerate(config["rule_files"]):
        for target, source in mounts.items():
            if rule_file.startswith(target + "/"):
                config["rule_files"][i] = str(source / rule_file.removeprefix(target + "/"))
        assert config["rule_files"][i].startswith(str(ROOT))
    (scrape,) = config["scrape_configs"]
    assert f'job="{scrape["job_name"]}"' == cfg["selector"]
    assert all(cfg.cluster in s["labels"] for s in scrape["static_configs"])
    path = tmp_path / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    result = subprocess.run([promtool(), "check", "config", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def _alert_count(rule_text: str) -> int:
    return sum("alert" in r for g in yaml.safe_load(rule_text)["groups"] for r in g["rules"])


@pytest.mark.parametrize("grafana_managed", [False, True])
def test_compose_evaluates_each_alert_once(tmp_path, cfg, grafana_managed):
    """Issue 8.17: Prometheus loaded the alert rules and Grafana the same alerts from provisioning/."""
    raw = {**cfg.raw, "alerts": {**cfg.raw["alerts"], "grafana_managed": grafana_managed}}
    build.write(build.render(config.Config(raw, "test")), tmp_path)
    services = _compose()["services"]
    prometheus = {target: source for source, target in _binds(services["prometheus"])}
    (rule_file,) = yaml.safe_load((ROOT / "compose/prometheus.yml").read_text())["rule_files"]
    rules_dir = prometheus[rule_file.rsplit("/", 1)[0]].relative_to(ROOT)
    in_prometheus = _alert_count((tmp_path / rules_dir / rule_file.rsplit("/", 1)[1]).read_text())
    (grafana_source, _), = _binds(services["grafana"])
    alerting = tmp_path / grafana_source.relative_to(ROOT) / "alerting" / "crdb-backups.yaml"
    in_grafana = len(yaml.safe_load(alerting.read_text())["groups"][0]["rules"]) if alerting.exists() else 0
    assert sorted([in_prometheus, in_grafana]) == [0, len(alerts.table(cfg))]
    assert (in_grafana > 0) == grafana_managed


def test_committed_build_alerts_once(cfg):
    assert not (ROOT / rules.GRAFANA_FILE).exists()
    assert _alert_count((ROOT / rules.RULES_FILE).read_text()) == len(alerts.table(cfg))


def test_provisioned_datasource_cannot_collide_by_accident(cfg):
    """Issue 8.29: 'Prometheus' / 'prometheus' is what most Grafanas already have."""
    (ds,) = yaml.safe_load((ROOT / "provisioning/datasources/crdb-backups.yaml").read_text())["datasources"]
    assert ds["name"] == cfg.get("datasource.name") and ds["uid"] == cfg.get("datasource.uid")
    assert ds["name"].lower() != "prometheus" and ds["uid"].lower() not in ("prometheus", "default", "")
    assert "crdb" in ds["uid"] and "CockroachDB" in ds["name"]
    for model in compiled.dashboards(cfg).values():
        variables = {v["name"]: v for v in model["templating"]["list"]}
        if "datasource" in variables:
            assert variables["datasource"]["current"]["value"] == ds["uid"]


def test_existing_datasource_instead_of_ours(cfg):
    """datasource.provision: false points everything at a datasource the user has, and writes none."""
    raw = {**cfg.raw, "datasource": {**cfg.raw["datasource"], "uid": "their-prom", "provision": False}}
    files = build.render(config.Config(raw, "test"))
    assert "provisioning/datasources/crdb-backups.yaml" not in files
    overview = json.loads(files["provisioning/dashboards/crdb-backups/crdb-backups-overview.json"])
    (var,) = [v for v in overview["templating"]["list"] if v["name"] == "datasource"]
    assert var["current"]["value"] == "their-prom"
    raw["alerts"] = {**raw["alerts"], "grafana_managed": True}
    grafana = yaml.safe_load(rules.render(config.Config(raw, "test"))[rules.GRAFANA_FILE])
    assert {d["datasourceUid"] for r in grafana["groups"][0]["rules"] for d in r["data"]} == {"their-prom", "__expr__"}

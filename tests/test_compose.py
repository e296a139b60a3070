"""docker-compose.yml for users with Docker: its structure, the paths it mounts, its Prometheus config."""

import shutil
import subprocess

import yaml

from tests.conftest import ROOT


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
    promtool = shutil.which("promtool")
    assert promtool, "promtool is missing: run 'make test'"
    result = subprocess.run([promtool, "check", "config", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr

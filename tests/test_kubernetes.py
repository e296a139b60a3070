"""kubernetes/: every object checked with the Prometheus Operator's and Kubernetes' typed models, the rules
with promtool, and the ServiceMonitor's relabelling on a real Prometheus."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from cloudcoil.models.kubernetes.core import v1 as core
from cloudcoil.models.prometheus_operator import v1 as monitoring

from crdb_dash import __version__
from crdb_dash.model import config
from crdb_dash.pipeline import build, compiled, kubernetes, rules
from crdb_dash.pipeline.serialize import to_yaml
from crdb_dash.simulation import engines, promrun
from tests.conftest import ROOT, config_error, need
from tests.stub_server import StubServer

MODELS = {"PrometheusRule": monitoring.PrometheusRule, "ServiceMonitor": monitoring.ServiceMonitor,
          "ConfigMap": core.ConfigMap}


def objects(files: dict[str, str]) -> list[dict]:
    return [obj for rel, text in sorted(files.items()) if rel.startswith(kubernetes.DIR + "/")
            and not rel.endswith("kustomization.yaml") for obj in yaml.safe_load_all(text)]


@pytest.fixture(scope="module")
def files():
    return build.render(config.load())


def test_every_object_round_trips_through_its_typed_model(files):
    found = objects(files)
    assert sorted({o["kind"] for o in found}) == sorted(MODELS)
    for obj in found:
        typed = MODELS[obj["kind"]].model_validate(obj)  # raises on a wrong type, enum or pattern
        assert typed.model_dump(by_alias=True, exclude_none=True, mode="json") == obj, \
            f"{obj['kind']} {obj['metadata']['name']}: the model dropped or changed a key"


def test_typed_models_reject_what_the_operator_would(files):
    monitor = next(o for o in objects(files) if o["kind"] == "ServiceMonitor")
    monitor["spec"]["endpoints"][0]["interval"] = "10 seconds"
    with pytest.raises(ValueError, match="interval"):
        monitoring.ServiceMonitor.model_validate(monitor)


def test_prometheusrule_holds_the_plain_rule_groups_and_passes_promtool(files, tmp_path):
    rule = next(o for o in objects(files) if o["kind"] == "PrometheusRule")
    assert rule["spec"]["groups"] == yaml.safe_load(files[rules.RULES_FILE])["groups"]
    assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert rule["metadata"]["labels"]["app.kubernetes.io/version"] == __version__
    path = tmp_path / "groups.yml"
    path.write_text(to_yaml({"groups": rule["spec"]["groups"]}))
    result = subprocess.run([promrun.binary("promtool"), "check", "rules", str(path)], capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_one_configmap_per_dashboard_labelled_for_the_sidecar(files):
    maps = [o for o in objects(files) if o["kind"] == "ConfigMap"]
    dashboards = {rel.rsplit("/", 1)[1]: text for rel, text in files.items()
                  if rel.startswith(build.DASHBOARD_DIR + "/")}
    assert sorted(key for m in maps for key in m["data"]) == sorted(dashboards)
    for m in maps:
        (key, text), = m["data"].items()
        assert text == dashboards[key], "the ConfigMap's JSON differs from the provisioned dashboard"
        assert json.loads(text)["uid"] == m["metadata"]["name"]
        assert m["metadata"]["labels"]["grafana_dashboard"] == "1"
        assert m["metadata"]["annotations"] == {"grafana_folder": "CockroachDB Backups"}
        assert len(text.encode()) < kubernetes.CONFIGMAP_LIMIT


def test_kustomization_lists_every_file_and_the_namespace(files):
    kustomization = yaml.safe_load(files[f"{kubernetes.DIR}/kustomization.yaml"])
    written = sorted(rel.split("/", 1)[1] for rel in files if rel.startswith(kubernetes.DIR + "/"))
    assert sorted(kustomization["resources"]) == sorted(r for r in written if r != "kustomization.yaml")
    assert kustomization["namespace"] == "monitoring"
    assert all(o["metadata"]["namespace"] == "monitoring" for o in objects(files))


def test_labels_namespace_and_names_come_from_the_config(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("labels: {cluster: k8s_cluster}\nselector: 'job=\"crdb\"'\nkubernetes:\n  namespace: obs\n"
                    "  labels: {prometheus: main}\n  dashboard_labels: {dashboards: grafana}\n"
                    "  service_namespaces: [db]\n  scheme: http\n")
    found = objects(build.render(config.load(path)))
    assert {o["metadata"]["namespace"] for o in found} == {"obs"}
    rule = next(o for o in found if o["kind"] == "PrometheusRule")
    assert rule["metadata"]["labels"]["prometheus"] == "main" and "release" not in rule["metadata"]["labels"]
    assert all(o["metadata"]["labels"]["dashboards"] == "grafana" for o in found if o["kind"] == "ConfigMap")
    monitor = next(o for o in found if o["kind"] == "ServiceMonitor")
    endpoint = monitor["spec"]["endpoints"][0]
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": ["db"]}
    assert endpoint["scheme"] == "http" and "tlsConfig" not in endpoint
    targets = {r.get("targetLabel"): r for r in endpoint["relabelings"]}
    assert "k8s_cluster" in targets and "cluster" not in targets
    assert targets["job"]["replacement"] == "crdb"


@pytest.mark.parametrize("text, key", [
    ("kubernetes: {namespace: Monitoring}", "kubernetes.namespace"),
    ("kubernetes: {labels: {release: 1}}", "kubernetes.labels"),
    ("kubernetes: {labels: [release]}", "kubernetes.labels"),
    ("kubernetes: {service_selector: {}}", "kubernetes.service_selector"),
    ("kubernetes: {scheme: ftp}", "kubernetes.scheme"),
    ("kubernetes: {nope: 1}", "kubernetes.nope"),
])
def test_bad_kubernetes_settings_are_one_line_errors(tmp_path, text, key):
    assert key in config_error(tmp_path / "c.yaml", text + "\n")


def test_a_dashboard_too_large_for_a_configmap_fails_the_build_and_writes_nothing(tmp_path, monkeypatch):
    from crdb_dash import cli

    monkeypatch.setattr(kubernetes, "CONFIGMAP_LIMIT", 1000)
    out = tmp_path / "out"
    out.mkdir()
    assert cli.main(["build", "--out", str(out)]) == 2
    assert not any(out.iterdir())
    with pytest.raises(kubernetes.TooLarge, match=r"dashboard crdb-backups-\S+ is \d+ bytes .* ConfigMap"):
        kubernetes.dashboard_configmaps(config.load(), compiled.dashboards(config.load()))


# ---- the ServiceMonitor's relabelling, applied by a real Prometheus ------------------------------------
def _snake(relabel: dict) -> dict:
    """The Operator's camelCase relabel config in Prometheus' own spelling."""
    names = {"sourceLabels": "source_labels", "targetLabel": "target_label"}
    return {names.get(k, k): v for k, v in relabel.items()}


def test_servicemonitor_scrapes_each_pod_once_with_cluster_instance_and_job(files, tmp_path):
    """The Helm chart's discovery and -public Services both select every pod; Prometheus must keep one."""
    engine = need(engines.PROMETHEUS[0])
    monitor = next(o for o in objects(files) if o["kind"] == "ServiceMonitor")
    endpoint = monitor["spec"]["endpoints"][0]
    pods = [StubServer(200, b'jobs_backup_currently_running{node_id="1"} 0\n') for _ in range(3)]
    try:
        # What the Operator's endpoint discovery yields for release "prod": each pod behind two Services.
        groups = [{"targets": [pod.address], "labels": {
            "__meta_kubernetes_service_name": service, "__meta_kubernetes_pod_name": f"prod-cockroachdb-{i}",
            "__meta_kubernetes_service_label_app_kubernetes_io_instance": "prod", "job": service}}
            for service in ("prod-cockroachdb", "prod-cockroachdb-public") for i, pod in enumerate(pods)]
        (tmp_path / "targets.json").write_text(json.dumps(groups))
        scrape = {"job_name": "servicemonitor", "scrape_interval": "1s", "metrics_path": endpoint["path"],
                  "file_sd_configs": [{"files": [str(tmp_path / "targets.json")], "refresh_interval": "1s"}],
                  "relabel_configs": [_snake(r) for r in endpoint["relabelings"]]}
        prom_config = yaml.safe_dump({"global": {"scrape_interval": "1s"}, "scrape_configs": [scrape]})
        with promrun.Prometheus(tmp_path / "tsdb", config=prom_config, engine=engine) as prom:
            deadline = time.monotonic() + 30
            found = []
            while time.monotonic() < deadline and len(found) < 3:
                time.sleep(0.5)
                found = prom.query("up", time.time())["result"]
            time.sleep(2)  # long enough for a second copy of any target to show up
            found = prom.query("up", time.time())["result"]
    finally:
        for pod in pods:
            pod.stop()
    labels = sorted((s["metric"]["instance"], s["metric"]["cluster"], s["metric"]["job"]) for s in found)
    assert labels == [(f"prod-cockroachdb-{i}", "prod", "cockroachdb") for i in range(3)]


def test_readme_documents_the_kubernetes_path():
    text = (ROOT / "README.md").read_text()
    assert "kubectl apply --server-side -k kubernetes/" in text
    for name in kubernetes.FILES:
        assert f"`{name}`" in text, f"README does not say what {name} is"


def test_cli_build_writes_the_kubernetes_files(tmp_path):
    result = subprocess.run([sys.executable, "-m", "crdb_dash.cli", "build", "--out", str(tmp_path)],
                            capture_output=True, text=True, check=True)
    for name in (*kubernetes.FILES, "kustomization.yaml"):
        assert (tmp_path / kubernetes.DIR / name).is_file(), result.stdout
    configmaps = Path(tmp_path / kubernetes.DIR / "grafana-dashboards.yaml").read_text().count("kind: ConfigMap")
    assert configmaps == len(compiled.dashboards(config.load()))

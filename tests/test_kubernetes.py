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
from crdb_dash.model import alerts, config
from crdb_dash.pipeline import build, compiled, kubernetes, rules
from crdb_dash.pipeline.serialize import to_yaml
from crdb_dash.simulation import engines, promrun
from tests.conftest import ROOT, config_error, need, rule_test
from tests.stub_server import StubServer

MODELS = {"PrometheusRule": monitoring.PrometheusRule, "ServiceMonitor": monitoring.ServiceMonitor,
          "ConfigMap": core.ConfigMap}


def objects(files: dict[str, str]) -> list[dict]:
    return [obj for rel, text in sorted(files.items()) if rel.startswith(kubernetes.DIR + "/")
            and not rel.endswith(("kustomization.yaml", "scrape-config.yaml")) for obj in yaml.safe_load_all(text)]


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


def test_grafana_managed_alerts_ship_once_in_a_configmap_for_the_sidecar(tmp_path):
    """Issue 20: with alerts.grafana_managed, kubernetes/ carries each alert exactly once: in a ConfigMap the Grafana
    sidecar provisions (the same file as provisioning/), while the PrometheusRule keeps the recording rules only."""
    path = tmp_path / "c.yaml"
    path.write_text("alerts: {grafana_managed: true}\nkubernetes: {alert_labels: {alerts: grafana}}\n")
    cfg = config.load(path)
    files = build.render(cfg)
    found = objects(files)
    (configmap,) = [o for o in found if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "crdb-backups-alerts"]
    core.ConfigMap.model_validate(configmap)
    labels = configmap["metadata"]["labels"]
    assert labels["alerts"] == "grafana" and "grafana_alert" not in labels
    (text,) = configmap["data"].values()
    assert files[rules.GRAFANA_FILE].endswith(text)
    grafana = [r["title"] for g in yaml.safe_load(text)["groups"] for r in g["rules"]]
    assert sorted(grafana) == sorted(a.alertname for a in alerts.table(cfg))
    rule = next(o for o in found if o["kind"] == "PrometheusRule")
    assert not [r for g in rule["spec"]["groups"] for r in g["rules"] if "alert" in r]
    assert {r["record"] for g in rule["spec"]["groups"] for r in g["rules"]} >= {alerts.promql.RPO_RECORD}
    assert "grafana-alerts.yaml" in yaml.safe_load(files[f"{kubernetes.DIR}/kustomization.yaml"])["resources"]


def test_prometheus_managed_alerts_ship_once_in_the_prometheusrule(files):
    assert f"{kubernetes.DIR}/grafana-alerts.yaml" not in files
    rule = next(o for o in objects(files) if o["kind"] == "PrometheusRule")
    names = [r["alert"] for g in rule["spec"]["groups"] for r in g["rules"] if "alert" in r]
    assert len(names) == len(alerts.table(config.load()))


def test_scrape_config_passes_promtool(files, tmp_path):
    path = tmp_path / "prometheus.yml"
    path.write_text(files[f"{kubernetes.DIR}/scrape-config.yaml"])
    result = subprocess.run([promrun.binary("promtool"), "check", "config", "--syntax-only", str(path)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("text, key, names", [
    ("labels: {cluster: job}\n", "labels.cluster", "kubernetes.service_monitor: false"),
    ("labels: {cluster: namespace}\n", "labels.cluster", "kubernetes/servicemonitor.yaml"),
    ("selector: 'job=\"crdb\", k8s_cluster!=\"\"'\nlabels: {cluster: k8s_cluster}\n", "labels.cluster", "selector"),
    ("preset: helm\nkubernetes: {service_monitor: true}\n", "labels.cluster", "kubernetes.service_monitor: false"),
    ("preset: cloud\nkubernetes: {service_monitor: true}\n", "labels.cluster", "kubernetes.service_monitor: false"),
    ("labels: {node: host}\n", "labels.node", "instance"),
    ("kubernetes: {cluster_name: '${release}-$1'}\n", "kubernetes.cluster_name", "${namespace}"),
    ("kubernetes: {cluster_name: '${name}'}\n", "kubernetes.cluster_name", "${release}"),
])
def test_a_servicemonitor_that_would_write_a_label_the_queries_read_otherwise_is_refused(tmp_path, text, key, names):
    """Issue 20: presets and generated objects agree, or the build stops with one line naming what to set."""
    message = config_error(tmp_path / "c.yaml", text)
    assert key in message and names in message, message


@pytest.mark.parametrize("preset", ["cloud", "dedicated", "helm"])
def test_presets_scraped_by_others_write_no_servicemonitor(tmp_path, preset):
    path = tmp_path / "c.yaml"
    path.write_text(f"preset: {preset}\n")
    files = build.render(config.load(path))
    assert not [rel for rel in files if rel.endswith(("servicemonitor.yaml", "scrape-config.yaml"))]
    assert "servicemonitor.yaml" not in files[f"{kubernetes.DIR}/kustomization.yaml"]


def test_cluster_name_template_and_metrics_path_come_from_the_config(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("preset: metrics-endpoint\nkubernetes: {cluster_name: 'prod-${release}'}\n")
    monitor = kubernetes.service_monitor(config.load(path))
    endpoint = monitor["spec"]["endpoints"][0]
    assert endpoint["path"] == "/metrics"
    (rule,) = [r for r in endpoint["relabelings"] if r.get("targetLabel") == "cluster"]
    assert rule["replacement"] == "prod-${1}" and rule["sourceLabels"] == [kubernetes.CLUSTER_NAME_SOURCES["release"]]


def test_kustomization_lists_every_file_and_the_namespace(files):
    kustomization = yaml.safe_load(files[f"{kubernetes.DIR}/kustomization.yaml"])
    written = sorted(rel.split("/", 1)[1] for rel in files if rel.startswith(kubernetes.DIR + "/"))
    not_objects = ("kustomization.yaml", "scrape-config.yaml")
    assert sorted(kustomization["resources"]) == sorted(r for r in written if r not in not_objects)
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


# ---- the scrape configs' relabelling, applied by a real Prometheus -------------------------------------
# Two installs of one name in two namespaces are the common case (every team takes the chart's default name).
# Services as the Helm chart (cockroachdb/helm-charts, cockroachdb/templates/service.*.yaml) and the CockroachDB
# Operator (cockroachdb/cockroach-operator, pkg/labels/label.go and pkg/resource/*_service.go) label them: a
# discovery Service named after the release (or CrdbCluster), a -public one selecting the same pods.
INSTALLS = {
    "team-a": {"helm.sh/chart": "cockroachdb-15.0.0", "app.kubernetes.io/managed-by": "Helm"},
    "team-b": {"helm.sh/chart": "cockroachdb-15.0.0", "app.kubernetes.io/managed-by": "Helm"},
    "team-c": {"app.kubernetes.io/component": "database", "app.kubernetes.io/part-of": "cockroachdb",
               "app.kubernetes.io/managed-by": "cockroach-operator"},
}
RELEASE = "cockroachdb"
PODS = 3


def _meta(key: str) -> str:
    return "".join(c if c.isalnum() or c == "_" else "_" for c in key)


def _discovery(addresses: dict[tuple[str, int], str], namespaces) -> list[dict]:
    """What Kubernetes discovery yields: a target per Service, pod and port (grpc and http), with meta labels."""
    groups = []
    for ns in namespaces:
        labels = {"app.kubernetes.io/name": "cockroachdb", "app.kubernetes.io/instance": RELEASE, **INSTALLS[ns]}
        for service in (RELEASE, f"{RELEASE}-public"):
            for i in range(PODS):
                for port in ("grpc", "http"):
                    meta = {"__meta_kubernetes_namespace": ns, "__meta_kubernetes_service_name": service,
                            "__meta_kubernetes_pod_name": f"{RELEASE}-{i}",
                            "__meta_kubernetes_pod_container_name": "db",
                            "__meta_kubernetes_endpoint_port_name": port,
                            "__meta_kubernetes_endpointslice_port_name": port,
                            "__meta_kubernetes_endpoint_address_target_kind": "Pod",
                            "__meta_kubernetes_endpoint_address_target_name": f"{RELEASE}-{i}"}
                    for key, value in labels.items():
                        meta[f"__meta_kubernetes_service_label_{_meta(key)}"] = value
                        meta[f"__meta_kubernetes_service_labelpresent_{_meta(key)}"] = "true"
                    address = addresses[(ns, i)] if port == "http" else "127.0.0.1:9"  # grpc: never scraped
                    groups.append({"targets": [address], "labels": meta})
    return groups


def operator_scrape(monitor: dict) -> dict:
    """The scrape config the Prometheus Operator generates for a ServiceMonitor's first endpoint, as far as
    labels go (prometheus-operator, pkg/prometheus/promcfg.go, generateServiceMonitorConfig): keep the selected
    Services and the port, set namespace, service, pod, container, job (the Service's name) and endpoint, then
    the endpoint's own relabelings."""
    spec, endpoint = monitor["spec"], monitor["spec"]["endpoints"][0]
    keep = [{"action": "keep", "source_labels": [f"__meta_kubernetes_service_label_{_meta(k)}",
                                                 f"__meta_kubernetes_service_labelpresent_{_meta(k)}"],
             "regex": f"({v});true"} for k, v in sorted(spec["selector"]["matchLabels"].items())]
    if "matchNames" in spec["namespaceSelector"]:
        keep.append({"action": "keep", "source_labels": ["__meta_kubernetes_namespace"],
                     "regex": "|".join(spec["namespaceSelector"]["matchNames"])})
    keep.append({"action": "keep", "source_labels": ["__meta_kubernetes_endpoint_port_name"],
                 "regex": endpoint["port"]})
    own = [{"source_labels": [f"__meta_kubernetes_{source}"], "target_label": target} for source, target in (
        ("namespace", "namespace"), ("service_name", "service"), ("pod_name", "pod"),
        ("pod_container_name", "container"), ("service_name", "job"))]
    own.append({"target_label": "endpoint", "replacement": endpoint["port"]})
    relabel = keep + own + [kubernetes.snake(r) for r in endpoint.get("relabelings", [])]
    return {"job_name": f"serviceMonitor/{monitor['metadata']['name']}", "metrics_path": endpoint["path"],
            "relabel_configs": relabel}


def chart_service_monitor(namespace: str) -> dict:
    """The Helm chart's own ServiceMonitor (cockroachdb/templates/serviceMonitor.yaml), serviceMonitor.enabled
    and namespaced set: no relabelling at all."""
    return {"metadata": {"name": f"{namespace}-{RELEASE}"}, "spec": {
        "selector": {"matchLabels": {"app.kubernetes.io/name": "cockroachdb", "app.kubernetes.io/instance": RELEASE}},
        "namespaceSelector": {"matchNames": [namespace]},
        "endpoints": [{"port": "http", "path": "/_status/vars"}]}}


def scraped(tmp_path: Path, scrapes: list[dict], namespaces=tuple(INSTALLS)) -> list[dict]:
    """The label sets of ``up`` once a real Prometheus has scraped pods of ``namespaces`` with ``scrapes``, their
    Kubernetes discovery replaced by a file of the same targets and meta labels."""
    engine = need(engines.PROMETHEUS[0])
    pods = {(ns, i): StubServer(200, b'jobs_backup_currently_running{node_id="1"} 0\n')
            for ns in namespaces for i in range(PODS)}
    try:
        targets = tmp_path / "targets.json"
        targets.write_text(json.dumps(_discovery({k: p.address for k, p in pods.items()}, namespaces)))
        jobs = [{k: v for k, v in scrape.items() if k not in ("kubernetes_sd_configs", "scheme", "tls_config")}
                | {"scrape_interval": "1s", "file_sd_configs": [{"files": [str(targets)], "refresh_interval": "1s"}]}
                for scrape in scrapes]
        prom_config = yaml.safe_dump({"global": {"scrape_interval": "1s"}, "scrape_configs": jobs})
        with promrun.Prometheus(tmp_path / "tsdb", config=prom_config, engine=engine) as prom:
            deadline, found = time.monotonic() + 30, []
            while time.monotonic() < deadline and len(found) < len(pods):
                time.sleep(0.5)
                found = prom.query("up == 1", time.time())["result"]
            time.sleep(2)  # long enough for a second copy of any target to show up
            found = prom.query("up", time.time())["result"]
    finally:
        for pod in pods.values():
            pod.stop()
    return [s["metric"] for s in found]


def _vanished_cluster_alerts(cfg, series_labels: list[dict], gone: str, tmp_path: Path) -> None:
    """Over series labelled as scraped: every node of cluster ``gone`` stops reporting after an hour while the
    others go on; NotReporting must fire for ``gone`` alone (were the clusters one, the others would hide it)."""
    def name(labels: dict) -> str:
        body = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()) if k != "__name__")
        return f"{cfg.naming.selector('jobs_backup_currently_running', '').split('{')[0]}{{{body}}}"

    series = {name(labels): ("0x59 stale" if labels[cfg.cluster] == gone else "0x179") for labels in series_labels}
    rule_file = tmp_path / "rules.yml"
    rule_file.write_text(rules.prometheus_file(cfg))
    check = {"expr": f'count by ({cfg.cluster}) (ALERTS{{alertname="{alerts.PREFIX}NotReporting", '
                     'alertstate="firing"})', "eval_time": "3h",
             "exp_samples": [{"labels": f'{{{cfg.cluster}="{gone}"}}', "value": 1}]}
    rule_test(tmp_path, series, {"promql_expr_test": [check]}, rule_file)


@pytest.mark.parametrize("path", ["servicemonitor", "scrape-config"])
def test_same_named_installs_in_two_namespaces_are_two_clusters_each_alerting(files, tmp_path, path):
    """Issue 20: the ServiceMonitor (through the Operator's own relabelling) and the plain scrape config keep each
    pod once, named by pod, in a cluster named by namespace and release, for the Helm chart and the Operator."""
    cfg = config.load()
    if path == "servicemonitor":
        scrape = operator_scrape(next(o for o in objects(files) if o["kind"] == "ServiceMonitor"))
    else:
        (scrape,) = yaml.safe_load(files[f"{kubernetes.DIR}/scrape-config.yaml"])["scrape_configs"]
    found = scraped(tmp_path, [scrape])
    assert sorted((s["cluster"], s["instance"], s["job"]) for s in found) == [
        (f"{ns}/{RELEASE}", f"{RELEASE}-{i}", "cockroachdb") for ns in INSTALLS for i in range(PODS)]
    selected = [s for s in found if promql_matches(cfg["selector"], s)]
    assert len(selected) == len(found)
    _vanished_cluster_alerts(cfg, found, f"team-b/{RELEASE}", tmp_path)


@pytest.mark.parametrize("path", ["servicemonitor", "scrape-config"])
def test_the_selectors_own_labels_are_written_on_what_is_scraped(tmp_path, path):
    """A selector asking for a label of the user's own (env="prod") or one the Operator sets selects every series
    the scrape yields (the plain scrape config sets the Operator's labels too)."""
    selector = 'job="crdb", env="prod", namespace=~"team-.*"'
    (tmp_path / "c.yaml").write_text(f"selector: '{selector}'\n")
    files = build.render(config.load(tmp_path / "c.yaml"))
    if path == "servicemonitor":
        scrape = operator_scrape(next(o for o in objects(files) if o["kind"] == "ServiceMonitor"))
    else:
        (scrape,) = yaml.safe_load(files[f"{kubernetes.DIR}/scrape-config.yaml"])["scrape_configs"]
    found = scraped(tmp_path, [scrape])
    assert len(found) == len(INSTALLS) * PODS and all(promql_matches(selector, s) for s in found), found


@pytest.mark.parametrize("text, warned", [
    ("selector: 'job=\"crdb\", env=~\"prod|stage\", team!=\"\"'\n", 'env=~"prod|stage", team!=""'),
    ("selector: 'job=\"crdb\", env!=\"dev\", team=~\"a|\"'\n", None),  # a series without env or team meets them
    ("selector: 'job=\"crdb\", env=~\"prod|stage\"'\nkubernetes: {service_monitor: false}\n", None),
])
def test_a_selector_the_scrape_cannot_meet_is_warned_of(tmp_path, text, warned):
    (tmp_path / "c.yaml").write_text(text)
    warnings = config.load(tmp_path / "c.yaml").warnings
    if warned is None:
        assert not warnings
    else:
        (warning,) = warnings
        assert warned in warning and "kubernetes.service_monitor: false" in warning


def test_the_selectors_matchers_on_labels_cockroachdb_exports_are_never_written(tmp_path):
    (tmp_path / "c.yaml").write_text("selector: 'job=\"crdb\", tenant=\"system\", node_id=\"1\"'\n")
    written = {r.get("targetLabel") for r in kubernetes.relabelings(config.load(tmp_path / "c.yaml"))}
    assert "job" in written and not written & {"tenant", "node_id"}


def test_preset_helm_reads_the_charts_own_servicemonitor_one_cluster_per_namespace(tmp_path):
    """With the chart's ServiceMonitor (which cannot relabel), preset helm names a cluster by its namespace and its
    selector keeps one scrape of each pod; our build writes no second ServiceMonitor."""
    path = tmp_path / "helm.yaml"
    path.write_text("preset: helm\n")
    cfg = config.load(path)
    assert not any("servicemonitor" in rel or "scrape-config" in rel for rel in build.render(cfg))
    namespaces = ("team-a", "team-b")
    found = scraped(tmp_path, [operator_scrape(chart_service_monitor(ns)) for ns in namespaces], namespaces)
    selected = [s for s in found if promql_matches(cfg["selector"], s)]
    assert sorted((s[cfg.cluster], s[cfg.node]) for s in selected) == [
        (ns, f"{RELEASE}-{i}") for ns in namespaces for i in range(PODS)]
    _vanished_cluster_alerts(cfg, selected, "team-b", tmp_path)


def promql_matches(selector: str, labels: dict) -> bool:
    """Whether a series with ``labels`` matches the label matchers of ``selector``."""
    import re

    import promql_parser

    op = promql_parser.MatchOp

    def one(m) -> bool:
        value = labels.get(m.name, "")
        if m.op in (op.Re, op.NotRe):
            return (re.fullmatch(m.value, value) is not None) == (m.op == op.Re)
        return (value == m.value) == (m.op == op.Equal)

    return all(one(m) for m in promql_parser.parse("up{" + selector + "}").matchers.matchers)


def test_readme_documents_the_kubernetes_path():
    assert "kubectl apply --server-side -k kubernetes/" in (ROOT / "README.md").read_text()
    text = (ROOT / "docs" / "kubernetes.md").read_text()
    for name in ("prometheusrule.yaml", "grafana-dashboards.yaml", *kubernetes.OPTIONAL):
        assert f"`{name}`" in text, f"docs/kubernetes.md does not say what {name} is"


def test_cli_build_writes_the_kubernetes_files(tmp_path):
    result = subprocess.run([sys.executable, "-m", "crdb_dash.cli", "build", "--out", str(tmp_path)],
                            capture_output=True, text=True, check=True)
    for name in ("prometheusrule.yaml", "grafana-dashboards.yaml", "servicemonitor.yaml", "kustomization.yaml"):
        assert (tmp_path / kubernetes.DIR / name).is_file(), result.stdout
    configmaps = Path(tmp_path / kubernetes.DIR / "grafana-dashboards.yaml").read_text().count("kind: ConfigMap")
    assert configmaps == len(compiled.dashboards(config.load()))

"""Kubernetes objects for kube-prometheus-stack: a PrometheusRule, dashboard ConfigMaps for Grafana's
sidecar, a ServiceMonitor for CockroachDB, and a kustomization tying them together.

    kubernetes/prometheusrule.yaml      our recording rules, and the alerting rules unless Grafana evaluates them
                                        (the groups of rules/*.rules.yml)
    kubernetes/grafana-dashboards.yaml  one ConfigMap per dashboard, labelled for the sidecar
    kubernetes/grafana-alerts.yaml      the Grafana-managed alert rules, labelled for the sidecar
                                        (alerts.grafana_managed only)
    kubernetes/servicemonitor.yaml      scrapes each CockroachDB pod once, naming its cluster
                                        (kubernetes.service_monitor only)
    kubernetes/scrape-config.yaml       the same scrape as a plain Prometheus scrape_configs entry, for a
                                        Prometheus without the Operator (not applied by kustomize)
    kubernetes/kustomization.yaml       `kubectl apply -k kubernetes/`
"""

from __future__ import annotations

import re

from crdb_dash import __version__
from crdb_dash.model.config import Config, scrape_labels
from crdb_dash.pipeline.serialize import to_json, to_yaml, to_yaml_documents

DIR = "kubernetes"
NAME = "crdb-backups"
CONFIGMAP_LIMIT = 1024 * 1024  # bytes of data a ConfigMap may hold
OPTIONAL = ("grafana-alerts.yaml", "servicemonitor.yaml", "scrape-config.yaml")  # written in some configurations
# How ${namespace} and ${release} in kubernetes.cluster_name are read from a target of Kubernetes discovery.
CLUSTER_NAME_SOURCES = {"namespace": "__meta_kubernetes_namespace",
                        "release": "__meta_kubernetes_service_label_app_kubernetes_io_instance"}


class TooLarge(ValueError):
    """A dashboard does not fit in one ConfigMap."""


def _metadata(cfg: Config, name: str, labels: dict, annotations: dict | None = None) -> dict:
    meta = {"name": name, "namespace": cfg.get("kubernetes.namespace"),
            "labels": {"app.kubernetes.io/part-of": NAME, "app.kubernetes.io/version": __version__, **labels}}
    if annotations:
        meta["annotations"] = annotations
    return meta


def prometheus_rule(cfg: Config, groups: list[dict]) -> dict:
    return {"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule",
            "metadata": _metadata(cfg, NAME, cfg.get("kubernetes.labels")), "spec": {"groups": groups}}


def dashboard_configmaps(cfg: Config, dashboards: dict[str, dict]) -> list[dict]:
    """One ConfigMap per dashboard; raises TooLarge naming a dashboard over the ConfigMap limit."""
    maps = []
    for uid, model in sorted(dashboards.items()):
        text = to_json(model)
        size = len(text.encode())
        if size >= CONFIGMAP_LIMIT:
            raise TooLarge(f"dashboard {uid} is {size} bytes of JSON, over the {CONFIGMAP_LIMIT}-byte limit of a "
                           "Kubernetes ConfigMap: split it into smaller dashboards")
        folder = {cfg.get("kubernetes.folder_annotation"): cfg.get("grafana.folder")}
        maps.append({"apiVersion": "v1", "kind": "ConfigMap",
                     "metadata": _metadata(cfg, uid, cfg.get("kubernetes.dashboard_labels"), folder),
                     "data": {f"{uid}.json": text}})
    return maps


def alert_configmap(cfg: Config, grafana_file: str, text: str) -> dict:
    """The Grafana-managed alert rules, as the file Grafana provisions, in a ConfigMap for the sidecar."""
    folder = {cfg.get("kubernetes.folder_annotation"): cfg.get("grafana.folder")}
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": _metadata(cfg, f"{NAME}-alerts", cfg.get("kubernetes.alert_labels"), folder),
            "data": {grafana_file.rsplit("/", 1)[1]: text}}


def _job(cfg: Config) -> str | None:
    """The job name the selector asks for (job="..."), so scraped series carry it."""
    return scrape_labels(cfg["selector"], cfg["labels"]).get("job")


def _metrics_path(cfg: Config) -> str:
    return "/metrics" if cfg.naming.static_labels else "/_status/vars"


def _cluster_name(cfg: Config) -> dict:
    """kubernetes.cluster_name as a relabelling: each ${name} becomes the group of its discovery label."""
    template = cfg.get("kubernetes.cluster_name")
    names = list(dict.fromkeys(re.findall(r"\$\{(\w+)\}", template)))
    rule = {"action": "replace", "targetLabel": cfg.cluster,
            "replacement": re.sub(r"\$\{(\w+)\}", lambda m: f"${{{names.index(m.group(1)) + 1}}}", template)}
    if names:
        rule.update(sourceLabels=[CLUSTER_NAME_SOURCES[n] for n in names], separator=";",
                    regex=";".join("(.*)" for _ in names))
    return rule


def relabelings(cfg: Config) -> list[dict]:
    """Each pod once (the -public Service selects the same pods), named by pod, with its cluster's name
    (kubernetes.cluster_name) and the selector's label="value" matchers (config.scrape_labels: job, labels of your
    own). In the Operator's spelling."""
    rules = [
        {"action": "drop", "sourceLabels": ["__meta_kubernetes_service_name"], "regex": ".+-public"},
        _cluster_name(cfg),
        {"action": "replace", "sourceLabels": ["__meta_kubernetes_pod_name"], "targetLabel": "instance"},
    ]
    for label, value in sorted(scrape_labels(cfg["selector"], cfg["labels"]).items()):
        rules.append({"action": "replace", "targetLabel": label, "replacement": value})
    return rules


def service_monitor(cfg: Config) -> dict:
    k = cfg.get("kubernetes")
    endpoint = {"port": k["port"], "path": _metrics_path(cfg), "scheme": k["scheme"],
                "interval": cfg["scrape_interval"], "relabelings": relabelings(cfg)}
    if k["scheme"] == "https":
        endpoint["tlsConfig"] = {"insecureSkipVerify": k["tls_skip_verify"]}
    spaces = {"matchNames": k["service_namespaces"]} if k["service_namespaces"] else {"any": True}
    return {"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor",
            "metadata": _metadata(cfg, f"{NAME}-cockroachdb", k["labels"]),
            "spec": {"selector": {"matchLabels": k["service_selector"]}, "namespaceSelector": spaces,
                     "endpoints": [endpoint]}}


def snake(relabel: dict) -> dict:
    """A relabelling in the Operator's camelCase spelled as Prometheus spells it."""
    names = {"sourceLabels": "source_labels", "targetLabel": "target_label"}
    return {names.get(k, k): v for k, v in relabel.items()}


def _label_meta(key: str) -> str:
    return re.sub(r"[^a-zA-Z0-9_]", "_", key)


def operator_labels(port: str) -> list[dict]:
    """The labels the Prometheus Operator sets on what a ServiceMonitor scrapes (job aside), as a plain scrape
    config's relabelling."""
    found = [{"action": "replace", "source_labels": [f"__meta_kubernetes_{source}"], "target_label": label}
             for source, label in (("namespace", "namespace"), ("service_name", "service"), ("pod_name", "pod"),
                                   ("pod_container_name", "container"))]
    return [*found, {"action": "replace", "target_label": "endpoint", "replacement": port}]


def scrape_config(cfg: Config) -> dict:
    """The ServiceMonitor's scrape for a Prometheus without the Operator: Kubernetes endpoints discovery, kept
    to the Service's labels and port as the Operator keeps them, then the same relabelling."""
    k = cfg.get("kubernetes")
    discovery = {"role": "endpointslice"}
    if k["service_namespaces"]:
        discovery["namespaces"] = {"names": k["service_namespaces"]}
    keep = [{"action": "keep", "source_labels": [f"__meta_kubernetes_service_label_{_label_meta(key)}"],
             "regex": value} for key, value in sorted(k["service_selector"].items())]
    keep.append({"action": "keep", "source_labels": ["__meta_kubernetes_endpointslice_port_name"], "regex": k["port"]})
    job = {"job_name": _job(cfg) or "cockroachdb", "scrape_interval": cfg["scrape_interval"],
           "metrics_path": _metrics_path(cfg), "scheme": k["scheme"], "kubernetes_sd_configs": [discovery],
           "relabel_configs": keep + operator_labels(k["port"]) + [snake(r) for r in relabelings(cfg)]}
    if k["scheme"] == "https":
        job["tls_config"] = {"insecure_skip_verify": k["tls_skip_verify"]}
    return {"scrape_configs": [job]}


def kustomization(cfg: Config, files: list[str]) -> dict:
    return {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
            "namespace": cfg.get("kubernetes.namespace"), "resources": files}


def render(cfg: Config, dashboards: dict[str, dict], rule_groups: list[dict],
           grafana_rules: tuple[str, str] | None = None) -> dict[str, str]:
    """Relative path -> text of every file under kubernetes/; ``grafana_rules``: the path and text of the
    Grafana-managed alert-rule file, when Grafana evaluates the alerts."""
    objects = {
        "prometheusrule.yaml": to_yaml(prometheus_rule(cfg, rule_groups)),
        "grafana-dashboards.yaml": to_yaml_documents(dashboard_configmaps(cfg, dashboards)),
    }
    if grafana_rules:
        objects["grafana-alerts.yaml"] = to_yaml(alert_configmap(cfg, *grafana_rules))
    if cfg.get("kubernetes.service_monitor"):
        objects["servicemonitor.yaml"] = to_yaml(service_monitor(cfg))
    files = {f"{DIR}/{name}": text for name, text in objects.items()}
    if cfg.get("kubernetes.service_monitor"):
        files[f"{DIR}/scrape-config.yaml"] = to_yaml(scrape_config(cfg))
    files[f"{DIR}/kustomization.yaml"] = to_yaml(kustomization(cfg, sorted(objects)))
    return files

"""Kubernetes objects for kube-prometheus-stack: a PrometheusRule, dashboard ConfigMaps for Grafana's
sidecar, a ServiceMonitor for CockroachDB, and a kustomization tying them together.

    kubernetes/prometheusrule.yaml      our alerting and recording rules (the groups of rules/*.rules.yml)
    kubernetes/grafana-dashboards.yaml  one ConfigMap per dashboard, labelled for the sidecar
    kubernetes/servicemonitor.yaml      scrapes each CockroachDB pod once on /_status/vars
    kubernetes/kustomization.yaml       `kubectl apply -k kubernetes/`
"""

from __future__ import annotations

from crdb_dash import __version__
from crdb_dash.model.config import Config
from crdb_dash.pipeline.serialize import to_json, to_yaml, to_yaml_documents

DIR = "kubernetes"
NAME = "crdb-backups"
CONFIGMAP_LIMIT = 1024 * 1024  # bytes of data a ConfigMap may hold
FILES = ("prometheusrule.yaml", "grafana-dashboards.yaml", "servicemonitor.yaml")


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


def _job(cfg: Config) -> str | None:
    """The job name the selector asks for (job="..."), so scraped series carry it."""
    import promql_parser

    matchers = promql_parser.parse("up{" + cfg["selector"] + "}").matchers.matchers
    return next((m.value for m in matchers if m.name == "job" and m.op == promql_parser.MatchOp.Equal), None)


def service_monitor(cfg: Config) -> dict:
    """Each pod once (the Helm chart's -public Service selects the same pods), named by pod, with the
    cluster label taken from the Helm release (app.kubernetes.io/instance)."""
    k = cfg.get("kubernetes")
    relabel = [
        {"action": "drop", "sourceLabels": ["__meta_kubernetes_service_name"], "regex": ".+-public"},
        {"action": "replace", "sourceLabels": ["__meta_kubernetes_service_label_app_kubernetes_io_instance"],
         "targetLabel": cfg.cluster},
        {"action": "replace", "sourceLabels": ["__meta_kubernetes_pod_name"], "targetLabel": "instance"},
    ]
    job = _job(cfg)
    if job is not None:
        relabel.append({"action": "replace", "targetLabel": "job", "replacement": job})
    endpoint = {"port": k["port"], "path": "/_status/vars", "scheme": k["scheme"],
                "interval": cfg["scrape_interval"], "relabelings": relabel}
    if k["scheme"] == "https":
        endpoint["tlsConfig"] = {"insecureSkipVerify": k["tls_skip_verify"]}
    spaces = {"matchNames": k["service_namespaces"]} if k["service_namespaces"] else {"any": True}
    return {"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor",
            "metadata": _metadata(cfg, f"{NAME}-cockroachdb", k["labels"]),
            "spec": {"selector": {"matchLabels": k["service_selector"]}, "namespaceSelector": spaces,
                     "endpoints": [endpoint]}}


def kustomization(cfg: Config) -> dict:
    return {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
            "namespace": cfg.get("kubernetes.namespace"), "resources": list(FILES)}


def render(cfg: Config, dashboards: dict[str, dict], rule_groups: list[dict]) -> dict[str, str]:
    """Relative path -> text of every file under kubernetes/."""
    return {
        f"{DIR}/prometheusrule.yaml": to_yaml(prometheus_rule(cfg, rule_groups)),
        f"{DIR}/grafana-dashboards.yaml": to_yaml_documents(dashboard_configmaps(cfg, dashboards)),
        f"{DIR}/servicemonitor.yaml": to_yaml(service_monitor(cfg)),
        f"{DIR}/kustomization.yaml": to_yaml(kustomization(cfg)),
    }

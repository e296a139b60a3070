"""Built with other label names, nothing reads or prints the default ones.

The model is a build with ``labels: {cluster: k8s_cluster, node: pod, tenant: vc}`` and another selector, as a
user whose Prometheus labels its targets differently would write. The output is checked where a label name can
appear: every PromQL expression (Prometheus and Grafana rules, dashboard targets, variable queries), every
legend, every ``$labels.`` template in alert texts and every link; and the rules run under ``promtool``.
Every ``on (...)`` and ``by (...)`` carries the cluster label, in both builds: clusters built from one
StatefulSet spec share pod names.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
import yaml

from crdb_dash.model import alerts, config, promql
from crdb_dash.pipeline import rules
from tests.conftest import ROOT, promtool, rule_test

CUSTOM = {"selector": 'job="crdb"', "labels": {"cluster": "k8s_cluster", "node": "pod", "tenant": "vc"}}
DEFAULT_NAMES = ("cluster", "instance", "tenant")
# a label name as a PromQL token: not a $variable, not part of a longer name (tenant_id is CockroachDB's own)
_TOKEN = r"(?<![\w$.]){}(?![\w])"
_GROUPING = re.compile(r"\b(on|by)\s*\(([^)]*)\)")


@pytest.fixture(scope="module")
def custom_build(tmp_path_factory):
    """Output root and config of a build through the CLI with renamed labels."""
    root = tmp_path_factory.mktemp("custom")
    path = root / "custom.yaml"
    path.write_text(yaml.safe_dump(CUSTOM))
    out = root / "out"
    out.mkdir()
    result = subprocess.run([sys.executable, "-m", "crdb_dash.cli", "--config", str(path), "build", "--out", str(out)],
                            capture_output=True, text=True, cwd=root)
    assert result.returncode == 0, result.stderr
    return out, config.load(path)


def _without_strings(expr: str) -> str:
    """The expression with quoted label values emptied: a matcher's value is not a label name."""
    return re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)


def _dashboards(out):
    return [json.loads(p.read_text()) for p in sorted((out / "provisioning/dashboards/crdb-backups").glob("*.json"))]


def _walk(node, key_names: set[str]):
    """(key, value) of every string under one of ``key_names``, anywhere in a JSON model."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in key_names and isinstance(value, str):
                yield key, value
            yield from _walk(value, key_names)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item, key_names)


def _expressions(out, cfg) -> list[str]:
    """Every PromQL expression the build wrote: rules, Grafana rules, dashboard targets and variable queries."""
    prom = yaml.safe_load((out / rules.RULES_FILE).read_text())
    grafana = rules.grafana_rules(cfg)  # written only with alerts.grafana_managed; the same rules either way
    exprs = [r["expr"] for g in prom["groups"] for r in g["rules"]]
    exprs += [d["model"]["expr"] for g in grafana["groups"] for r in g["rules"] for d in r["data"]
              if "expr" in d["model"]]
    for model in _dashboards(out):
        exprs += [value for _, value in _walk(model, {"expr"})]
        for variable in model["templating"]["list"]:
            if variable["type"] == "query":
                query = variable["query"]
                exprs.append(query["query"] if isinstance(query, dict) else query)
    assert len(exprs) > 100
    return exprs


def _annotations(out, cfg) -> list[str]:
    prom = yaml.safe_load((out / rules.RULES_FILE).read_text())
    grafana = rules.grafana_rules(cfg)  # written only with alerts.grafana_managed; the same rules either way
    return [text for doc in (prom, grafana) for g in doc["groups"] for r in g["rules"]
            for text in r.get("annotations", {}).values()]


def test_no_default_label_name_in_any_expression(custom_build):
    out, _ = custom_build
    for expr in _expressions(out, custom_build[1]):
        bare = _without_strings(expr)
        for name in DEFAULT_NAMES:
            assert not re.search(_TOKEN.format(name), bare), f"label {name!r} in {expr}"
        assert 'job="cockroachdb"' not in expr


def test_no_default_label_name_in_legends_links_or_alert_texts(custom_build):
    out, cfg = custom_build
    for model in _dashboards(out):
        for key, value in _walk(model, {"legendFormat", "url"}):
            for name in DEFAULT_NAMES:
                assert not re.search(r"\{\{\s*%s\s*\}\}" % name, value), f"{key} {value!r}"
                # var-cluster= in a link sets the dashboard variable named cluster, not a label
                assert not re.search(_TOKEN.format(name).replace("$.", "$.-") + r"\s*[=!]~?", value), f"{key} {value!r}"
    texts = _annotations(out, cfg)
    assert any(f"$labels.{cfg.cluster}" in t for t in texts) and any(f"$labels.{cfg.tenant}" in t for t in texts)
    for text in texts:
        for name in DEFAULT_NAMES:
            assert not re.search(r"\$labels\.%s\b" % name, text), text


@pytest.mark.parametrize("which", ["default", "custom"])
def test_every_on_and_by_carries_the_cluster_label(custom_build, cfg, which):
    out, custom = custom_build
    out, cfg, label = (ROOT, cfg, cfg.cluster) if which == "default" else (out, custom, custom.cluster)
    groupings = 0
    for expr in _expressions(out, cfg):
        for keyword, labels in _GROUPING.findall(_without_strings(expr)):
            if labels.strip() == promql.SELECTED:
                continue  # the tenant choice, matched against a constant vector(1) of that one label
            groupings += 1
            assert label in [name.strip() for name in labels.split(",")], f"{keyword} ({labels}) in {expr}"
    assert groupings > 100


# ---- the custom build's rules under promtool --------------------------------------------------------------
NODE = 'job="crdb", k8s_cluster="{cluster}", pod="cockroachdb-{n}", node_id="{n}", vc="{tenant}"'


def _s(metric: str, n: int, cluster: str = "east", tenant: str = "app") -> str:
    return f"{metric}{{{NODE.format(cluster=cluster, n=n, tenant=tenant)}}}"


def _fires(cfg, name: str, value: str, cluster: str = "east", tenant: str = "app") -> dict:
    (alert,) = [a for a in alerts.table(cfg) if a.name == name]
    notes = {k: v.replace(alerts.where(cfg), f"{cluster} (virtual cluster {tenant})")
             for k, v in rules.annotations(alert, cfg, value).items()}
    return {"exp_labels": {"severity": alert.severity, "k8s_cluster": cluster, "vc": tenant},
            "exp_annotations": notes}


def test_custom_build_passes_promtool(custom_build, tmp_path, rule_engine):
    out, cfg = custom_build
    rule_file = out / rules.RULES_FILE
    tool = [promtool(rule_engine), "check", "rules"] if rule_engine.kind == "prometheus" else [
        rule_engine.tool("vmalert"), "-dryRun", "-rule"]
    check = subprocess.run([*tool, str(rule_file)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    series = {
        _s("jobs_backup_resume_failed", 1): "0x29 1x30",
        # east: cockroachdb-0 holds the poller; cockroachdb-1 keeps a stale paused flag from before
        _s("jobs_backup_currently_paused", 0): "0x90",
        _s("jobs_poll_jobs_stats_currently_running", 0): "1x90",
        _s("jobs_backup_currently_paused", 1): "1x90",
        _s("jobs_poll_jobs_stats_currently_running", 1): "0x90",
        # west, pods named alike: cockroachdb-1 holds the poller, and a restore is paused there
        _s("jobs_restore_currently_paused", 1, "west"): "1x90",
        _s("jobs_poll_jobs_stats_currently_running", 1, "west"): "1x90",
        _s("jobs_poll_jobs_stats_currently_running", 0, "west"): "0x90",
    }
    expected = {"CockroachBackupJobFailed": [_fires(cfg, "JobFailed", "1")],
                "CockroachBackupRestoreJobPaused": [_fires(cfg, "RestoreJobPaused", "1", cluster="west")]}
    checks = [{"eval_time": "1h20m", "alertname": name, "exp_alerts": expected.get(name, [])}
              for name in sorted({a.alertname for a in alerts.table(cfg)})]
    rule_test(tmp_path, series, {"alert_rule_test": checks}, rule_file, engine=rule_engine)

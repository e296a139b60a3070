"""Grafana-managed alert rules: the provisioning file's structure, and that each matches its Prometheus twin."""

import promql_parser
import yaml

from crdb_dash import rules
from tests.conftest import ROOT

RULE_FIELDS = {"uid", "title", "condition", "data", "noDataState", "execErrState", "for", "labels", "annotations"}


def _doc():
    return yaml.safe_load((ROOT / rules.GRAFANA_FILE).read_text())


def test_file_shape(cfg):
    doc = _doc()
    assert doc["apiVersion"] == 1
    (group,) = doc["groups"]
    assert {"orgId", "name", "folder", "interval", "rules"} <= set(group)
    assert group["folder"] == cfg.get("grafana.folder")


def test_each_rule_is_complete_and_its_condition_names_a_refid(cfg):
    group = _doc()["groups"][0]
    uids, titles = set(), set()
    for rule in group["rules"]:
        assert set(rule) >= RULE_FIELDS, rule["title"]
        refs = [d["refId"] for d in rule["data"]]
        assert rule["condition"] in refs and len(refs) == len(set(refs))
        for d in rule["data"]:
            assert d["model"]["refId"] == d["refId"]
            if d["datasourceUid"] == "__expr__":
                assert d["model"]["expression"] in refs
            else:
                assert d["datasourceUid"] == cfg.get("datasource.uid")
                promql_parser.parse(d["model"]["expr"])
        assert rule["labels"]["severity"] in ("critical", "warning", "info")
        assert len(rule["uid"]) <= 40
        uids.add(rule["uid"])
        titles.add(rule["title"])
    assert len(uids) == len(titles) == len(group["rules"]) == len(rules.alerts(cfg))


def test_each_grafana_rule_matches_its_prometheus_rule(cfg):
    groups = yaml.safe_load((ROOT / rules.RULES_FILE).read_text())["groups"]
    prom = [r for g in groups for r in g["rules"] if "alert" in r]
    grafana = _doc()["groups"][0]["rules"]
    for p, g in zip(prom, grafana, strict=True):
        query = next(d for d in g["data"] if d["refId"] == "A")["model"]["expr"]
        (cond,) = next(d for d in g["data"] if d["refId"] == "C")["model"]["conditions"]
        op = {"gt": ">", "lt": "<"}[cond["evaluator"]["type"]]
        threshold = cond["evaluator"]["params"][0]
        assert p["expr"] == f"({query}) {op} {rules._number(threshold)}"
        assert p["for"] == g["for"] and p["labels"] == g["labels"]
        assert p["annotations"]["runbook_url"] == g["annotations"]["runbook_url"]


def test_grafana_alert_texts_are_the_prometheus_ones(cfg):
    """The same summary and description, by the configured label names; only the value's template differs."""
    groups = yaml.safe_load((ROOT / rules.RULES_FILE).read_text())["groups"]
    prom = [r for g in groups for r in g["rules"] if "alert" in r]
    for alert, p, g in zip(rules.alerts(cfg), prom, _doc()["groups"][0]["rules"], strict=True):
        assert g["annotations"]["summary"] == p["annotations"]["summary"]
        swapped = g["annotations"]["description"].replace(rules.value_template("$values.B.Value", alert),
                                                           rules.value_template("$value", alert))
        assert swapped == p["annotations"]["description"]
        assert rules.where(cfg) in p["annotations"]["description"]


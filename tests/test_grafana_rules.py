"""Grafana-managed alert rules: the provisioning file's structure, that each matches its Prometheus twin,
that the alerts go to one evaluator only, and that rules and dashboards share one folder."""

import promql_parser
import pytest
import yaml

from crdb_dash.model import alerts
from crdb_dash.pipeline import build, compiled, rules
from tests.conftest import ROOT, configured

RULE_FIELDS = {"uid", "title", "condition", "data", "noDataState", "execErrState", "for", "labels", "annotations"}


@pytest.fixture(scope="module")
def managed():
    """A build with alerts.grafana_managed: the Grafana rule file and the Prometheus file beside it."""
    cfg = configured(alerts={"grafana_managed": True})
    files = build.render(cfg)
    return cfg, files


def _doc(files):
    return yaml.safe_load(files[rules.GRAFANA_FILE])


def _prometheus_alerts(text: str) -> list[dict]:
    """The rule file's alerts, in the alert table's order (the groups split it)."""
    def key(name: str, labels: dict) -> tuple:
        return name, tuple(sorted(labels.items()))

    table = alerts.table(configured())
    order = {key(a.alertname, {"severity": a.severity, **a.labels}): i for i, a in enumerate(table)}
    found = [r for g in yaml.safe_load(text)["groups"] for r in g["rules"] if "alert" in r]
    return sorted(found, key=lambda r: order[key(r["alert"], r["labels"])])


def test_default_build_alerts_in_prometheus_only(cfg):
    """Issue 8.17: by default Prometheus evaluates the alerts and no Grafana rule file is written."""
    assert cfg.get("alerts.grafana_managed") is False
    files = build.render(cfg)
    assert rules.GRAFANA_FILE not in files and build.ALERTING_FILE not in files
    assert not (ROOT / rules.GRAFANA_FILE).exists(), "the committed default build must not alert twice"
    assert len(_prometheus_alerts(files[rules.RULES_FILE])) == len(alerts.table(cfg))


def test_grafana_managed_moves_every_alert_to_grafana_and_keeps_recording_rules(managed):
    cfg, files = managed
    assert rules.GRAFANA_FILE == build.ALERTING_FILE
    assert _prometheus_alerts(files[rules.RULES_FILE]) == []
    records = [r for g in yaml.safe_load(files[rules.RULES_FILE])["groups"] for r in g["rules"]]
    assert records and all("record" in r for r in records)
    assert len(_doc(files)["groups"][0]["rules"]) == len(alerts.table(cfg))


def test_file_shape(managed):
    cfg, files = managed
    doc = _doc(files)
    assert doc["apiVersion"] == 1
    (group,) = doc["groups"]
    assert {"orgId", "name", "folder", "interval", "rules"} <= set(group)
    assert group["folder"] == cfg.get("grafana.folder")


def test_each_rule_is_complete_and_its_condition_names_a_refid(managed):
    cfg, files = managed
    group = _doc(files)["groups"][0]
    uids = set()
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
    assert len(uids) == len(group["rules"]) == len(alerts.table(cfg))


def test_titles_are_the_prometheus_alert_names(managed):
    """Issue 14.15: Grafana sets the alertname label to the rule's title, so the title is the Prometheus name;
    variants sharing a name (two RPO severities, three PTS holders) differ by their labels, as in Prometheus."""
    cfg, files = managed
    titles = [r["title"] for r in _doc(files)["groups"][0]["rules"]]
    names = [r["alert"] for r in _prometheus_alerts(rules.render(configured())[rules.RULES_FILE])]
    assert titles == names
    assert all(" " not in t and "(" not in t for t in titles)
    variants = {}
    for rule in _doc(files)["groups"][0]["rules"]:
        key = (rule["title"], tuple(sorted(rule["labels"].items())))
        assert key not in variants, f"two rules named {rule['title']} with the same labels"
        variants[key] = rule["uid"]


def test_each_grafana_rule_matches_its_prometheus_rule(managed):
    cfg, files = managed
    prom = _prometheus_alerts(rules.render(configured())[rules.RULES_FILE])
    grafana = _doc(files)["groups"][0]["rules"]
    for p, g in zip(prom, grafana, strict=True):
        query = next(d for d in g["data"] if d["refId"] == "A")["model"]["expr"]
        (cond,) = next(d for d in g["data"] if d["refId"] == "C")["model"]["conditions"]
        op = {"gt": ">", "lt": "<"}[cond["evaluator"]["type"]]
        threshold = cond["evaluator"]["params"][0]
        assert p["expr"] == f"({query}) {op} {alerts._number(threshold)}"
        assert p["alert"] == g["title"]
        assert p["for"] == g["for"] and p["labels"] == g["labels"]
        assert p["annotations"]["runbook_url"] == g["annotations"]["runbook_url"]


def _provider(files) -> dict:
    (provider,) = yaml.safe_load(files[build.DASHBOARD_PROVIDER_FILE])["providers"]
    return provider


def test_rules_and_dashboards_share_one_folder(managed, cfg):
    """Issue 14.16: Grafana's alert-rule provisioning finds its folder by title only and runs before dashboard
    provisioning, creating the folder with a random uid; a provider with folderUid would then create a second
    folder of the same title. With rules provisioned, the provider addresses the folder by the same title."""
    _, files = managed
    provider = _provider(files)
    assert "folderUid" not in provider
    assert provider["folder"] == _doc(files)["groups"][0]["folder"] == cfg.get("grafana.folder")
    default = _provider(build.render(cfg))
    assert default["folderUid"] == cfg.get("grafana.folder_uid") and default["folder"] == cfg.get("grafana.folder")


def test_switching_grafana_managed_off_removes_the_rule_file(tmp_path, managed, cfg):
    _, files = managed
    build.write(files, tmp_path)
    assert (tmp_path / rules.GRAFANA_FILE).is_file()
    changed = build.write(build.render(cfg), tmp_path)
    assert rules.GRAFANA_FILE in changed.removed and not (tmp_path / rules.GRAFANA_FILE).exists()
    assert build.compare(build.render(cfg), tmp_path) == ""


@pytest.mark.parametrize("recorded", [False, True])
def test_each_grafana_rule_links_to_a_panel_showing_its_metric(cfg, recorded):
    from crdb_dash.model import promql
    from crdb_dash.model.catalog import METRICS

    cfg = configured(rpo={"recorded": recorded})
    models = compiled.dashboards(cfg)
    for rule in rules.grafana_rules(cfg)["groups"][0]["rules"]:
        annotations = rule["annotations"]
        assert annotations["__dashboardUid__"] == rule["dashboardUid"], rule["title"]
        assert annotations["__panelId__"] == str(rule["panelId"]), rule["title"]
        (panel,) = [p for p in models[rule["dashboardUid"]]["panels"] if p["id"] == rule["panelId"]]
        expr = next(d for d in rule["data"] if d["refId"] == "A")["model"]["expr"]
        names = [m.exported + "{" for m in METRICS] + [promql.COMPLIANT_RECORD + "["]  # the compliance alert's rule
        first = min((expr.index(name), name[:-1]) for name in names if name in expr)[1]
        assert any(first in t["expr"] for t in panel["targets"]), (rule["title"], panel["title"])
        # the Fleet table: each cluster now; a stat of now, or of the whole range (compliance)
        shows_now = panel["type"] == "table" or "now" in panel["title"] or "in range" in panel["title"]
        assert panel["type"] == "timeseries" or shows_now, (rule["title"], panel["title"])


def test_grafana_alert_texts_are_the_prometheus_ones(cfg):
    """The same summary and description, by the configured label names; only the value's template differs."""
    prom = _prometheus_alerts((ROOT / rules.RULES_FILE).read_text())
    for alert, p, g in zip(alerts.table(cfg), prom, rules.grafana_rules(cfg)["groups"][0]["rules"], strict=True):
        assert g["annotations"]["summary"] == p["annotations"]["summary"]
        swapped = g["annotations"]["description"].replace(rules.value_template("$values.B.Value", alert),
                                                           rules.value_template("$value", alert))
        assert swapped == p["annotations"]["description"]
        description = p["annotations"]["description"]
        assert alerts.where(cfg) in description or "$labels.tenant_id" in description



def test_each_prometheus_rule_group_fits_mimirs_default_limit_and_every_alert_is_in_one():
    cfg = configured(rpo={"overrides": [{"match": {"cluster": "daily-.*"}, "warning": "26h", "critical": "30h"}]})
    groups = rules.prometheus_groups(cfg)
    assert [g["name"] for g in groups] == [rules.RECORDS_GROUP, rules.GROUP, rules.JOBS_GROUP, rules.RUNNING_GROUP]
    assert max(len(g["rules"]) for g in groups) <= rules.MOST_RULES
    shipped = sorted(r["alert"] for g in groups for r in g["rules"] if "alert" in r)
    assert shipped == sorted(a.alertname for a in alerts.table(cfg))

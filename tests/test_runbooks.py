"""Runbooks: every alert links to a section that exists, in docs/runbooks.md and on the runbooks dashboard,
and the SQL they give is the current CockroachDB syntax."""

import re

import jsonschema
import pytest

from crdb_dash.dashboards import runbooks
from crdb_dash.model import alerts
from crdb_dash.pipeline import compiled, rules
from tests.conftest import ROOT, config_error, configured
from tests.test_dashboards import _errors, _load

DOC = (ROOT / "docs" / "runbooks.md").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def dashboard(cfg):
    return compiled.dashboards(cfg)[runbooks.dashboard_uid(cfg)]


def test_every_alert_has_a_section_in_the_doc_and_a_panel_on_the_dashboard(cfg, dashboard):
    panels = {p["id"]: p for p in dashboard["panels"]}
    for alert in alerts.table(cfg):
        assert f'<a id="{alert.runbook}"></a>\n## {alert.alertname} (' in DOC, alert.alertname
        panel = panels[runbooks.panel_id(alert.runbook)]
        assert panel["title"].startswith(alert.alertname + " (")
        assert f'<a id="{alert.runbook}"></a>' in panel["options"]["content"]


def test_every_section_of_the_doc_is_on_the_dashboard(dashboard):
    _, sections = runbooks.document()
    assert len(sections) == len(re.findall(r'^<a id="', DOC, re.MULTILINE)) >= 16
    texts = [p for p in dashboard["panels"] if p["type"] == "text"]
    assert len(texts) == len(dashboard["panels"]) == len(sections) + 1
    for section in sections:
        body = section.body.strip()
        assert any(body in p["options"]["content"] for p in texts), section.title


def test_runbooks_dashboard_validates_against_grafanas_schema(dashboard, schema_dir):
    validator = jsonschema.Draft7Validator(_load(schema_dir, "dashboard"))
    assert _errors(validator, dashboard) == []
    schema = _load(schema_dir, "text")
    options = jsonschema.Draft7Validator({**schema, "$ref": "#/definitions/Options"})
    for panel in dashboard["panels"]:
        assert _errors(options, panel["options"]) == [], panel["title"]


def test_runbook_url_points_at_the_dashboard_when_grafana_url_is_set():
    """Issue 8.16: the default linked to a repository that does not exist."""
    cfg = configured(grafana={"url": "https://grafana.example.com/"})
    for alert in alerts.table(cfg):
        url = rules.runbook_url(alert, cfg)
        assert url == (f"https://grafana.example.com/d/{cfg.get('grafana.uid_prefix')}-runbooks"
                       f"?viewPanel={runbooks.panel_id(alert.runbook)}")
    doc = rules.prometheus_rules(cfg)
    assert all(r["annotations"]["runbook_url"].startswith("https://grafana.example.com/d/")
               for g in doc["groups"] for r in g["rules"] if "alert" in r)


def test_runbook_url_prefers_a_configured_copy_and_falls_back_to_the_doc(cfg):
    mine = configured(alerts={"runbook_url": "https://wiki.example.com/crdb/runbooks.md"},
                grafana={"url": "https://grafana.example.com"})
    fallback = cfg
    for alert in alerts.table(cfg):
        assert rules.runbook_url(alert, mine) == f"https://wiki.example.com/crdb/runbooks.md#{alert.runbook}"
        assert rules.runbook_url(alert, fallback) == f"docs/runbooks.md#{alert.runbook}"
    committed = (ROOT / rules.RULES_FILE).read_text()
    assert "github.com" not in committed and "docs/runbooks.md#" in committed


@pytest.mark.parametrize("text, key", [
    ("grafana: {url: 'grafana.example.com'}\n", "'grafana.url'"),
    ("alerts: {runbook_url: 'not a url'}\n", "'alerts.runbook_url'"),
    ("alerts: {grafana_managed: 'yes'}\n", "'alerts.grafana_managed'"),
    ("datasource: {provision: 1}\n", "'datasource.provision'"),
    ("alerts: {grafana_managed: true}\nschema_version: 40\n", "'alerts.grafana_managed'.*Grafana 12"),
])
def test_bad_delivery_settings_name_the_key(tmp_path, text, key):
    assert re.search(key, config_error(tmp_path / "c.yaml", text))


def test_runbook_sql_is_current_cockroachdb_syntax():
    """Issue 8.30: SHOW SCHEDULES has no last_run column; SHOW BACKUP needs FROM ... IN since v24.3."""
    assert "last_run" not in DOC
    assert not re.search(r"SHOW BACKUP (LATEST|')", DOC)
    for statement in ("SHOW BACKUP FROM LATEST IN", "SHOW SCHEDULES FOR BACKUP", "SHOW CREATE SCHEDULE",
                      "crdb_internal.kv_protected_ts_records", "allow_unsafe_internals"):
        assert statement in DOC, statement
    assert re.search(r"v2\d\.\d", DOC.split('<a id="')[0]), "the introduction cites the CockroachDB version checked"

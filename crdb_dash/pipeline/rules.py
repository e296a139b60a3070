"""The alert table rendered two ways, and the rule files.

Prometheus gets ``value op threshold``; Grafana-managed rules get the value as query A, reduced to its last
value (B) and compared by a threshold expression (C).
"""

from __future__ import annotations

from crdb_dash.dashboards import panel_showing, runbooks
from crdb_dash.model import alerts, promql
from crdb_dash.model.alerts import VALUE, Alert
from crdb_dash.model.config import Config
from crdb_dash.pipeline import compiled
from crdb_dash.pipeline.serialize import to_yaml

GROUP = "cockroachdb-backups"  # the recovery point's alerts in Prometheus; every alert in Grafana
RECORDS_GROUP = f"{GROUP}-records"
JOBS_GROUP = f"{GROUP}-jobs"  # the alerts on jobs, schedules, protected timestamps and KMS, in Prometheus
RUNNING_GROUP = f"{GROUP}-running"  # the jobs running too long: the costliest alerts, beside the others
MOST_RULES = 20  # rules a group may hold: Grafana Mimir's default limit (ruler.max-rules-per-rule-group)
RULES_FILE = promql.RULES_FILE
GRAFANA_FILE = "provisioning/alerting/crdb-backups.yaml"


def annotations(alert: Alert, cfg: Config, value: str) -> dict:
    return {
        "summary": alert.summary,
        "description": alert.description.replace(VALUE, value),
        "runbook_url": runbook_url(alert, cfg),
    }


def runbook_url(alert: Alert, cfg: Config) -> str:
    """Where the alert's runbook is: the configured copy, else the runbooks dashboard, else docs/runbooks.md.

    The last is a path in this project (there is no public copy to link to); set grafana.url to get links.
    """
    if cfg.get("alerts.runbook_url"):
        return f"{cfg.get('alerts.runbook_url')}#{alert.runbook}"
    if cfg.get("grafana.url"):
        return runbooks.url(cfg.get("grafana.url"), runbooks.dashboard_uid(cfg), alert.runbook)
    return f"{runbooks.RELATIVE_SOURCE}#{alert.runbook}"


def value_template(variable: str, alert: Alert) -> str:
    """How the firing value reads in a description: ``$value`` in Prometheus, ``$values.B.Value`` in Grafana."""
    return "{{ %s | %s }}" % (variable, alert.fmt) if alert.fmt else "{{ %s }}" % variable


def prometheus_rules(cfg: Config) -> dict:
    rules = [{
        "alert": a.alertname, "expr": a.expr, "for": a.for_,
        "labels": {"severity": a.severity, **a.labels},
        "annotations": annotations(a, cfg, value_template("$value", a)),
    } for a in alerts.table(cfg)]
    interval = cfg.get("alerts.evaluation_interval")
    # The records in one group: evaluated in order, each reading the ones before it at the same evaluation.
    records = alerts.recording_rules(cfg) + alerts.compliance_rules(cfg) + alerts.fleet_rules(cfg)
    # Each group is evaluated on its own and at once with the others: none takes a tenth of its interval for 1,000
    # clusters (bench/), and none holds more than Mimir's default 20 rules.
    names = {r["alert"]: r["alert"].removeprefix(alerts.PREFIX) for r in rules}
    recovery = [r for r in rules if names[r["alert"]] in alerts.RECOVERY_POINT_ALERTS]
    running = [r for r in rules if names[r["alert"]] in alerts.RUNNING_LONG_ALERTS]
    others = [r for r in rules if r not in recovery and r not in running]
    return {"groups": [{"name": name, "interval": interval, "rules": group} for name, group in (
        (RECORDS_GROUP, records), (GROUP, recovery), (JOBS_GROUP, others), (RUNNING_GROUP, running))]}


def grafana_rules(cfg: Config, models: dict[str, dict] | None = None) -> dict:
    """The same alerts in Grafana's alert-rule file-provisioning format, each linked to the panel of its metric
    in ``models`` (the compiled dashboards; compiled here when the caller has none)."""
    models = compiled.dashboards(cfg) if models is None else models
    window = cfg.seconds("rpo.window")
    rules = []
    for a in alerts.table(cfg):
        rules.append({
            # Grafana makes the title the alertname label: the Prometheus name, so routes and silences match.
            "uid": a.uid, "title": a.alertname,
            "condition": "C",
            "data": [
                {"refId": "A", "datasourceUid": cfg.get("datasource.uid"),
                 "relativeTimeRange": {"from": window, "to": 0},
                 "model": {"refId": "A", "expr": a.value, "instant": True, "range": False,
                           "datasource": {"type": "prometheus", "uid": cfg.get("datasource.uid")}}},
                {"refId": "B", "datasourceUid": "__expr__", "relativeTimeRange": {"from": 0, "to": 0},
                 "model": {"refId": "B", "type": "reduce", "expression": "A", "reducer": "last",
                           "settings": {"mode": "dropNN"}, "datasource": {"type": "__expr__", "uid": "__expr__"}}},
                {"refId": "C", "datasourceUid": "__expr__", "relativeTimeRange": {"from": 0, "to": 0},
                 "model": {"refId": "C", "type": "threshold", "expression": "B",
                           "conditions": [{"evaluator": {"type": "gt" if a.op == ">" else "lt",
                                                         "params": [a.threshold]}}],
                           "datasource": {"type": "__expr__", "uid": "__expr__"}}},
            ],
            "noDataState": "OK", "execErrState": "Error", "for": a.for_,
            "labels": {"severity": a.severity, **a.labels},
            "annotations": annotations(a, cfg, value_template("$values.B.Value", a)),
        })
        if where := panel_showing(models, a.value, cfg.naming):
            rules[-1].update(dashboardUid=where[0], panelId=where[1])
            rules[-1]["annotations"].update(__dashboardUid__=where[0], __panelId__=str(where[1]))
    return {"apiVersion": 1, "groups": [{
        "orgId": 1, "name": GROUP, "folder": cfg.get("grafana.folder"),
        "interval": cfg.get("alerts.evaluation_interval"), "rules": rules,
    }]}


def render(cfg: Config, models: dict[str, dict] | None = None) -> dict[str, str]:
    """The rule files; the alerts go to exactly one evaluator, so that none fires twice. ``models``: as for
    ``grafana_rules``."""
    files = {RULES_FILE: prometheus_file(cfg)}
    if cfg.get("alerts.grafana_managed"):
        files[GRAFANA_FILE] = to_yaml(grafana_rules(cfg, models))
    return files


def prometheus_file(cfg: Config) -> str:
    """The text of the rule file Prometheus loads (RULES_FILE)."""
    return to_yaml({"groups": prometheus_groups(cfg)})


def history_file(cfg: Config) -> str:
    """The rule file for a history evaluated at once (a backfill, a replay): the rules that read their own earlier
    values written as expressions of stored samples (alerts.history_forms), the others as shipped."""
    forms = alerts.history_forms()
    groups = [{**g, "rules": [{**r, "expr": forms.get(r.get("record"), r["expr"])} for r in g["rules"]]}
              for g in prometheus_groups(cfg)]
    return to_yaml({"groups": groups})


def prometheus_groups(cfg: Config) -> list[dict]:
    """The rule groups Prometheus loads: recording rules, and the alerts unless Grafana evaluates them."""
    groups = prometheus_rules(cfg)["groups"]
    if cfg.get("alerts.grafana_managed"):
        return [g for g in groups if not any("alert" in r for r in g["rules"])]
    return groups

"""The one place that turns grafanalib's output into Grafana's current dashboard JSON model.

grafanalib 0.7.1 emits schemaVersion 12 and many long-dropped keys (GRAFANA.md lists them).
Each panel, target and variable is cut down to the keys Grafana's JSON Schema knows, and
the datasource, ids, refIds and thresholds are set here, once, for every dashboard.
"""

from __future__ import annotations

import json
import string

from grafanalib._gen import DashboardEncoder

DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}

DASHBOARD_KEYS = {
    "id", "uid", "title", "description", "tags", "timezone", "editable", "graphTooltip", "time", "timepicker",
    "fiscalYearStartMonth", "liveNow", "weekStart", "refresh", "schemaVersion", "version", "panels",
    "templating", "annotations", "links",
}
PANEL_KEYS = {
    "type", "id", "targets", "title", "description", "transparent", "datasource", "gridPos", "links", "repeat",
    "repeatDirection", "maxPerRow", "transformations", "interval", "timeFrom", "timeShift", "options",
    "fieldConfig",
}
ROW_KEYS = {"type", "collapsed", "title", "gridPos", "id", "panels"}
TARGET_KEYS = {"expr", "legendFormat", "refId", "instant", "range", "format", "interval", "datasource", "editorMode"}
VARIABLE_KEYS = {
    "type", "name", "label", "hide", "description", "query", "datasource", "current", "multi", "options", "refresh",
    "sort", "includeAll", "allValue", "regex", "definition",
}
THRESHOLD_KEYS = {"color", "value"}
ANNOTATION_KEYS = {"name", "enable", "hide", "iconColor", "expr", "step", "titleFormat", "textFormat", "tagKeys",
                   "useValueForTime"}
# Options current Grafana writes for each panel type that grafanalib does not know about.
OPTION_DEFAULTS = {
    "stat": {"wideLayout": True, "showPercentChange": False, "percentChangeColorMode": "standard"},
    "timeseries": {"legend": {"showLegend": True}},
    "table": {"showHeader": True, "frameIndex": 0, "cellHeight": "sm",
              "footer": {"show": False, "reducer": ["sum"], "countRows": False}},
}


def dashboard(grafanalib_dashboard, schema_version: int) -> dict:
    """Grafana's classic JSON model of ``grafanalib_dashboard``, ready to write or post."""
    raw = json.loads(json.dumps(grafanalib_dashboard.to_json_data(), cls=DashboardEncoder))
    out = _keep(raw, DASHBOARD_KEYS)
    out["id"] = None
    out["schemaVersion"] = schema_version
    out["version"] = 1
    out["timepicker"] = {"refresh_intervals": raw["timepicker"]["refresh_intervals"]}
    out["templating"] = {"list": [_variable(v) for v in raw["templating"]["list"]]}
    out["links"] = [_link(link) for link in raw.get("links", [])]
    out["annotations"] = {"list": [_annotation(a) for a in raw.get("annotations", {}).get("list", [])]}
    out["panels"] = _panels(raw["panels"])
    return out


def _keep(obj: dict, keys: set[str]) -> dict:
    return {k: v for k, v in obj.items() if k in keys and v is not None}


def _panels(panels: list[dict]) -> list[dict]:
    out = []
    for panel_id, panel in enumerate(panels, start=1):
        out.append(_row(panel) if panel["type"] == "row" else _panel(panel))
        out[-1]["id"] = panel_id
    return out


def _row(row: dict) -> dict:
    out = _keep(row, ROW_KEYS)
    out["collapsed"] = bool(row.get("collapsed", False))
    out["panels"] = []
    return out


def _panel(panel: dict) -> dict:
    if panel["type"] == "text":
        return _text(panel)
    out = _keep(panel, PANEL_KEYS)
    out["datasource"] = DATASOURCE
    out["targets"] = [_target(t, ref) for t, ref in zip(panel["targets"], string.ascii_uppercase, strict=False)]
    out["fieldConfig"] = _field_config(panel["fieldConfig"], panel["type"])
    out["options"] = _with_defaults(panel["options"], OPTION_DEFAULTS[panel["type"]])
    if "interval" in out and not out["interval"]:
        del out["interval"]
    for key in ("links", "transformations"):
        out.setdefault(key, [])
    return out


def _text(panel: dict) -> dict:
    """A markdown text panel: no datasource, no queries."""
    out = _keep(panel, PANEL_KEYS - {"datasource", "targets", "fieldConfig", "interval", "maxPerRow"})
    out["options"] = {"mode": panel["options"]["mode"], "content": panel["options"]["content"],
                      "code": {"language": "plaintext", "showLineNumbers": False, "showMiniMap": False}}
    out.setdefault("links", [])
    return out


def _with_defaults(options: dict, defaults: dict) -> dict:
    out = dict(options)
    for key, value in defaults.items():
        out[key] = _with_defaults(out.get(key, {}), value) if isinstance(value, dict) else out.get(key, value)
    return out


def _target(target: dict, ref_id: str) -> dict:
    out = _keep(target, TARGET_KEYS)
    out["refId"] = ref_id
    out["datasource"] = DATASOURCE
    out["range"] = not out.get("instant", False)
    out["editorMode"] = "code"
    if not out.get("interval"):
        out.pop("interval", None)
    return out


def _field_config(config: dict, panel_type: str) -> dict:
    defaults = {k: v for k, v in config["defaults"].items() if v is not None}
    steps = defaults.get("thresholds", {}).get("steps") or [{"color": "green", "value": None}]
    defaults["thresholds"] = {"mode": "absolute", "steps": [_step(s, i) for i, s in enumerate(steps)]}
    color = defaults.get("color") or {}
    defaults["color"] = color if "fixedColor" in color else {
        "mode": "thresholds" if panel_type in ("stat", "table") else "palette-classic"}
    custom = {k: v for k, v in defaults.get("custom", {}).items() if v is not None}
    if panel_type == "table":
        custom = _table_custom(custom)
    if custom.get("stacking") == {}:
        custom["stacking"] = {"group": "A", "mode": "none"}
    defaults["custom"] = custom
    return {"defaults": defaults, "overrides": config.get("overrides", [])}


def _table_custom(custom: dict) -> dict:
    """grafanalib's table field options: displayMode became cellOptions (Grafana 10); inspect is required."""
    mode = custom.pop("displayMode", "auto")
    return {"align": "auto", "inspect": False, **custom, "cellOptions": {"type": mode}}


def _step(step: dict, index: int) -> dict:
    out = _keep(step, THRESHOLD_KEYS)
    out["value"] = None if index == 0 else step["value"]
    return out


def _variable(var: dict) -> dict:
    out = _keep(var, VARIABLE_KEYS)
    if out["type"] == "query":
        out["datasource"] = DATASOURCE
        out["definition"] = out["query"]
    for key in ("label", "regex"):
        if out.get(key) in ("", None):
            out.pop(key, None)
    if not out.get("allValue"):
        out.pop("allValue", None)
    out["current"] = _keep(out.get("current") or {}, {"selected", "text", "value"})
    if out["current"].get("value") == "$__all":
        out["current"] = {"selected": True, "text": ["All"], "value": ["$__all"]}
    if out["current"].get("value") is None:
        out["current"] = {"selected": False, "text": "", "value": ""}
    return out


def _annotation(annotation: dict) -> dict:
    """A Prometheus annotation query on the dashboard's datasource, its toggle shown at the top. The classic
    form, top-level ``expr`` and ``step``: the one Grafana's typed models know; Grafana moves both into
    ``target`` on load."""
    out = _keep(annotation, ANNOTATION_KEYS)
    out["datasource"] = DATASOURCE
    out.setdefault("hide", False)
    out.setdefault("useValueForTime", False)
    return out


def _link(link: dict) -> dict:
    out = {k: link[k] for k in ("title", "type", "icon", "tooltip", "tags", "asDropdown", "targetBlank",
                                "includeVars", "keepTime") if k in link}
    if link.get("url"):
        out["url"] = link["url"]
    return out

"""Run a dashboard's queries as Grafana does: variables from their own queries, then each panel's targets
with the interval Grafana derives from the panel's width.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from crdb_dash.delivery.doctor import without_credentials
from crdb_dash.pipeline.interpolate import Vars, multi_value, substitute
from crdb_dash.preview import layout
from crdb_dash.simulation import promrun

# ---- variables --------------------------------------------------------------------------------------------

_LABEL_VALUES = re.compile(r"^\s*label_values\(\s*(?:(.*),\s*)?(\w+)\s*\)\s*$", re.S)
_QUERY_RESULT = re.compile(r"^\s*query_result\((.*)\)\s*$", re.S)


def _number(text: str) -> float:
    """Grafana's numerical variable sort reads the first number in a value; values without one sort first."""
    found = re.search(r"-?\d+(\.\d+)?", text)
    return float(found.group()) if found else -float("inf")


_SORTS = {1: (False, str), 2: (True, str), 3: (False, _number), 4: (True, _number), 5: (False, str.lower),
          6: (True, str.lower)}


class VariableError(Exception):
    """A variable whose query cannot be run; the message is one line."""


def resolve_variables(model: dict, prom, start: float, end: float, datasource: str,
                      chosen: dict[str, str] | None = None) -> dict[str, list[str] | None]:
    """Each variable's value as Grafana picks it on load: its current value if still offered, else its first
    option (All, None here, for a variable that includes All). ``chosen`` overrides (name -> value)."""
    chosen = chosen or {}
    values: dict[str, list[str] | None] = {}
    for var in model.get("templating", {}).get("list", []):
        name, kind = var["name"], var.get("type")
        if kind == "datasource":
            values[name] = [datasource]
            continue
        current = (var.get("current") or {}).get("value")
        current = current if isinstance(current, list) else ([current] if current not in (None, "") else [])
        if kind in ("constant", "textbox", "custom", "interval"):
            values[name] = [chosen.get(name, current[0] if current else str(var.get("query", "")))]
            continue
        if kind != "query":
            values[name] = current or [""]
            continue
        options = _options(var, prom, start, end, _vars_for(values, 0, end - start))
        kept = [v for v in current if v in options]
        if name in chosen:
            values[name] = None if chosen[name] == "All" and var.get("includeAll") else [chosen[name]]
        elif var.get("includeAll") and (current == ["$__all"] or not kept):
            values[name] = None  # All comes first among the options of a variable that includes it
        else:
            values[name] = kept or options[:1] or [""]
    return values


def _options(var: dict, prom, start: float, end: float, v: Vars) -> list[str]:
    query = var.get("query")
    query = query.get("query", "") if isinstance(query, dict) else (query or "")
    try:
        query = substitute(query, v)
    except KeyError as exc:
        raise VariableError(f"variable ${var['name']}: {exc.args[0]}") from None
    result = _QUERY_RESULT.match(query)
    match = _LABEL_VALUES.match(query)
    if result:
        found = [_series_text(s) for s in prom.query(result.group(1), end)["result"]]
    elif match:
        selector, label = match.group(1), match.group(2)
        found = label_values(prom, label, {"start": start, "end": end, **({"match[]": selector} if selector else {})})
    else:
        raise VariableError(f"variable ${var['name']}: only label_values() and query_result() queries are "
                            f"supported, not {query!r}")
    if var.get("regex"):
        pattern = re.compile(var["regex"].strip("/"))
        found = [m.group(1) if m.groups() else v for v in found if (m := pattern.search(v))]
    reverse, key = _SORTS.get(var.get("sort", 0), (False, None))
    return sorted(set(found), key=key, reverse=reverse) if key else list(dict.fromkeys(found))


def _series_text(series: dict) -> str:
    """How query_result() shows a series to the variable's regex: name{label="value",...} value timestamp."""
    labels = dict(series["metric"])
    name = labels.pop("__name__", "")
    inner = ",".join(f'{k}="{val}"' for k, val in labels.items())
    at, value = series["value"]
    return f"{name}{{{inner}}} {value} {int(float(at) * 1000)}"


def label_values(prom, label: str, params: dict) -> list[str]:
    """GET /api/v1/label/<label>/values, what Grafana's label_values() runs."""
    url = f"{prom.url}/api/v1/label/{urllib.parse.quote(label)}/values?" + urllib.parse.urlencode(params)
    try:
        with urllib.request.urlopen(prom.request(url), timeout=60) as resp:
            return json.load(resp)["data"]
    except urllib.error.HTTPError as exc:
        raise promrun.PrometheusError(f"label values of {label} refused: HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise promrun.PrometheusError(f"cannot reach Prometheus at {prom.url}: {getattr(exc, 'reason', exc)}") from None
    except (ValueError, KeyError):
        raise promrun.PrometheusError(f"{prom.url} did not answer like Prometheus") from None


def _vars_for(values: dict[str, list[str] | None], scrape: int, range_seconds: float, max_data_points: int = 1000,
              min_interval: int | None = None) -> Vars:
    single = {k: _text(v) for k, v in values.items() if k not in ("cluster", "node", "tenant")}
    cluster = (values.get("cluster") or [""])[0]
    return Vars(cluster=cluster, range_seconds=int(range_seconds), scrape_seconds=scrape,
                nodes=values.get("node"), tenants=values.get("tenant"),
                datasource=single.pop("datasource", "prometheus"), extra=single, min_interval=min_interval,
                max_data_points=max_data_points)


def _text(value: list[str] | None) -> str:
    """A variable's value in a query: one value as it is; All (its allValue .*, as every variable of ours sets)
    and several values (a regex alternation) as substitute() formats a multi-value variable."""
    return value[0] if value is not None and len(value) == 1 else multi_value(value)


# ---- panels -------------------------------------------------------------------------------------------------


@dataclass
class TargetResult:
    ref_id: str
    legend: str
    expr: str
    series: list[dict]
    step: float


def panel_vars(panel: dict, target: dict, values: dict, range_seconds: int, scrape: int) -> Vars:
    """The variables one target of a panel runs with: Grafana sends the panel's width in pixels as max data
    points (unless the panel sets maxDataPoints) and the query's or panel's min interval."""
    from crdb_dash.model.config import parse_duration

    width = panel.get("maxDataPoints") or layout.content_width(panel["gridPos"]["w"])
    low = target.get("interval") or panel.get("interval")
    min_interval = parse_duration(low.lstrip(">")) if low else None
    return _vars_for(values, scrape, range_seconds, int(width), min_interval)


def run_panel(prom, panel: dict, values: dict, at: int, range_seconds: int, scrape: int) -> list[TargetResult]:
    out = []
    for target in panel.get("targets", []):
        if target.get("hide") or not target.get("expr"):
            continue
        v = panel_vars(panel, target, values, range_seconds, scrape)
        try:
            expr = substitute(target["expr"], v)
        except KeyError as exc:
            raise VariableError(exc.args[0]) from None
        if target.get("instant") and not target.get("range"):
            series = prom.query(expr, at)["result"]
        else:
            end = at - at % v.step
            series = prom.query_range(expr, end - range_seconds, end, v.step)["result"]
        out.append(TargetResult(target.get("refId", ""), target.get("legendFormat", ""), expr, series, v.step))
    return out


class Remote(promrun.Prometheus):
    """A Prometheus someone else runs: the same queries, errors as one line, nothing started or stopped."""

    def __init__(self, url: str):
        super().__init__(Path("."))
        url, self.headers = without_credentials(url)
        self._url = url.rstrip("/")

    @property
    def url(self) -> str:
        return self._url

    def start(self) -> None:
        self.query("1", 0)

    def stop(self, keep_workdir: bool = False) -> None:
        pass

    def _get(self, path: str, params: dict) -> dict:
        try:
            return super()._get(path, params)
        except promrun.PrometheusError:
            raise
        except urllib.error.HTTPError as exc:
            wants = " (it wants credentials: https://user:password@host)" if exc.code == 401 else ": is it Prometheus?"
            raise promrun.PrometheusError(f"{self.url}{path} answered HTTP {exc.code}{wants}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise promrun.PrometheusError(f"cannot reach Prometheus at {self.url}: "
                                          f"{getattr(exc, 'reason', exc)}") from None
        except (ValueError, KeyError):
            raise promrun.PrometheusError(f"{self.url} did not answer like Prometheus") from None


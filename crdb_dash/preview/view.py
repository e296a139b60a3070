"""What each panel shows, decided from the query results the way Grafana decides it: stat texts and colours,
series with their legend values and colours, threshold lines, tables, text. Drawing reads only this."""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, field

from crdb_dash.preview import format as F
from crdb_dash.preview.query import TargetResult


@dataclass
class StatValue:
    name: str
    value: float | None
    text: str  # what the panel reads, e.g. "1.03 hour", "Unknown", "No data"
    color: str  # the colour's name as configured ("green", "orange") or hex
    hex: str


@dataclass
class Series:
    name: str
    times: list[float]
    values: list[float | None]
    hex: str
    legend: dict[str, str]  # calc display name -> formatted value


@dataclass
class PanelView:
    id: int
    type: str
    title: str
    grid: dict
    unit: str = ""
    stats: list[StatValue] = field(default_factory=list)
    series: list[Series] = field(default_factory=list)
    draw_style: str = "line"
    fill_opacity: float = 10
    threshold_lines: list[tuple[float, str]] = field(default_factory=list)  # (value, hex), dashed
    axis_min: float | None = None
    axis_max: float | None = None
    soft_min: float | None = None  # custom.axisSoftMin / axisSoftMax: the axis reaches at least this far
    soft_max: float | None = None
    legend_calcs: list[str] = field(default_factory=list)
    show_legend: bool = True
    columns: list[str] = field(default_factory=list)
    column_widths: list[float | None] = field(default_factory=list)  # custom.width in pixels, None: a share
    rows: list[list[str]] = field(default_factory=list)
    cell_colors: list[list[str]] = field(default_factory=list)  # hex background per cell, "" for none
    transparent: bool = False
    collapsed: int | None = None  # a collapsed row: how many panels it hides
    text: str = ""
    error: str = ""
    decimals: int | None = None
    time_range: tuple[float, float] = (0.0, 0.0)  # unix seconds the x axis spans
    queries: list[tuple[str, str, float]] = field(default_factory=list)  # (refId, expr as sent, step)


def _defaults(panel: dict) -> dict:
    return (panel.get("fieldConfig") or {}).get("defaults") or {}


def field_config(panel: dict, name: str, ref_id: str = "") -> dict:
    """The defaults with the overrides that match a field (byName, byRegexp, byFrameRefID) applied in order;
    "custom.x" properties go under custom, as in Grafana's fieldConfig."""
    config = {**_defaults(panel), "custom": dict(_defaults(panel).get("custom") or {})}
    for override in (panel.get("fieldConfig") or {}).get("overrides") or []:
        matcher = override.get("matcher") or {}
        kind, option = matcher.get("id"), matcher.get("options")
        hit = ((kind == "byName" and option == name) or (kind == "byFrameRefID" and option == ref_id)
               or (kind == "byRegexp" and isinstance(option, str) and re.fullmatch(option.strip("/"), name)))
        for prop in override.get("properties") or [] if hit else []:
            key, value = prop.get("id", ""), prop.get("value")
            if key.startswith("custom."):
                config["custom"][key.removeprefix("custom.")] = value
            else:
                config[key] = value
    return config


def _num(text) -> float | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(value) else value


def display(value: float | None, defaults: dict, now: float) -> tuple[str, str]:
    """Grafana's display processor for one value: (text, colour name). Mappings first, then noValue for a
    missing value, then unit and decimals; the colour from a mapping's colour, else the thresholds."""
    mapped = F.map_value(value, defaults.get("mappings") or [])
    step = F.active_step(value if value is not None else -math.inf, defaults.get("thresholds"),
                         defaults.get("min"), defaults.get("max"))
    color = step.get("color", "green")
    if (defaults.get("color") or {}).get("mode") == "fixed":
        color = defaults["color"].get("fixedColor", color)
    if mapped and mapped.color:
        color = mapped.color
    if mapped and mapped.text is not None:
        return mapped.text, color
    if value is None:
        return defaults.get("noValue") or "No data", color
    return str(F.format_value(value, defaults.get("unit"), defaults.get("decimals"), now=now)), color


def stat_view(panel: dict, results: list[TargetResult], view: PanelView, now: float) -> None:
    defaults = _defaults(panel)
    calc = ((panel.get("options") or {}).get("reduceOptions") or {}).get("calcs", ["lastNotNull"])[0]
    pairs = [(result, series) for result in results for series in result.series]
    for r, s in ordered_series(panel, pairs):
        values = [_num(s["value"][1])] if "value" in s else [_num(v) for _, v in s.get("values", [])]
        value = F.reduce(values, calc)
        name = F.legend_name(r.legend, s["metric"])
        config = field_config(panel, name, r.ref_id)
        text, color = display(value, config, now)
        view.stats.append(StatValue(config.get("displayName") or name, value, text, color, F.color_hex(color)))
    if not view.stats:
        # createNoValuesFieldDisplay: noValue, coloured as the display processor colours null (the base step)
        text, color = display(None, defaults, now)
        view.stats.append(StatValue("", None, text, color, F.color_hex(color)))


def _auto_order(panel: dict) -> list[dict]:
    """The organize transformation's automatic order (orderByMode auto) when it follows a join into one frame:
    the fields of separate series are ordered only once they share a frame."""
    joined = False
    for t in panel.get("transformations") or []:
        if t.get("disabled"):
            continue
        options = t.get("options") or {}
        if t.get("id") == "organize" and joined and options.get("orderByMode") == "auto":
            return options.get("orderBy") or []
        joined = joined or t.get("id") == "joinByField"
    return []


def ordered_series(panel: dict, pairs: list[tuple[TargetResult, dict]]) -> list[tuple[TargetResult, dict]]:
    """(query, series) pairs in the order Grafana shows their fields after the panel's transformations: by each
    orderBy entry in turn (a label's value, '' when absent, or the series' name), compared as Intl.Collator
    compares (case insensitive, numbers by value); ties keep the order of the query."""
    order = _auto_order(panel)

    def key(pair, entry: dict) -> tuple:
        result, series = pair
        if entry.get("type") == "name":
            return F.collation_key(F.legend_name(result.legend, series["metric"]))
        return F.collation_key(series["metric"].get(entry.get("name", ""), ""))

    def compare(a, b) -> int:
        for entry in order:
            ka, kb = key(a, entry), key(b, entry)
            if ka != kb:
                return (-1 if ka < kb else 1) * (-1 if entry.get("desc") else 1)
        return 0

    return sorted(pairs, key=functools.cmp_to_key(compare))


def timeseries_view(panel: dict, results: list[TargetResult], view: PanelView, now: float) -> None:
    defaults = _defaults(panel)
    custom = defaults.get("custom") or {}
    legend = (panel.get("options") or {}).get("legend") or {}
    view.draw_style = custom.get("drawStyle", "line")
    view.fill_opacity = custom.get("fillOpacity", 0)
    view.axis_min, view.axis_max = defaults.get("min"), defaults.get("max")
    view.soft_min, view.soft_max = custom.get("axisSoftMin"), custom.get("axisSoftMax")
    view.legend_calcs = list(legend.get("calcs") or [])
    view.show_legend = legend.get("showLegend", True) and legend.get("displayMode") != "hidden"
    mode = (custom.get("thresholdsStyle") or {}).get("mode", "off")
    if mode not in ("off", None):
        for step in (defaults.get("thresholds") or {}).get("steps", [])[1:]:
            view.threshold_lines.append((step["value"], F.color_hex(step.get("color"))))
    index = 0
    for r in results:
        for s in r.series:
            times = [float(t) for t, _ in s.get("values", [])]
            values = [_num(v) for _, v in s.get("values", [])]
            name = F.legend_name(r.legend, s["metric"])
            config = field_config(panel, name, r.ref_id)
            legend_values = {}
            for calc in view.legend_calcs:
                value = F.reduce(values, calc)
                legend_values[F.REDUCER_NAMES.get(calc, calc)] = (
                    "-" if value is None else str(F.format_value(value, config.get("unit"), config.get("decimals"),
                                                                 now)))
            color = F.CLASSIC[index % len(F.CLASSIC)]
            if (config.get("color") or {}).get("mode") == "fixed":
                color = F.color_hex(config["color"].get("fixedColor"))
            view.series.append(Series(config.get("displayName") or name, times, values, color, legend_values))
            index += 1


def table_view(panel: dict, results: list[TargetResult], view: PanelView, now: float) -> None:
    """Prometheus table format merged on the labels (as the merge transformation does): a column per label, then
    one Value column per query (Value #A ...); cells formatted, and coloured where a column's cellOptions say so;
    the organize transformation's hidden, renamed and ordered columns applied."""
    labels = sorted({k for r in results for s in r.series for k in s["metric"] if k != "__name__"})
    several = len(results) > 1
    value_columns = [f"Value #{r.ref_id}" if several else "Value" for r in results]
    rows: dict[tuple, list[tuple[str, str, float | None]]] = {}
    for i, r in enumerate(results):
        config = field_config(panel, value_columns[i], r.ref_id)
        cell = (config.get("custom") or {}).get("cellOptions") or {}
        colored = cell.get("type") in ("color-background", "color-text") or \
            (config.get("custom") or {}).get("displayMode") in ("color-background", "color-text")
        for s in r.series:
            key = tuple(s["metric"].get(k, "") for k in labels)
            value = _num(s["value"][1]) if "value" in s else _num((s.get("values") or [[0, None]])[-1][1])
            text, color = display(value, config, now)
            row = rows.setdefault(key, [("", "", None)] * len(results))
            row[i] = (text, F.color_hex(color) if colored else "", value)
    columns = labels + value_columns
    table = [[(k, "", k) for k in key] + cells for key, cells in sorted(rows.items())]
    columns, table = _organize(panel, columns, table)
    configs = [field_config(panel, c) for c in columns]
    view.columns = [config.get("displayName") or c for config, c in zip(configs, columns, strict=True)]
    view.column_widths = [(config.get("custom") or {}).get("width") for config in configs]
    table = sort_rows(panel, view.columns, table)
    view.rows = [[text for text, _, _ in row] for row in table]
    view.cell_colors = [[color for _, color, _ in row] for row in table]


def sort_rows(panel: dict, columns: list[str], rows: list[list[tuple]]) -> list[list[tuple]]:
    """The table's sortBy (display name, desc) as Grafana sorts: by the field's raw value, not the text a mapping
    shows, empty cells lowest; several fields sort by the first, then the next."""
    for sort in reversed((panel.get("options") or {}).get("sortBy") or []):
        if sort.get("displayName") not in columns:
            continue
        j = columns.index(sort["displayName"])
        rows = sorted(rows, key=lambda row: (0, 0) if row[j][2] is None else (1, row[j][2]),
                      reverse=bool(sort.get("desc")))
    return rows


def _organize(panel: dict, columns: list[str], rows: list[list]) -> tuple[list[str], list[list]]:
    for t in panel.get("transformations") or []:
        if t.get("id") != "organize" or t.get("disabled"):
            continue
        options = t.get("options") or {}
        hidden = {k for k, v in (options.get("excludeByName") or {}).items() if v}
        order = options.get("indexByName") or {}
        keep = sorted((i for i, c in enumerate(columns) if c not in hidden), key=lambda i: order.get(columns[i], i))
        renames = options.get("renameByName") or {}
        columns, rows = [renames.get(columns[i]) or columns[i] for i in keep], [[r[i] for i in keep] for r in rows]
    return columns, rows


def build(panel: dict, results: list[TargetResult] | None, now: float, error: str = "", span: float = 0) -> PanelView:
    view = PanelView(panel.get("id", 0), panel["type"], panel.get("title", ""), panel["gridPos"],
                     unit=_defaults(panel).get("unit") or "", decimals=_defaults(panel).get("decimals"), error=error,
                     time_range=(now - span, now), transparent=bool(panel.get("transparent")))
    if panel["type"] == "row" and panel.get("collapsed"):
        view.collapsed = len(panel.get("panels") or [])
    view.queries = [(r.ref_id, r.expr, r.step) for r in results or []]
    if panel["type"] == "text":
        view.text = (panel.get("options") or {}).get("content", "")
    if error or results is None:
        return view
    if panel["type"] == "stat":
        stat_view(panel, results, view, now)
    elif panel["type"] == "timeseries":
        timeseries_view(panel, results, view, now)
    elif panel["type"] == "table":
        table_view(panel, results, view, now)
    return view

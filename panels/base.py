"""Small typed pieces every panel is made of: targets, thresholds, the stat and time-series shapes.

Panels are grafanalib objects; ``crdb_dash.pipeline.normalize`` turns the dashboard they end up in
into Grafana's current JSON model, so nothing here works around grafanalib's output.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass

from grafanalib import core as G

from crdb_dash.model import promql
from crdb_dash.model.catalog import UNKNOWN, Kind, Metric, metric
from crdb_dash.model.config import Config

STAT = (4, 4)  # width, height in grid units
GRAPH = (12, 8)


@dataclass(frozen=True)
class Ctx:
    """What a panel needs to know: the config and the series a dashboard reads."""

    cfg: Config
    scope: promql.Scope

    @classmethod
    def for_dashboards(cls, cfg: Config) -> Ctx:
        return cls(cfg, promql.dashboard_scope(cfg))

    @property
    def legend(self) -> str:
        return " ".join("{{%s}}" % label for label in self.scope.by)


def target(expr: str, legend: str = "", instant: bool = False) -> G.Target:
    return G.Target(expr=expr, legendFormat=legend, instant=instant)


def thresholds(*steps: tuple[str, float | None]) -> list[G.Threshold]:
    """Absolute steps, the first the base colour: thresholds(("green", None), ("red", 1)).

    grafanalib wants a number on the base step too; normalize makes it null.
    """
    return [G.Threshold(color, index, float(value or 0)) for index, (color, value) in enumerate(steps)]


# Levels shared by stats and the Fleet table's columns: (colour, from) steps, the first the base colour.
BUDGET_LEVELS = (("red", None), ("yellow", 0.0001), ("green", 0.25))  # an error budget's share left
UNKNOWN_MAPPING = {"type": "value", "options": {str(UNKNOWN): {"text": "Unknown", "color": "orange", "index": 0}}}


def rpo_levels(cfg: Config) -> tuple:
    return ("green", None), ("yellow", cfg.seconds("rpo.warning")), ("red", cfg.seconds("rpo.critical"))


def freshness_levels(cfg: Config) -> tuple:
    return ("green", None), ("yellow", cfg.seconds("freshness.warning")), ("red", cfg.seconds("freshness.critical"))


def compliance_levels(cfg: Config) -> tuple:
    return ("red", None), ("yellow", cfg.get("rpo.compliance.objective")), ("green", 1)


def bad_thresholds(m: Metric, ctx: Ctx) -> list[G.Threshold]:
    if m.bad_within:
        return thresholds(("red", None), ("green", ctx.cfg.seconds(m.bad_within)))
    if m.bad_from is None:
        return thresholds(("green", None))
    bad = ctx.cfg.seconds(m.bad_from) if isinstance(m.bad_from, str) else m.bad_from
    return thresholds(("green", None), ("red", bad))


def absent_mapping(text: str, color: str, index: int = 0) -> dict:
    """The text and colour of no value (null, or no series at all). Without it Grafana colours "No data" by the
    base threshold step, green on most stats: no tile is green without good news."""
    return {"type": "special", "options": {"match": "null", "result": {"text": text, "color": color, "index": index}}}


def tile_order(legend: str) -> list[dict]:
    """Transformations that put a stat's tiles in the order of the labels its legend names (cluster, then virtual
    cluster): the series joined into one frame, its fields ordered by those labels. Without them Grafana shows the
    tiles in the order the series arrive, which changes from one query to the next."""
    labels = re.findall(r"\{\{\s*(\w+)\s*\}\}", legend)
    if not labels:
        return []
    order = [{"type": "label", "name": label} for label in labels]
    return [{"id": "joinByField", "options": {"mode": "outer"}},
            {"id": "organize", "options": {"excludeByName": {}, "includeByName": {}, "indexByName": {},
                                           "renameByName": {}, "orderByMode": "auto", "orderBy": order}}]


def stat(title: str, description: str, expr: str, unit: str, steps: list[G.Threshold], *,
         legend: str = "", decimals: int | None = None, mappings: list | None = None,
         no_value: str = "No data", absent_color: str = "text", size: tuple[int, int] = STAT) -> G.Stat:
    """A stat of one value per series, its tiles in the order of the legend's labels; no value shows ``no_value``
    in ``absent_color`` (never green: absence is not good news)."""
    mappings = [*(mappings or []), absent_mapping(no_value, absent_color, index=len(mappings or []))]
    return G.Stat(
        title=title, description=description, targets=[target(expr, legend, instant=True)], format=unit,
        thresholds=steps, decimals=decimals, mappings=mappings, noValue=no_value,
        colorMode="background", graphMode="none", reduceCalc="lastNotNull", textMode="auto",
        transformations=tile_order(legend), gridPos=G.GridPos(h=size[1], w=size[0], x=0, y=0),
    )


def fixed_color(color: str, shades: bool = False) -> dict:
    """A series colour; with ``shades``, several series get shades of it."""
    return {"mode": "shades" if shades else "fixed", "fixedColor": color}


def colored(ref_id: str, color: str) -> dict:
    """A field override giving one query's series a fixed colour."""
    return {"matcher": {"id": "byFrameRefID", "options": ref_id},
            "properties": [{"id": "color", "value": fixed_color(color)}]}


def timeseries(title: str, description: str, targets: list[G.Target], unit: str, *,
               steps: list[G.Threshold] | None = None, bars: bool = False, show_thresholds: bool = False,
               color: dict | None = None, overrides: list[dict] | None = None, decimals: int | None = None,
               size: tuple[int, int] = GRAPH) -> G.TimeSeries:
    """A graph; bars stand left of their point, over the step whose events they count, stacked (not overlapping).
    ``decimals=0``: whole numbers, on the axis too."""
    return G.TimeSeries(
        title=title, description=description, targets=targets, unit=unit, valueDecimals=decimals,
        thresholds=steps or thresholds(("green", None)), thresholdsStyleMode="dashed" if show_thresholds else "off",
        drawStyle="bars" if bars else "line", barAlignment=-1 if bars else 0, fillOpacity=80 if bars else 10,
        lineWidth=1, showPoints="never", overrides=overrides or [],
        stacking={"group": "A", "mode": "normal"} if bars else {},
        legendDisplayMode="table", legendPlacement="bottom", legendCalcs=["lastNotNull", "max"],
        tooltipMode="multi", tooltipSort="desc", valueMin=0,
        extraJson={"fieldConfig": {"defaults": {"color": color}}} if color else None,
        gridPos=G.GridPos(h=size[1], w=size[0], x=0, y=0),
    )


STEP_NOTE = " Each bar counts the events in the time it spans: whole events, each in one bar."
RATE_NOTE = " Shown as a per-second rate, averaged over at least four scrape intervals."


def _window_note(m: Metric) -> str:
    if m.per_second:
        return RATE_NOTE
    return STEP_NOTE if m.bars else ""


def whole(m: Metric) -> int | None:
    """0 decimals for what comes in whole numbers (events, jobs, records: the unit "short"), else Grafana's own."""
    return 0 if m.unit == "short" else None


def _graph_style(m: Metric, ctx: Ctx) -> dict:
    """Every event bad: the series in red. A bad level: a dashed line there. Whole numbers: whole ticks."""
    style = {"decimals": whole(m)}
    if isinstance(m.bad_from, str):
        return {**style, "steps": bad_thresholds(m, ctx), "show_thresholds": True}
    if m.bad_from is not None:
        return {**style, "color": fixed_color("red", shades=True)}
    return style


def graph(m: Metric, ctx: Ctx) -> G.TimeSeries:
    """The cluster-wide value of one metric over time."""
    return timeseries(m.title, m.description + _window_note(m),
                      [target(promql.current(m, ctx.scope), ctx.legend)], m.unit, bars=m.bars,
                      **_graph_style(m, ctx))


def by_node(m: Metric, ctx: Ctx) -> G.TimeSeries:
    """One metric split by node, to find the node at fault."""
    label = ctx.scope.node_label
    return timeseries(f"{m.title} by node", m.description + _window_note(m) + " One series per node.",
                      [target(promql.by_node(m, ctx.scope), "{{%s}}" % label)], m.unit, bars=m.bars,
                      **_graph_style(m, ctx))


def in_range(m: Metric, ctx: Ctx) -> G.Stat:
    """How many events a counter counted over the dashboard's time range, summed over nodes: 0 when none happened
    (the counter is there); no value when no node reports it, not "0"."""
    return stat(f"{m.title} in range", f"{m.description} Total over the selected time range. No data: no node "
                "reports the counter.",
                promql.counted(m, ctx.scope, promql.RANGE), "short", bad_thresholds(m, ctx), decimals=0,
                legend=ctx.legend)


def now(m: Metric, ctx: Ctx) -> G.Stat:
    """The current cluster-wide value of a gauge; for the time of an event, how long ago it was ("Never")."""
    description = m.description
    if m.kind is Kind.EVENT_TIME:
        # No value is "Never" (every node reports 0) but also no node reporting the gauge at all (a silent
        # cluster, a version without it): not good news on its own, so not green.
        description += f" {m.absent}: no node reports such a failure (or no node reports the metric)."
        if m.bad_within:
            description += f" Red for {ctx.cfg.get(m.bad_within)} after such a failure."
    return stat(f"{m.title} now", description, promql.current(m, ctx.scope), m.unit,
                bad_thresholds(m, ctx), decimals=whole(m),
                no_value=m.absent, legend=ctx.legend)


def combined(title: str, description: str, metrics: list[Metric], ctx: Ctx) -> G.TimeSeries:
    """Several metrics shown alike (one unit; bars or lines) in one graph, each series named by its metric;
    failures red, the rest orange."""
    first = metrics[0]
    if any((m.unit, m.bars) != (first.unit, first.bars) for m in metrics):
        raise ValueError(f"{title}: its metrics are not shown alike")
    targets = [target(promql.current(m, ctx.scope), f"{m.title} {ctx.legend}") for m in metrics]
    names = ", ".join(m.exported for m in metrics)
    overrides = [colored(ref, "red" if m.bad_from is not None else "orange")
                 for ref, m in zip(string.ascii_uppercase, metrics, strict=False)]
    return timeseries(title, f"{description}{_window_note(first)} Metrics: {names}.", targets, first.unit,
                      bars=first.bars, overrides=overrides, decimals=whole(first))


@dataclass(frozen=True)
class Panels:
    """The shapes bound to one dashboard's context, each given a catalog metric by its exported name:
    ``p = Panels(ctx); p.by_node("jobs_backup_resume_failed")``."""

    ctx: Ctx

    def graph(self, exported: str) -> G.TimeSeries:
        return graph(metric(exported), self.ctx)

    def by_node(self, exported: str) -> G.TimeSeries:
        return by_node(metric(exported), self.ctx)

    def now(self, exported: str) -> G.Stat:
        return now(metric(exported), self.ctx)

    def in_range(self, exported: str) -> G.Stat:
        return in_range(metric(exported), self.ctx)

"""Which nodes export backup metrics: a cluster gone silent shows nothing anywhere else."""

from __future__ import annotations

from grafanalib import core as G

from crdb_dash.model import promql
from crdb_dash.model.catalog import PRESENCE
from crdb_dash.panels.base import Ctx, stat, thresholds


def nodes_reporting(ctx: Ctx) -> G.Stat:
    """One tile per node seen in the time range: reporting now, or not."""
    states = {"type": "value", "options": {
        "1": {"text": "Reporting", "color": "green", "index": 0},
        "0": {"text": "Not reporting", "color": "red", "index": 1}}}
    return stat("Nodes reporting",
                f"Each node of the cluster that exported backup metrics ({PRESENCE}) in the selected time "
                "range: green when it reports now, red when it did in the range but does not now. One node red "
                "while others are green is a node problem (down, or not scraped: up == 0 on Prometheus' Targets "
                "page); every node red fires CockroachBackupNotReporting. \"No node in range\": none did in the "
                "range (a cluster silent all along, or a selector that matches nothing).",
                promql.nodes_reporting(ctx.scope), "none", thresholds(("red", None), ("green", 1)),
                legend="{{%s}}" % ctx.scope.node_label, mappings=[states], decimals=0, size=(24, 4),
                # silence is this tile's bad news: red, as "Not reporting"
                no_value="No node in range", absent_color="red")

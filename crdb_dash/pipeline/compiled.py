"""Every dashboard compiled: built with the dashboards' context and normalised to Grafana's JSON model."""

from __future__ import annotations

from crdb_dash.dashboards import ALL
from crdb_dash.model.config import Config
from crdb_dash.panels.base import Ctx
from crdb_dash.pipeline import normalize


def dashboards(cfg: Config) -> dict[str, dict]:
    """uid -> Grafana JSON model of every dashboard."""
    ctx = Ctx.for_dashboards(cfg)
    out = {}
    for module in ALL:
        model = normalize.dashboard(module.build(ctx), cfg["schema_version"])
        out[model["uid"]] = model
    return out


def panel_count(dashboard: dict) -> int:
    """Panels a user sees, rows not counted, collapsed rows' panels counted."""
    count = 0
    for panel in dashboard.get("panels", []):
        if panel.get("type") == "row":
            count += panel_count(panel)
        else:
            count += 1
    return count

"""Grafana dashboards, one module each, composed from the panels in ``panels``."""

from __future__ import annotations

import re

from crdb_dash import promql
from crdb_dash.catalog import METRICS
from dashboards import backup_jobs, fleet, overview, protected_timestamps, restore_jobs, runbooks, schedules

ALL = (overview, fleet, schedules, backup_jobs, restore_jobs, protected_timestamps, runbooks)


def panel_showing(models: dict[str, dict], expr: str) -> tuple[str, int] | None:
    """(dashboard uid, panel id) of the panel that best shows the first catalog metric (or compliance rule)
    ``expr`` reads.

    A graph is preferred to a stat, the cluster-wide value to the per-node split, a detail dashboard to
    the overview; among equals, the first panel.
    """
    names = [m.exported for m in METRICS] + [promql.COMPLIANT_RECORD]  # the compliance alert reads the rule
    found = [(match.start(), name) for name in names if (match := re.search(rf"(?<!\w){name}(?!\w)", expr))]
    if not found:
        return None
    name = min(found)[1]
    best, where = None, None
    for uid, model in models.items():
        for panel in model["panels"]:
            # \W around the name: a recording rule named after the metric (rpo.recorded) counts too
            if not any(re.search(rf"(?<!\w){name}(?!\w)", t["expr"]) for t in panel.get("targets", [])):
                continue
            score = (panel["type"] == "timeseries", "by node" not in panel["title"], not uid.endswith("-overview"))
            if best is None or score > best:
                best, where = score, (uid, panel["id"])
    return where

"""Grafana dashboards, one module each, composed from the panels in ``panels``."""

from __future__ import annotations

import re

from crdb_dash.dashboards import backup_jobs, fleet, overview, protected_timestamps, restore_jobs, runbooks, schedules
from crdb_dash.model import promql
from crdb_dash.model.catalog import METRICS
from crdb_dash.model.naming import Naming

ALL = (overview, fleet, schedules, backup_jobs, restore_jobs, protected_timestamps, runbooks)


def panel_showing(models: dict[str, dict], expr: str, naming: Naming) -> tuple[str, int] | None:
    """(dashboard uid, panel id) of the panel that best shows the first catalog metric (or compliance rule)
    ``expr`` reads.

    A graph is preferred to a stat, the cluster-wide value to the per-node split, a detail dashboard to
    the overview; among equals, the first panel.
    """
    patterns = [_reading(m.exported, naming) for m in METRICS] + [rf"(?<!\w){promql.COMPLIANT_RECORD}(?!\w)"]
    found = [(match.start(), pattern) for pattern in patterns if (match := re.search(pattern, expr))]
    if not found:
        return None
    pattern = min(found)[1]
    best, where = None, None
    for uid, model in models.items():
        for panel in model["panels"]:
            if not any(re.search(pattern, t["expr"]) for t in panel.get("targets", [])):
                continue
            score = (panel["type"] == "timeseries", "by node" not in panel["title"], not uid.endswith("-overview"))
            if best is None or score > best:
                best, where = score, (uid, panel["id"])
    return where


def _reading(exported: str, naming: Naming) -> str:
    """A regex for a query reading the metric: its name, with the labels of its labelled form where it has them.

    A word boundary around a bare name: a recording rule named after the metric (rpo.recorded) counts too.
    """
    family, labels = naming.family(exported)
    if labels:
        return r"(?<!\w)" + re.escape(naming.selector(exported, "")[:-1])
    return rf"(?<!\w){re.escape(family)}(?!\w)"

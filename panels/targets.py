"""Each cluster's own targets (rpo.overrides) on panels that colour a value per cluster.

Grafana colours a panel by one set of thresholds. Each override becomes a Grafana field override with the
override's levels, matching its clusters' series by their display name (the legend, "<cluster> <tenant>"): the
first override of the config wins, as in the alerts, so it is written last (Grafana applies overrides in order).
"""

from __future__ import annotations

import re

from grafanalib import core as G

from crdb_dash.model.config import Config, override_level, parse_duration
from crdb_dash.model.promql import SYSTEM_TENANT


def per_cluster(panel: G.Panel, cfg: Config, kind: str, host: bool = False) -> G.Panel:
    """``panel`` (thresholds at ``kind``'s default levels, rpo or freshness) with every override's levels.

    ``host``: the series are virtual clusters held to their host's targets, named "<cluster> <ID>": overrides
    that match the system tenant apply, by cluster.
    """
    defaults = {cfg.seconds(f"{kind}.{severity}"): severity for severity in ("warning", "critical")}
    overrides = []
    for override in reversed(cfg.get("rpo.overrides")):
        match = dict(override["match"])
        if host and not re.fullmatch(match.pop(cfg.tenant, ".*"), SYSTEM_TENANT):
            continue
        steps = []
        for index, step in enumerate(panel.thresholds):
            value = step.value
            if index and value in defaults:
                value = parse_duration(override_level(cfg.raw, override, kind, defaults[value]))
            steps.append({"color": step.color, "value": value if index else None})
        overrides.append({"matcher": {"id": "byRegexp", "options": display_names(cfg, match)},
                          "properties": [{"id": "thresholds", "value": {"mode": "absolute", "steps": steps}}]})
    panel.overrides = overrides
    return panel


def display_names(cfg: Config, match: dict) -> str:
    """A regex (anchored by Grafana) of the display names "<cluster> <tenant>" an override's matchers select."""
    return " ".join(f"(?:{match.get(label, '.*')})" for label in (cfg.cluster, cfg.tenant))

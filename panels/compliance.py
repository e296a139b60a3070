"""RPO compliance, SLO style: the share of time the recovery point was within its target, and the budget left.

Read from the compliance recording rules (alerts.compliance_rules): "No data" where Prometheus does not load
them. Targets are each cluster's own (rpo.overrides); rpo.compliance sets the objective, period and what an
unknown recovery point counts as.
"""

from __future__ import annotations

from grafanalib import core as G

from crdb_dash.model import promql
from crdb_dash.panels.base import BUDGET_LEVELS, Ctx, compliance_levels, stat, thresholds


def _steps(ctx: Ctx) -> list[G.Threshold]:
    return thresholds(*compliance_levels(ctx.cfg))


def _how(ctx: Ctx) -> str:
    c = ctx.cfg.get("rpo.compliance")
    counted = "is left out" if c["unknown"] == "excluded" else f"counts as {c['unknown']}"
    return (f" Within target: the recovery point's age at most the cluster's {c['target']} target. A minute with "
            f"no known recovery point (a scrape gap, no completion known) {counted}. Needs the compliance "
            "recording rules (No data without them).")


def _share(ctx: Ctx, title: str, description: str, expr: str, steps: list[G.Threshold], decimals: int) -> G.Stat:
    """A share read from the compliance rules, a third of a line; "No data" without them, in the text colour (stat's
    default), not the red base step."""
    return stat(title, description + _how(ctx), expr, "percentunit", steps, decimals=decimals, legend=ctx.legend,
                size=(8, 4))


def in_range(ctx: Ctx) -> G.Stat:
    return _share(ctx, "RPO compliance in range", "Share of the selected time range the recovery point was within "
                  "its target.", promql.compliance(ctx.scope, promql.RANGE), _steps(ctx), 2)


def over_period(ctx: Ctx) -> G.Stat:
    period = ctx.cfg.get("rpo.compliance.period")
    return _share(ctx, f"RPO compliance, last {period}", f"Share of the last {period} the recovery point was within "
                  "its target.", promql.compliance_over_period(ctx.scope), _steps(ctx), 2)


def budget_left(ctx: Ctx) -> G.Stat:
    c = ctx.cfg.get("rpo.compliance")
    return _share(ctx, "RPO error budget left", f"The share of the error budget of the {c['objective'] * 100:g}% "
                  f"objective over {c['period']} not yet spent: 100% untouched, 0% spent, below 0 the objective is "
                  "missed.", promql.budget_left(ctx.cfg, ctx.scope), thresholds(*BUDGET_LEVELS), 0)

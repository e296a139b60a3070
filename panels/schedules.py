"""The recovery point and scheduled backups' freshness and success: panels of their own, beyond the shapes in base."""

from __future__ import annotations

from grafanalib import core as G

from crdb_dash.model import promql
from crdb_dash.model.catalog import metric
from crdb_dash.model.config import parse_duration
from crdb_dash.panels.base import (
    UNKNOWN_MAPPING,
    Ctx,
    Panels,
    freshness_levels,
    rpo_levels,
    stat,
    target,
    thresholds,
    timeseries,
)
from crdb_dash.panels.targets import per_cluster

LAST_COMPLETED = metric("schedules_BACKUP_last_completed_time")
# The step of the recovery point graphs read from raw series: each point takes the maximum over the window's
# steps (promql.age_over_time), so a coarser step reads fewer; the age is exact at each point.
RPO_GRAPH_STEP = "10m"


def _rpo_steps(ctx: Ctx) -> list[G.Threshold]:
    return thresholds(*rpo_levels(ctx.cfg))


def _rpo_note(ctx: Ctx) -> str:
    return (f" Yellow from {ctx.cfg.get('rpo.warning')}, red from {ctx.cfg.get('rpo.critical')} (the configured "
            f"RPO{_overridden(ctx.cfg)}).")


def _overridden(cfg) -> str:
    return "; clusters matched by rpo.overrides have their own levels" if cfg.get("rpo.overrides") else ""


ENABLE_EXACT = ("ALTER BACKUP SCHEDULE <id> SET SCHEDULE OPTION updates_cluster_last_backup_time_metric = 'true'")
EXACT_NOTE = (" This is the exact recovery point; \"Unknown\" while no schedule maintains it. Enable it on the "
              f"disaster-recovery schedule with: {ENABLE_EXACT}. Without it, \"Time since last successful scheduled "
              "backup\" beside it still tells whether backups succeed.")


def last_completed(ctx: Ctx) -> G.Stat:
    """The recovery point's age now, "Unknown" when no node has reported a completed backup in the window."""
    panel = stat(LAST_COMPLETED.title, LAST_COMPLETED.description + _rpo_note(ctx) + EXACT_NOTE,
                 promql.rpo_status(LAST_COMPLETED, ctx.scope), LAST_COMPLETED.unit, _rpo_steps(ctx),
                 mappings=[UNKNOWN_MAPPING], legend=ctx.legend)
    return per_cluster(panel, ctx.cfg, "rpo")


def _coarse(panel: G.TimeSeries, ctx: Ctx) -> G.TimeSeries:
    """The recovery point graph at RPO_GRAPH_STEP (or the scrape interval, if longer) unless it reads only the
    recording rule."""
    if not ctx.scope.recorded:
        step = max(RPO_GRAPH_STEP, ctx.cfg["scrape_interval"], key=parse_duration)
        panel.interval = step
        panel.description += f" Points at least {step} apart."
    return panel


def last_completed_over_time(ctx: Ctx) -> G.TimeSeries:
    panel = _coarse(timeseries(f"{LAST_COMPLETED.title} over time", LAST_COMPLETED.description + _rpo_note(ctx)
                              + " Gaps mean unknown.",
                              [target(promql.age_over_time(LAST_COMPLETED, ctx.scope), ctx.legend)],
                              LAST_COMPLETED.unit, steps=_rpo_steps(ctx), show_thresholds=True), ctx)
    return per_cluster(panel, ctx.cfg, "rpo")


def last_completed_by_virtual_cluster(ctx: Ctx) -> G.TimeSeries:
    m = metric("schedules_BACKUP_last_completed_time_by_virtual_cluster")
    # Held to the host's (system tenant's) targets: the legend names the cluster and the virtual cluster's ID.
    legend = "{{%s}} tenant {{tenant_id}}" % ctx.cfg.cluster
    panel = _coarse(timeseries(m.title, m.description + _rpo_note(ctx),
                               [target(promql.age_over_time(m, ctx.scope), legend)],
                               m.unit, steps=_rpo_steps(ctx), show_thresholds=True), ctx)
    return per_cluster(panel, ctx.cfg, "rpo", host=True)


def success_ratio(ctx: Ctx) -> G.Stat:
    return stat("Scheduled backup success ratio",
                "Succeeded / (succeeded + failed) scheduled backups over the selected time range. "
                "Below 100%: look at the failures in SHOW JOBS. \"None in range\": no scheduled backup finished in "
                "the range (or no node reports the counters).",
                promql.success_ratio(ctx.scope, promql.RANGE), "percentunit",
                thresholds(("red", None), ("yellow", 0.9), ("green", 1)), legend=ctx.legend, no_value="None in range")


def last_succeeded(ctx: Ctx) -> G.Stat:
    """Time since a scheduled backup last succeeded, from schedules_BACKUP_succeeded: needs no schedule option."""
    cfg = ctx.cfg
    panel = stat("Time since last successful scheduled backup",
                "Time since a scheduled backup job last succeeded (schedules_BACKUP_succeeded, to the minute), per "
                "cluster and virtual cluster. Works without any schedule option, across node restarts. It counts "
                "from the job's end, so it is younger than the recovery point by the backup's run time: the exact "
                f"RPO is \"{LAST_COMPLETED.title}\", which needs the schedule option: {ENABLE_EXACT}. "
                f"Yellow from {cfg.get('freshness.warning')}, red from {cfg.get('freshness.critical')} "
                f"(freshness.warning / freshness.critical{_overridden(cfg)}). \"None known\": no scheduled "
                f"backup succeeded within rpo.window ({cfg.get('rpo.window')}) and the recording rule knows none, "
                "or this cluster runs none (a virtual cluster backed up by host schedules).",
                promql.success_age(ctx.scope), "s",
                thresholds(*freshness_levels(cfg)),
                no_value="None known", absent_color="orange", legend=ctx.legend)
    return per_cluster(panel, cfg, "freshness")


def recovery_point_row(ctx: Ctx, *, rpo: G.Panel | None = None, failed: G.Panel | None = None) -> list[G.Panel]:
    """The exact recovery point and the freshness beside it, then the outcomes in the range: one line of 24, the
    widths set here."""
    p = Panels(ctx)
    panels = [rpo or last_completed(ctx), last_succeeded(ctx), success_ratio(ctx),
              p.in_range("schedules_BACKUP_started"), p.in_range("schedules_BACKUP_succeeded"),
              failed or p.in_range("schedules_BACKUP_failed")]
    for panel, width in zip(panels, (6, 6, 3, 3, 3, 3), strict=True):
        panel.gridPos = G.GridPos(h=panel.gridPos.h, w=width, x=0, y=0)
    return panels

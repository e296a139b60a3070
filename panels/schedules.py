"""Panels for backup schedules: starts, outcomes, the recovery point, rescheduling and schedule health."""

from __future__ import annotations

from grafanalib import core as G

from crdb_dash import promql
from crdb_dash.catalog import metric
from panels.base import UNKNOWN, Ctx, by_node, in_range, now, panel_for, stat, target, thresholds, timeseries

LAST_COMPLETED = metric("schedules_BACKUP_last_completed_time")

started = panel_for("schedules_BACKUP_started")
succeeded = panel_for("schedules_BACKUP_succeeded")
failed = panel_for("schedules_BACKUP_failed")
failed_by_node = panel_for("schedules_BACKUP_failed", by_node)
reschedule_skip = panel_for("schedules_round_reschedule_skip")
reschedule_wait = panel_for("schedules_round_reschedule_wait")
reschedule_skip_by_node = panel_for("schedules_round_reschedule_skip", by_node)
jobs_started = panel_for("schedules_round_jobs_started")
schedules_error = panel_for("schedules_error", now)
schedules_malformed = panel_for("schedules_malformed", now)
started_in_range = panel_for("schedules_BACKUP_started", in_range)
succeeded_in_range = panel_for("schedules_BACKUP_succeeded", in_range)
failed_in_range = panel_for("schedules_BACKUP_failed", in_range)


def _rpo_steps(ctx: Ctx) -> list[G.Threshold]:
    return thresholds(("green", None), ("yellow", ctx.cfg.seconds("rpo.warning")),
                      ("red", ctx.cfg.seconds("rpo.critical")))


def _rpo_note(ctx: Ctx) -> str:
    return f" Yellow from {ctx.cfg.get('rpo.warning')}, red from {ctx.cfg.get('rpo.critical')} (the configured RPO)."


def last_completed(ctx: Ctx) -> G.Stat:
    """The recovery point's age now, "Unknown" when no node has reported a completed backup in the window."""
    unknown = {"type": "value", "options": {str(UNKNOWN): {"text": "Unknown", "color": "orange", "index": 0}}}
    return stat(LAST_COMPLETED.title, LAST_COMPLETED.description + _rpo_note(ctx),
                promql.rpo_status(LAST_COMPLETED, ctx.scope), LAST_COMPLETED.unit, _rpo_steps(ctx),
                mappings=[unknown], size=(8, 4), legend=ctx.legend)


def last_completed_over_time(ctx: Ctx) -> G.TimeSeries:
    return timeseries(f"{LAST_COMPLETED.title} over time", LAST_COMPLETED.description + _rpo_note(ctx)
                      + " Gaps mean unknown.", [target(promql.age(LAST_COMPLETED, ctx.scope), ctx.legend)],
                      LAST_COMPLETED.unit, steps=_rpo_steps(ctx), show_thresholds=True)


def last_completed_by_virtual_cluster(ctx: Ctx) -> G.TimeSeries:
    m = metric("schedules_BACKUP_last_completed_time_by_virtual_cluster")
    return timeseries(m.title, m.description + _rpo_note(ctx),
                      [target(promql.age(m, ctx.scope), "{{tenant_id}}")], m.unit, steps=_rpo_steps(ctx),
                      show_thresholds=True)


def success_ratio(ctx: Ctx) -> G.Stat:
    return stat("Scheduled backup success ratio",
                "Succeeded / (succeeded + failed) scheduled backups over the selected time range. "
                "Below 100%: look at the failures in SHOW JOBS. No data: no scheduled backup finished in the range.",
                promql.success_ratio(ctx.scope, promql.RANGE), "percentunit",
                thresholds(("red", None), ("yellow", 0.9), ("green", 1)), size=(4, 4), legend=ctx.legend)

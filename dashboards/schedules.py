"""CockroachDB Backups / Schedules: the recovery point, scheduled backup outcomes and schedule health."""

from crdb_dash.dashboards.common import dashboard, title
from crdb_dash.panels import schedules
from crdb_dash.panels.base import Ctx, Panels

KEY = "schedules"
NAME = "Schedules"  # in links from other dashboards
TITLE = title(NAME)


def build(ctx: Ctx):
    p = Panels(ctx)
    return dashboard(ctx, KEY, TITLE, "Backup schedules: recovery point, outcomes, rescheduling and errors.", [
        ("Recovery point", schedules.recovery_point_row(ctx)),
        ("Recovery point over time", [schedules.last_completed_over_time(ctx),
                                      schedules.last_completed_by_virtual_cluster(ctx)]),
        ("Outcomes", [p.graph("schedules_BACKUP_started"), p.graph("schedules_BACKUP_succeeded"),
                      p.graph("schedules_BACKUP_failed"), p.by_node("schedules_BACKUP_failed")]),
        ("Rescheduling", [p.graph("schedules_round_reschedule_skip"), p.graph("schedules_round_reschedule_wait"),
                          p.by_node("schedules_round_reschedule_skip"), p.graph("schedules_round_jobs_started")]),
        ("Schedule health", [p.now("schedules_error"), p.now("schedules_malformed")]),
    ], tenant_ids=True)

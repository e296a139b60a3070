"""CockroachDB Backups / Schedules: the recovery point, scheduled backup outcomes and schedule health."""

from dashboards.common import dashboard
from panels import schedules as s
from panels.base import Ctx

KEY = "schedules"
TITLE = "CockroachDB Backups / Schedules"


def build(ctx: Ctx):
    return dashboard(ctx, KEY, TITLE, "Backup schedules: recovery point, outcomes, rescheduling and errors.", [
        ("Recovery point", [s.last_completed(ctx), s.success_ratio(ctx), s.started_in_range(ctx),
                            s.succeeded_in_range(ctx), s.failed_in_range(ctx)]),
        ("Recovery point over time", [s.last_completed_over_time(ctx), s.last_completed_by_virtual_cluster(ctx)]),
        ("Outcomes", [s.started(ctx), s.succeeded(ctx), s.failed(ctx), s.failed_by_node(ctx)]),
        ("Rescheduling", [s.reschedule_skip(ctx), s.reschedule_wait(ctx), s.reschedule_skip_by_node(ctx),
                          s.jobs_started(ctx)]),
        ("Schedule health", [s.schedules_error(ctx), s.schedules_malformed(ctx)]),
    ], tenant_ids=True)

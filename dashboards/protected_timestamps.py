"""CockroachDB Backups / Protected timestamps: PTS records held by backup schedules, backups and restores."""

from crdb_dash.dashboards.common import dashboard
from crdb_dash.panels import protected_timestamps as p
from crdb_dash.panels.base import Ctx

KEY = "protected-ts"
TITLE = "CockroachDB Backups / Protected timestamps"


def build(ctx: Ctx):
    return dashboard(ctx, KEY, TITLE, "Protected timestamp records that keep old data from garbage collection.", [
        ("Now", [p.schedule_age_now(ctx), p.backup_age_now(ctx), p.restore_age_now(ctx)]),
        ("Backup schedules", [p.schedule_age(ctx), p.schedule_records(ctx)]),
        ("Backup jobs", [p.backup_age(ctx), p.backup_records(ctx), p.backup_expired(ctx)]),
        ("Restore jobs", [p.restore_age(ctx), p.restore_records(ctx), p.restore_expired(ctx)]),
        ("Jobs metrics poller", [p.poller_node(ctx), p.poller_failures(ctx)]),
    ])

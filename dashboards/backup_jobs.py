"""CockroachDB Backups / Backup jobs: running, paused and failing backup jobs, per node."""

from dashboards.common import ALWAYS_ZERO, dashboard
from panels import backup_jobs as b
from panels.base import Ctx

KEY = "backup-jobs"
TITLE = "CockroachDB Backups / Backup jobs"


def build(ctx: Ctx):
    return dashboard(ctx, KEY, TITLE, "Backup jobs, scheduled or not: state, outcomes and the node at fault.", [
        ("Now", [b.running_now(ctx), b.paused_now(ctx), b.failed_in_range(ctx), b.kms_failure(ctx)]),
        ("State", [b.running(ctx), b.paused(ctx), b.running_by_node(ctx)]),
        ("Outcomes", [b.completed(ctx), b.failed(ctx), b.retry_errors(ctx), b.fail_or_cancel_completed(ctx),
                      b.fail_or_cancel_retry_errors(ctx)]),
        ("By node", [b.failed_by_node(ctx), b.retry_errors_by_node(ctx)]),
        ("Cloud storage", [b.cloud_writes(ctx)]),
        (ALWAYS_ZERO, [b.idle(ctx), b.fail_or_cancel_failed(ctx)]),
    ])

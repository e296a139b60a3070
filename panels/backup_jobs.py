"""Panels for backup jobs, scheduled or not."""

from crdb_dash.panels.base import by_node, in_range, now, panel_for

running = panel_for("jobs_backup_currently_running")
running_now = panel_for("jobs_backup_currently_running", now)
running_by_node = panel_for("jobs_backup_currently_running", by_node)
paused = panel_for("jobs_backup_currently_paused")
paused_now = panel_for("jobs_backup_currently_paused", now)
idle = panel_for("jobs_backup_currently_idle")
completed = panel_for("jobs_backup_resume_completed")
failed = panel_for("jobs_backup_resume_failed")
failed_in_range = panel_for("jobs_backup_resume_failed", in_range)
failed_by_node = panel_for("jobs_backup_resume_failed", by_node)
retry_errors = panel_for("jobs_backup_resume_retry_error")
retry_errors_by_node = panel_for("jobs_backup_resume_retry_error", by_node)
fail_or_cancel_completed = panel_for("jobs_backup_fail_or_cancel_completed")
fail_or_cancel_retry_errors = panel_for("jobs_backup_fail_or_cancel_retry_error")
fail_or_cancel_failed = panel_for("jobs_backup_fail_or_cancel_failed")
kms_failure = panel_for("backup_last_failed_time_kms_inaccessible", now)
cloud_writes = panel_for("cloud_write_bytes")

"""Panels for restore jobs."""

from crdb_dash.panels.base import by_node, in_range, now, panel_for

running = panel_for("jobs_restore_currently_running")
running_now = panel_for("jobs_restore_currently_running", now)
running_by_node = panel_for("jobs_restore_currently_running", by_node)
paused = panel_for("jobs_restore_currently_paused")
paused_now = panel_for("jobs_restore_currently_paused", now)
idle = panel_for("jobs_restore_currently_idle")
completed = panel_for("jobs_restore_resume_completed")
completed_in_range = panel_for("jobs_restore_resume_completed", in_range)
failed = panel_for("jobs_restore_resume_failed")
failed_in_range = panel_for("jobs_restore_resume_failed", in_range)
failed_by_node = panel_for("jobs_restore_resume_failed", by_node)
retry_errors = panel_for("jobs_restore_resume_retry_error")
retry_errors_by_node = panel_for("jobs_restore_resume_retry_error", by_node)
fail_or_cancel_completed = panel_for("jobs_restore_fail_or_cancel_completed")
fail_or_cancel_retry_errors = panel_for("jobs_restore_fail_or_cancel_retry_error")
fail_or_cancel_failed = panel_for("jobs_restore_fail_or_cancel_failed")
cloud_reads = panel_for("cloud_read_bytes")

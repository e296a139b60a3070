"""Panels for protected timestamp (PTS) records held by backup schedules, backup jobs and restore jobs."""

from crdb_dash.panels.base import by_node, now, panel_for

schedule_age = panel_for("schedules_BACKUP_protected_age_sec")
schedule_age_now = panel_for("schedules_BACKUP_protected_age_sec", now)
schedule_records = panel_for("schedules_BACKUP_protected_record_count")
backup_age = panel_for("jobs_backup_protected_age_sec")
backup_age_now = panel_for("jobs_backup_protected_age_sec", now)
backup_records = panel_for("jobs_backup_protected_record_count")
backup_expired = panel_for("jobs_backup_expired_pts_records")
restore_age = panel_for("jobs_restore_protected_age_sec")
restore_age_now = panel_for("jobs_restore_protected_age_sec", now)
restore_records = panel_for("jobs_restore_protected_record_count")
restore_expired = panel_for("jobs_restore_expired_pts_records")
poller_failures = panel_for("jobs_metrics_task_failed")
poller_node = panel_for("jobs_poll_jobs_stats_currently_running", by_node)

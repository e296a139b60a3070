"""Grafana dashboards, one module each, composed from the panels in ``panels``."""

from dashboards import backup_jobs, overview, protected_timestamps, restore_jobs, runbooks, schedules

ALL = (overview, schedules, backup_jobs, restore_jobs, protected_timestamps, runbooks)

-- An hourly backup schedule (daily full backups) into the first node's local storage. The option
-- updates_cluster_last_backup_time_metric makes it maintain schedules_BACKUP_last_completed_time,
-- which the recovery-point panels and alerts read.
CREATE SCHEDULE IF NOT EXISTS crdb_backups_compose
  FOR BACKUP INTO 'nodelocal://1/backups'
  RECURRING '@hourly'
  FULL BACKUP '@daily'
  WITH SCHEDULE OPTIONS first_run = 'now', updates_cluster_last_backup_time_metric;

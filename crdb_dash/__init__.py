"""crdb-backup-dashboards: Grafana dashboards and alert rules for CockroachDB backups."""

__version__ = "0.1.0"

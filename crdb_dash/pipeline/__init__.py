"""The build pipeline: dashboards and alert tables rendered to Grafana JSON, provisioning files, rule files and
Kubernetes objects, written deterministically."""

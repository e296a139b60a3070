"""Preview: draw the compiled dashboards as Grafana shows them, from a real Prometheus."""

"""What proves and demos the product: a CockroachDB metrics simulator, scenarios and setups, a live exporter,
real Prometheus / VictoriaMetrics runs, and the demo."""

"""Delivery to a running Grafana: the one client that talks to its HTTP API, deploy and diff, and doctor."""

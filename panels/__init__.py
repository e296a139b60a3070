"""Reusable panels, one per backup, restore and schedule metric, built from the metric catalog."""

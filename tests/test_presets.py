"""Each way the metrics reach Prometheus (NAMING.md), with its config preset, shows what self-hosted shows.

The self-hosted panels and alerts are checked against the simulator's truth in test_scenarios and
test_alerts; here the same history, stored as each setup stores it (other names, other labels, every pod
scraped twice for Helm), must give every panel of every dashboard the same values, and the alert rules the
same firing alerts, with the config `crdb-dash doctor --write-config` writes for it (tests/test_doctor.py).
"""

from __future__ import annotations

import pytest

from crdb_dash.model import alerts, config
from crdb_dash.pipeline import compiled
from crdb_dash.pipeline.interpolate import Vars
from crdb_dash.preview import query
from crdb_dash.preview.run import scenario_end
from crdb_dash.simulation import evaluate, promrun, setups
from crdb_dash.simulation.scenarios import named
from crdb_dash.simulation.simulator import Simulation, openmetrics

END = scenario_end()
SCENARIO = named("everything-at-once")
SCRAPE = SCENARIO.scrape


def _config(tmp_path_factory, preset: str) -> config.Config:
    path = tmp_path_factory.mktemp(preset) / "c.yaml"
    path.write_text(f"preset: {preset}\nscrape_interval: {SCRAPE}s\n")
    return config.load(path)


def _panel_values(prom, cfg, cluster: str) -> dict[tuple, list]:
    """(dashboard, panel, target) -> sorted values of its last points, evaluated as Grafana would."""
    out = {}
    for uid, model in compiled.dashboards(cfg).items():
        for panel in model["panels"]:
            for target in panel.get("targets", []):
                v = Vars(cluster=cluster, range_seconds=evaluate.range_seconds(model), scrape_seconds=SCRAPE)
                result = evaluate.run(prom, target, v, END)
                key = (uid.removeprefix(cfg.get("grafana.uid_prefix")), panel["title"], target["refId"])
                out[key] = sorted(round(x, 6) for x in evaluate.last_values(result).values())
    return out


def _variable_options(prom, cfg, cluster: str) -> dict[tuple, int]:
    """(dashboard, variable) -> how many options each query variable offers over the last day, as Grafana asks."""
    out = {}
    v = Vars(cluster=cluster, range_seconds=86400, scrape_seconds=SCRAPE)
    for uid, model in compiled.dashboards(cfg).items():
        for var in model.get("templating", {}).get("list", []):
            if var.get("type") == "query":
                key = (uid.removeprefix(cfg.get("grafana.uid_prefix")), var["name"])
                out[key] = len(query._options(var, prom, END - 86400, END, v))
    return out


def _firing(prom, cfg) -> list[tuple]:
    """(alert, severity, value) of every alert whose condition holds at the end (``for`` left aside)."""
    found = []
    for alert in alerts.table(cfg):
        for sample in prom.query(alert.expr, END)["result"]:
            found.append((alert.alertname, alert.severity, round(float(sample["value"][1]), 3)))
    return sorted(found)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    cfg = _config(tmp_path_factory, "self-hosted")
    with promrun.serve(openmetrics([Simulation(SCENARIO, END)])) as prom:
        return _panel_values(prom, cfg, "everything"), _firing(prom, cfg), _variable_options(prom, cfg, "everything")


@pytest.fixture(scope="module", params=["metrics-endpoint", "cloud", "dedicated", "helm"])
def stored(request):
    """(preset, setup, a Prometheus holding the scenario as that setup stores it), one preset at a time."""
    setup = setups.SETUPS[request.param]
    with promrun.serve(openmetrics([Simulation(SCENARIO, END)], setup)) as prom:
        yield request.param, setup, prom


def test_every_panel_and_alert_shows_what_self_hosted_shows(reference, tmp_path_factory, stored):
    preset, _, prom = stored
    cfg = _config(tmp_path_factory, preset)
    panels, firing, options = reference
    got_panels = _panel_values(prom, cfg, "everything")
    got_firing = _firing(prom, cfg)
    got_options = _variable_options(prom, cfg, "everything")
    assert sum(1 for values in panels.values() if values) > 0.8 * len(panels), "the reference shows too little"
    different = {key: (panels[key], got_panels.get(key)) for key in panels if got_panels.get(key) != panels[key]}
    assert different == {}
    assert got_firing == firing and firing, preset
    assert options[("-fleet", "cluster_filter")] == options[("-overview", "cluster")] == 1, options
    assert got_options == options, "every variable offers as many values as on self-hosted"


@pytest.mark.parametrize("stored", ["cloud"], indirect=True)
def test_the_default_config_shows_nothing_on_another_setup(tmp_path_factory, stored):
    """What doctor exists for: with the wrong naming every panel is empty and no alert fires, silently."""
    cfg = _config(tmp_path_factory, "self-hosted")
    _, _, prom = stored
    firing = _firing(prom, cfg)
    assert firing == [] or all(a[0].endswith("Unknown") for a in firing)
    assert not any(_panel_values(prom, cfg, "everything").values())

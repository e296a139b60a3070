"""Every dashboard survives a round trip through Grafana's typed models, with nothing from outside the project.

grafana-foundation-sdk's Python models are generated from Grafana's own schemas. Their ``from_json``
keeps only the keys a model knows (the dashboard, each panel, each panel type's options and field
config, each Prometheus query), so a key lost in the round trip is one Grafana's model does not have
(a stale grafanalib key, a misspelling, an option in the wrong place) and a changed value is one of the
wrong shape. Keys the SDK adds are its defaults and are not counted. The JSON Schema tests in
test_dashboards.py check more, where the schemas are present.
"""

import copy
import json

import pytest
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.cog.plugins import register_default_plugins
from grafana_foundation_sdk.models.dashboard import Dashboard

# Keys Grafana stores that the SDK's models lack; "*" matches any list index.
SDK_GAPS = {
    # A query variable's query as shown in the variables list; Grafana keeps it, the SDK's VariableModel has none.
    ("templating", "list", "*", "definition"),
}


@pytest.fixture(scope="module", autouse=True)
def plugins():
    register_default_plugins()  # panel options, field config and Prometheus queries decode into their types


def round_trip(model: dict) -> dict:
    return json.loads(json.dumps(Dashboard.from_json(copy.deepcopy(model)), cls=JSONEncoder))


def losses(before, after, path=()) -> list[str]:
    """Keys dropped and values changed on the way from ``before`` to ``after``."""
    if isinstance(before, dict) and isinstance(after, dict):
        out = []
        for key, value in before.items():
            here = path + (key,)
            if key not in after:
                if value is not None and not _known_gap(here):
                    out.append(f"dropped {'/'.join(map(str, here))}")
            else:
                out += losses(value, after[key], here)
        return out
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return [loss for i, (b, a) in enumerate(zip(before, after, strict=True)) for loss in losses(b, a, path + (i,))]
    if before != after or type(before) is not type(after):
        return [f"changed {'/'.join(map(str, path))}: {json.dumps(before)[:80]} -> {json.dumps(after)[:80]}"]
    return []


def _known_gap(path: tuple) -> bool:
    return any(len(gap) == len(path) and all(g in ("*", p) for g, p in zip(gap, path, strict=True))
               for gap in SDK_GAPS)


def test_every_dashboard_round_trips_through_grafanas_typed_models(models):
    for uid, model in models.items():
        assert losses(model, round_trip(model)) == [], uid


def _first(model: dict, panel_type: str) -> dict:
    return next(p for p in model["panels"] if p["type"] == panel_type)


@pytest.mark.parametrize("break_it, lost", [
    (lambda m: _first(m, "stat").update(span=4), "dropped panels/*/span"),  # grafanalib's stale width
    (lambda m: _first(m, "stat")["options"].update(colourMode="value"), "dropped panels/*/options/colourMode"),
    (lambda m: _first(m, "timeseries")["fieldConfig"]["defaults"]["custom"].update(lineWidht=2),
     "dropped panels/*/fieldConfig/defaults/custom/lineWidht"),
    (lambda m: _first(m, "stat")["targets"][0].update(legendFromat="{{cluster}}"),
     "dropped panels/*/targets/0/legendFromat"),
    (lambda m: m.update(rows=[]), "dropped rows"),
    (lambda m: m["templating"]["list"][0].update(useTags=False), "dropped templating/list/0/useTags"),
])
def test_the_round_trip_catches_a_broken_dashboard(models, break_it, lost):
    """The check is not vacuous: keys Grafana's models do not know are reported."""
    model = copy.deepcopy(models["crdb-backups-overview"])
    break_it(model)
    found = [loss.split(":")[0] for loss in losses(model, round_trip(model))]
    assert len(found) == 1
    parts, want = found[0].split("/"), lost.split("/")
    assert len(parts) == len(want) and all(w in ("*", p) for w, p in zip(want, parts, strict=True)), found


def test_schema_tests_skip_with_a_reason_where_the_schemas_are_absent(tmp_path):
    from tests.conftest import find_schemas

    with pytest.raises(pytest.skip.Exception, match="CRDB_DASH_SCHEMA_DIR") as skipped:
        find_schemas("", tmp_path / "shared" / "reference" / "grafana-jsonschema")
    assert str(tmp_path / "shared") in str(skipped.value)
    with pytest.raises(pytest.fail.Exception, match="holds no dashboard.jsonschema.json"):
        find_schemas(str(tmp_path), tmp_path)  # asked for by name: missing is an error, not a skip
    (tmp_path / "dashboard.jsonschema.json").write_text("{}")
    assert find_schemas("", tmp_path) == tmp_path

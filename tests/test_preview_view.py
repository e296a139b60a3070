"""What the preview decides to show for each panel type, from query results (no Prometheus needed)."""

from __future__ import annotations

import pytest

from crdb_dash.preview import draw, run, view
from crdb_dash.preview.query import TargetResult

NOW = 1_700_000_000


def _result(ref, series, legend="{{cluster}}"):
    return TargetResult(ref, legend, "expr", series, 60)


def _grid(x=0, y=0, w=12, h=8):
    return {"x": x, "y": y, "w": w, "h": h}


def test_table_has_a_column_per_label_and_a_value_column_per_query_formatted_by_unit():
    panel = {"type": "table", "title": "Fleet", "gridPos": _grid(w=24),
             "fieldConfig": {"defaults": {"unit": "s", "thresholds": {"steps": [{"color": "green", "value": None}]}}}}
    results = [_result("A", [{"metric": {"cluster": "b"}, "value": [NOW, "3708"]},
                             {"metric": {"cluster": "a"}, "value": [NOW, "45"]}]),
               _result("B", [{"metric": {"cluster": "a"}, "value": [NOW, "111600"]}])]
    v = view.build(panel, results, NOW)
    assert v.columns == ["cluster", "Value #A", "Value #B"]
    assert v.rows == [["a", "45 s", "1.29 day"], ["b", "1.03 hour", ""]]


def test_time_series_legend_calcs_threshold_lines_and_bars():
    defaults = {"unit": "short", "custom": {"drawStyle": "bars", "fillOpacity": 80,
                                            "thresholdsStyle": {"mode": "dashed"}},
                "thresholds": {"steps": [{"color": "green", "value": None}, {"color": "red", "value": 5}]}}
    panel = {"type": "timeseries", "title": "t", "gridPos": _grid(), "fieldConfig": {"defaults": defaults},
             "options": {"legend": {"calcs": ["lastNotNull", "max", "mean"], "displayMode": "table"}}}
    series = [{"metric": {"cluster": "c"}, "values": [[NOW - 120, "1"], [NOW - 60, "1500"], [NOW, "NaN"]]}]
    v = view.build(panel, [_result("A", series)], NOW, span=3600)
    assert v.draw_style == "bars" and v.threshold_lines == [(5, "#F2495C")]
    (s,) = v.series
    assert s.name == "c" and s.values == [1.0, 1500.0, None]
    assert s.legend == {"Last *": "1.50 K", "Max": "1.50 K", "Mean": "751"}
    assert v.time_range == (NOW - 3600, NOW)
    panel["fieldConfig"]["defaults"]["custom"]["thresholdsStyle"]["mode"] = "off"
    assert view.build(panel, [_result("A", series)], NOW).threshold_lines == []


def test_stat_with_several_series_shows_each_with_its_name_and_colour():
    panel = {"type": "stat", "title": "s", "gridPos": _grid(w=6, h=4), "options": {"reduceOptions": {"calcs": ["max"]}},
             "fieldConfig": {"defaults": {"unit": "short", "decimals": 0, "thresholds": {"steps": [
                 {"color": "green", "value": None}, {"color": "red", "value": 1}]}}}}
    results = [_result("A", [{"metric": {"cluster": "x"}, "values": [[NOW, "0"], [NOW + 60, "2"], [NOW + 120, "0"]]},
                             {"metric": {"cluster": "y"}, "values": [[NOW, "0"]]}])]
    v = view.build(panel, results, NOW)
    assert [(s.name, s.text, s.color) for s in v.stats] == [("x", "2", "red"), ("y", "0", "green")]


def test_text_and_other_panel_types_and_errors_are_drawn(tmp_path):
    panels = [{"type": "row", "title": "Row", "gridPos": _grid(w=24, h=1)},
              {"type": "text", "title": "About", "gridPos": _grid(y=1), "options": {"content": "# Hello\n*world*"}},
              {"type": "gauge", "title": "Gauge", "gridPos": _grid(x=12, y=1)},
              {"type": "table", "title": "Empty", "gridPos": _grid(y=9, w=24), "transparent": True},
              {"type": "row", "title": "More", "collapsed": True, "gridPos": _grid(y=25, w=24, h=1),
               "panels": [{"type": "stat", "title": "hidden", "gridPos": _grid(y=26)}]}]
    views = [view.build(p, None if p["type"] in ("row", "text") else [], NOW, span=3600) for p in panels]
    views.append(view.build({"type": "stat", "title": "Broken", "gridPos": _grid(y=17, w=24)}, None, NOW,
                            error="bad_data: parse error"))
    assert views[1].text == "# Hello\n*world*"
    out = tmp_path / "d.png"
    draw.dashboard("Synthetic", "subtitle", views, out)
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_at_and_time_range_words():
    assert run.parse_time("1700000000") == 1700000000
    assert run.parse_time("2023-11-14T22:13:20Z") == 1700000000
    assert run.parse_time("2023-11-14T22:13:20") == 1700000000
    assert run.time_range_text({"time": {"from": "now-24h", "to": "now"}}) == "Last 24 hours"
    assert run.time_range_text({"time": {"from": "now-1h", "to": "now"}}) == "Last 1 hour"


def test_readme_pictures_exist_for_every_dashboard_and_are_small(cfg):
    from crdb_dash.pipeline import compiled
    from tests.conftest import ROOT

    models = compiled.dashboards(cfg)
    readme = (ROOT / "docs" / "demo-and-preview.md").read_text()
    for scenario in ("healthy", "problems"):
        pictures = {p.stem: p for p in (ROOT / "docs" / "images" / scenario).glob("*.png")}
        assert set(pictures) == set(models), f"run 'make preview' ({scenario})"
        for uid, path in pictures.items():
            assert path.stat().st_size < 300_000, path
            assert f"images/{scenario}/{uid}.png" in readme


def test_overrides_organize_and_cell_colours_of_a_table():
    steps = {"steps": [{"color": "green", "value": None}, {"color": "red", "value": 3600}]}
    panel = {"type": "table", "title": "Fleet", "gridPos": _grid(w=24),
             "fieldConfig": {"defaults": {"unit": "short"}, "overrides": [
                 {"matcher": {"id": "byName", "options": "Value #A"},
                  "properties": [{"id": "unit", "value": "s"}, {"id": "thresholds", "value": steps},
                                 {"id": "custom.cellOptions", "value": {"type": "color-background"}},
                                 {"id": "displayName", "value": "Recovery point"}]},
                 {"matcher": {"id": "byFrameRefID", "options": "B"},
                  "properties": [{"id": "unit", "value": "percentunit"}]}]},
             "transformations": [{"id": "organize", "options": {"excludeByName": {"job": True},
                                                                "renameByName": {"cluster": "Cluster"}}}]}
    results = [_result("A", [{"metric": {"cluster": "a", "job": "x"}, "value": [NOW, "7200"]},
                             {"metric": {"cluster": "b", "job": "x"}, "value": [NOW, "60"]}]),
               _result("B", [{"metric": {"cluster": "a", "job": "x"}, "value": [NOW, "0.5"]}])]
    v = view.build(panel, results, NOW)
    assert v.columns == ["Cluster", "Recovery point", "Value #B"]
    assert v.rows == [["a", "2 hour", "50%"], ["b", "1 min", ""]]
    assert [row[1] for row in v.cell_colors] == ["#F2495C", "#73BF69"] and v.cell_colors[0][2] == ""


def test_series_overrides_fix_colour_name_and_unit():
    panel = {"type": "timeseries", "title": "t", "gridPos": _grid(),
             "options": {"legend": {"calcs": ["max"]}},
             "fieldConfig": {"defaults": {"unit": "short"}, "overrides": [
                 {"matcher": {"id": "byRegexp", "options": "/fail.*/"},
                  "properties": [{"id": "color", "value": {"mode": "fixed", "fixedColor": "red"}},
                                 {"id": "unit", "value": "s"}]}]}}
    series = [{"metric": {"cluster": "ok"}, "values": [[NOW, "90"]]},
              {"metric": {"cluster": "failing"}, "values": [[NOW, "90"]]}]
    v = view.build(panel, [_result("A", series)], NOW)
    assert [(s.name, s.hex, s.legend["Max"]) for s in v.series] == [("ok", "#73BF69", "90"),
                                                                     ("failing", "#F2495C", "1.50 min")]


def test_a_collapsed_row_is_its_header_only():
    row = {"type": "row", "title": "More", "collapsed": True, "gridPos": _grid(w=24, h=1),
           "panels": [{"type": "stat", "title": "hidden", "gridPos": _grid(y=1)}]}
    assert view.build(row, None, NOW).collapsed == 1


def test_variables_sorted_as_grafana_sorts_them(monkeypatch):
    from crdb_dash.preview import query

    monkeypatch.setattr(query, "label_values", lambda prom, label, params: ["n10", "n9", "N1", "n2"])
    model = {"templating": {"list": [
        {"name": "a", "type": "query", "query": "label_values(up, instance)", "sort": 1},
        {"name": "b", "type": "query", "query": "label_values(up, instance)", "sort": 3},
        {"name": "c", "type": "query", "query": "label_values(up, instance)", "sort": 6},
        {"name": "d", "type": "query", "query": "label_values(up{x=\"$a\"}, instance)", "includeAll": True,
         "multi": True, "current": {"value": ["$__all"]}},
        {"name": "e", "type": "query", "query": "label_values(up{x=\"$missing\"}, instance)"}]}}
    with pytest.raises(query.VariableError, match=r"variable \$e: unknown variable \$missing"):
        query.resolve_variables(model, None, 0, 3600, "prometheus")
    model["templating"]["list"].pop()
    values = query.resolve_variables(model, None, 0, 3600, "prometheus")
    assert values == {"a": ["N1"], "b": ["N1"], "c": ["n9"], "d": None}


def test_query_result_variables_read_their_values_through_the_regex():
    from crdb_dash.preview import query

    class Prom:
        def query(self, expr, at):
            assert expr == 'count by (tenant) (max_over_time(up{cluster="c"}[1h]))' and at == 3600
            return {"result": [{"metric": {"tenant": "system"}, "value": [3600, "3"]},
                               {"metric": {"tenant": "app"}, "value": [3600, "3"]}]}

    model = {"templating": {"list": [
        {"name": "cluster", "type": "custom", "current": {"value": "c"}},
        {"name": "tenant", "type": "query", "regex": '/tenant="([^"]+)"/', "sort": 1, "current": {"value": "x"},
         "query": {"query": 'query_result(count by (tenant) (max_over_time(up{cluster="$cluster"}[$__range])))'}}]}}
    assert query.resolve_variables(model, Prom(), 0, 3600, "prometheus") == {"cluster": ["c"], "tenant": ["app"]}
    assert query._series_text({"metric": {"__name__": "up", "a": "b"}, "value": [1, "2"]}) == 'up{a="b"} 2 1000'


def test_other_variables_set_to_all_or_several_values_are_regexes():
    from crdb_dash.pipeline.interpolate import substitute
    from crdb_dash.preview import query

    v = query.panel_vars({"gridPos": _grid()}, {}, {"cluster": ["c"], "tenant_id": None, "job": ["a.b", "c"],
                                                    "zone": ["z1"]}, 3600, 30)
    assert substitute('x{tenant_id=~"$tenant_id", job=~"$job", zone="$zone"}', v) == \
        'x{tenant_id=~".*", job=~"(a\\\\.b|c)", zone="z1"}'


def test_y_axis_follows_the_data_and_soft_limits_not_the_thresholds():
    steps = {"steps": [{"color": "green", "value": None}, {"color": "red", "value": 100}]}
    panel = {"type": "timeseries", "title": "t", "gridPos": _grid(), "fieldConfig": {"defaults": {
        "min": 0, "thresholds": steps, "custom": {"thresholdsStyle": {"mode": "dashed"}}}}}
    series = [{"metric": {}, "values": [[NOW, "10"]]}]
    v = view.build(panel, [_result("A", series)], NOW)
    assert draw._y_range(v, 10, 10) == (0, 10.5)  # the threshold at 100 is off the axis, as in Grafana
    panel["fieldConfig"]["defaults"]["custom"]["axisSoftMax"] = 120
    v = view.build(panel, [_result("A", series)], NOW)
    assert draw._y_range(v, 10, 10) == (0, 126)

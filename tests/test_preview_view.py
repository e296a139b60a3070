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


def _fleet_table(cfg):
    from crdb_dash.pipeline import compiled

    (panel,) = [p for p in compiled.dashboards(cfg)["crdb-backups-fleet"]["panels"] if p["type"] == "table"]
    return panel


def test_the_fleet_table_sorts_by_the_status_value_worst_first_as_its_sortby_says(cfg):
    """Grafana sorts by the field's raw value (the Status level), not by the text its mapping shows; a row
    without a value comes last."""
    panel = _fleet_table(cfg)
    assert panel["options"]["sortBy"] == [{"displayName": "Status", "desc": True}]
    status = [{"metric": {"cluster": c, "tenant": "system"}, "value": [NOW, level]}
              for c, level in (("a", "0"), ("b", "4"), ("c", "7"))]
    reporting = [{"metric": {"cluster": c, "tenant": "system"}, "value": [NOW, "1"]} for c in "abcd"]
    results = [_result("A", status), *(_result(chr(ord("B") + i), []) for i in range(8)),
               _result("J", reporting)]
    v = view.build(panel, results, NOW)
    assert [(row[0], row[2]) for row in v.rows] == [("c", "Not reporting"), ("b", "RPO warning"), ("a", "OK"),
                                                   ("d", "")]


def test_a_table_honours_its_columns_own_widths(cfg):
    v = view.build(_fleet_table(cfg), [_result("A", [{"metric": {"cluster": "a", "tenant": "b"},
                                                      "value": [NOW, "0"]}])], NOW)
    assert v.column_widths[:3] == [160, 120, None]
    assert draw._column_widths(v, 1000)[:3] == [160, 120, (1000 - 280) / (len(v.columns) - 2)]


def test_headers_too_wide_for_their_column_are_cut_with_an_ellipsis_and_never_overlap(cfg):
    panel = _fleet_table(cfg)
    row = [{"metric": {"cluster": "a", "tenant": "b"}, "value": [NOW, "0"]}]
    v = view.build(panel, [_result(t["refId"], row) for t in panel["targets"]], NOW)
    c = draw.Canvas(1888, 800)
    draw._table(c, v, 0, 0, 1888, 800)
    renderer = c.fig.canvas.get_renderer()
    headers = [t for t in c.fig.texts if t.get_fontweight() == "bold"]
    assert len(headers) == len(v.columns) and any(t.get_text().endswith("…") for t in headers)
    extents = [t.get_window_extent(renderer) for t in headers]
    assert all(a.x1 < b.x0 for a, b in zip(extents, extents[1:], strict=False)), [t.get_text() for t in headers]


@pytest.mark.parametrize("text, width", [("Since last successful backup", 90), ("Scheduled backup success ratio", 150),
                                         ("everything system", 40), ("x", 1)])
def test_fit_cuts_to_the_width_as_drawn(text, width):
    cut = draw.fit(text, width, 13, "bold")
    assert cut.endswith("…") and draw.text_width(cut, 13, "bold") <= width or cut == "…"
    assert draw.fit(text, draw.text_width(text, 13) + 1, 13) == text


def _tiles(order_by=("cluster", "tenant")):
    from crdb_dash.panels.base import tile_order

    legend = " ".join("{{%s}}" % label for label in order_by)
    return {"type": "stat", "title": "s", "gridPos": _grid(w=12, h=4), "transformations": tile_order(legend),
            "targets": [{"refId": "A", "legendFormat": legend}]}


SERIES = [{"metric": {"cluster": c, "tenant": t}, "value": [NOW, "1"]}
          for c, t in (("b", "system"), ("a", "tenant-10"), ("B", "app"), ("a", "tenant-9"), ("a", "system"))]


def test_stat_tiles_follow_the_panels_order_by_cluster_then_virtual_cluster_whatever_the_query_order():
    panel = _tiles()
    names = [s.name for s in view.build(panel, [_result("A", SERIES, "{{cluster}} {{tenant}}")], NOW).stats]
    # compared as Grafana's collator compares: case ignored (B and b are one cluster), numbers by value
    assert names == ["a system", "a tenant-9", "a tenant-10", "B app", "b system"]
    for shuffled in (SERIES[::-1], SERIES[2:] + SERIES[:2]):
        again = view.build(panel, [_result("A", shuffled, "{{cluster}} {{tenant}}")], NOW).stats
        assert [s.name for s in again] == names
    assert [s.name for s in view.build({**panel, "transformations": []},
                                       [_result("A", SERIES, "{{cluster}} {{tenant}}")], NOW).stats][0] == "b system"


def test_a_stat_draws_the_same_picture_whatever_order_its_series_arrive_in(tmp_path):
    panel = _tiles()
    series = [{"metric": {"cluster": c, "tenant": t}, "value": [NOW, v]}
              for c, t, v in (("b", "system", "1"), ("a", "app", "2"), ("a", "system", "3"))]
    pictures = []
    for order in (series, series[::-1]):
        v = view.build(panel, [_result("A", order, "{{cluster}} {{tenant}}")], NOW)
        draw.dashboard("d", "s", [v], tmp_path / "d.png", scale=0.25)
        pictures.append((tmp_path / "d.png").read_bytes())
    assert pictures[0] == pictures[1]


def test_text_is_never_drawn_below_the_legible_size_whatever_the_scale():
    for scale in (0.25, 0.6, 1.0, 2.0):
        c = draw.Canvas(400, 300, scale)
        c.text(0, 0, "50 MB/s", size=12)
        pixels = c.fig.texts[-1].get_fontsize() * c.fig.dpi / 72
        assert pixels >= draw.MIN_TEXT_PX - 1e-9 and (scale < 1 or pixels == pytest.approx(12 * scale))


def test_whole_numbers_get_whole_ticks_only():
    panel = {"type": "timeseries", "title": "t", "gridPos": _grid(), "fieldConfig": {"defaults": {"decimals": 0}}}
    v = view.build(panel, [_result("A", [{"metric": {}, "values": [[NOW, "1"]]}])], NOW)
    assert draw._y_ticks(v, draw._y_range(v, 0, 1), 300) == [0, 1]
    v.decimals = None
    assert any(tick % 1 for tick in draw._y_ticks(v, draw._y_range(v, 0, 1), 300))


def test_counts_in_messages_are_pluralised_and_count_panels_as_deploy_does(tmp_path):
    from crdb_dash.pipeline.compiled import panel_count

    text = {"type": "text", "title": "t", "gridPos": _grid(w=24), "options": {"content": "x"}}
    row = {"type": "row", "title": "r", "collapsed": True, "gridPos": _grid(y=8, w=24, h=1),
           "panels": [{**text, "title": "u"}, {**text, "title": "v"}]}
    said = []
    for panels, expected in (([text], "(1 panel)"), ([text, row], "(3 panels)")):
        model = {"uid": "d", "title": "D", "time": {"from": "now-1h"}, "panels": panels}
        (report,) = run.render({"d": model}, None, NOW, tmp_path, 30, "prometheus", "x", say=said.append)
        assert said[-1].endswith(expected) and panel_count(model) == int(expected[1])
    assert run.summary([report], tmp_path) == f"1 dashboard drawn under {tmp_path.resolve()}"
    report.errors = ["a", "b"]
    assert run.summary([report, report], tmp_path).endswith("2 dashboards drawn under "
                                                            f"{tmp_path.resolve()}; 4 panels failed")

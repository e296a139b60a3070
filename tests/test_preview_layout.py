"""The preview's layout check: overlapping panels and lines of the grid left short of 24 columns."""

from __future__ import annotations

from crdb_dash.preview import layout


def _p(title, x, y, w, h, kind="stat"):
    return {"type": kind, "title": title, "gridPos": {"x": x, "y": y, "w": w, "h": h}}


def test_a_full_grid_has_no_problems():
    panels = [_p("Now", 0, 0, 24, 1, "row"), *(_p(f"s{i}", 4 * i, 1, 4, 4) for i in range(6)),
              _p("Trends", 0, 5, 24, 1, "row"), _p("a", 0, 6, 12, 8), _p("b", 12, 6, 12, 8)]
    assert layout.check(panels) == []


def test_a_short_line_is_reported_with_its_row_and_panels():
    panels = [_p("Now", 0, 0, 24, 1, "row"), _p("a", 0, 1, 4, 4), _p("b", 4, 1, 4, 4),
              _p("Storage", 0, 5, 24, 1, "row"), _p("writes", 0, 6, 12, 8)]
    problems = layout.check(panels)
    assert [(p.kind, p.row, p.y) for p in problems] == [("short row", "Now", 1), ("short row", "Storage", 6)]
    assert str(problems[0]) == "row 'Now', y=1: 'a', 'b' fill 8 of 24 columns"


def test_a_tall_panel_beside_two_short_ones_fills_its_lines():
    panels = [_p("tall", 0, 0, 12, 8, "timeseries"), _p("top", 12, 0, 12, 4), _p("bottom", 12, 4, 12, 4)]
    assert layout.check(panels) == []


def test_overlaps_and_panels_past_the_last_column_are_reported():
    panels = [_p("a", 0, 0, 12, 8), _p("b", 8, 4, 16, 8), _p("c", 20, 12, 8, 4), _p("d", 0, 12, 20, 4)]
    kinds = {(p.kind, p.text) for p in layout.check(panels)}
    assert ("overlap", "'a' and 'b' overlap") in kinds
    assert ("outside", "'c' spans columns 20..28, past 24") in kinds


def test_grid_to_pixels_matches_grafanas_cells():
    left, top, width, height = layout.box({"x": 12, "y": 2, "w": 12, "h": 8})
    assert top == 2 * (layout.CELL_HEIGHT + layout.MARGIN)
    assert height == 8 * 30 + 7 * 8
    assert left + width == layout.WIDTH


def test_shipped_dashboards_have_no_overlapping_panels_and_full_rows(cfg):
    from crdb_dash.pipeline import compiled

    for uid, model in compiled.dashboards(cfg).items():
        assert [str(p) for p in layout.check(model["panels"])] == [], uid

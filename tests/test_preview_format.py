"""Grafana's display semantics as the preview implements them, against Grafana's documented behaviour.

Expected texts come from Grafana's own tests (valueFormats.test.ts, dateTimeFormatters.test.ts), its unit
definitions (categories.ts: short, percentunit, bytes, Bps ...) and moment's documented fromNow() ranges.
"""

from __future__ import annotations

import math

import pytest

from crdb_dash.preview import format as F
from crdb_dash.preview import query


@pytest.mark.parametrize("unit, decimals, value, text", [
    # from Grafana's valueFormats.test.ts
    ("ms", 4, 0.0024, "0.0024 ms"),
    ("ms", 0, 100, "100 ms"),
    ("ms", 2, 1250, "1.25 s"),
    ("ms", 1, 10000086.123, "2.8 hour"),
    ("ms", 0, 1200, "1 s"),
    ("kbytes", 3, 10000000, "9.537 GiB"),
    ("deckbytes", 3, 10000000, "10.000 GB"),
    # toSeconds: minutes, hours, days, weeks with automatic decimals (about two significant digits)
    ("s", None, 45, "45 s"),
    ("s", None, 90, "1.50 min"),
    ("s", None, 3708, "1.03 hour"),
    ("s", None, 111600, "1.29 day"),
    ("s", None, 7200, "2 hour"),
    ("s", None, 0.25, "250 ms"),
    ("s", None, 2 * 604800, "2 week"),
    ("s", 1, 5400, "1.5 hour"),
    # percentunit: a ratio shown as a percentage
    ("percentunit", None, 0.953, "95.3%"),
    ("percentunit", None, 1, "100%"),
    ("percentunit", 1, 0.875, "87.5%"),
    ("percent", None, 42, "42%"),
    # short: K, Mil, Bil
    ("short", 0, 12, "12"),
    ("short", None, 1500, "1.50 K"),
    ("short", None, 1234567, "1.23 Mil"),
    ("short", None, 0, "0"),
    ("short", 0, 0.4, "0"),
    # bytes (IEC, 1024) and bytes/s (SI, 1000)
    ("bytes", None, 1536, "1.50 KiB"),
    ("bytes", None, 512, "512 B"),
    ("Bps", None, 1500, "1.50 kB/s"),
    ("Bps", None, 52428800, "52.4 MB/s"),
    ("Bps", None, 0, "0 B/s"),
    # no unit, an unknown unit, suffix:
    ("none", None, 3.14159, "3.14"),
    ("widgets", 0, 3, "3 widgets"),
    ("suffix: jobs", 0, 3, "3  jobs"),
])
def test_units_format_as_grafana_does(unit, decimals, value, text):
    assert str(F.format_value(value, unit, decimals)) == text


@pytest.mark.parametrize("value, decimals, text", [
    (100, None, "100"), (100.4, None, "100"), (100.5, None, "101"), (100, 1, "100.0"), (100.37, 1, "100.4"),
    (100.63, 1, "100.6"), (100.4, 2, "100.40"), (100.5, 2, "100.50"), (186.123, -2, "186"),
    (math.nan, None, "NaN"), (2.5, None, "2.50"), (0.0123, None, "0.0123"),
])
def test_to_fixed_from_grafanas_tests(value, decimals, text):
    assert F.to_fixed(value, decimals) == text


@pytest.mark.parametrize("ago, text", [
    (10, "a few seconds ago"), (50, "a minute ago"), (90, "2 minutes ago"), (44 * 60, "44 minutes ago"),
    (50 * 60, "an hour ago"), (3 * 3600, "3 hours ago"), (21 * 3600, "21 hours ago"), (30 * 3600, "a day ago"),
    (3 * 86400, "3 days ago"), (30 * 86400, "a month ago"), (100 * 86400, "3 months ago"),
    (400 * 86400, "a year ago"), (800 * 86400, "2 years ago"), (-2 * 3600, "in 2 hours"),
    # each step of the ladder, either side: moment rounds (halves up) before it compares with the threshold
    (44, "a few seconds ago"), (45, "a minute ago"), (-45, "in a minute"),
    (89, "a minute ago"), (90, "2 minutes ago"),
    (2669, "44 minutes ago"), (2670, "an hour ago"),  # 44.5 minutes
    (5399, "an hour ago"), (5400, "2 hours ago"),
    (77399, "21 hours ago"), (77400, "a day ago"),  # 21.5 hours
    (129599, "a day ago"), (129600, "2 days ago"),
    (2203199, "25 days ago"), (2203200, "a month ago"),  # 25.5 days
    (3944618, "a month ago"), (3944620, "2 months ago"),  # 1.5 months of 146097 / 4800 days
    (27612332, "10 months ago"), (27612334, "a year ago"),  # 10.5 months
    (47335427, "a year ago"), (47335429, "2 years ago"), (-47335429, "in 2 years"),  # 18 months
])
def test_date_time_from_now_reads_like_moment(ago, text):
    now = 1_700_000_000
    assert str(F.format_value((now - ago) * 1000, "dateTimeFromNow", now=now)) == text


STEPS = {"mode": "absolute", "steps": [{"color": "green", "value": None}, {"color": "yellow", "value": 7200.0},
                                       {"color": "red", "value": 21600.0}]}


@pytest.mark.parametrize("value, color", [(-1e9, "green"), (0, "green"), (7199, "green"), (7200, "yellow"),
                                          (21599, "yellow"), (21600, "red"), (1e9, "red")])
def test_threshold_steps_start_at_their_value_the_base_step_at_minus_infinity(value, color):
    assert F.active_step(value, STEPS)["color"] == color


def test_percentage_thresholds_are_relative_to_min_and_max():
    steps = {"mode": "percentage", "steps": [{"color": "green", "value": None}, {"color": "red", "value": 80}]}
    assert F.active_step(79, steps, 0, 100)["color"] == "green"
    assert F.active_step(8, steps, 0, 10)["color"] == "red"


UNKNOWN = [{"type": "value", "options": {"-1": {"color": "orange", "index": 0, "text": "Unknown"}}}]


def test_value_mappings_match_the_value_text_and_give_text_and_colour():
    assert F.map_value(-1.0, UNKNOWN) == F.Mapped("Unknown", "orange")
    assert F.map_value(-1, UNKNOWN) == F.Mapped("Unknown", "orange")
    assert F.map_value(1.0, UNKNOWN) is None
    assert F.map_value(None, UNKNOWN) is None
    ranges = [{"type": "range", "options": {"from": 1, "to": 5, "result": {"text": "few", "color": "blue"}}}]
    assert F.map_value(5, ranges).text == "few" and F.map_value(5.5, ranges) is None
    special = [{"type": "special", "options": {"match": "null", "result": {"text": "Never"}}}]
    assert F.map_value(None, special) == F.Mapped("Never", None)


def test_stat_display_mapping_before_unit_and_no_value_in_the_base_colour():
    from crdb_dash.preview.view import display

    defaults = {"unit": "s", "mappings": UNKNOWN, "thresholds": STEPS, "noValue": "No data"}
    assert display(-1.0, defaults, 0) == ("Unknown", "orange")
    assert display(3708.0, defaults, 0) == ("1.03 hour", "green")
    assert display(111600.0, defaults, 0) == ("1.29 day", "red")
    assert display(None, defaults, 0) == ("No data", "green")
    assert display(None, {**defaults, "noValue": "Never"}, 0) == ("Never", "green")


@pytest.mark.parametrize("calc, value", [("lastNotNull", 3.0), ("last", None), ("max", 5.0), ("min", 1.0),
                                         ("mean", 3.0), ("sum", 9.0), ("firstNotNull", 1.0), ("count", 4.0)])
def test_reducers_skip_nulls_except_last_and_first(calc, value):
    assert F.reduce([1.0, 5.0, 3.0, None], calc) == value


def test_named_colours_of_the_dark_theme_and_text_contrast():
    assert F.color_hex("green") == "#73BF69" and F.color_hex("red") == "#F2495C"
    assert F.color_hex("orange") == "#FF9830" and F.color_hex("dark-red") == "#C4162A"
    assert F.color_hex("#123456") == "#123456"
    assert F.text_on(F.color_hex("yellow")) == "#202226"  # dark text on yellow
    assert F.text_on(F.color_hex("green")) == "#F7F8FA"


def test_legend_format_replaces_labels_and_drops_missing_ones():
    assert F.legend_name("{{cluster}} {{tenant}}", {"cluster": "prod"}) == "prod"
    assert F.legend_name("", {"__name__": "up", "job": "x"}) == 'up{job="x"}'


def test_interval_rate_interval_and_range_of_a_panel_as_grafana_sends_them():
    from crdb_dash.pipeline.interpolate import substitute

    panel = {"gridPos": {"x": 0, "y": 0, "w": 12, "h": 8}}
    v = query.panel_vars(panel, {}, {"cluster": ["c"], "node": None, "tenant": None}, 86400, 30)
    # 24 h over a half-width panel (924 px of plot) is 93.5 s, which Grafana rounds to 2m
    assert v.max_data_points == 924 and v.step == 120 and v.rate_interval == 150  # max(2m + 30s, 4 x 30s)
    assert substitute("rate(x[$__rate_interval]) offset ${__interval_ms}ms [$__range]", v) == \
        "rate(x[150s]) offset 120000ms [1d]"
    narrow = query.panel_vars({"gridPos": {"x": 0, "y": 0, "w": 4, "h": 4}}, {}, {}, 86400, 30)
    assert narrow.step == 300  # 292 px: 296 s rounds to 5m
    floor = query.panel_vars({**panel, "interval": "5m"}, {}, {}, 3600, 30)
    assert floor.step == 300  # the panel's min interval


def test_names_sort_as_grafanas_collator_sorts_them():
    """Intl.Collator(undefined, {sensitivity: "base", numeric: true}): case and accents ignored, numbers by value,
    spaces and punctuation before digits, digits before letters."""
    names = ["node-10", "Node-9", "node 2", "b", "é", "2", "a", "A1"]
    assert sorted(names, key=F.collation_key) == ["2", "a", "A1", "b", "é", "node 2", "Node-9", "node-10"]
    assert F.collation_key("Prod") == F.collation_key("prod") and F.collation_key("") < F.collation_key("a")


def test_counts_read_as_words():
    assert [F.plural(n, "panel") for n in (0, 1, 2)] == ["0 panels", "1 panel", "2 panels"]

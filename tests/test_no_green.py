"""No tile is green without good news: a stat (or a coloured table cell) with no value says what the absence
means, in its own words, in a colour that is not green.

Grafana shows a null value, or a query with no data at all, with the text and colour of a "special" null value
mapping where there is one; else with the field's ``noValue`` text, coloured by the base threshold step (the step
from null, read for -Infinity). A stat whose base step is green thus shows a green "No data" for a wrong selector
or a cluster that does not exist. Every dashboard is checked with the defaults, each preset and per-cluster RPO
targets.
"""

from __future__ import annotations

import colorsys
import re

import pytest

from crdb_dash.model import config
from crdb_dash.pipeline import compiled
from tests.conftest import configured

GREEN_NAMES = re.compile(r"green|lime|olive|chartreuse", re.IGNORECASE)  # Grafana's green shades, CSS greens
COLOURED_CELLS = {"color-background", "color-text"}  # table cell types coloured by the field's colour
FIELD_KEYS = ("thresholds", "mappings", "noValue", "color")  # what decides a null value's text and colour


def _configs(tmp_path_factory) -> dict[str, config.Config]:
    out = {"defaults": config.load(),
           "rpo.overrides": configured(rpo={"overrides": [{"match": {"cluster": "daily-.*"}, "warning": "26h",
                                                           "critical": "30h"}]})}
    for preset in config.PRESETS:
        path = tmp_path_factory.mktemp(preset) / "config.yaml"
        path.write_text(f"preset: {preset}\n")
        out[f"preset {preset}"] = config.load(path)
    return out


@pytest.fixture(scope="module")
def every_model(tmp_path_factory) -> dict[str, dict[str, dict]]:
    """config name -> uid -> compiled dashboard."""
    return {name: compiled.dashboards(cfg) for name, cfg in _configs(tmp_path_factory).items()}


def greenish(colour: str | None) -> bool:
    """A Grafana colour name (green, dark-green, semi-dark-green, ...), a CSS green or a hex / rgb() of a green hue."""
    if not colour:
        return False
    if GREEN_NAMES.search(colour):
        return True
    rgb = _rgb(colour)
    if rgb is None:
        return False
    hue, lightness, saturation = colorsys.rgb_to_hls(*(c / 255 for c in rgb))
    return 75 / 360 <= hue <= 165 / 360 and saturation > 0.2 and 0.1 < lightness < 0.95


def _rgb(colour: str) -> tuple[int, int, int] | None:
    colour = colour.strip()
    if m := re.fullmatch(r"#([0-9a-fA-F]{3})([0-9a-fA-F])?", colour):
        return tuple(int(c * 2, 16) for c in m[1])
    if m := re.fullmatch(r"#([0-9a-fA-F]{6})([0-9a-fA-F]{2})?", colour):
        return tuple(int(m[1][i:i + 2], 16) for i in (0, 2, 4))
    if m := re.fullmatch(r"rgba?\(\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*(,[^)]*)?\)", colour):
        return int(m[1]), int(m[2]), int(m[3])
    return None


def test_greenish_knows_grafanas_greens_and_nothing_else():
    for colour in ("green", "dark-green", "semi-dark-green", "light-green", "super-light-green", "#73BF69",
                   "#37872D", "#0f0", "rgb(115, 191, 105)", "lime"):
        assert greenish(colour), colour
    for colour in (None, "", "text", "red", "orange", "yellow", "blue", "transparent", "#F2495C", "#FF9830",
                   "#5794F2", "#CCCCDC", "#000000", "#ffffff"):
        assert not greenish(colour), colour


def _null_mapping(mappings: list[dict] | None) -> dict | None:
    """The result of the first mapping a null value matches (Grafana's getValueMappingResult)."""
    for mapping in mappings or []:
        if mapping.get("type") == "special" and mapping["options"].get("match") in ("null", "null+nan"):
            return mapping["options"].get("result") or None
    return None


def absent(config_: dict) -> tuple[str, str | None]:
    """(text, colour) Grafana's display processor gives a null value of a field with this config."""
    result = _null_mapping(config_.get("mappings")) or {}
    text = result.get("text") if result.get("text") is not None else config_.get("noValue", "")
    if result.get("color"):
        return text, result["color"]
    mode = (config_.get("color") or {}).get("mode", "thresholds")
    if mode == "fixed":
        return text, config_["color"].get("fixedColor")
    assert mode == "thresholds", f"colour mode {mode} is not modelled here"
    steps = (config_.get("thresholds") or {}).get("steps") or [{"color": "green", "value": None}]  # Grafana's default
    return text, steps[0]["color"]  # -Infinity is below every step but the base


def _says_what_absence_means(text: str) -> bool:
    """Words, not an empty string nor a number that reads as a value ("0")."""
    return bool(re.search(r"[A-Za-z]{2,}", text or ""))


def _stats(models: dict[str, dict]):
    for uid, model in models.items():
        for panel in model["panels"]:
            if panel["type"] == "stat":
                yield uid, panel


@pytest.mark.parametrize("name", ["defaults", "rpo.overrides", *(f"preset {p}" for p in config.PRESETS)])
def test_no_stat_shows_green_on_no_value(every_model, name):
    models, checked, wrong = every_model[name], 0, []
    for uid, panel in _stats(models):
        for field, config_ in _fields(panel):
            text, colour = absent(config_)
            if panel["options"].get("colorMode") == "none":
                colour = None
            checked += 1
            where = f"{uid} / {panel['title']}{field}"
            if greenish(colour):
                wrong.append(f"{where}: {text!r} in {colour}")
            if not _says_what_absence_means(text):
                wrong.append(f"{where}: no value shown as {text!r}, which does not say what it means")
    assert checked > 20
    assert wrong == [], "\n".join(wrong)


def _overridden(defaults: dict, override: dict) -> tuple[dict, dict]:
    """(the override's properties by id, the field config of a field it matches)."""
    props = {p["id"]: p["value"] for p in override["properties"]}
    return props, {**defaults, **{k: v for k, v in props.items() if k in FIELD_KEYS}}


def _fields(panel: dict):
    """(where, config) of a stat's fields: its defaults (no series at all), each override (a series it matches
    whose value is null)."""
    defaults = panel["fieldConfig"]["defaults"]
    yield "", defaults
    for override in panel["fieldConfig"].get("overrides") or []:
        yield f" ({override['matcher']['id']} {override['matcher'].get('options')})", _overridden(defaults, override)[1]


def _columns(panel: dict):
    """(title, config) of each coloured column of a table: the panel's defaults with the column's override."""
    defaults = panel["fieldConfig"]["defaults"]
    for override in panel["fieldConfig"]["overrides"]:
        props, merged = _overridden(defaults, override)
        cell = props.get("custom.cellOptions", defaults.get("custom", {}).get("cellOptions", {}))
        if cell.get("type") not in COLOURED_CELLS:
            continue
        yield props.get("displayName", override["matcher"]["options"]), merged


def test_no_coloured_table_cell_is_green_when_empty(every_model):
    wrong, checked = [], 0
    for name, models in every_model.items():
        for uid, model in models.items():
            for panel in (p for p in model["panels"] if p["type"] == "table"):
                for title, column in _columns(panel):
                    checked += 1
                    text, colour = absent(column)
                    if greenish(colour) or not _says_what_absence_means(text):
                        wrong.append(f"{name}: {uid} / {panel['title']} / {title}: {text!r} in {colour}")
    assert checked > 0
    assert wrong == [], "\n".join(wrong)


def test_the_model_reads_a_null_mapping_before_the_base_step():
    steps = {"mode": "absolute", "steps": [{"color": "green", "value": None}, {"color": "red", "value": 1}]}
    null = [{"type": "special", "options": {"match": "null", "result": {"text": "No data", "color": "text"}}}]
    assert absent({"thresholds": steps, "noValue": "0"}) == ("0", "green")
    assert absent({"thresholds": steps, "noValue": "x", "mappings": null}) == ("No data", "text")
    assert absent({"thresholds": steps, "mappings": [{"type": "special", "options": {
        "match": "null", "result": {"text": "Never"}}}]}) == ("Never", "green")  # text only: the base step's colour

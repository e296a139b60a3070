"""The dashboards: Grafana's JSON Schema, lint rules in the spirit of grafana/dashboard-linter, layout, coverage."""

import json
import re

import jsonschema
import promql_parser
import pytest

from crdb_dash.model import catalog, promql
from crdb_dash.model.config import parse_duration
from crdb_dash.pipeline.interpolate import Vars, substitute
from crdb_dash.pipeline.normalize import DATASOURCE
from crdb_dash.simulation.evaluate import walk
from tests.conftest import configured

# Errors of Grafana's published schema on valid dashboards (GRAFANA.md). Each is matched on the
# schema path the validator reports and skipped only there.
SCHEMA_FALSE_POSITIVES = {
    # A unit override's value is typed as an object although Grafana stores a string.
    ("fieldConfig", "overrides", "properties", "value"): "unit override value typed as object",
    # A matcher's options are typed as an object although byFrameRefID and byName store a string.
    ("fieldConfig", "overrides", "matcher", "options"): "matcher options typed as object",
    # A field's data links (title, url, targetBlank) are typed as dashboard links, which require seven more keys.
    ("fieldConfig", "defaults", "links"): "data links typed as dashboard links",
    # A table's cell options are a oneOf whose branches differ only by an enum-typed "type": a plain
    # {"type": "auto"} matches several of them, so no cell option can pass.
    ("cellOptions",): "table cell options' oneOf is ambiguous",
}

# grafanalib's long-dropped keys (GRAFANA.md), where each may appear.
STALE = {
    "dashboard": {"rows", "style", "sharedCrosshair", "hideControls", "gnetId", "__inputs"},
    "panel": {"span", "height", "minSpan", "error", "cacheTimeout", "maxDataPoints", "fieldOptions"},
    "target": {"query", "target", "metric", "step", "intervalFactor"},
    "variable": {"useTags", "tagsQuery", "tagValuesQuery"},
    "threshold": {"op", "yaxis", "line", "index"},
}
RANGE_WINDOW = re.compile(r"\[([^\]]+)\]")


def _load(schema_dir, name):
    return json.loads((schema_dir / f"{name}.jsonschema.json").read_text())


def _false_positive(error) -> bool:
    """A known schema error; for anyOf (Panel or RowPanel), true when one branch fails only on known errors."""
    if error.context:
        branches: dict = {}
        for sub in error.context:
            branches.setdefault(sub.relative_schema_path[0], []).append(sub)
        return any(all(_false_positive(sub) for sub in subs) for subs in branches.values())
    path = tuple(str(p) for p in error.absolute_path)
    return any(all(part in path for part in fp) for fp in SCHEMA_FALSE_POSITIVES)


def _errors(validator, instance):
    out = []
    for error in validator.iter_errors(instance):
        if not _false_positive(error):
            out.append(f"{'/'.join(str(p) for p in error.absolute_path)}: {error.message[:200]}")
    return out


def test_every_dashboard_validates_against_grafanas_schema(models, schema_dir):
    validator = jsonschema.Draft7Validator(_load(schema_dir, "dashboard"))
    for uid, model in models.items():
        assert _errors(validator, model) == [], uid


@pytest.mark.parametrize("part, definition", [("options", "Options"), ("custom", "FieldConfig")])
def test_panel_options_and_custom_validate_against_their_types_schema(panels, schema_dir, part, definition):
    checked = 0
    for uid, panel in panels:
        schema = _load(schema_dir, panel["type"])
        if definition not in schema["definitions"]:
            assert panel["fieldConfig"]["defaults"]["custom"] == {}, (uid, panel["title"])
            continue
        validator = jsonschema.Draft7Validator({**schema, "$ref": f"#/definitions/{definition}"})
        instance = panel["options"] if part == "options" else panel["fieldConfig"]["defaults"]["custom"]
        assert _errors(validator, instance) == [], (uid, panel["title"])
        checked += 1
    assert checked > 0


def test_schema_catches_a_broken_panel(models, schema_dir):
    """The conformance check is not vacuous: a stale grafanalib key is rejected."""
    validator = jsonschema.Draft7Validator(_load(schema_dir, "dashboard"))
    model = json.loads(json.dumps(next(iter(models.values()))))
    model["panels"][1]["span"] = 4
    assert _errors(validator, model)


def test_no_stale_grafanalib_keys(models, cfg):
    for uid, model in models.items():
        assert model["schemaVersion"] == cfg["schema_version"]
        assert STALE["dashboard"].isdisjoint(model) and "time_options" not in model["timepicker"], uid
        assert all(STALE["variable"].isdisjoint(v) for v in model["templating"]["list"]), uid
        for panel in model["panels"]:
            assert STALE["panel"].isdisjoint(panel), (uid, panel.get("title"))
            assert all(STALE["target"].isdisjoint(t) for t in panel.get("targets", []))
            for step in panel.get("fieldConfig", {}).get("defaults", {}).get("thresholds", {}).get("steps", []):
                assert STALE["threshold"].isdisjoint(step) and step["value"] != "null"


def test_uids_are_stable_short_and_unique(models, cfg):
    assert len(set(models)) == len(models) >= 5
    for uid, model in models.items():
        assert len(uid) <= 40 and uid.startswith(cfg.get("grafana.uid_prefix"))
        assert model["id"] is None


def test_datasource_variable_exists_and_every_panel_and_target_uses_it(models, panels):
    for model in models.values():
        (var,) = [v for v in model["templating"]["list"] if v["name"] == "datasource"]
        assert var["type"] == "datasource" and var["query"] == "prometheus"
    for uid, panel in panels:
        assert panel["datasource"] == DATASOURCE, (uid, panel["title"])
        for t in panel["targets"]:
            assert t["datasource"] == DATASOURCE


def test_variables_cluster_tenant_node(models, cfg):
    for uid, model in models.items():
        by_name = {v["name"]: v for v in model["templating"]["list"]}
        if uid.endswith("-fleet"):  # every cluster: a filter instead of one cluster, tenant and node
            assert set(by_name) == {"datasource", "cluster_filter"}
            assert by_name["cluster_filter"]["includeAll"] and by_name["cluster_filter"]["allValue"] == ".*"
            continue
        ids = {"tenant_id"} if uid.endswith("-schedules") else set()  # virtual clusters of host schedules
        assert set(by_name) == {"datasource", "cluster", "tenant", "node"} | ids
        for name in ("cluster", "tenant", "node"):
            var = by_name[name]
            assert var["type"] == "query" and var["refresh"] == 2, (uid, name)
            assert var["datasource"] == DATASOURCE
            assert cfg["selector"] in var["query"]
        for name in ("tenant", "node"):
            assert by_name[name]["multi"] and by_name[name]["includeAll"] and by_name[name]["allValue"] == ".*"
            assert by_name[name]["current"]["value"] == ["$__all"]
        assert f", {cfg.node})" in by_name["node"]["query"]


def test_every_panel_has_title_description_unit_and_targets(panels):
    for uid, panel in panels:
        assert panel["title"], uid
        assert len(panel.get("description", "")) > 30, (uid, panel["title"])
        assert panel["fieldConfig"]["defaults"].get("unit"), (uid, panel["title"])
        assert panel["targets"], (uid, panel["title"])


def test_panel_titles_unique_within_a_dashboard(models):
    for uid, model in models.items():
        titles = [p["title"] for p in model["panels"] if p["type"] != "row"]
        assert len(titles) == len(set(titles)), uid


def test_refids_unique_and_panel_ids_unique(models):
    for uid, model in models.items():
        ids = [p["id"] for p in model["panels"]]
        assert len(ids) == len(set(ids)), uid
        for p in model["panels"]:
            refs = [t["refId"] for t in p.get("targets", [])]
            assert all(refs) and len(refs) == len(set(refs)), (uid, p.get("title"))


def test_grid_inside_24_columns_without_overlap(models):
    for uid, model in models.items():
        cells = set()
        for p in model["panels"]:
            g = p["gridPos"]
            assert g["x"] >= 0 and g["w"] > 0 and g["x"] + g["w"] <= 24, (uid, p.get("title"))
            mine = {(x, y) for x in range(g["x"], g["x"] + g["w"]) for y in range(g["y"], g["y"] + g["h"])}
            assert not cells & mine, (uid, p.get("title"))
            cells |= mine


def _exprs(panels):
    for uid, panel in panels:
        for t in panel["targets"]:
            yield uid, panel, t["expr"]


def test_every_expression_parses_after_substitution(panels, cfg):
    v = Vars(cluster="prod", range_seconds=86400, scrape_seconds=cfg.seconds("scrape_interval"))
    count = 0
    for _, _, expr in _exprs(panels):
        assert "$" not in substitute(expr, v)
        promql_parser.parse(substitute(expr, v))
        count += 1
    assert count > 40


def test_windows_use_rate_interval_range_or_the_configured_rpo_window(panels, cfg):
    window, step = cfg.get("rpo.window"), promql.STEP
    allowed = {"$__rate_interval", "$__range", window, step, f"1s{step}:{step}", f"{window}:{step}", f"$__range:{step}",
               f"{window}:1m"}  # the time since the last success (promql.last_success)
    for uid, panel, expr in _exprs(panels):
        assert set(RANGE_WINDOW.findall(expr)) <= allowed, (uid, panel["title"], expr)
        if re.search(r"\brate\(", expr):  # not irate, which counts events per step (promql.step_events)
            assert "[$__rate_interval]" in expr, (uid, panel["title"])


def test_counters_appear_only_inside_rate_or_increase(panels, cfg):
    """Or in promql.per_step and promql.counted, the exact counts, whose reset handling test_scenarios checks,
    or in promql.last_success, whose reset handling test_alerts checks."""
    counting = [m for m in catalog.METRICS if m.counting]
    counters = {m.exported for m in counting}
    scope = promql.dashboard_scope(cfg)
    exact = [promql.per_step(m, scope, by) for m in counting
             for by in (None, f"{scope.cluster_label}, {scope.node_label}")]
    exact += [promql.counted(m, s, promql.RANGE) for m in counting for s in (scope, promql.fleet_scope(cfg))]
    exact += [promql.last_success(s, cfg.get("rpo.window")) for s in (scope, promql.fleet_scope(cfg))]
    v = Vars(cluster="prod", range_seconds=86400, scrape_seconds=10)
    bad = []

    def visit(node, inside):
        selected = isinstance(node, promql_parser.VectorSelector) and node.name in counters
        if selected and inside not in ("rate", "increase"):
            bad.append(node.name)

    for uid, panel, expr in _exprs(panels):
        for form in exact:
            expr = expr.replace(form, "vector(0)")
        walk(promql_parser.parse(substitute(expr, v)), visit)
        assert not bad, (uid, panel["title"], expr)


def test_lint_catches_a_raw_counter():
    v = Vars(cluster="prod", range_seconds=86400, scrape_seconds=10)
    seen = []
    walk(promql_parser.parse(substitute('sum(schedules_BACKUP_failed{cluster="$cluster"}) > 0', v)),
          lambda node, inside: seen.append(inside) if isinstance(node, promql_parser.VectorSelector) else None)
    assert seen == [None]


def test_every_seed_metric_is_in_a_panel_query(panels):
    queries = " ".join(expr for _, _, expr in _exprs(panels))
    names = set(re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*(?=\{)", queries))
    seed = {m.exported for m in catalog.seed()}
    assert len(seed) == 26
    assert seed <= names, seed - names
    assert {m.exported for m in catalog.METRICS} <= names


NORMALISED = r"(?:\(?label_replace\()*"


def test_poller_gauges_are_never_summed_and_running_gauges_are(panels, cfg):
    presence = promql.nodes_reporting(promql.dashboard_scope(cfg))  # whether a node reports, not its value
    for uid, _, expr in _exprs(panels):
        if expr == presence:
            continue
        for m in catalog.METRICS:
            if f"{m.exported}{{" not in expr:
                continue
            # per-node series are read through the tenant normalisation (label_replace) first
            if m.kind is catalog.Kind.POLLER:
                assert re.search(rf"max by \(cluster, tenant\) \({NORMALISED}{m.exported}\{{", expr), (uid, expr)
            if m.kind is catalog.Kind.RUNNING:
                summed = re.search(rf"sum by \([^)]*\) \({NORMALISED}{m.exported}\{{", expr)
                holder = re.search(rf"and on \([^)]*\) \({NORMALISED}{m.exported}\{{[^}}]*\}}[^>]*> 0\)", expr)
                # which nodes report (the Fleet), not how many jobs run
                reporting = m.exported == catalog.PRESENCE and re.search(
                    rf"group by \([^)]*{cfg.node}\) \({NORMALISED}{m.exported}\{{", expr)
                assert summed or holder or reporting, (uid, expr)


def test_rpo_treats_zero_as_unknown_not_1970(panels):
    rpo = [(p, e) for _, p, e in _exprs(panels) if "schedules_BACKUP_last_completed_time{" in e]
    assert rpo
    for panel, expr in rpo:
        assert "max_over_time(" in expr and "> 0" in expr, panel["title"]


def test_overview_links_to_detail_dashboards(models, cfg):
    overview = models[f"{cfg.get('grafana.uid_prefix')}-overview"]
    (link,) = overview["links"]
    assert link["type"] == "dashboards" and set(link["tags"]) == set(cfg["tags"])
    assert link["includeVars"] and link["keepTime"]
    for model in models.values():
        assert set(cfg["tags"]) <= set(model["tags"])


def test_panel_links_point_at_our_dashboards(models, cfg):
    overview = models[f"{cfg.get('grafana.uid_prefix')}-overview"]
    targets = [link["url"].removeprefix("/d/") for p in overview["panels"] for link in p.get("links", [])]
    assert len(targets) >= 5 and set(targets) <= set(models) and len(set(targets)) == 4
    for panel in overview["panels"]:
        for link in panel.get("links", []):
            target = models[link["url"].removeprefix("/d/")]
            assert target["title"].endswith(f" / {link['title']}"), (panel["title"], link["title"])


def _sections(model):
    """(row title, panels) of a dashboard, in order."""
    out = []
    for p in model["panels"]:
        if p["type"] == "row":
            out.append((p["title"], []))
        else:
            out[-1][1].append(p)
    return out


def _metric(panel):
    found = re.search(r"Metric: (\w+)\.", panel.get("description", ""))
    return catalog.metric(found.group(1)) if found else None


def test_every_line_of_every_row_fills_the_24_columns(models):
    for uid, model in models.items():
        for title, panels in _sections(model):
            assert panels, (uid, title)
            lines: dict[int, int] = {}
            for p in panels:
                lines[p["gridPos"]["y"]] = lines.get(p["gridPos"]["y"], 0) + p["gridPos"]["w"]
            assert set(lines.values()) == {24}, (uid, title, lines)


def test_descriptions_and_titles_name_no_grafana_variable(panels, models):
    for uid, panel in panels:
        assert "$" not in panel["description"] + panel["title"], (uid, panel["title"])
    for uid, model in models.items():
        assert "$" not in model["description"], uid


def test_failure_series_are_red(panels):
    """A graph of a metric where every event is bad draws its series in (shades of) red."""
    checked = 0
    for _, panel in panels:
        m = _metric(panel)
        if panel["type"] != "timeseries" or m is None or m.bad_from is None or isinstance(m.bad_from, str):
            continue
        assert panel["fieldConfig"]["defaults"]["color"] == {"mode": "shades", "fixedColor": "red"}, panel["title"]
        checked += 1
    assert checked >= 10


def test_failures_and_retries_graph_draws_failures_red_and_retries_orange(models, cfg):
    overview = models[f"{cfg.get('grafana.uid_prefix')}-overview"]
    (panel,) = [p for p in overview["panels"] if p["title"] == "Failures and retries"]
    colours = {o["matcher"]["options"]: o["properties"][0]["value"]["fixedColor"]
               for o in panel["fieldConfig"]["overrides"] if o["matcher"]["id"] == "byFrameRefID"}
    for t in panel["targets"]:
        failure = "_failed{" in t["expr"]
        assert colours[t["refId"]] == ("red" if failure else "orange"), t["expr"]


def test_protected_timestamp_age_graphs_draw_a_line_at_the_alert_threshold(panels, cfg):
    ages = [p for _, p in panels if p["type"] == "timeseries" and p["title"].startswith("Oldest PTS record")]
    assert len(ages) == 3
    for panel in ages:
        defaults = panel["fieldConfig"]["defaults"]
        assert defaults["custom"]["thresholdsStyle"]["mode"] != "off", panel["title"]
        steps = defaults["thresholds"]["steps"]
        assert steps[-1] == {"color": "red", "value": cfg.seconds("alerts.protected_age")}, panel["title"]


def colour(panel: dict, value: float | None) -> str:
    """The colour a stat panel shows for ``value`` (None: no data), by the preview's model of Grafana's display
    processor (mappings, then thresholds)."""
    from crdb_dash.preview.view import display

    return display(value, panel["fieldConfig"]["defaults"], now=0)[1]


def test_kms_stat_is_red_within_the_failure_window_green_after_and_neutral_on_no_value(panels, cfg):
    (panel,) = [p for _, p in panels if p["title"] == "Time since a backup failed: KMS inaccessible now"]
    window = cfg.seconds("alerts.failure_window")
    assert colour(panel, 60) == colour(panel, window - 1) == "red"
    assert colour(panel, window) == colour(panel, 30 * 86400) == "green"
    # no value is also a cluster that reports nothing: not good news
    assert colour(panel, None) == "text" and panel["fieldConfig"]["defaults"]["noValue"] == "Never"


def test_panels_of_metrics_always_zero_on_current_versions_say_so_and_sit_last(models):
    zero = {m.exported for m in catalog.METRICS if m.always_zero}
    assert {"jobs_backup_fail_or_cancel_failed", "jobs_restore_fail_or_cancel_failed",
            "jobs_backup_currently_idle", "jobs_restore_currently_idle"} <= zero
    seen = set()
    for uid, model in models.items():
        sections = _sections(model)
        for index, (title, panels) in enumerate(sections):
            for panel in panels:
                m = _metric(panel)
                if m is not None and m.exported in zero:
                    seen.add(m.exported)
                    assert "Always 0 on current versions" in panel["description"], panel["title"]
                    assert index == len(sections) - 1, (uid, panel["title"], title)
                elif index == len(sections) - 1:
                    assert "Always 0" not in title, (uid, panel["title"])
    assert seen == zero


def test_every_panel_and_query_has_the_scrape_interval_as_min_interval(panels, cfg):
    """But the recovery point graphs read from raw series: a coarser step, so that they read less."""
    from crdb_dash.panels.schedules import RPO_GRAPH_STEP

    coarse = 0
    for uid, panel in panels:
        expected = cfg["scrape_interval"]
        if "max_over_time(max_over_time(" in panel["targets"][0]["expr"]:
            expected, coarse = RPO_GRAPH_STEP, coarse + 1
        assert panel["interval"] == expected, (uid, panel["title"])
        assert all(t["interval"] == expected for t in panel["targets"]), (uid, panel["title"])
    assert coarse == 3  # over time on the overview and the schedules dashboards, and by virtual cluster


def test_rate_windows_follow_the_configured_scrape_interval_whatever_the_datasource_says():
    """An existing datasource with no scrape interval (Grafana assumes 15s) on targets scraped every 60s."""
    from crdb_dash.pipeline import compiled
    from crdb_dash.simulation import evaluate

    slow = configured(scrape_interval="60s")
    rates = [t for model in compiled.dashboards(slow).values() for p in model["panels"]
             for t in p.get("targets", []) if "$__rate_interval" in t["expr"]]
    assert rates

    class Recorder:
        def query_range(self, expr, start, end, step, stats=False):
            self.expr, self.step = expr, step
            return {"result": []}

    for range_seconds in (3600, 86400):
        prom = Recorder()
        evaluate.run(prom, rates[0], Vars(cluster="c", range_seconds=range_seconds, scrape_seconds=15), 10**9)
        windows = RANGE_WINDOW.findall(prom.expr)
        assert windows and all(parse_duration(w) >= 4 * 60 for w in windows), (range_seconds, prom.expr)
        assert prom.step >= 60


def test_dashboards_link_to_the_db_console_jobs_page_when_configured(cfg):
    from crdb_dash.pipeline import compiled

    for model in compiled.dashboards(cfg).values():
        assert [link["type"] for link in model["links"]] == ["dashboards"]
    with_console = configured(db_console_url="https://${cluster}.crdb.example.com:8080/")
    for model in compiled.dashboards(with_console).values():
        if not any(v["name"] == "cluster" for v in model["templating"]["list"]):
            continue  # the runbooks: no cluster to fill into the link
        (console,) = [link for link in model["links"] if link["type"] == "link"]
        assert console["url"] == "https://${cluster}.crdb.example.com:8080/#/jobs" and console["targetBlank"]


def test_bars_of_events_stand_over_their_step_and_stack_instead_of_overlapping(panels):
    bars = [p for _, p in panels if p["type"] == "timeseries"
            and p["fieldConfig"]["defaults"]["custom"]["drawStyle"] == "bars"]
    assert len(bars) >= 20
    for panel in bars:
        custom = panel["fieldConfig"]["defaults"]["custom"]
        assert custom["barAlignment"] == -1 and custom["stacking"]["mode"] == "normal", panel["title"]
        assert all("[1s${__interval_ms}ms:${__interval_ms}ms]" in t["expr"] for t in panel["targets"])
    # The converse: counts per step are bars, whatever graph shows them (the cluster-wide value, its split by node,
    # several metrics in one graph).
    counts = [p for _, p in panels if p["type"] == "timeseries"
              and all("[1s${__interval_ms}ms:${__interval_ms}ms]" in t["expr"] for t in p["targets"])]
    assert len(counts) == len(bars) and any("by node" in p["title"] for p in counts)
    assert any(len(p["targets"]) > 1 for p in counts) and all(p in bars for p in counts)


def test_selectors_of_a_per_step_count_are_its_one_series_selector(cfg):
    """The benchmark asks Prometheus' series API for them, which refuses an offset."""
    from crdb_dash.simulation.evaluate import selectors

    scope = promql.dashboard_scope(cfg)
    m = catalog.metric("schedules_BACKUP_failed")
    v = Vars(cluster="prod", range_seconds=86400, scrape_seconds=10)
    (found,) = selectors(substitute(promql.per_step(m, scope), v))
    assert found == str(promql_parser.parse(substitute(promql.selector(m, scope), v)))


def test_every_metric_dashboard_marks_backup_events_from_its_datasource(models, cfg):
    kinds = {"Scheduled backups completed": False, "Scheduled backups failed": True, "Jobs failed": True,
             "Node restarts": True}
    v = Vars(cluster="prod", range_seconds=86400, scrape_seconds=10)
    for uid, model in models.items():
        if not any(p["type"] == "timeseries" for p in model["panels"]):
            continue  # the Fleet table: no graph to mark
        annotations = model["annotations"]["list"]
        assert {a["name"]: a["enable"] for a in annotations} == kinds, uid
        for a in annotations:
            assert a["datasource"] == DATASOURCE and not a["hide"] and a["step"] == cfg["scrape_interval"], a["name"]
            assert a["titleFormat"] and a["textFormat"] and a["iconColor"], a["name"]
            promql_parser.parse(substitute(a["expr"], v))


def test_each_cluster_is_coloured_by_its_own_levels_on_every_recovery_point_and_freshness_panel(tmp_path):
    """Issue 19 item 7: rpo.overrides reach the panels as field overrides matching the series' "cluster tenant"
    names; the first entry of the config wins (Grafana applies the last override)."""
    from crdb_dash.pipeline import compiled

    overrides = [{"match": {"cluster": "daily-.*"}, "warning": "26h", "critical": "30h"},
                 {"match": {"cluster": "d.*"}, "warning": "3h", "critical": "5h", "freshness": {"warning": "4h"}}]
    import yaml

    from crdb_dash.model import config

    path = tmp_path / "overrides.yaml"
    path.write_text(yaml.safe_dump({"rpo": {"overrides": overrides}}))
    cfg = config.load(path)  # validated, as a user's file is
    h = 3600
    expected = {"Time since last completed backup": (26 * h, 30 * h),
                "Time since last completed backup over time": (26 * h, 30 * h),
                "Time since last successful scheduled backup": (26 * h, 30 * h)}
    seen = set()
    for model in compiled.dashboards(cfg).values():
        for panel in _every_panel(model):
            if panel.get("title") not in expected:
                continue
            seen.add(panel["title"])
            applied = None
            for override in panel["fieldConfig"]["overrides"]:  # Grafana: each matching override in order
                if re.fullmatch(override["matcher"]["options"], "daily-1 system"):
                    applied = override["properties"][0]["value"]["steps"]
                assert not re.fullmatch(override["matcher"]["options"], "hourly-1 system")
            assert [s["value"] for s in applied[1:]] == list(expected[panel["title"]]), panel["title"]
    assert seen == set(expected)
    (freshness,) = [p for m in compiled.dashboards(cfg).values() for p in _every_panel(m)
                    if p.get("title") == "Time since last successful scheduled backup"][:1]
    (second,) = [o for o in freshness["fieldConfig"]["overrides"] if o["matcher"]["options"].startswith("(?:d.*)")]
    assert [s["value"] for s in second["properties"][0]["value"]["steps"][1:]] == [4 * h, 5 * h]


def _every_panel(model: dict):
    for panel in model["panels"]:
        yield panel
        yield from panel.get("panels", [])


def test_graphs_and_stats_of_whole_numbers_show_no_decimals(panels):
    """Events, jobs and records come whole: Grafana then draws whole ticks (no 0.5 failures) and whole values."""
    bars = [p for _, p in panels if p["type"] == "timeseries"
            and p["fieldConfig"]["defaults"]["custom"]["drawStyle"] == "bars"]
    counts = [p for _, p in panels if p["fieldConfig"]["defaults"].get("unit") == "short"]
    assert bars and all(p in counts for p in bars) and any(p["type"] == "stat" for p in counts)
    for panel in counts:
        assert panel["fieldConfig"]["defaults"].get("decimals") == 0, panel["title"]


def test_every_stat_orders_its_tiles_by_the_labels_its_legend_names(panels, cfg):
    """Grafana shows a stat's series in the order they arrive, which changes from one query to the next: joined
    into one frame, the fields are ordered by cluster, then virtual cluster (or by node)."""
    stats = [p for _, p in panels if p["type"] == "stat"]
    assert len(stats) >= 30
    for panel in stats:
        (target,) = panel["targets"]
        if not target["legendFormat"]:  # one value for the whole fleet (the Fleet's recording rules tile)
            assert "by (" not in target["expr"] and not panel.get("transformations"), panel["title"]
            continue
        labels = re.findall(r"\{\{(\w+)\}\}", target["legendFormat"])
        assert labels in ([cfg.cluster, cfg.tenant], [promql.dashboard_scope(cfg).node_label]), panel["title"]
        join, organize = panel["transformations"]
        assert join == {"id": "joinByField", "options": {"mode": "outer"}}
        assert organize["id"] == "organize" and organize["options"]["orderByMode"] == "auto"
        assert organize["options"]["orderBy"] == [{"type": "label", "name": label} for label in labels]


def test_series_of_virtual_clusters_by_id_are_named_as_such(panels, cfg):
    from crdb_dash.preview.format import legend_name

    (panel,) = [p for _, p in panels if p["title"] == "Time since last completed backup, by virtual cluster"]
    (target,) = panel["targets"]
    assert legend_name(target["legendFormat"], {cfg.cluster: "prod", "tenant_id": "2"}) == "prod tenant 2"

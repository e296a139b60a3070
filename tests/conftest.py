import os
from pathlib import Path

import pytest

from crdb_dash.model import config
from crdb_dash.pipeline import compiled
from crdb_dash.simulation import engines

ROOT = Path(__file__).resolve().parent.parent
# Grafana's JSON Schemas (the jsonschema/ folder of github.com/grafana/grafana-foundation-sdk); users' machines
# usually lack them, CI here has them beside the project.
SCHEMA_DEFAULT = ROOT.parent / "shared" / "reference" / "grafana-jsonschema"


@pytest.fixture(scope="session")
def cfg():
    return config.load()


@pytest.fixture(scope="session")
def models(cfg):
    """The metric dashboards (the runbooks dashboard, text only, has its own tests)."""
    from crdb_dash.dashboards import runbooks

    return {uid: m for uid, m in compiled.dashboards(cfg).items() if uid != runbooks.dashboard_uid(cfg)}


@pytest.fixture(scope="session")
def panels(models):
    """(dashboard uid, panel) for every non-row panel."""
    return [(uid, p) for uid, model in models.items() for p in model["panels"] if p["type"] != "row"]


@pytest.fixture(scope="session")
def schema_dir():
    return find_schemas(os.environ.get("CRDB_DASH_SCHEMA_DIR", ""), SCHEMA_DEFAULT)


def find_schemas(env: str, default: Path) -> Path:
    """Skips, with the reason printed, where the schemas are absent; an explicit CRDB_DASH_SCHEMA_DIR must hold them."""
    where = Path(env) if env else default
    if (where / "dashboard.jsonschema.json").is_file():
        return where
    if env:
        pytest.fail(f"CRDB_DASH_SCHEMA_DIR={env} holds no dashboard.jsonschema.json")
    pytest.skip(f"no Grafana JSON Schemas in {where}; set CRDB_DASH_SCHEMA_DIR to a copy of the jsonschema/ folder "
                "of github.com/grafana/grafana-foundation-sdk to run this check (test_conformance.py runs without)")


def configured(**changes) -> config.Config:
    """The default config with ``changes``: a dict is merged into its section of the defaults (rpo={"recorded":
    True} keeps the other rpo keys), any other value replaces the default one."""
    raw = config.load().raw
    return config.Config({**raw, **{key: {**raw[key], **value} if isinstance(value, dict) else value
                                    for key, value in changes.items()}}, "test")


def config_error(path: Path, text: str) -> str:
    """The error config.load gives for a config file of this text, written to path; the test fails where it loads."""
    path.write_text(text)
    with pytest.raises(config.ConfigError) as err:
        config.load(path)
    return str(err.value)


def group_order(rule_file) -> list[str]:
    """The rule file's groups in reverse order, for promtool's ``group_eval_order``: the alerts before the recording
    rules they read, so that each alert sees the records of the evaluation before, as a ruler that evaluates groups
    independently (Thanos, Mimir, vmalert) may show them. Nothing may depend on the order of groups."""
    import yaml

    return [g["name"] for g in yaml.safe_load(Path(rule_file).read_text())["groups"]][::-1]


def need(engine: engines.Engine) -> engines.Engine:
    """The engine, or a skip that says why it is missing; in CI (``CI`` set) every engine must run, so a failure."""
    reason = engine.missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return engine


def by_key(items) -> list:
    return [pytest.param(e, id=e.key) for e in items]


# Rule tests run on each engine with a rule-test tool: promtool (Prometheus), vmalert-tool (VictoriaMetrics 1.92+).
RULE_ENGINES = tuple(e for e in engines.MATRIX if e.has("promtool") or e.has("vmalert-tool"))


@pytest.fixture(params=by_key(RULE_ENGINES))
def rule_engine(request) -> engines.Engine:
    return need(request.param)


@pytest.fixture(params=by_key(engines.PROMETHEUS))
def prometheus_engine(request) -> engines.Engine:
    return need(request.param)


def promtool(engine: engines.Engine | None = None) -> str:
    """promtool of ``engine``, by default of the newest Prometheus of the matrix."""
    return need(engine or engines.PROMETHEUS[0]).tool("promtool")


def rule_test(tmp_path: Path, series: dict[str, str], checks: dict, rule_file=None, interval: str = "1m",
              passes: bool = True, engine: engines.Engine | None = None):
    """Runs a rule unit test (``promtool test rules``, or ``vmalert-tool unittest`` on VictoriaMetrics) on one test
    group: ``series`` (promtool's series notation, one sample per ``interval``) and ``checks`` (``alert_rule_test``
    and/or ``promql_expr_test``), over ``rule_file``'s rules evaluated every minute in file order. Fails the test
    with the tool's output unless it ``passes`` as expected."""
    import subprocess

    from crdb_dash.pipeline.serialize import to_yaml

    engine = need(engine or engines.PROMETHEUS[0])
    if rule_file is None and engine.kind == "victoriametrics":  # vmalert-tool wants a rule group
        rule_file = tmp_path / "none.rules.yml"
        rule_file.write_text(to_yaml({"groups": [{"name": "none", "rules": [{"record": "none",
                                                                               "expr": "vector(1)"}]}]}))
    rules = {"rule_files": [str(rule_file)], "group_eval_order": group_order(rule_file)} if rule_file else {}
    group = {"interval": interval, "input_series": [{"series": k, "values": v} for k, v in series.items()], **checks}
    if engine.kind == "victoriametrics":
        group = {"metricsql_expr_test" if k == "promql_expr_test" else k: v for k, v in group.items()}
        command = [engine.tool("vmalert-tool"), "unittest", "--loggerLevel=ERROR", "--disableAlertgroupLabel",
                   "--files"]
    else:
        command = [engine.tool("promtool"), "test", "rules"]
    path = tmp_path / "test.yml"
    path.write_text(to_yaml({**rules, "evaluation_interval": "1m", "tests": [group]}))
    result = subprocess.run([*command, str(path)], capture_output=True, text=True, cwd=tmp_path)
    assert (result.returncode == 0) == passes, result.stdout[-4000:] + result.stderr[-1000:]


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's own hook, which turns the marks into groups
def pytest_collection_modifyitems(config, items):
    """With pytest-xdist (``make test`` runs two workers), the tests that share a module's servers run on one
    worker: a module, or in test_scenarios a module and engine, is one group. Rule unit tests share nothing
    and go wherever a worker is free."""
    for item in items:
        module = item.path.stem
        params = getattr(item, "callspec", None)
        served = params.params.get("prom") if params else None
        if isinstance(served, engines.Engine):
            group = f"{module}-{served.key}"
        elif "rule_engine" in item.fixturenames:
            continue
        else:
            group = module
        item.add_marker(pytest.mark.xdist_group(group))


# ---- what each engine was checked for, for the README's compatibility table (scripts/compatibility.py) ------------
CHECKS = {  # test module -> what its tests on an engine check
    "test_scenarios": "every panel, bar, annotation, count in range, RPO and compliance over simulated clusters",
    "test_alerts": "every alert and recording rule, firing and quiet (rule unit tests)",
    "test_absent_inputs": "queries with an input absent (rule unit tests)",
    "test_custom_labels": "a build with custom label names (rule unit tests)",
    "test_victoriametrics": "the rule file loads in vmalert; a replay of the recording rules",
}
RESULTS = ROOT / ".engines" / "last-run.json"
_outcomes: dict[str, dict[str, dict[str, int]]] = {}


def _engine_of(nodeid: str) -> engines.Engine | None:
    params = nodeid.partition("[")[2]
    return next((e for e in engines.MATRIX if params.startswith(e.key + "-") or params.startswith(e.key + "]")
                 or f"-{e.key}]" in params or f"-{e.key}-" in params), None)


def pytest_runtest_logreport(report):
    engine = _engine_of(report.nodeid)
    module = Path(report.nodeid.split("::")[0]).stem
    if engine is None or module not in CHECKS:
        return
    counts = _outcomes.setdefault(engine.key, {}).setdefault(module, {"passed": 0, "failed": 0, "skipped": 0,
                                                                      "seconds": 0.0})
    counts["seconds"] += report.duration  # setup (an engine's servers start there), call and teardown
    if report.when == "call" or not report.passed:
        counts[report.outcome] += 1


def pytest_sessionfinish(session, exitstatus):
    """Records, per engine, its version and what passed, failed or was skipped in this run."""
    import json

    if not _outcomes or getattr(session.config, "workerinput", None) is not None:
        return
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({e.key: {"title": e.title, "version": None if e.missing() else e.version(),
                                           "checks": _outcomes.get(e.key, {})} for e in engines.MATRIX},
                                  indent=1, sort_keys=True))

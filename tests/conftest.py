import os
from pathlib import Path

import pytest

from crdb_dash.model import config
from crdb_dash.pipeline import compiled

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
    """The rule file's groups in file order, for promtool's ``group_eval_order``: recording rules before the alerts
    that read them at the same evaluation (promtool otherwise evaluates groups in a random order)."""
    import yaml

    return [g["name"] for g in yaml.safe_load(Path(rule_file).read_text())["groups"]]


def promtool() -> str:
    import shutil

    path = shutil.which("promtool")
    if path is None:
        pytest.fail("promtool is missing: run 'make test' (installs Debian's prometheus package) or put it on PATH")
    return path


def promtool_test(tmp_path: Path, series: dict[str, str], checks: dict, rule_file=None, interval: str = "1m",
                  passes: bool = True):
    """Runs ``promtool test rules`` on one test group: ``series`` (promtool's series notation, one sample per
    ``interval``) and ``checks`` (``alert_rule_test`` and/or ``promql_expr_test``), over ``rule_file``'s rules
    evaluated every minute in file order. Fails the test with promtool's output unless it ``passes`` as expected."""
    import subprocess

    from crdb_dash.pipeline.serialize import to_yaml

    rules = {"rule_files": [str(rule_file)], "group_eval_order": group_order(rule_file)} if rule_file else {}
    group = {"interval": interval, "input_series": [{"series": k, "values": v} for k, v in series.items()], **checks}
    path = tmp_path / "test.yml"
    path.write_text(to_yaml({**rules, "evaluation_interval": "1m", "tests": [group]}))
    result = subprocess.run([promtool(), "test", "rules", str(path)], capture_output=True, text=True)
    assert (result.returncode == 0) == passes, result.stdout[-4000:] + result.stderr[-1000:]

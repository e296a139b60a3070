"""Configuration: defaults, overrides, and a one-line error naming the key and file for bad input."""

import subprocess
import sys

import pytest

from crdb_dash.model import config
from tests.conftest import config_error


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "crdb_dash.cli", *args], capture_output=True, text=True)


def test_defaults_are_valid():
    cfg = config.load()
    assert cfg["selector"] == 'job="cockroachdb"'
    assert cfg.seconds("rpo.warning") < cfg.seconds("rpo.critical")
    assert cfg["schema_version"] == 41


def test_override_merges_with_defaults(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("rpo:\n  warning: 90m\nschema_version: 39\nlabels: {cluster: k8s_cluster}\n")
    cfg = config.load(path)
    assert cfg.seconds("rpo.warning") == 5400 and cfg.get("rpo.critical") == "6h"
    assert cfg["schema_version"] == 39 and cfg.cluster == "k8s_cluster" and cfg.node == "instance"


@pytest.mark.parametrize("text, key", [
    ("rpox: 1\n", "'rpox'"),
    ("rpo: {warnin: 1h}\n", "'rpo.warnin'"),
    ("rpo: {warning: -1h}\n", "'rpo.warning'"),
    ("rpo: {warning: soon}\n", "'rpo.warning'"),
    ("rpo: {warning: 8h}\n", "'rpo.warning'"),
    ("rpo: {window: 5s}\n", "'rpo.window'"),
    ("alerts: {failure_window: 20s}\n", "'alerts.failure_window'"),
    ("alerts: {retries: -1}\n", "'alerts.retries'"),
    ("rpo: {recorded: yes please}\n", "'rpo.recorded'"),
    ("alerts: {protected_age: 0s}\n", "'alerts.protected_age'"),
    ("freshness: {warning: soon}\n", "'freshness.warning'"),
    ("freshness: {warning: 8h}\n", "'freshness.warning'"),
    ("rpo: {overrides: [{match: {cluster: a}, freshness: {warning: 2d, critical: 1d}}]}\n",
     "'rpo.overrides[0].freshness.warning'"),
    ("rpo: {overrides: [{match: {cluster: a}, freshness: 3h}]}\n", "'rpo.overrides[0].freshness'"),
    ("rpo: {overrides: [{match: {cluster: '(?i)daily-.*'}, warning: 26h}]}\n", "'rpo.overrides[0].match.cluster'"),
    ("rpo: {overrides: [{match: {cluster: '[[:alpha:]]+'}, warning: 26h}]}\n", "'rpo.overrides[0].match.cluster'"),
    ("alerts: {forget_after: 5h}\n", "'alerts.forget_after'"),
    ("alerts: {not_reporting_for: 5s}\n", "'alerts.not_reporting_for'"),
    ("alerts: {forget_after: 30m}\n", "forget_after"),
    ("alerts: {recovery_point_unknown_for: 8d}\n", "'alerts.recovery_point_unknown_for'"),
    ("schema_version: 12\n", "'schema_version'"),
    ("rpo: {warnin: 2h}\n", "unknown key 'rpo.warnin' (did you mean 'rpo.warning'?)"),
    ("alerts: {grafana_managed: true, evaluation_interval: 45s}\n", "'alerts.evaluation_interval'"),
    ("schema_version: true\n", "'schema_version'"),
    ("labels: {cluster: 'bad label'}\n", "'labels.cluster'"),
    ("selector: 'job='\n", "'selector'"),
    ("datasource: {uid: '" + "x" * 41 + "'}\n", "'datasource.uid'"),
    ("tags: cockroachdb\n", "'tags'"),
    ("db_console_url: crdb.example.com\n", "'db_console_url'"),
    ("db_console_url: 8080\n", "'db_console_url'"),
    ("rpo: 2h\n", "'rpo'"),
    ("rpo: {overrides: {cluster: x}}\n", "'rpo.overrides'"),
    ("rpo: {overrides: [{warning: 26h}]}\n", "'rpo.overrides[0]'"),
    ("rpo: {overrides: [{match: {cluster: 'a'}, warning: 26h, critical: 30h, info: 1h}]}\n", "'rpo.overrides[0]'"),
    ("rpo: {overrides: [{match: {instance: 'a'}, warning: 26h}]}\n", "'rpo.overrides[0].match'"),
    ("rpo: {overrides: [{match: {cluster: 'a('}, warning: 26h}]}\n", "'rpo.overrides[0].match.cluster'"),
    ("rpo: {overrides: [{match: {cluster: 'a'}}]}\n", "'rpo.overrides[0]'"),
    ("rpo: {overrides: [{match: {cluster: 'a'}, warning: 26h}]}\n", "'rpo.overrides[0].warning'"),
    ("rpo: {overrides: [{match: {cluster: 'a'}, warning: 26h, critical: 30h}, {match: {cluster: 'b'}, critical: "
     "soon}]}\n", "'rpo.overrides[1].critical'"),
    ("rpo: {compliance: {objective: 99.5}}\n", "'rpo.compliance.objective'"),
    ("rpo: {compliance: {period: 30m}}\n", "'rpo.compliance.period'"),
    ("rpo: {compliance: {unknown: ignore}}\n", "'rpo.compliance.unknown'"),
    ("rpo: {compliance: {target: info}}\n", "'rpo.compliance.target'"),
    ("- a\n", "top level"),
    ("rpo: [\n", "not valid YAML"),
    # a failure between two evaluations would fall outside every window the alert looks at
    ("alerts: {failure_window: 1m, evaluation_interval: 5m}\n", "'alerts.failure_window'"),
    ("alerts: {runbook_url: 'not a url'}\n", "'alerts.runbook_url'"),
    ("alerts: {runbook_url: 'ftp://example.com/runbooks'}\n", "'alerts.runbook_url'"),
    ("alerts: {runbook_url: 'https:///runbooks.md'}\n", "'alerts.runbook_url'"),
    # a warning at 2h implies backups at least every 2h; a 1h window forgets a restarted node's backup before that
    ("rpo: {window: 1h}\n", "'rpo.window'"),
    # composed as metric{SELECTOR, cluster="$cluster"}: a trailing comma gives ',,'
    ("selector: 'job=\"cockroachdb\",'\n", "'selector'"),
    ("selector: ',job=\"cockroachdb\"'\n", "'selector'"),
    # closes the braces and injects other series into every query
    ("selector: 'job=\"a\"} or vector(1) or up{job=\"b\"'\n", "'selector'"),
    ("selector: 'job=\"a\" or job=\"b\"'\n", "'selector'"),
    ("selector: '__name__=\"up\"'\n", "'selector'"),
    # duplicate keys, top level and nested
    ("rpo: {warning: 1h}\nrpo: {critical: 8h}\n", "'rpo'"),
    ("alerts:\n  retries: 3\n  paused_for: 2h\n  retries: 5\n", "'alerts.retries'"),
])
def test_bad_values_name_the_key_and_file(tmp_path, text, key):
    path = tmp_path / "bad.yaml"
    message = config_error(path, text)
    assert key in message and str(path) in message and "\n" not in message


def test_cli_bad_config_exits_2_with_one_line_and_writes_nothing(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("rpo: {warning: 8h}\n")
    out = tmp_path / "out"
    out.mkdir()
    result = _cli("--config", str(path), "build", "--out", str(out))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "rpo.warning" in result.stderr and result.stdout == ""
    assert list(out.iterdir()) == []


def test_cli_missing_config_file(tmp_path):
    result = _cli("--config", str(tmp_path / "nope.yaml"), "build")
    assert result.returncode == 2 and "cannot read config file" in result.stderr and "Traceback" not in result.stderr


def test_duplicate_key_names_both_lines(tmp_path):
    message = config_error(tmp_path / "dup.yaml", "rpo:\n  warning: 1h\nscrape_interval: 10s\nrpo:\n  critical: 8h\n")
    assert "'rpo' appears twice (lines 1 and 4)" in message


def test_yaml_merge_keys_are_not_duplicates(tmp_path):
    path = tmp_path / "merge.yaml"
    path.write_text("rpo: {<<: {warning: 1h, critical: 8h}, warning: 90m}\n")
    cfg = config.load(path)
    assert cfg.get("rpo.warning") == "90m" and cfg.get("rpo.critical") == "8h"


def test_non_utf8_file_is_a_one_line_error(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("grafana: {folder: 'Sauvegardes caf\u00e9'}\n".encode("latin-1"))
    with pytest.raises(config.ConfigError) as err:
        config.load(path)
    message = str(err.value)
    assert str(path) in message and "UTF-8" in message and "line 1" in message and "\n" not in message


@pytest.mark.parametrize("selector", [
    'job="cockroachdb"',
    'job=~"cockroach.*", namespace!="test"',
    'job="a,b", env="x}y"',
])
def test_good_selectors_compose_into_queries_that_parse(tmp_path, selector):
    path = tmp_path / "c.yaml"
    path.write_text(f"selector: '{selector}'\n")
    assert config.load(path)["selector"] == selector


@pytest.mark.parametrize("text, warning", [
    ("rpo: {window: 4h}\n", "rpo.window"),  # the critical alert cannot fire from a restarted node's value
    ("alerts: {failure_window: 1m, evaluation_interval: 1m}\n", "alerts.failure_window"),
])
def test_risky_values_load_with_a_warning(tmp_path, text, warning):
    path = tmp_path / "risky.yaml"
    path.write_text(text)
    cfg = config.load(path)
    assert len(cfg.warnings) == 1 and warning in cfg.warnings[0] and "\n" not in cfg.warnings[0]


def test_defaults_have_no_warnings():
    assert config.load().warnings == ()


@pytest.mark.parametrize("text", [
    "alerts: {failure_window: 1m, evaluation_interval: 5m}\n",
    "alerts: {runbook_url: 'not a url'}\n",
    "rpo: {window: 1h}\n",
    "selector: 'job=\"cockroachdb\",'\n",
    "selector: 'job=\"a\"} or vector(1) or up{job=\"b\"'\n",
    "rpo: {warning: 1h}\nrpo: {critical: 8h}\n",
    b"grafana: {folder: 'caf\xe9'}\n",
])
def test_cli_rejects_them_with_exit_2_and_writes_nothing(tmp_path, text):
    path = tmp_path / "bad.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    out = tmp_path / "out"
    result = _cli("build", "--config", str(path), "--out", str(out))
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr and result.stdout == ""
    assert not out.exists()


def test_cli_prints_a_warning_and_builds(tmp_path):
    path = tmp_path / "risky.yaml"
    path.write_text("rpo: {window: 4h}\n")
    result = _cli("--config", str(path), "build", "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith("crdb-dash: warning: ") and result.stderr.count("\n") == 1
    assert "rpo.window" in result.stderr


@pytest.mark.parametrize("selector", ['job="cockroachdb"', 'job=~"cockroach.*", namespace!="test"', 'env="x}y,"'])
def test_every_composed_query_parses_with_a_good_selector(tmp_path, selector):
    from crdb_dash.pipeline import build, compiled

    path = tmp_path / "c.yaml"
    path.write_text(f"selector: '{selector}'\nlabels: {{cluster: k8s_cluster, node: pod, tenant: vc}}\n")
    cfg = config.load(path)
    assert build.unparsable_query(cfg, compiled.dashboards(cfg)) is None


def test_composed_queries_are_parsed_not_just_the_selector():
    """Bypassing the selector check, a trailing comma is still caught in the queries it is composed into."""
    from crdb_dash.pipeline import build, compiled

    cfg = config.Config({**config.DEFAULTS, "selector": 'job="cockroachdb",'}, "test")
    bad = build.unparsable_query(cfg, compiled.dashboards(cfg))
    assert bad is not None and ',,' in bad.replace(" ", "")


def test_rpo_overrides_and_compliance_load(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("rpo:\n  overrides:\n"
                    "    - {match: {cluster: 'daily-.*', tenant: system}, warning: 26h, critical: 30h}\n"
                    "    - {match: {cluster: 'slow'}, critical: 12h}\n  compliance: {objective: 0.99, period: 7d}\n")
    cfg = config.load(path)
    assert cfg.get("rpo.overrides")[1] == {"match": {"cluster": "slow"}, "critical": "12h"}
    assert cfg.get("rpo.compliance") == {"objective": 0.99, "period": "7d", "target": "critical",
                                         "unknown": "excluded"}
    assert any("rpo.overrides[0].warning" in w for w in cfg.warnings)  # longer than rpo.window

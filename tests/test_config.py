"""Configuration: defaults, overrides, and a one-line error naming the key and file for bad input."""

import subprocess
import sys

import pytest

from crdb_dash import config


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
    ("schema_version: 12\n", "'schema_version'"),
    ("schema_version: true\n", "'schema_version'"),
    ("labels: {cluster: 'bad label'}\n", "'labels.cluster'"),
    ("selector: 'job='\n", "'selector'"),
    ("datasource: {uid: '" + "x" * 41 + "'}\n", "'datasource.uid'"),
    ("tags: cockroachdb\n", "'tags'"),
    ("db_console_url: crdb.example.com\n", "'db_console_url'"),
    ("db_console_url: 8080\n", "'db_console_url'"),
    ("rpo: 2h\n", "'rpo'"),
    ("- a\n", "top level"),
    ("rpo: [\n", "not valid YAML"),
])
def test_bad_values_name_the_key_and_file(tmp_path, text, key):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(config.ConfigError) as err:
        config.load(path)
    message = str(err.value)
    assert key in message and str(path) in message and "\n" not in message


def test_cli_bad_config_exits_2_with_one_line_and_writes_nothing(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("rpo: {warning: 8h}\n")
    out = tmp_path / "out"
    out.mkdir()
    result = subprocess.run([sys.executable, "-m", "crdb_dash.cli", "--config", str(path), "build", "--out", str(out)],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "rpo.warning" in result.stderr and result.stdout == ""
    assert list(out.iterdir()) == []


def test_cli_missing_config_file(tmp_path):
    result = subprocess.run([sys.executable, "-m", "crdb_dash.cli", "--config", str(tmp_path / "nope.yaml"), "build"],
                            capture_output=True, text=True)
    assert result.returncode == 2 and "cannot read config file" in result.stderr and "Traceback" not in result.stderr

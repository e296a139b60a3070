"""The command line: global options, output directories, reports, and a reader that goes away."""

import base64
import os
import shutil
import subprocess
import sys

import pytest

from crdb_dash.model import config
from crdb_dash.pipeline import build
from tests.conftest import ROOT
from tests.grafana_double import GrafanaDouble
from tests.stub_server import StubServer

CLI = [sys.executable, "-m", "crdb_dash.cli"]
SUBCOMMANDS = ["build", "config", "demo", "scenarios", "deploy", "diff"]


def run(*args, **kw):
    return subprocess.run(CLI + list(args), capture_output=True, text=True, timeout=120, **kw)


def into_closed_pipe(*args, env=None):
    """Run with stdout a pipe whose reader has already gone, as in ``crdb-dash ... | head -0``."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run(CLI + list(args), stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=120,
                              env=env)
    finally:
        os.close(write_end)


@pytest.mark.parametrize("args, code", [
    (["config"], 141),  # 128 + SIGPIPE, what a shell shows for `yes | head -1`
    (["scenarios"], 141),
    (["--help"], 0),  # argparse prints help and exits 0 itself
    (["build", "--help"], 0),
    (["--version"], 0),
])
def test_a_reader_that_goes_away_ends_the_command_quietly(args, code):
    result = into_closed_pipe(*args)
    assert result.stderr == "" and result.returncode == code


def test_build_into_a_closed_pipe_is_quiet(tmp_path):
    result = into_closed_pipe("build", "--out", str(tmp_path))
    assert result.stderr == "" and result.returncode == 141


def test_diff_piped_into_head_exits_quietly():
    with GrafanaDouble(tokens={"t0ken": "Admin"}) as grafana:
        env = {**os.environ, "GRAFANA_URL": grafana.url, "GRAFANA_TOKEN": "t0ken"}
        shell = f"{' '.join(CLI)} diff | head -1"
        result = subprocess.run(["bash", "-o", "pipefail", "-c", shell], capture_output=True, text=True, env=env,
                                timeout=120)
    assert result.stdout.count("\n") == 1
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr and result.stderr == ""


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_config_is_accepted_after_the_subcommand_and_shown_in_its_help(command):
    result = run(command, "--help")
    assert result.returncode == 0 and "--config FILE" in result.stdout


def test_config_after_the_subcommand_is_used(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("rpo: {warning: 90m}\n")
    after = run("config", "--config", str(path))
    before = run("--config", str(path), "config")
    assert after.returncode == 0 and "warning: 90m" in after.stdout
    assert after.stdout == before.stdout


def test_config_before_the_subcommand_is_not_reset_by_it(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("rpo: {warning: 90m}\n")
    result = run("--config", str(path), "build", "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    assert "90m" in (tmp_path / "out" / "rules" / "crdb-backups.rules.yml").read_text()


def test_build_creates_a_missing_output_directory(tmp_path):
    out = tmp_path / "new" / "dir"
    result = run("build", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert (out / build.DASHBOARD_DIR / "crdb-backups-overview.json").is_file()


def test_build_says_when_runbook_links_would_not_open_from_a_notification(tmp_path):
    """Issue 21 (trial): the default runbook_url is a path in this project; the build says how to get links."""
    assert "set grafana.url" in run("build", "--out", str(tmp_path / "a")).stdout
    linked = tmp_path / "linked.yaml"
    linked.write_text("grafana: {url: 'https://grafana.example.com'}\n")
    assert "runbook links" not in run("build", "--config", str(linked), "--out", str(tmp_path / "b")).stdout


def test_build_into_a_file_is_a_one_line_error(tmp_path):
    out = tmp_path / "file"
    out.write_text("")
    result = run("build", "--out", str(out))
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "not a directory" in result.stderr


def test_check_against_a_missing_directory_creates_nothing(tmp_path):
    result = run("build", "--check", "--out", str(tmp_path / "nope"))
    assert result.returncode == 2 and "does not exist" in result.stderr
    assert not (tmp_path / "nope").exists()


def test_files_of_a_changed_uid_prefix_are_reported_removed_and_counted_apart(tmp_path):
    out = tmp_path / "out"
    assert run("build", "--out", str(out)).returncode == 0
    old = sorted(p.name for p in (out / build.DASHBOARD_DIR).glob("*.json"))
    path = tmp_path / "c.yaml"
    path.write_text("grafana: {uid_prefix: backups}\n")
    result = run("--config", str(path), "build", "--out", str(out))
    assert result.returncode == 0, result.stderr
    removed = [line.removeprefix("removed ") for line in result.stdout.splitlines() if line.startswith("removed ")]
    wrote = [line.removeprefix("wrote ") for line in result.stdout.splitlines() if line.startswith("wrote ")]
    assert sorted(r.rsplit("/", 1)[1] for r in removed) == old
    assert not set(removed) & set(wrote)
    assert f"{len(wrote)} written, {len(old)} removed" in result.stdout


def test_a_custom_config_never_overwrites_the_committed_files(tmp_path):
    path = tmp_path / "my.yaml"
    path.write_text("selector: 'job=\"crdb\"'\n")
    defaults = build.render(config.load())
    before = build.compare(defaults, ROOT)
    try:
        result = run("--config", str(path), "build", cwd=ROOT)
        assert result.returncode == 2 and result.stderr.count("\n") == 1 and "--out" in result.stderr
        assert build.compare(defaults, ROOT) == before
    finally:
        if build.compare(defaults, ROOT) != before:
            build.write(defaults, ROOT)  # put the defaults back for the rest of the suite


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_build_with_config_writes_to_dist(tmp_path):
    """`make build CONFIG=my.yaml` builds into dist/, leaving the committed files alone."""
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    shutil.copy2(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "my.yaml").write_text("selector: 'job=\"crdb\"'\n")
    stamp = tmp_path / "stamp"
    stamp.touch()  # newer than pyproject.toml: nothing to install
    cli = os.path.join(os.path.dirname(sys.executable), "crdb-dash")
    result = subprocess.run(["make", "--no-print-directory", "build", "CONFIG=my.yaml", f"CLI={cli}",
                             f"STAMP={stamp}"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    rules = tmp_path / "dist" / "rules" / "crdb-backups.rules.yml"
    assert 'job="crdb"' in rules.read_text()
    assert not (tmp_path / "provisioning").exists() and not (tmp_path / "rules").exists()


def test_a_full_disk_is_a_one_line_error():
    if not os.path.exists("/dev/full"):
        pytest.skip("this system has no /dev/full")
    with open("/dev/full", "w") as full:
        result = subprocess.run(CLI + ["config"], stdout=full, stderr=subprocess.PIPE, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr == "crdb-dash: error: cannot write the output: No space left on device\n"


def test_preview_refuses_a_variable_no_dashboard_has(tmp_path):
    result = run("preview", "--var", "clustr=prod", "--prometheus", "http://127.0.0.1:1", "--out", str(tmp_path))
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert "--var clustr: no dashboard drawn has that variable; theirs: cluster," in result.stderr


def test_preview_into_a_closed_pipe_is_quiet(tmp_path):
    result = into_closed_pipe("preview", "--scenario", "healthy-hourly-backups", "--out", str(tmp_path))
    assert result.stderr == "" and result.returncode == 141


@pytest.mark.parametrize("command", [["doctor", "--prometheus", "http://127.0.0.1:9"], ["deploy"], ["demo"]])
@pytest.mark.parametrize("value", ["-1", "0", "nan", "inf"])
def test_a_duration_flag_must_be_seconds_above_zero(command, value):
    flag = "--seconds" if command == ["demo"] else "--timeout"
    result = run(*command, flag, value, env={**os.environ, "GRAFANA_URL": "http://127.0.0.1:9", "GRAFANA_TOKEN": "t"})
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.strip() == f"crdb-dash: error: {flag} must be a number of seconds above 0, not {value}"


def test_preview_sends_a_urls_credentials_and_says_when_they_are_refused(tmp_path):
    with StubServer(401, b"<html>Unauthorized</html>", "text/html") as server:
        url = server.url.replace("http://", "http://ann:s3cret@")
        result = run("preview", "--prometheus", url, "--out", str(tmp_path))
        assert server.received[0]["Authorization"] == "Basic " + base64.b64encode(b"ann:s3cret").decode()
    assert result.returncode == 2 and "s3cret" not in result.stdout + result.stderr
    assert result.stderr.strip().endswith("answered HTTP 401 (it wants credentials: https://user:password@host)")
    refused = run("preview", "--prometheus", "http://ann:s3cr/et@127.0.0.1:9", "--out", str(tmp_path))
    assert refused.returncode == 2 and "must be percent-encoded" in refused.stderr and "s3cr" not in refused.stderr

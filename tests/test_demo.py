"""The live /_status/vars endpoints and ``crdb-dash demo``: real HTTP, a real Prometheus scraping them."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import pytest

from crdb_dash import live, scenarios
from crdb_dash.simulator import ClusterModel

CLI = [sys.executable, "-m", "crdb_dash.cli"]


def test_exposition_is_cockroachdb_text_format():
    scenario = scenarios.named("virtual-cluster")
    model = ClusterModel(scenario.clusters[0], scenario.duration)
    text = live.exposition(model, 1, live.Clock(scenario.duration, 60.0, start=time.time() - 300))
    assert "# TYPE schedules_BACKUP_failed counter\n" in text
    assert "# TYPE schedules_round_reschedule_skip gauge\n" in text
    assert re.search(r'^schedules_BACKUP_started\{node_id="1",tenant="app"\} \d+$', text, re.M)
    assert "_total" not in text
    for line in text.splitlines():
        assert line.startswith("# HELP ") or line.startswith("# TYPE ") or re.fullmatch(
            r'[a-zA-Z_:][a-zA-Z0-9_:]*\{node_id="\d+"(,tenant="\w+")?\} -?[0-9.e+]+', line), line


def test_node_serves_status_vars_over_http():
    scenario = scenarios.named("healthy-hourly-backups")
    nodes = live.start_cluster_nodes(scenario, 60.0)
    try:
        address = nodes["healthy"][0].address
        with urllib.request.urlopen(f"http://{address}/_status/vars", timeout=5) as resp:
            assert resp.status == 200 and b"jobs_backup_currently_running" in resp.read()
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(f"http://{address}/other", timeout=5)
    finally:
        live.stop_all(nodes)


def _query(url, expr):
    data = urllib.parse.urlencode({"query": expr}).encode()
    with urllib.request.urlopen(f"{url}/api/v1/query", data=data, timeout=5) as resp:
        return json.load(resp)["data"]["result"]


def test_demo_runs_prometheus_scraping_every_node_and_stops_on_ctrl_c(tmp_path):
    proc = subprocess.Popen(CLI + ["demo", "--scenario", "healthy-hourly-backups", "--speed", "600",
                                   "--out", str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        while not any(line.startswith("Prometheus: ") for line in lines):
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
            lines.append(line)
        url = lines[-1].split()[1]
        ports = [int(p) for p in re.findall(r"127\.0\.0\.1:(\d+)/_status", "".join(lines))]
        assert len(ports) == 3
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            up = _query(url, 'count(up{job="cockroachdb", cluster="healthy"} == 1)')
            if up and up[0]["value"][1] == "3":
                break
            time.sleep(0.5)
        else:
            pytest.fail("Prometheus did not scrape the three simulated nodes")
        assert _query(url, "sum(jobs_backup_currently_running)"), "no job metrics scraped"
        provisioning = tmp_path / "provisioning" / "datasources" / "crdb-backups.yaml"
        assert url in provisioning.read_text()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "stopped" in out
    for port in ports + [int(url.rsplit(":", 1)[1])]:
        with socket.socket() as sock:
            assert sock.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still open"


def _fails(args, env=None):
    result = subprocess.run(CLI + args, capture_output=True, text=True, env=env, timeout=30)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    return result.stderr


def test_unknown_scenario():
    assert "unknown scenario 'nope'" in _fails(["demo", "--scenario", "nope", "--seconds", "1"])


@pytest.mark.parametrize("text, message", [
    ("name: x\nduration: 1h\nclusters: [{name: a, nodez: 3}]\n", "unknown key 'clusters[0].nodez'"),
    ("name: x\nduration: soon\nclusters: []\n", "key 'duration'"),
    ("name: x\nclusters: []\n", "missing key 'duration'"),
    ("name: x\nduration: 1h\nclusters: [{name: a, restarts: [[1]]}]\n", "key 'clusters[0].restarts[0]'"),
    ("[", "not valid YAML"),
])
def test_malformed_scenario_file(tmp_path, text, message):
    path = tmp_path / "s.yaml"
    path.write_text(text)
    assert message in _fails(["demo", "--scenario", str(path), "--seconds", "1"])


def test_scenario_file_loads(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("name: mine\ndescription: d\nduration: 2h\nscrape: 15s\nclusters:\n  - name: prod\n"
                    "    restarts: [[2, 1h]]\n    tenants:\n      - schedule: {cadence: 30m, fail_runs: [1]}\n")
    scenario = scenarios.load(path)
    assert scenario.duration == 7200 and scenario.scrape == 15
    assert scenario.clusters[0].restarts == ((2, 3600),)
    assert scenario.clusters[0].tenants[0].schedule.fail_runs == frozenset({1})


def test_prometheus_missing_is_one_line(tmp_path):
    env = {**os.environ, "PATH": str(tmp_path)}
    assert "apt-get install prometheus" in _fails(["demo", "--seconds", "1"], env=env)


def test_a_port_in_use_is_named(tmp_path):
    from crdb_dash import promrun

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        with pytest.raises(promrun.PrometheusError, match=f"port {port} is in use"):
            promrun.Prometheus(tmp_path / "tsdb", port=port).start()


def test_prometheus_helper_starts_on_a_free_port_and_always_stops(tmp_path):
    from crdb_dash import promrun

    with promrun.Prometheus(tmp_path / "tsdb") as prom:
        port = prom.port
        assert prom.query("1 + 1", at=time.time())["result"][1] == "2"
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0

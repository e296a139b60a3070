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
from pathlib import Path

import pytest

from crdb_dash.model import alerts
from crdb_dash.simulation import live, scenarios
from crdb_dash.simulation.simulator import ClusterModel

CLI = [sys.executable, "-m", "crdb_dash.cli"]


def test_exposition_is_cockroachdb_text_format():
    scenario = scenarios.named("virtual-cluster")
    model = ClusterModel(scenario.clusters[0], scenario.duration)
    text = live.exposition(model, 1, live.Clock(time.time() - 3 * 3600))
    assert "# TYPE schedules_BACKUP_failed counter\n" in text
    assert "# TYPE schedules_round_reschedule_skip gauge\n" in text
    assert re.search(r'^schedules_BACKUP_started\{node_id="1",tenant="app"\} \d+$', text, re.M)
    assert "_total" not in text
    for line in text.splitlines():
        assert line.startswith("# HELP ") or line.startswith("# TYPE ") or re.fullmatch(
            r'[a-zA-Z_:][a-zA-Z0-9_:]*\{node_id="\d+"(,tenant="\w+")?(,tenant_id="\d+")?\} -?[0-9.e+]+', line), line
    assert re.search(r'^schedules_BACKUP_last_completed_time_by_virtual_cluster\{node_id="1",tenant="system",'
                     r'tenant_id="2"\} \d+$', text, re.M)


def test_node_serves_status_vars_over_http():
    scenario = scenarios.named("healthy-hourly-backups")
    nodes = live.start_cluster_nodes(scenario, live.Clock(time.time() - 300))
    try:
        address = nodes["healthy"][0].address
        with urllib.request.urlopen(f"http://{address}/_status/vars", timeout=5) as resp:
            assert resp.status == 200 and b"jobs_backup_currently_running" in resp.read()
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(f"http://{address}/other", timeout=5)
    finally:
        live.stop_all(nodes)


def _start_demo(args, config=None, tmp_path=None):
    """A running ``crdb-dash demo``: the process, what it printed up to the Prometheus line, Prometheus' URL."""
    options = []
    if config is not None:
        path = tmp_path / "demo.yaml"
        path.write_text(config)
        options = ["--config", str(path)]
    proc = subprocess.Popen(CLI + options + ["demo", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)  # its own process group, as in a terminal
    lines = []
    try:
        while not any(line.startswith("Prometheus: ") for line in lines):
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
            lines.append(line)
    except BaseException:
        proc.kill()
        raise
    return proc, lines, lines[-1].split()[1]


def _stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.communicate(timeout=90)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()


def _eventually(check, seconds=40):
    """The first truthy result of ``check()`` within ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.5)


def _query(url, expr):
    data = urllib.parse.urlencode({"query": expr}).encode()
    with urllib.request.urlopen(f"{url}/api/v1/query", data=data, timeout=5) as resp:
        return json.load(resp)["data"]["result"]


def test_demo_runs_prometheus_scraping_every_node_and_stops_on_ctrl_c(tmp_path):
    proc, lines, url = _start_demo(["--scenario", "healthy-hourly-backups", "--at", "1h", "--out", str(tmp_path)])
    try:
        ports = [int(p) for p in re.findall(r"127\.0\.0\.1:(\d+)/_status", "".join(lines))]
        assert len(ports) == 3
        up = 'count(up{job="cockroachdb", cluster="healthy"} == 1) == 3'
        assert _eventually(lambda: _query(url, up)), "Prometheus did not scrape the three simulated nodes"
        assert _query(url, "sum(jobs_backup_currently_running)"), "no job metrics scraped"
        provisioning = tmp_path / "provisioning" / "datasources" / "crdb-backups.yaml"
        assert url in provisioning.read_text()
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C in a terminal reaches the whole foreground group
        out, err = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "stopped" in out
    for port in ports + [int(url.rsplit(":", 1)[1])]:
        with socket.socket() as sock:
            assert sock.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still open"


def _fails(args, env=None):
    result = subprocess.run(CLI + args, capture_output=True, text=True, env=env, timeout=90)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    return result.stderr


@pytest.mark.parametrize("seconds", ["-5", "0", "nan"])
def test_seconds_must_be_above_zero(seconds):
    assert "--seconds must be a number of seconds above 0" in _fails(["demo", "--seconds", seconds])


def test_unknown_scenario():
    assert "unknown scenario 'nope'" in _fails(["demo", "--scenario", "nope", "--seconds", "1"])


@pytest.mark.parametrize("at, message", [
    ("soon", "--at must be a duration such as 6h or 90m, not 'soon'"),
    ("13h", "--at 13h is past the end of scenario everything-at-once (12h00m)"),
])
def test_bad_at(at, message):
    assert message in _fails(["demo", "--at", at, "--seconds", "1"])


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
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("CRDB_DASH_ENGINE_")}, "PATH": str(tmp_path),
           "CRDB_DASH_ENGINES_DIR": str(tmp_path)}
    assert "apt-get install prometheus" in _fails(["demo", "--seconds", "1"], env=env)


def test_a_port_in_use_is_named(tmp_path):
    from crdb_dash.simulation import promrun

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        with pytest.raises(promrun.PrometheusError, match=f"port {port} is in use"):
            promrun.Prometheus(tmp_path / "tsdb", port=port).start()


def test_prometheus_helper_starts_on_a_free_port_and_always_stops(tmp_path):
    from crdb_dash.simulation import promrun

    with promrun.Prometheus(tmp_path / "tsdb") as prom:
        port = prom.port
        assert prom.query("1 + 1", at=time.time())["result"][1] == "2"
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0


# ---- the demo labels its series as the config says (issue 8, item 2) -------------------------------------
@pytest.mark.parametrize("selector, labels, job, extra", [
    ('job="cockroachdb"', {}, "cockroachdb", {}),
    ('job="crdb"', {}, "crdb", {}),
    ('job="crdb", env="prod", region!="eu", team!~"x.*"', {"cluster": "k8s_cluster"}, "crdb", {"env": "prod"}),
    ('job=~"cockroach.*"', {"node": "node_id", "tenant": "vc"}, "cockroachdb", {}),
])
def test_demo_labels_follow_the_config(selector, labels, job, extra):
    from crdb_dash.model import config
    from crdb_dash.simulation import demo

    cfg = config.Config({**config.DEFAULTS, "selector": selector, "labels": {**config.DEFAULTS["labels"], **labels}},
                        "test")
    got = demo.labelling(cfg)
    assert (got.job, got.extra) == (job, extra)
    target = got.target("prod", 2, "127.0.0.1:1234")
    assert target[cfg.cluster] == "prod" and target["job"] == job
    import promql_parser

    for m in promql_parser.parse("up{" + selector + "}").matchers.matchers:
        op = config.MATCH_OPS[str(m.op).rsplit(".", 1)[-1]]
        assert config.matcher_holds(op, m.value, target.get(m.name, "")), m


@pytest.mark.parametrize("text, message", [
    ("selector: 'job=~\"crdb-.+\"'\n", 'matcher job=~"crdb-.+": their series are labelled from = matchers only'),
    ("selector: 'job=\"crdb\", env!=\"\"'\nkubernetes: {service_monitor: false}\n", 'matcher env!=""'),
    ("selector: 'job=\"crdb\", cluster=\"prod\"'\nkubernetes: {service_monitor: false}\n",
     "they set label 'cluster' themselves"),
    ("selector: 'job=\"crdb\", instance=~\".*:8080\"'\n", "they set label 'instance' themselves"),
    ("labels: {cluster: tenant, tenant: vc}\n", "simulated clusters cannot use labels.cluster 'tenant'"),
    ("labels: {cluster: node_id}\n", "simulated clusters cannot use labels.cluster 'node_id'"),
    ("labels: {node: cluster}\nkubernetes: {service_monitor: false}\n", "three different label names"),
])
def test_demo_refuses_what_it_cannot_honour(tmp_path, text, message):
    err = _fails(["--config", str(_write(tmp_path, text)), "demo", "--seconds", "1", "--out", str(tmp_path / "out")])
    assert message in err
    assert not (tmp_path / "out").exists()


CUSTOM = """
selector: 'job="crdb", env="prod"'
labels: {cluster: k8s_cluster, node: pod, tenant: vc}
scrape_interval: 5s
alerts: {evaluation_interval: 5s}
"""


def test_demo_series_carry_the_configured_selector_and_label_names(tmp_path):
    from crdb_dash.model import config, promql
    from crdb_dash.model.catalog import metric

    cfg = config.load(_write(tmp_path, CUSTOM))
    proc, lines, url = _start_demo(["--scenario", "virtual-cluster", "--at", "3h", "--out", str(tmp_path / "out")],
                                   CUSTOM, tmp_path)
    try:
        expected = {(n, vc) for n in ("tenants-n1", "tenants-n2", "tenants-n3") for vc in ("system", "app")}
        for when in ("", " offset 2h"):  # live, and the history written before the demo started
            expr = f'schedules_BACKUP_started{{job="crdb", env="prod", k8s_cluster="tenants"}}{when}'
            found = _eventually(lambda e=expr: {(r["metric"]["pod"], r["metric"]["vc"]) for r in _query(url, e)})
            assert found == expected, when
        assert not _query(url, 'count({__name__=~"schedules_.*|jobs_.*", cluster!=""} or {tenant!=""})')
        # the RPO alerts' age (their value keeps only the clusters over their target)
        result = _query(url, promql.age(metric("schedules_BACKUP_last_completed_time"), promql.rule_scope(cfg)))
        assert {(r["metric"]["k8s_cluster"], r["metric"]["vc"]) for r in result} == {("tenants", "system"),
                                                                                  ("tenants", "app")}
    finally:
        _stop(proc)
    assert proc.returncode == 0


def _write(tmp_path, text):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    return path


# ---- one clock (issue 8, item 3) -----------------------------------------------------------------------
ONE_CLOCK = "scrape_interval: 5s\nalerts: {evaluation_interval: 5s}\n"


def test_demo_ages_and_for_alerts_follow_the_scenario_on_one_clock(tmp_path):
    """paused-backup, 6h in: the fifth backup (4h05m) paused at 4h07m for 3h, the last completed one started 3h05m."""
    import datetime

    from crdb_dash.model import config
    from crdb_dash.simulation.simulator import ClusterModel

    scenario = scenarios.named("paused-backup")
    model = ClusterModel(scenario.clusters[0], scenario.duration)
    last_as_of = max(j.start for j in model.completions(None) if j.end <= 6 * 3600)
    paused_at = next(a for j in model.jobs for a, _ in j.pauses)
    assert (last_as_of, paused_at) == (3 * 3600 + 5 * 60, 4 * 3600 + 7 * 60)

    proc, lines, url = _start_demo(["--scenario", "paused-backup", "--at", "6h", "--out", str(tmp_path)],
                                   ONE_CLOCK, tmp_path)
    try:
        when = re.search(r"it started at (\S+ \S+) UTC", "".join(lines)).group(1)
        start = datetime.datetime.fromisoformat(when).replace(tzinfo=datetime.UTC).timestamp()

        cfg = config.load(_write(tmp_path, ONE_CLOCK))
        rpo_age = next(a.value for a in alerts.table(cfg) if a.name == "RecoveryPointTooOld")
        pts_age = next(a.value for a in alerts.table(cfg) if "schedules_BACKUP_protected_age_sec" in a.value)

        def ages():
            [rpo] = _query(url, rpo_age)
            [pts] = _query(url, pts_age)
            at = float(rpo["value"][0]) - start
            return at, float(rpo["value"][1]), float(pts["value"][1])

        def scraped_live():
            return _query(url, 'count(scrape_duration_seconds{job="cockroachdb"}) == 3')

        assert _eventually(scraped_live)
        first = ages()
        time.sleep(6)
        for at, rpo, pts in (first, ages()):
            truth = at - last_as_of
            assert abs(rpo - truth) <= 1, (at, rpo, truth)
            assert abs(pts - truth) <= 10, (at, pts, truth)  # a gauge: as of the last scrape
            assert truth > 2 * 3600 + 50 * 60

        def firing(name):
            return [a for a in _alerts(url) if a["labels"]["alertname"] == name and a["state"] == "firing"]

        paused = _eventually(lambda: firing("CockroachBackupJobPaused"), 30)  # for: 1h, paused 1h53m ago
        assert paused, _alerts(url)
        active = datetime.datetime.fromisoformat(paused[0]["activeAt"].replace("Z", "+00:00")).timestamp()
        assert abs(active - (start + paused_at)) <= 5
        assert _eventually(lambda: firing("CockroachBackupRecoveryPointTooOld"), 30)  # for: 5m, over 2h since 5h05m
    finally:
        _stop(proc)
    assert proc.returncode == 0


def _alerts(url):
    with urllib.request.urlopen(f"{url}/api/v1/alerts", timeout=5) as resp:
        return json.load(resp)["data"]["alerts"]


# ---- Prometheus dying (issue 8, item 20) ------------------------------------------------------------------
def test_demo_stops_and_says_why_when_prometheus_dies(tmp_path):
    proc, lines, url = _start_demo(["--scenario", "healthy-hourly-backups", "--at", "30m", "--out", str(tmp_path)])
    try:
        ports = [int(p) for p in re.findall(r"127\.0\.0\.1:(\d+)/_status", "".join(lines))]
        children = [int(pid) for path in Path(f"/proc/{proc.pid}/task").glob("*/children")
                    for pid in path.read_text().split()]
        prometheus = [pid for pid in children if "prometheus" in Path(f"/proc/{pid}/cmdline").read_text()]
        assert len(prometheus) == 1, children
        os.kill(prometheus[0], signal.SIGTERM)
        out, err = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1, err
    assert "the demo's Prometheus exited with status 0; from its log:" in err
    assert "See you next time!" in err  # Prometheus' own words, on 2 and 3 alike
    assert "Traceback" not in err
    assert "stopped the simulated nodes" in out
    for port in ports:
        with socket.socket() as sock:
            assert sock.connect_ex(("127.0.0.1", port)) != 0, f"node port {port} still open"


@pytest.mark.parametrize("preset, name", [("metrics-endpoint", 'jobs_resume{name="backup", status="completed", '),
                                          ("cloud", "crdb_cloud_jobs_backup_resume_completed{"),
                                          ("dedicated", "crdb_dedicated_schedules_backup_succeeded{")])
def test_demo_serves_each_setups_names_live_and_in_history_and_the_preset_reads_them(tmp_path, preset, name):
    from crdb_dash.model import catalog, config, promql

    cfg = config.with_preset(config.load(), preset)
    proc, lines, url = _start_demo(["--preset", preset, "--scenario", "healthy-hourly-backups", "--at", "3h",
                                    "--out", str(tmp_path / "out")])
    try:
        for when in ("", " offset 2h"):  # live, and the history written before the demo started
            expr = f'{name}cluster="healthy"}}{when}'
            assert _eventually(lambda e=expr: _query(url, e)), (preset, when)
        assert not _query(url, '{__name__=~"jobs_backup_resume_completed|schedules_BACKUP_succeeded"}')
        age = promql.age(catalog.metric("schedules_BACKUP_last_completed_time"), promql.rule_scope(cfg))
        assert {r["metric"]["cluster"] for r in _query(url, age)} == {"healthy"}  # the rules' recovery point
    finally:
        _stop(proc)
    assert proc.returncode == 0


def test_demo_refuses_the_helm_preset_in_one_line():
    assert "--preset helm cannot be served by the demo" in _fails(["demo", "--preset", "helm", "--seconds", "1"])

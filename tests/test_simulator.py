"""The simulator itself follows CockroachDB (../shared/reference/METRICS.md), checked on its series directly."""

from __future__ import annotations

from crdb_dash.simulation import scenarios
from crdb_dash.simulation.simulator import (
    BACKUP_WRITE_RATE,
    RESTORE_READ_RATE,
    Cluster,
    Restore,
    Scenario,
    Schedule,
    Simulation,
    Tenant,
)

H = 3600
M = 60
END = 1_700_000_000
KMS = "backup_last_failed_time_kms_inaccessible"


def _series(sim: Simulation, name: str) -> dict[tuple[str, str, str | None], dict[int, float]]:
    """(cluster, node_id, tenant) -> {offset from the simulation's start: value}."""
    return {(s.labels["cluster"], s.labels["node_id"], s.labels.get("tenant")):
            {t - sim.start: v for t, v in s.samples} for s in sim.series(name)}


def _kms_scenario(**tenant_kms) -> Scenario:
    return Scenario("kms", 4 * H, (Cluster("kms", tenants=(
        Tenant("system", Schedule(), kms_failure=tenant_kms.get("system")),
        Tenant("app", Schedule(), kms_failure=tenant_kms.get("app")),
    )),))


def test_kms_gauge_is_set_only_by_the_tenant_whose_backup_failed_on_the_node_that_ran_it():
    sim = Simulation(_kms_scenario(app=2 * H), END)
    series = _series(sim, KMS)
    assert {tenant for _, _, tenant in series} == {"system", "app"}
    for (_, node, tenant), samples in series.items():
        if tenant == "app" and node == "1":
            assert all(v == 0 for t, v in samples.items() if t < 2 * H)
            assert all(v == sim.start + 2 * H for t, v in samples.items() if t >= 2 * H)
        else:
            assert set(samples.values()) == {0.0}, (node, tenant)


def test_kms_failure_of_the_system_tenant_leaves_the_virtual_cluster_at_zero_in_everything_at_once():
    sim = Simulation(scenarios.named("everything-at-once"), END)
    nonzero = {key for key, samples in _series(sim, KMS).items() if any(samples.values())}
    assert nonzero == {("everything", "1", "system")}


def test_kms_failure_is_exported_by_the_live_node_that_ran_the_job_and_lost_with_its_restart():
    # node 1 is down at the failure: the job ran on node 2, which restarts at 2h
    scenario = Scenario("kms", 4 * H, (Cluster("kms", restarts=((1, H), (2, 2 * H)), tenants=(
        Tenant(schedule=Schedule(), kms_failure=H + 30),)),))
    sim = Simulation(scenario, END)
    series = _series(sim, KMS)
    assert set(series[("kms", "1", None)].values()) == set(series[("kms", "3", None)].values()) == {0.0}
    node2 = series[("kms", "2", None)]
    assert {v for t, v in node2.items() if H + 30 <= t < 2 * H} == {sim.start + H + 30}
    assert {v for t, v in node2.items() if t < H + 30 or t >= 2 * H} == {0.0}


def _bytes(sim: Simulation, name: str) -> dict[int, float]:
    """The cluster's total of a bytes counter at each scrape (no restarts here: counters never reset)."""
    total: dict[int, float] = {}
    for samples in _series(sim, name).values():
        for t, v in samples.items():
            total[t] = total.get(t, 0.0) + v
    return total


def test_a_paused_backup_writes_nothing_and_writes_again_once_resumed():
    # one run from 5m, paused 10m after its start for 30m: runs 10m, paused 30m, runs the remaining 50m
    scenario = Scenario("pause", 3 * H, (Cluster("pause", tenants=(Tenant(schedule=Schedule(
        cadence=4 * H, duration=60 * M, first=5 * M, pauses=((0, 10 * M, 30 * M),))),)),))
    sim = Simulation(scenario, END)
    written = _bytes(sim, "cloud_write_bytes")
    start, paused, resumed, end = 5 * M, 15 * M, 45 * M, 95 * M
    assert written[start] == 0
    assert written[paused] == 10 * M * BACKUP_WRITE_RATE
    assert written[paused + 30] == written[paused] == written[resumed - 30] == written[resumed]
    assert written[resumed + 30] > written[resumed]
    assert written[end] == 60 * M * BACKUP_WRITE_RATE
    assert written[3 * H] == written[end]


def test_a_paused_restore_reads_nothing_and_reads_again_once_resumed():
    scenario = Scenario("pause", 3 * H, (Cluster("pause", tenants=(Tenant(schedule=None, restores=(
        Restore(10 * M, 20 * M, pause=(5 * M, H)),)),)),))
    sim = Simulation(scenario, END)
    read = _bytes(sim, "cloud_read_bytes")
    assert read[15 * M] == read[15 * M + 30] == read[75 * M] == 5 * M * RESTORE_READ_RATE
    assert read[75 * M + 30] > read[75 * M]
    assert read[3 * H] == 20 * M * RESTORE_READ_RATE


def test_bytes_of_the_paused_backup_scenario_grow_only_with_the_jobs_running_during_the_pause():
    sim = Simulation(scenarios.named("paused-backup"), END)
    model = sim.models["paused"]
    (job,) = [j for j in model.jobs if j.pauses]
    (a, b), = job.pauses
    written = _bytes(sim, "cloud_write_bytes")
    others = sum(max(0, min(b, j.end) - max(a, j.start)) for j in model.jobs if j is not job)
    assert written[b] - written[a] == others * BACKUP_WRITE_RATE
    assert written[b + sim.scenario.scrape] > written[b]

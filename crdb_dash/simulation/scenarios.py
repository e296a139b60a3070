"""Named scenarios for the simulator, and scenario files (YAML) with the same shape.

A scenario file looks like::

    name: my-cluster
    description: hourly backups, one failure
    duration: 12h
    scrape: 30s
    clusters:
      - name: prod
        nodes: 3
        restarts: [[2, 5h]]            # node 2 restarts 5h in
        tenants:
          - schedule: {cadence: 1h, duration: 10m, fail_runs: [3]}
"""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path

import yaml

from crdb_dash.model.config import parse_duration
from crdb_dash.simulation.simulator import Cluster, Restore, Scenario, Schedule, Tenant

H = 3600
M = 60


class ScenarioError(Exception):
    """An unknown scenario or a malformed scenario file; the message is one line."""


def _scenario(name: str, description: str, duration: int, clusters: tuple[Cluster, ...]) -> Scenario:
    return Scenario(name, duration, clusters, description=description)


def _hourly(**kw) -> Schedule:
    return Schedule(cadence=H, duration=10 * M, first=5 * M, **kw)


SCENARIOS: dict[str, Scenario] = {s.name: s for s in [
    _scenario("healthy-hourly-backups", "Hourly 10-minute backups on a 3-node cluster, all succeed.", 12 * H,
             (Cluster("healthy", tenants=(Tenant(schedule=_hourly()),)),)),
    _scenario("failing-schedule", "Hourly backups that start failing after the fourth run.", 12 * H,
             (Cluster("failing", tenants=(Tenant(schedule=_hourly(fail_runs=frozenset(range(4, 12)))),)),)),
    _scenario("stuck-backup-job", "The fifth backup never finishes: later runs are skipped, nothing fails.", 12 * H,
             (Cluster("stuck", tenants=(Tenant(schedule=_hourly(stuck_runs=frozenset({4}))),)),)),
    _scenario("paused-backup", "A backup paused for 3 hours while the jobs poller moves to another node.", 12 * H,
             (Cluster("paused", poller_moves=((6 * H, 2),),
                      tenants=(Tenant(schedule=_hourly(on_previous_running="wait", pauses=((4, 2 * M, 3 * H),))),)),)),
    _scenario("restore-with-retries", "Restores: one retried three times then completed, one failed, one paused.",
             12 * H, (Cluster("restores", tenants=(Tenant(schedule=_hourly(), restores=(
                 Restore(2 * H, 40 * M, retries=(5 * M, 10 * M, 20 * M)),
                 Restore(5 * H, 30 * M, fails=True),
                 Restore(8 * H, 20 * M, pause=(5 * M, 2 * H)),
             )),)),)),
    _scenario("rolling-restart", "Every node restarts once, one after another, the first while it runs a backup; "
             "backups and failures go on.", 12 * H,
             (Cluster("rolling", restarts=((1, 6 * H + 8 * M), (2, 6 * H + 20 * M), (3, 6 * H + 30 * M)),
                      poller_moves=((6 * H + 8 * M, 2), (6 * H + 20 * M, 3)),
                      tenants=(Tenant(schedule=_hourly(fail_runs=frozenset({2, 8}))),)),)),
    _scenario("full-restart-without-backups", "Backups stop at 2h; every node restarts at 3h: the age is unknown "
             "once the window has passed.", 12 * H,
             (Cluster("restarted", restarts=((1, 3 * H), (2, 3 * H), (3, 3 * H)),
                      tenants=(Tenant(schedule=_hourly(until=2 * H)),)),)),
    _scenario("no-rpo-schedule", "The schedule was created without updates_cluster_last_backup_time_metric.", 6 * H,
             (Cluster("nooption", tenants=(Tenant(schedule=_hourly(updates_metric=False)),)),)),
    _scenario("fleet-of-clusters", "Five clusters with different health, to check the cluster variable.", 12 * H,
             tuple(Cluster(f"fleet-{i}", nodes=3 + i % 3,
                           tenants=(Tenant(schedule=Schedule(cadence=(i + 1) * H, duration=(5 + i) * M,
                                                             first=i * M + 60,
                                                             fail_runs=frozenset({i}))),))
                   for i in range(5))),
    _scenario("virtual-cluster", "A system tenant and a virtual cluster 'app', each with its own schedule.", 12 * H,
             (Cluster("tenants", tenants=(Tenant("system", _hourly()),
                                          Tenant("app", Schedule(cadence=2 * H, duration=20 * M, first=15 * M,
                                                                 fail_runs=frozenset({2})))),),)),
    _scenario("virtual-cluster-starts", "Hourly backups on a plain cluster; a virtual cluster 'app' starts at 6h, "
             "and the system tenant's series gain tenant=\"system\" then.", 12 * H,
             (Cluster("vcstart", tenants=(Tenant("system", _hourly()),
                                          Tenant("app", _hourly(), since=6 * H))),)),
    _scenario("restart-after-last-backup", "Backups stop at 4h; the node that completed the last one restarts 10 "
             "minutes later, and another node misses scrapes for 10 minutes at 6h.", 12 * H,
             (Cluster("lastbackup", restarts=((1, 3 * H + 25 * M),), scrape_gaps=((2, 6 * H, 10 * M),),
                      tenants=(Tenant(schedule=_hourly(until=4 * H)),)),)),
    _scenario("everything-at-once", "Every kind of event, to check that every panel has data.", 12 * H,
             (Cluster("everything", nodes=3, restarts=((2, 7 * H),), poller_moves=((5 * H, 3),),
                      poller_failures=(4 * H, 4 * H + 30), schedules_error=1, schedules_malformed=1,
                      tenants=(
                          Tenant("system", _hourly(fail_runs=frozenset({3}), stuck_runs=frozenset({9}),
                                                   pauses=((5, 2 * M, 90 * M),), retries=((1, 3 * M), (6, 4 * M))),
                                 restores=(Restore(2 * H, 30 * M, retries=(5 * M,)), Restore(4 * H, 20 * M, fails=True),
                                           Restore(9 * H, 30 * M, pause=(5 * M, 4 * H))),
                                 kms_failure=9 * H),
                          Tenant("app", Schedule(cadence=2 * H, duration=15 * M, first=10 * M,
                                                 on_previous_running="wait")),
                      )),)),
]}


SCENARIOS["cluster-stops-reporting"] = _scenario(
    "cluster-stops-reporting", "Two healthy clusters; Prometheus stops scraping the second at 2h (its target is gone) "
    "while it runs on.", 12 * H,
    (Cluster("steady", tenants=(Tenant(schedule=_hourly()),)),
     Cluster("vanished", scraped_until=2 * H, tenants=(Tenant(schedule=_hourly()),))))


def named(name: str) -> Scenario:
    if name not in SCENARIOS:
        raise ScenarioError(f"unknown scenario '{name}'; known: {', '.join(sorted(SCENARIOS))}")
    return SCENARIOS[name]


def load(path: str | Path) -> Scenario:
    """A scenario from a YAML file; raises ScenarioError naming the file and the bad key."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read scenario file: {exc.strerror}") from None
    except yaml.YAMLError:
        raise ScenarioError(f"{path}: not valid YAML") from None
    try:
        return _build(Scenario, data, "")
    except ScenarioError as exc:
        raise ScenarioError(f"{path}: {exc}") from None


def _build(cls, data, where: str):
    if not isinstance(data, dict):
        raise ScenarioError(f"'{where or 'top level'}' must be a mapping")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key in data:
        if key not in fields:
            raise ScenarioError(f"unknown key '{where}{key}'")
    kwargs = {}
    for name, f in fields.items():
        if name not in data:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise ScenarioError(f"missing key '{where}{name}'")
            continue
        kwargs[name] = _value(hints[name], data[name], f"{where}{name}")
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ScenarioError(f"'{where or 'top level'}': {exc}") from None


def _value(hint, value, where: str):
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Union or type(hint).__name__ == "UnionType":
        if value is None and type(None) in args:
            return None
        return _value(next(a for a in args if a is not type(None)), value, where)
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, f"{where}.")
    if origin in (tuple, frozenset):
        if not isinstance(value, list):
            raise ScenarioError(f"key '{where}' must be a list")
        item = args[0]
        if origin is tuple and len(args) > 1 and args[1] is not Ellipsis:
            if len(value) != len(args):
                raise ScenarioError(f"key '{where}' must be a list of {len(args)} values")
            return tuple(_value(a, v, where) for a, v in zip(args, value, strict=True))
        return origin(_value(item, v, f"{where}[{i}]") for i, v in enumerate(value))
    if hint is int:
        return _seconds(value, where)
    if hint is str:
        if not isinstance(value, str) or not value:
            raise ScenarioError(f"key '{where}' must be a non-empty string")
        return value
    if hint is bool:
        if not isinstance(value, bool):
            raise ScenarioError(f"key '{where}' must be true or false")
        return value
    raise ScenarioError(f"key '{where}' has an unsupported value")


def _seconds(value, where: str) -> int:
    if isinstance(value, bool):
        raise ScenarioError(f"key '{where}' must be a number or a duration")
    if isinstance(value, int) and value >= 0:
        return value
    if isinstance(value, str):
        try:
            return parse_duration(value)
        except ValueError:
            pass
    raise ScenarioError(f"key '{where}' must be a whole number of 0 or more or a duration such as 90m, not {value!r}")

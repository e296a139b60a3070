"""Run VictoriaMetrics on loopback: a scale-out engine that keeps PromQL (MetricsQL), to check that the
dashboards' queries tell the same truth there. Same query API as ``promrun.Prometheus``."""

from __future__ import annotations

import contextlib
import subprocess
import tempfile
import urllib.request
from collections.abc import Iterable, Iterator
from pathlib import Path

from crdb_dash.simulation import engines
from crdb_dash.simulation.promrun import Prometheus, PrometheusError, binary, one_by_one


class VictoriaMetrics(Prometheus):
    NAME = "victoria-metrics"
    READY = "/health"

    def command(self, exe: str, work: Path, port: int) -> list[str]:
        # No latency offset and no result cache: imported history is queried right away, as it is.
        return [exe, f"-storageDataPath={self.tsdb}", f"-httpListenAddr=127.0.0.1:{port}", "-retentionPeriod=100y",
                "-search.latencyOffset=0s", "-search.disableCache", "-loggerLevel=ERROR"]

    def import_openmetrics(self, chunks: Iterable[str]) -> None:
        """Import ``simulator.openmetrics`` text (timestamps in seconds) through the Prometheus-text import."""
        lines = (_millis(line) for chunk in chunks for line in chunk.splitlines() if line and line[0] != "#")
        body = ("\n".join(lines) + "\n").encode()
        self._post("/api/v1/import/prometheus", body)
        self._post("/internal/force_flush", b"")

    def replay_rules(self, text: str, span: tuple[int, int], work: Path) -> None:
        """Evaluate a rule file over stored history with ``vmalert -replay``, writing back to this server: one
        recording rule at a time, each flushed before the next (which may read it) is replayed, then the alerts."""
        import yaml

        for i, rule in enumerate(one_by_one(text)):
            self._replay(rule, span, work / f"records{i}.yml")
        groups = [{**g, "rules": [r for r in g["rules"] if "alert" in r]} for g in yaml.safe_load(text)["groups"]]
        if any(g["rules"] for g in groups):
            self._replay(yaml.safe_dump({"groups": [g for g in groups if g["rules"]]}), span, work / "alerts.yml")

    def _replay(self, text: str, span: tuple[int, int], rule_file: Path) -> None:
        rule_file.write_text(text)
        result = subprocess.run(
            [binary("vmalert", self.engine), f"-rule={rule_file}", f"-datasource.url={self.url}",
             f"-remoteWrite.url={self.url}",
             f"-replay.timeFrom={_rfc3339(span[0])}", f"-replay.timeTo={_rfc3339(span[1])}", "-loggerLevel=ERROR",
             "-replay.disableProgressBar", "-replay.rulesDelay=0s", "-remoteWrite.flushInterval=1s"],
            capture_output=True, text=True)
        if result.returncode != 0:
            raise PrometheusError(f"vmalert could not replay rules: {result.stderr.strip().splitlines()[-1:]}")
        self._post("/internal/force_flush", b"")

    def _post(self, path: str, body: bytes) -> None:
        request = urllib.request.Request(f"{self.url}{path}", data=body, method="POST")
        with urllib.request.urlopen(request, timeout=300) as resp:
            resp.read()


def _millis(line: str) -> str:
    head, ts = line.rsplit(" ", 1)
    return f"{head} {int(ts) * 1000}"


def _rfc3339(unix: int) -> str:
    import datetime

    return datetime.datetime.fromtimestamp(unix, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@contextlib.contextmanager
def serve(chunks: Iterable[str], recording_rules: str = "", span: tuple[int, int] | None = None,
          engine: engines.Engine | None = None) -> Iterator[VictoriaMetrics]:
    """Like ``promrun.serve``: the history imported into a temporary VictoriaMetrics, gone on exit."""
    with (tempfile.TemporaryDirectory(prefix="crdb-dash-vm-") as work,
          VictoriaMetrics(Path(work) / "data", engine=engine) as vm):
        vm.import_openmetrics(chunks)
        if recording_rules:
            vm.replay_rules(recording_rules, span, Path(work))
        yield vm

"""Run a real Prometheus on loopback: backfill series with promtool, start it, query it, always stop it."""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator
from pathlib import Path

from crdb_dash.simulation import engines

INSTALL_HINT = "put it on PATH (Debian: apt-get install prometheus), or run 'make prometheus' in a clone of the project"


class PrometheusError(Exception):
    """Prometheus is missing, would not start, or refused a query; the message is one line."""


def binary(name: str, engine: engines.Engine | None = None) -> str:
    """A tool of ``engine``; without one, of the newest engine here that has it, else from PATH."""
    if engine is not None:
        if engine.missing():
            raise PrometheusError(engine.missing())
        return engine.tool(name)
    here = next((e for e in engines.MATRIX if e.has(name) and e.missing() is None), None)
    path = here.tool(name) if here else shutil.which(name)
    if path is None:
        raise PrometheusError(f"{name} is not installed: {INSTALL_HINT}")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def backfill(chunks: Iterable[str], tsdb: Path, engine: engines.Engine | None = None) -> None:
    """Write OpenMetrics text into a TSDB directory with ``promtool tsdb create-blocks-from openmetrics``."""
    tsdb.mkdir(parents=True, exist_ok=True)
    source = tsdb.parent / f"{tsdb.name}.om"
    with source.open("w", encoding="utf-8") as handle:
        for chunk in chunks:
            handle.write(chunk)
    try:
        result = subprocess.run([binary("promtool", engine), "tsdb", "create-blocks-from", "openmetrics", str(source),
                                 str(tsdb)], capture_output=True, text=True)
    finally:
        source.unlink()
    if result.returncode != 0:
        raise PrometheusError(f"promtool could not backfill: {result.stderr.strip().splitlines()[-1:]}")


@contextlib.contextmanager
def serve(chunks: Iterable[str], recording_rules: str = "", span: tuple[int, int] | None = None,
          engine: engines.Engine | None = None) -> Iterator[Prometheus]:
    """Backfill OpenMetrics text into a temporary TSDB and serve it; everything is gone on exit.

    With ``recording_rules`` (a rule file's text), the rules are also evaluated over ``span``
    (start, end unix seconds) of the stored history, as if Prometheus had run them all along.
    """
    with tempfile.TemporaryDirectory(prefix="crdb-dash-tsdb-") as work:
        tsdb = Path(work) / "tsdb"
        backfill(chunks, tsdb, engine)
        with Prometheus(tsdb, engine=engine) as prom:
            backfill_recording_rules(prom, recording_rules, span, Path(work))
            yield prom


def backfill_recording_rules(prom: Prometheus, text: str, span: tuple[int, int], work: Path) -> None:
    """Every recording rule of a rule file evaluated over ``span`` of ``prom``'s stored history, one after
    another, restarting ``prom`` after each so that the next rule finds the series the earlier ones wrote."""
    for i, rule in enumerate(one_by_one(text)):
        backfill_rules(prom, rule, span, work, str(i))
        prom.restart()


def one_by_one(text: str) -> list[str]:
    """Each recording rule of a rule file alone, in order: promtool backfills a rule from stored series only,
    so a rule reading another rule's series sees it once the earlier rule's blocks are loaded."""
    import yaml

    if not text:
        return []
    out = []
    for group in yaml.safe_load(text)["groups"]:
        for rule in group["rules"]:
            if "record" in rule:
                out.append(yaml.safe_dump({"groups": [{**group, "rules": [rule]}]}))
    return out


def backfill_rules(prom: Prometheus, text: str, span: tuple[int, int], work: Path, name: str = "") -> None:
    """Evaluate recording rules over stored history with ``promtool tsdb create-blocks-from rules``."""
    # promtool evaluates a group at the second of the minute its name and file path hash to, as Prometheus does:
    # the same relative file name for every rule keeps the rules of a group at one second, run after run.
    here, out = work / f"records{name}", work / f"rule-blocks{name}"
    here.mkdir()
    (here / "rules.yml").write_text(text)
    result = subprocess.run([binary("promtool", prom.engine), "tsdb", "create-blocks-from", "rules",
                             f"--start={span[0]}",
                             f"--end={span[1]}", f"--url={prom.url}", f"--output-dir={out}", "--quiet",
                             "rules.yml"], capture_output=True, text=True, cwd=here)
    if result.returncode != 0:
        raise PrometheusError(f"promtool could not backfill rules: {result.stderr.strip().splitlines()[-1:]}")
    for block in out.iterdir():
        block.rename(prom.tsdb / block.name)


class Prometheus:
    """``with Prometheus(tsdb) as prom: prom.query(...)``: a server on 127.0.0.1, stopped on exit."""

    def __init__(self, tsdb: Path, config: str = "global: {}\n", port: int | None = None,
                 ready_timeout: float = 60.0, flags: tuple[str, ...] = (), engine: engines.Engine | None = None):
        self.tsdb = tsdb
        self.engine = engine
        self.config = config
        self.flags = tuple(flags)
        self.port = port
        self.ready_timeout = ready_timeout
        self.process: subprocess.Popen | None = None
        self.headers: dict[str, str] = {}  # sent with every API request
        self._workdir: tempfile.TemporaryDirectory | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Prometheus:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def restart(self) -> None:
        """Stop and start again on the same port, e.g. to load blocks added to the TSDB."""
        self.stop()
        self.start()

    NAME = "prometheus"
    READY = "/-/ready"

    def command(self, exe: str, work: Path, port: int) -> list[str]:
        (work / "prometheus.yml").write_text(self.config)
        return [exe, f"--config.file={work / 'prometheus.yml'}", f"--storage.tsdb.path={self.tsdb}",
                f"--web.listen-address=127.0.0.1:{port}", "--storage.tsdb.retention.time=100y",
                "--query.lookback-delta=5m", *self.flags]

    def start(self) -> None:
        """Start on the given port, or on a free one (trying another if it is taken meanwhile)."""
        exe = binary(self.NAME, self.engine)
        self._workdir = tempfile.TemporaryDirectory(prefix=f"crdb-dash-{self.NAME}-")
        work = Path(self._workdir.name)
        fixed = self.port is not None
        for _ in range(1 if fixed else 3):
            port = self.port if fixed else free_port()
            if fixed and not _port_free(port):
                self.stop()
                raise PrometheusError(f"port {port} is in use: pick another")
            with open(work / f"{self.NAME}.log", "w") as log:
                # a new session: a Ctrl-C in the terminal is ours to handle, not the server's
                self.process = subprocess.Popen(self.command(exe, work, port), stdout=log, stderr=subprocess.STDOUT,
                                                stdin=subprocess.DEVNULL, start_new_session=True)
            self.port = port
            if self._wait_ready():
                return
            self.stop(keep_workdir=True)
        tail = (work / f"{self.NAME}.log").read_text()[-300:].strip().splitlines()
        self.stop()
        raise PrometheusError(f"{self.NAME} did not become ready: {tail[-1] if tail else 'no output'}")

    def exit_status(self) -> int | None:
        """None while Prometheus runs; once it has stopped, its exit status (negative: the signal that ended it)."""
        return None if self.process is None else self.process.poll()

    def log_tail(self, lines: int = 8) -> list[str]:
        """The last lines Prometheus wrote to its log."""
        if self._workdir is None:
            return []
        try:
            text = (Path(self._workdir.name) / f"{self.NAME}.log").read_text(errors="replace")
        except OSError:
            return []
        return text.strip().splitlines()[-lines:]

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(f"{self.url}{self.READY}", timeout=2) as resp:
                    if resp.status == 200:
                        return True
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        return False

    def stop(self, keep_workdir: bool = False) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        if self._workdir is not None and not keep_workdir:
            self._workdir.cleanup()
            self._workdir = None

    # ---- HTTP API --------------------------------------------------------------------------------------
    def request(self, url: str, data: bytes | None = None) -> urllib.request.Request:
        """A request to this server with its headers, which are not sent on to where a redirect leads."""
        request = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
        for name, value in self.headers.items():
            request.add_unredirected_header(name, value)
        return request

    def _get(self, path: str, params: dict) -> dict:
        request = self.request(f"{self.url}{path}", urllib.parse.urlencode(params).encode())
        try:
            with urllib.request.urlopen(request, timeout=120) as resp:
                body = json.load(resp)
        except urllib.error.HTTPError as exc:
            try:
                body = json.load(exc)
            except ValueError:
                raise exc from None  # not Prometheus' own error (a proxy's page)
            raise PrometheusError(f"{body.get('errorType')}: {body.get('error')} ({params.get('query')})") from None
        return body

    def query(self, expr: str, at: float, stats: bool = False) -> dict:
        params = {"query": expr, "time": at, **({"stats": "all"} if stats else {})}
        return self._get("/api/v1/query", params)["data"]

    def query_range(self, expr: str, start: float, end: float, step: int, stats: bool = False) -> dict:
        params = {"query": expr, "start": start, "end": end, "step": step, **({"stats": "all"} if stats else {})}
        return self._get("/api/v1/query_range", params)["data"]

    def series_count(self, match: str) -> int:
        return len(self._get("/api/v1/series", {"match[]": match})["data"])


def _port_free(port: int) -> bool:
    """Whether a server could listen there (connections lingering in TIME_WAIT do not count)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False

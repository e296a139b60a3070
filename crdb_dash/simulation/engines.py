"""The query engines every shipped expression is proven on, and where their binaries come from.

Each engine is a Debian package of one suite, unpacked (never installed) into a folder of its own under
``.engines/``: ``python -m crdb_dash.simulation.engines install`` downloads it with a temporary sources list, so
the machine's apt sources stay as they were. ``CRDB_DASH_ENGINE_<KEY>`` (e.g. ``CRDB_DASH_ENGINE_PROMETHEUS_3_5``)
points an engine at a folder of binaries a user already has instead.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KEYRINGS = tuple(Path(f"/usr/share/keyrings/debian-archive-keyring.{ext}") for ext in ("gpg", "pgp"))
MIRROR = "http://deb.debian.org/debian"


@dataclass(frozen=True)
class Engine:
    key: str  # the folder's name under .engines/, and the test ids' engine name
    title: str  # for people: "Prometheus 3.5"
    kind: str  # "prometheus" or "victoriametrics": which server class and tools
    suite: str  # the Debian suite its packages come from
    packages: tuple[str, ...]
    tools: tuple[str, ...]  # the binaries the tests run; the first is the server

    @property
    def env(self) -> str:
        return "CRDB_DASH_ENGINE_" + re.sub(r"\W", "_", self.key).upper()

    @property
    def server(self) -> str:
        return self.tools[0]

    def folder(self) -> Path:
        """Where the binaries are: the user's folder (the environment variable), else the project's cache."""
        given = os.environ.get(self.env)
        return Path(given) if given else cache() / self.key / "usr" / "bin"

    def missing(self) -> str | None:
        """Why the engine cannot run here, in one line, or None."""
        absent = [t for t in self.tools if not (self.folder() / t).is_file()]
        if not absent:
            return None
        where = f"{self.env}={self.folder()}" if os.environ.get(self.env) else f"{self.folder()}"
        return (f"{self.title}: {', '.join(absent)} not in {where}; run 'make engines' (Debian, downloads "
                f"{self.suite}'s {', '.join(self.packages)}) or set {self.env} to a folder holding "
                f"{', '.join(self.tools)}")

    def tool(self, name: str) -> str:
        return str(self.folder() / name)

    def version(self) -> str:
        """e.g. "3.5.3": the unpacked package's version (Debian's VictoriaMetrics binaries report none), else what
        the server says of itself."""
        recorded = self.folder().parent.parent / "VERSION"
        if not os.environ.get(self.env) and recorded.is_file():
            return recorded.read_text().strip()
        out = subprocess.run([self.tool(self.server), "--version"], capture_output=True, text=True)
        found = re.search(r"v?(\d+\.\d+\.\d+)", out.stdout + out.stderr)
        return found.group(1) if found else "unknown"

    def has(self, tool: str) -> bool:
        return tool in self.tools


MATRIX = (
    Engine("prometheus-3.5", "Prometheus 3.5 LTS", "prometheus", "sid", ("prometheus", "promtool"),
           ("prometheus", "promtool")),
    Engine("prometheus-2.42", "Prometheus 2.42", "prometheus", "bookworm", ("prometheus",), ("prometheus", "promtool")),
    Engine("victoriametrics-1.145", "VictoriaMetrics 1.145", "victoriametrics", "sid", ("victoria-metrics",),
           ("victoria-metrics", "vmalert", "vmalert-tool")),
    Engine("victoriametrics-1.79", "VictoriaMetrics 1.79", "victoriametrics", "bookworm", ("victoria-metrics",),
           ("victoria-metrics", "vmalert")),
)
PROMETHEUS = tuple(e for e in MATRIX if e.kind == "prometheus")
VICTORIAMETRICS = tuple(e for e in MATRIX if e.kind == "victoriametrics")


def cache() -> Path:
    return Path(os.environ.get("CRDB_DASH_ENGINES_DIR", ROOT / ".engines"))


# ---- install: apt-get download with a temporary sources list, then dpkg-deb -x --------------------------------
def install(engines=MATRIX, out=sys.stdout) -> list[str]:
    """Unpack every missing engine into its folder; returns the reasons of those that could not be had."""
    wanted = [e for e in engines if e.missing() is not None and not os.environ.get(e.env)]
    failed = [e.missing() for e in engines if os.environ.get(e.env) and e.missing()]
    if not wanted:
        return failed
    keyring = next((k for k in KEYRINGS if k.is_file()), None)
    if shutil.which("apt-get") is None or keyring is None:
        return failed + [f"{e.missing()} (no apt-get or Debian keyring here)" for e in wanted]
    for suite in sorted({e.suite for e in wanted}):
        with tempfile.TemporaryDirectory(prefix=f"crdb-dash-apt-{suite}-") as work:
            try:
                _download_suite(suite, [e for e in wanted if e.suite == suite], Path(work), keyring, out)
            except subprocess.CalledProcessError as exc:
                lines = (exc.stderr or "").strip().splitlines()
                failed += [f"{e.title}: apt-get failed: {lines[-1] if lines else exc}" for e in wanted
                           if e.suite == suite]
    return failed


def _download_suite(suite: str, engines: list[Engine], work: Path, keyring: Path, out) -> None:
    (work / "sources.list").write_text(f"deb [signed-by={keyring}] {MIRROR} {suite} main\n")
    for sub in ("lists/partial", "cache/archives/partial", "debs"):
        (work / sub).mkdir(parents=True)
    apt = ["apt-get", "-qq", f"-oDir::Etc::SourceList={work / 'sources.list'}", "-oDir::Etc::SourceParts=/dev/null",
           f"-oDir::State::Lists={work / 'lists'}", f"-oDir::Cache={work / 'cache'}", "-oDir::State::status=/dev/null",
           "-oDir::Etc::Preferences=/dev/null", "-oDir::Etc::PreferencesParts=/dev/null", "-oAcquire::Languages=none",
           "-oAPT::Sandbox::User=root", "-oDebug::NoLocking=1"]
    print(f"engines: reading Debian {suite}'s package list", file=out, flush=True)
    subprocess.run([*apt, "update"], check=True, capture_output=True, text=True)
    for engine in engines:
        print(f"engines: downloading {', '.join(engine.packages)} from {suite} for {engine.title}", file=out,
              flush=True)
        subprocess.run([*apt, "download", *engine.packages], check=True, capture_output=True, text=True,
                       cwd=work / "debs")
        target = cache() / engine.key
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        for deb in (work / "debs").glob("*.deb"):
            if deb.name.split("_")[0] == engine.packages[0]:
                (target / "VERSION").write_text(_upstream_version(deb) + "\n")
            if deb.name.split("_")[0] in engine.packages:
                subprocess.run(["dpkg-deb", "-x", str(deb), str(target)], check=True, capture_output=True, text=True)
        _expect_version(engine, out)


def _upstream_version(deb: Path) -> str:
    """"1.145.0" of a package versioned "1.145.0+ds1-2" (an epoch, "1:", dropped too)."""
    version = subprocess.run(["dpkg-deb", "-f", str(deb), "Version"], check=True, capture_output=True,
                             text=True).stdout.strip()
    return re.split(r"[+~-]", version.split(":")[-1])[0]


def _expect_version(engine: Engine, out) -> None:
    """The folder's name promises a version line; a suite that moved on is said plainly, not hidden."""
    expected = engine.key.rsplit("-", 1)[1]
    got = engine.version()
    if not got.startswith(expected + "."):
        print(f"engines: warning: {engine.title} from {engine.suite} is {got} now", file=out, flush=True)
    print(f"engines: {engine.title}: {got} in {engine.folder()}", file=out, flush=True)


def main(argv: list[str]) -> int:
    if argv[:1] == ["install"]:
        unknown = [key for key in argv[1:] if key not in {e.key for e in MATRIX}]
        if unknown:
            print(f"engines: no engine {', '.join(unknown)}; the matrix: {', '.join(e.key for e in MATRIX)}",
                  file=sys.stderr)
            return 2
        reasons = install([e for e in MATRIX if e.key in argv[1:]] if argv[1:] else MATRIX)
        for reason in reasons:
            print(f"engines: {reason}", file=sys.stderr)
        if reasons and not os.environ.get("CI"):
            print("engines: the tests that need them will be skipped, each saying why", file=sys.stderr)
        return 1 if reasons and os.environ.get("CI") else 0
    if argv[:1] == ["list"]:
        for e in MATRIX:
            print(f"{e.key}\t{e.missing() or e.version()}")
        return 0
    print("usage: python -m crdb_dash.simulation.engines install [KEY ...] | list", file=sys.stderr)
    return 2


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except BrokenPipeError:  # `... list | head`: the reader went away
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(128 + 13)

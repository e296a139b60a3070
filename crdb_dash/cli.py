"""The ``crdb-dash`` command line. Heavy modules are imported only by the subcommand that needs them."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from crdb_dash import __version__

PROG = "crdb-dash"


class UsageError(Exception):
    """Bad input from the command line or the environment; the message is one line."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Grafana dashboards and alert rules for "
                                     "CockroachDB backups, restores and backup schedules.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.add_argument("--config", metavar="FILE", help="YAML config overriding the built-in defaults")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    build = sub.add_parser("build", help="write dashboards, provisioning files and rules")
    build.add_argument("--out", metavar="DIR", default=".", help="output root (default: current directory)")
    build.add_argument("--check", action="store_true",
                       help="write nothing; fail with a diff if the files under --out differ from a fresh build")
    sub.add_parser("config", help="print the effective configuration as YAML")

    demo = sub.add_parser("demo", help="simulated CockroachDB nodes and a local Prometheus, for trying the dashboards")
    demo.add_argument("--scenario", default="everything-at-once", metavar="NAME|FILE",
                      help="a named scenario (see 'crdb-dash scenarios') or a scenario YAML file")
    demo.add_argument("--speed", type=float, default=60.0, help="simulated seconds per real second (default 60)")
    demo.add_argument("--out", metavar="DIR", default=".demo", help="where to write Grafana provisioning (.demo)")
    demo.add_argument("--seconds", type=float, help="stop after this many seconds (default: at Ctrl-C)")
    sub.add_parser("scenarios", help="list the named simulator scenarios")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except UsageError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


def _run(args) -> int:
    from crdb_dash import config

    try:
        cfg = config.load(args.config)
    except config.ConfigError as exc:
        raise UsageError(str(exc)) from None
    if args.command == "build":
        return _build(cfg, Path(args.out), args.check)
    if args.command == "demo":
        return _demo(cfg, args)
    if args.command == "scenarios":
        from crdb_dash.scenarios import SCENARIOS

        for name, scenario in SCENARIOS.items():
            print(f"{name:30} {scenario.description}")
        return 0
    if args.command == "config":
        from crdb_dash.build import to_yaml

        print(to_yaml(cfg.raw), end="")
        return 0
    raise AssertionError(args.command)


def _build(cfg, out: Path, check: bool) -> int:
    from crdb_dash import build

    files = build.render(cfg)
    if check:
        diff = build.compare(files, out)
        if diff:
            print(diff, end="")
            print(f"{PROG}: generated files under {out} differ from a fresh build; run 'make build'", file=sys.stderr)
            return 1
        print(f"{len(files)} generated files match a fresh build")
        return 0
    if not out.is_dir():
        raise UsageError(f"output directory {out} does not exist")
    changed = build.write(files, out)
    for rel in changed:
        print(f"wrote {rel}")
    print(f"{len(files)} files, {len(changed)} changed, under {out.resolve()}")
    return 0


def _demo(cfg, args) -> int:
    from crdb_dash import demo, promrun, scenarios

    try:
        path = Path(args.scenario)
        scenario = scenarios.load(path) if path.suffix in (".yaml", ".yml") else scenarios.named(args.scenario)
    except scenarios.ScenarioError as exc:
        raise UsageError(str(exc)) from None
    if args.speed <= 0:
        raise UsageError("--speed must be above 0")
    try:
        promrun.binary("prometheus")
        return demo.run(cfg, scenario, args.speed, Path(args.out), args.seconds, say=lambda s: print(s, flush=True))
    except promrun.PrometheusError as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise UsageError(f"cannot start the demo: {exc.strerror or exc}") from None


if __name__ == "__main__":
    sys.exit(main())

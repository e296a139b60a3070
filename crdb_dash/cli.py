"""The ``crdb-dash`` command line. Heavy modules are imported only by the subcommand that needs them."""

from __future__ import annotations

import argparse
import math
import os
import signal
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
    _add_global_options(parser, default=None)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    build = sub.add_parser("build", help="write dashboards, provisioning files and rules")
    build.add_argument("--out", metavar="DIR", default=".", help="output root (default: current directory)")
    build.add_argument("--check", action="store_true",
                       help="write nothing; fail with a diff if the files under --out differ from a fresh build")
    sub.add_parser("config", help="print the effective configuration as YAML")

    demo = sub.add_parser("demo", help="simulated CockroachDB nodes and a local Prometheus, for trying the dashboards")
    demo.add_argument("--scenario", default="everything-at-once", metavar="NAME|FILE",
                      help="a named scenario (see 'crdb-dash scenarios') or a scenario YAML file")
    demo.add_argument("--at", metavar="DURATION", help="how far into the scenario 'now' is, e.g. 6h; the past is "
                      "written into Prometheus, the rest runs in real time (default: the scenario's end)")
    demo.add_argument("--out", metavar="DIR", default=".demo", help="where to write Grafana provisioning (.demo)")
    demo.add_argument("--seconds", type=float, help="stop after this many seconds (default: at Ctrl-C)")
    demo.add_argument("--preset", metavar="NAME", help="serve the metrics as that setup names and labels them "
                      "(self-hosted, metrics-endpoint, cloud, dedicated), and build with that preset")
    sub.add_parser("scenarios", help="list the named simulator scenarios")

    doctor = sub.add_parser("doctor", help="check that Prometheus' data fits the config, with the fix for each "
                            "finding", description="Reads Prometheus' HTTP API (names, series, labels, a few instant "
                            "queries, rules, targets), directly or through Grafana's datasource proxy (--grafana, "
                            "which also checks the Grafana-managed alert rules); writes nothing unless "
                            "--write-config. Exit 0: the dashboards will show true data; 1: they would not; 2: it "
                            "cannot tell (unreachable, refused, no CockroachDB data, bad usage).")
    where = doctor.add_mutually_exclusive_group()
    where.add_argument("--prometheus", metavar="URL", help="Prometheus' URL, e.g. http://prometheus:9090 "
                       "(default: $PROMETHEUS_URL)")
    where.add_argument("--grafana", action="store_true", help="read through Grafana's proxy for the configured "
                       "datasource (GRAFANA_URL and GRAFANA_TOKEN, as for deploy)")
    doctor.add_argument("--json", action="store_true", help="print the findings as JSON")
    doctor.add_argument("--write-config", metavar="FILE", help="write a config that fits the data (keeping the "
                        "other settings of --config) to a new FILE, or to the --config file itself")
    doctor.add_argument("--url", help="with --grafana: Grafana's URL (default: $GRAFANA_URL)")
    doctor.add_argument("--token-file", metavar="FILE", help="with --grafana: read the token from FILE")
    doctor.add_argument("--password-file", metavar="FILE", help="with --grafana and GRAFANA_USER: read the "
                        "password from FILE")
    doctor.add_argument("--org-id", type=int, help=argparse.SUPPRESS)
    doctor.add_argument("--insecure", action="store_true", help="do not verify HTTPS certificates")
    doctor.add_argument("--timeout", type=float, default=10.0, help="seconds per request (default 10)")

    preview = sub.add_parser("preview", help="draw every dashboard to PNG as Grafana would show it",
                             description="Evaluate every panel's queries on Prometheus as Grafana would and draw "
                             "each dashboard to DIR/<uid>.png.")
    source = preview.add_mutually_exclusive_group()
    source.add_argument("--prometheus", metavar="URL", help="query this Prometheus (default: $PROMETHEUS_URL)")
    source.add_argument("--scenario", metavar="NAME|FILE",
                        help="simulate a scenario (see 'crdb-dash scenarios') on a temporary Prometheus")
    preview.add_argument("--dashboard", metavar="UID", action="append",
                         help="only this dashboard (repeatable; default: all)")
    preview.add_argument("--at", metavar="TIME", help="the moment the dashboards are looked at: unix seconds or "
                         "ISO 8601 (default: now, or the end of the scenario)")
    preview.add_argument("--var", metavar="NAME=VALUE", action="append", default=[],
                         help="pick a variable's value, e.g. --var cluster=prod (default: what Grafana picks)")
    preview.add_argument("--scale", type=float, default=1.0,
                         help="size of the pictures: 1 is a 1920-pixel-wide browser window (default 1)")
    preview.add_argument("--out", metavar="DIR", required=True, help="where to write the PNGs")

    for name, text in (("deploy", "create or update the dashboards, and the alert rules when Grafana evaluates them, "
                                  "in Grafana through its HTTP API"),
                       ("diff", "show what deploy would change in the dashboards and alert rules, writing nothing")):
        p = sub.add_parser(name, help=text, description=f"{text}. GRAFANA_URL says where; GRAFANA_TOKEN (a "
                           "service-account token), or GRAFANA_USER and GRAFANA_PASSWORD (basic auth), say as whom. "
                           "With alerts.grafana_managed the alert rules go through Grafana's alerting provisioning "
                           "API into the dashboards' folder, read-only in Grafana's UI; without it, alert rules "
                           "of crdb-dash left in Grafana are reported (--prune deletes them).")
        p.add_argument("--url", help="Grafana's URL (default: $GRAFANA_URL)")
        p.add_argument("--token-file", metavar="FILE", help="read the token from FILE instead of $GRAFANA_TOKEN")
        p.add_argument("--password-file", metavar="FILE",
                       help="basic auth as $GRAFANA_USER: read the password from FILE instead of $GRAFANA_PASSWORD")
        p.add_argument("--org-id", type=int, help="Grafana organisation id (default: the token's)")
        p.add_argument("--insecure", action="store_true", help="do not verify HTTPS certificates")
        p.add_argument("--timeout", type=float, default=5.0, help="seconds per request (default 5)")
        p.add_argument("--prune", action="store_true", help="also delete, in our folder, the dashboards and alert "
                       "rules deploy wrote (our uids, our version message or mark) that are no longer defined, once "
                       "every save succeeded")
        p.add_argument("--full", action="store_true", help="with diff or --dry-run: show new dashboards' and alert "
                       "rules' whole JSON, not a one-line summary")
        if name == "deploy":
            p.add_argument("--dry-run", action="store_true", help="report and diff, writing nothing")
            p.add_argument("--force", action="store_true", help="overwrite our dashboards and alert rules changed in "
                           "Grafana since the last deploy (never another's rule holding one of our uids)")
    for command in sub.choices.values():
        _add_global_options(command, default=argparse.SUPPRESS)
    return parser


def _add_global_options(parser: argparse.ArgumentParser, default) -> None:
    """Options accepted before or after the subcommand; a subcommand's SUPPRESS default keeps an earlier value."""
    parser.add_argument("--config", metavar="FILE", default=default,
                        help="YAML config overriding the built-in defaults")


def main(argv: list[str] | None = None) -> int:
    try:
        code = _run(_parser().parse_args(argv))
        sys.stdout.flush()  # a full disk or closed file is said here, once, not in Python's exit
        return code
    except UsageError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return _reader_gone()
    except OSError as exc:
        if exc.filename is not None:
            raise
        _discard_stdout()
        print(f"{PROG}: error: cannot write the output: {exc.strerror}", file=sys.stderr)
        return 1


def _discard_stdout() -> None:
    """Python's final flush of stdout must not fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _reader_gone() -> int:
    """The reader of our output went away (``crdb-dash diff | head``): stop quietly, as a tool killed by SIGPIPE."""
    _discard_stdout()
    return 128 + signal.SIGPIPE


def _run(args) -> int:
    from crdb_dash.model import config

    try:
        cfg = config.load(args.config)
    except config.ConfigError as exc:
        raise UsageError(str(exc)) from None
    for warning in cfg.warnings:
        print(f"{PROG}: warning: {warning}", file=sys.stderr)
    for name in ("timeout", "seconds"):
        value = getattr(args, name, None)
        if value is not None and not (value > 0 and math.isfinite(value)):
            raise UsageError(f"--{name} must be a number of seconds above 0, not {value:g}")
    if args.command in ("build", "deploy", "diff", "demo"):
        models = _checked_dashboards(cfg)
    if args.command == "build":
        return _build(cfg, models, Path(args.out), args.check)
    if args.command in ("deploy", "diff"):
        return _deploy(cfg, models, args)
    if args.command == "doctor":
        return _doctor(cfg, args)
    if args.command == "demo":
        return _demo(cfg, args)
    if args.command == "preview":
        return _preview(cfg, args)
    if args.command == "scenarios":
        from crdb_dash.simulation.scenarios import SCENARIOS

        for name, scenario in SCENARIOS.items():
            print(f"{name:30} {scenario.description}")
        return 0
    if args.command == "config":
        from crdb_dash.pipeline.serialize import to_yaml

        print(to_yaml(cfg.raw), end="")
        return 0
    raise AssertionError(args.command)


def _checked_dashboards(cfg) -> dict[str, dict]:
    """The compiled dashboards, once every shipped query parses with the configured selector and labels."""
    from crdb_dash.pipeline import build, compiled

    models = compiled.dashboards(cfg)
    bad = build.unparsable_query(cfg, models)
    if bad is not None:
        raise UsageError(f"{cfg.source}: the selector and label names give a query that does not parse: {bad[:160]}")
    return models


def _build(cfg, models: dict[str, dict], out: Path, check: bool) -> int:
    from crdb_dash.pipeline import build, rules

    try:
        files = build.render(cfg, models)
    except ValueError as exc:  # e.g. a dashboard too large for a Kubernetes ConfigMap
        raise UsageError(str(exc)) from None
    if check:
        if not out.is_dir():
            raise UsageError(f"output directory {out} does not exist")
        diff = build.compare(files, out)
        if diff:
            print(diff, end="")
            custom = f" --config {cfg.source}" if cfg.source != "built-in defaults" else ""
            again = f"{PROG} build --out {out}{custom}"
            print(f"{PROG}: generated files under {out} differ from a fresh build; run '{again}'", file=sys.stderr)
            return 1
        print(f"{len(files)} generated files match a fresh build")
        return 0
    _refuse_to_replace_the_defaults(cfg, out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"output directory {out} is not a directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
        result = build.write(files, out)
    except OSError as exc:
        raise UsageError(f"cannot write under {out}: {exc.strerror or exc}") from None
    for rel in result.written:
        print(f"wrote {rel}")
    for rel in result.removed:
        print(f"removed {rel}")
    unchanged = len(files) - len(result.written)
    print(f"{len(files)} files under {out.resolve()}: {len(result.written)} written, {len(result.removed)} removed, "
          f"{unchanged} unchanged")
    if not cfg.get("alerts.runbook_url") and not cfg.get("grafana.url"):
        print("note: the alerts' runbook links are docs/runbooks.md#..., a path in this project: set grafana.url (they "
              "then open the Runbooks dashboard) or alerts.runbook_url for links that open from a notification")
    if cfg.get("alerts.grafana_managed"):
        print(f"note: the Grafana-managed alerts ({rules.GRAFANA_FILE}) read the recording rules of {rules.RULES_FILE}:"
              " load that file into the Prometheus they query, or they cannot fire ('crdb-dash doctor' checks)")
    return 0


def _refuse_to_replace_the_defaults(cfg, out: Path) -> None:
    """The project's own checkout holds the committed default build; a custom config builds elsewhere."""
    from crdb_dash.model import config

    project = Path(__file__).resolve().parent.parent
    if cfg.raw != config.DEFAULTS and (project / ".git").exists() and out.resolve() == project:
        raise UsageError(f"{project} holds the committed default files; build {cfg.source} elsewhere with "
                         "--out DIR (make build CONFIG=... writes to dist/)")


def _target(args):
    from crdb_dash.delivery.grafana import Target

    def secret_file(path: str, what: str) -> str:
        """A token (whitespace dropped) or a password (final newline dropped) read from a file."""
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot read --{what}-file {path}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise UsageError(f"{what} file {path} is not UTF-8 text") from None
        secret = text.strip() if what == "token" else text.rstrip("\r\n")
        if not secret:
            raise UsageError(f"{what} file {path} is empty")
        return secret

    url = args.url or os.environ.get("GRAFANA_URL")
    if not url:
        raise UsageError("no Grafana URL: set GRAFANA_URL or pass --url")
    user = os.environ.get("GRAFANA_USER", "").strip()
    if args.password_file and not user:
        raise UsageError("--password-file is for basic auth: set GRAFANA_USER too")
    if user and (args.token_file or os.environ.get("GRAFANA_TOKEN", "").strip()):
        raise UsageError("both a token and GRAFANA_USER are set: use a token, or basic auth, not both")
    if user:
        password = secret_file(args.password_file, "password") if args.password_file \
            else os.environ.get("GRAFANA_PASSWORD", "")
        if not password:
            raise UsageError(f"no password for GRAFANA_USER {user!r}: set GRAFANA_PASSWORD or pass --password-file")
        return Target(url, "", args.org_id, args.insecure, args.timeout, user=user, password=password)
    token = secret_file(args.token_file, "token") if args.token_file else os.environ.get("GRAFANA_TOKEN", "").strip()
    if not token:
        raise UsageError("no Grafana token: set GRAFANA_TOKEN to a service-account token or pass --token-file "
                         "(or use basic auth: GRAFANA_USER and GRAFANA_PASSWORD)")
    return Target(url, token, args.org_id, args.insecure, args.timeout)


def _deploy(cfg, models: dict[str, dict], args) -> int:
    from crdb_dash.delivery import alert_rules, deploy
    from crdb_dash.delivery.grafana import Grafana, GrafanaError

    dry_run = args.command == "diff" or args.dry_run
    say = lambda text: print(text, flush=True)  # noqa: E731
    try:
        grafana = Grafana(_target(args))
        grafana.check()
        job = deploy.Deploy(grafana, cfg.get("grafana.folder_uid"), cfg.get("grafana.folder"),
                            cfg.get("grafana.uid_prefix"), dry_run=dry_run, force=getattr(args, "force", False),
                            show_diff=dry_run, full=args.full, say=say)
        rules = alert_rules.AlertRules(job, cfg, models)
        rules.read()
        outcomes = job.run(models)
        outcomes += rules.run()
        if args.prune:  # only once every save is known: nothing is deleted while anything could not be saved
            saves = list(outcomes)
            outcomes += job.prune(set(models), saves)
            outcomes += rules.prune(saves)
    except GrafanaError as exc:
        raise UsageError(str(exc)) from None
    say(("dry run: " if dry_run else "") + deploy.summary(outcomes, dry_run))
    return 0 if deploy.succeeded(outcomes) else 1


def _doctor(cfg, args) -> int:
    """With --json, a refusal is JSON on stdout too (the one line on stderr as ever), so machines read every exit."""
    try:
        return _diagnose(cfg, args)
    except UsageError as exc:
        if args.json:
            import json

            print(json.dumps({"healthy": False, "error": str(exc)}, indent=2))
        raise


def _diagnose(cfg, args) -> int:
    from crdb_dash.delivery import doctor
    from crdb_dash.model import config

    def progress(text: str) -> None:
        if sys.stderr.isatty():
            print(f"{PROG} doctor: {text}...", file=sys.stderr, flush=True)

    written = Path(args.write_config) if args.write_config else None
    if written and written.exists() and not (args.config and written.resolve() == Path(args.config).resolve()):
        raise UsageError(f"--write-config {written} exists: name a new file, or pass it as --config too to update it")
    try:
        if args.grafana:
            from crdb_dash.delivery.grafana import Grafana, GrafanaError

            try:
                grafana = Grafana(_target(args))
                grafana.check()
                api = doctor.GrafanaProxyApi(grafana, cfg.get("datasource.uid"))
            except GrafanaError as exc:
                raise UsageError(str(exc)) from None
        else:
            url = args.prometheus or os.environ.get("PROMETHEUS_URL")
            if not url:
                raise UsageError("no Prometheus: pass --prometheus URL (or set PROMETHEUS_URL), or --grafana")
            api = doctor.PrometheusApi(url, args.timeout)
        report = doctor.Doctor(api, cfg, progress).run()
        if args.write_config:
            doctor.write_config(report, args.config, Path(args.write_config))
    except doctor.DoctorError as exc:
        raise UsageError(str(exc)) from None
    except config.ConfigError as exc:
        raise UsageError(f"--write-config: {exc}") from None
    except OSError as exc:
        raise UsageError(f"cannot write {args.write_config}: {exc.strerror}") from None
    print(report.as_json() if args.json else report.as_text())
    if args.write_config and not args.json:
        print(f"wrote {args.write_config}: preset {report.suggested.get('preset')}; run doctor with "
              f"--config {args.write_config} to check it")
    return 0 if report.healthy else 1


def _demo(cfg, args) -> int:
    from crdb_dash.model import config
    from crdb_dash.simulation import demo, promrun, scenarios

    try:
        path = Path(args.scenario)
        scenario = scenarios.load(path) if path.suffix in (".yaml", ".yml") else scenarios.named(args.scenario)
    except scenarios.ScenarioError as exc:
        raise UsageError(str(exc)) from None
    at = scenario.duration
    if args.at is not None:
        try:
            at = config.parse_duration(args.at)
        except ValueError:
            raise UsageError(f"--at must be a duration such as 6h or 90m, not {args.at!r}") from None
        if at > scenario.duration:
            raise UsageError(f"--at {args.at} is past the end of scenario {scenario.name} "
                             f"({demo.span(scenario.duration)})")
    if args.preset is not None:
        served = [name for name in config.PRESETS if name != "helm"]
        if args.preset == "helm":
            raise UsageError("--preset helm cannot be served by the demo (each cluster would need its own namespace "
                             f"and every pod two scrape targets); it serves {', '.join(served)}")
        if args.preset not in served:
            raise UsageError(f"--preset must be one of {', '.join(served)}, not {args.preset!r}")
        cfg = config.with_preset(cfg, args.preset)
    try:
        return demo.run(cfg, scenario, at, Path(args.out), args.seconds, say=lambda s: print(s, flush=True),
                        complain=lambda s: print(s, file=sys.stderr, flush=True))
    except (demo.DemoError, promrun.PrometheusError) as exc:
        raise UsageError(str(exc)) from None
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise UsageError(f"cannot start the demo: {exc.strerror or exc}") from None


def _preview(cfg, args) -> int:
    from crdb_dash.pipeline import compiled
    from crdb_dash.preview import query, run
    from crdb_dash.simulation import demo, promrun, scenarios

    out = Path(args.out)
    if not 0.25 <= args.scale <= 4:
        raise UsageError("--scale must be between 0.25 and 4")
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is not a directory")
    models = compiled.dashboards(cfg)
    unknown = sorted(set(args.dashboard or []) - set(models))
    if unknown:
        raise UsageError(f"unknown dashboard {', '.join(unknown)}; known: {', '.join(sorted(models))}")
    models = {uid: m for uid, m in models.items() if not args.dashboard or uid in args.dashboard}
    chosen = {}
    for item in args.var:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise UsageError(f"--var {item!r} must be NAME=VALUE")
        chosen[name] = value
    variables = {v["name"] for m in models.values() for v in m.get("templating", {}).get("list", [])}
    if set(chosen) - variables:
        raise UsageError(f"--var {', '.join(sorted(set(chosen) - variables))}: no dashboard drawn has that variable; "
                         f"theirs: {', '.join(sorted(variables))}")
    url = args.prometheus or (None if args.scenario else os.environ.get("PROMETHEUS_URL"))
    if not url and not args.scenario:
        raise UsageError("no Prometheus: pass --prometheus URL (or set PROMETHEUS_URL) or --scenario NAME")
    say = lambda text: print(text, flush=True)  # noqa: E731
    try:
        source = run.source(cfg, args.scenario, url, run.parse_time(args.at) if args.at else None, say)
        with source.server as prom:
            out.mkdir(parents=True, exist_ok=True)
            reports = run.render(models, prom, source.at, out, source.scrape, cfg.get("datasource.uid"),
                                 source.name, chosen, say=say, scale=args.scale)
    except (ValueError, scenarios.ScenarioError, query.VariableError, promrun.PrometheusError,
            demo.DemoError) as exc:
        raise UsageError(str(exc)) from None
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise UsageError(f"cannot write the preview: {exc.strerror or exc}") from None
    say(run.summary(reports, out))
    return 1 if any(r.errors for r in reports) else 0


if __name__ == "__main__":
    sys.exit(main())

"""The ``conformance`` command.

    conformance run [options] [-- pytest arguments]   run the suite (replay by default)
    conformance serve-reference [--port N]            start the reference server
    conformance render REPORT [--format md|html|junit] render a report
    conformance compare REPORT... [--checks]          compare reports: rows (or checks) by target
    conformance baseline write REPORT > BASELINE      record every check's status as a baseline
    conformance gate --baseline BASELINE REPORT       exit 1 on regressions from the baseline
    conformance targets                               list target profiles
    conformance checks [--row ROW]                    list the checks

A usage or configuration mistake prints one line and exits 2; see ``conformance.errors`` for the
other exit codes.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import NoReturn

import pytest

from conformance import __version__, stopping
from conformance.baseline import describe, gate, read_baseline, write_baseline
from conformance.cassettes import CassetteSet
from conformance.console import redacted_console
from conformance.errors import ConfigError, ConformanceError, ExitCode
from conformance.plan import Plan
from conformance.plan import render as render_plan
from conformance.profiles import build_target, default_search_path, find_profile, known_targets, load_profile
from conformance.report import read_report
from conformance.resources import suite_dir
from conformance.rows import ROW_IDS
from conformance.runconfig import MODES, RunOptions, resolve


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(ExitCode.USAGE, f"conformance: error: {message} (see conformance {self._sub} --help)\n")

    _sub = ""


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="conformance", description="Conformance suite for OpenAI-compatible APIs.")
    parser.add_argument("--version", action="version", version=f"openai-conformance {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = commands.add_parser(
        "run",
        help="run the suite against a target, live or from cassettes",
        description="Run the suite. With no options it replays the bundled cassettes of the reference "
        "target. Arguments after -- go to pytest (e.g. -k, -x, -n).",
    )
    run._sub = "run"  # type: ignore[attr-defined]
    target = run.add_argument_group("target")
    target.add_argument("--target", help="a profile name under targets/ or a path to a .toml profile")
    target.add_argument("--name", help="the target's name (cassette and report folders) without a profile")
    target.add_argument("--base-url", help="the API's base URL, e.g. https://api.llama.com/compat/v1")
    target.add_argument("--api-key-env", metavar="VAR", help="environment variable holding the API key")
    target.add_argument("--model", metavar="ID", help="chat model id")
    target.add_argument("--vision-model", metavar="ID", help="vision model id")
    target.add_argument("--moderation-model", metavar="ID", help="moderation model id")
    target.add_argument("--dialect", help="the dialect the target claims: openai or llama-api")
    target.add_argument(
        "--timeout", type=_timeout, metavar="SECONDS", help="connect timeout and the longest wait between two reads"
    )
    target.add_argument(
        "--allow-rate-limit-probe",
        action="store_true",
        default=None,
        help="provoke a 429 on purpose (spends up to the profile's rate_limit.budget requests)",
    )
    output = run.add_argument_group("mode and output")
    output.add_argument(
        "--mode", choices=MODES, help="live, record or replay (default: replay when cassettes exist, else live)"
    )
    output.add_argument("--report-dir", metavar="DIR", help="where report.json goes (default: reports/<target>)")
    output.add_argument(
        "--cassette-dir", metavar="DIR", help="root of cassette sets (default: ./cassettes, then the bundled ones)"
    )
    output.add_argument(
        "--dry-run",
        action="store_true",
        default=None,
        help="print what a live run would send (requests and tokens per row) and send nothing; needs no key",
    )

    serve = commands.add_parser("serve-reference", help="start the reference server (Ctrl-C stops it)")
    serve._sub = "serve-reference"  # type: ignore[attr-defined]
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=_port, default=8089, help="port (default 8089; 0 picks a free one)")
    serve.add_argument(
        "--api-key-env", metavar="VAR", default="REFERENCE_API_KEY", help="variable holding the key it accepts"
    )
    serve.add_argument(
        "--flavour",
        choices=("llama-api", "openai"),
        default="llama-api",
        help="speak the Llama API compat layer (base path /compat/v1) or OpenAI's API (/v1)",
    )
    serve.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="ID",
        help="switch a fault on for every request (repeatable; see conformance faults)",
    )
    serve.add_argument(
        "--key-limit",
        metavar="COUNT/SECONDS",
        type=_key_limit,
        help="limit each key to COUNT requests per SECONDS (a sliding window), e.g. 10/60",
    )
    serve.add_argument(
        "--key-limit-style",
        choices=("openai", "llama", "silent"),
        default="openai",
        help="how the key limit speaks: Retry-After and x-ratelimit-* with resets (openai), only "
        "x-ratelimit-limit/remaining-requests (llama), or a bare 429 (silent)",
    )
    serve.add_argument(
        "--latency", type=_seconds, default=0.0, metavar="SECONDS", help="hold every answer back this long"
    )

    render = commands.add_parser("render", help="render a report.json as Markdown, HTML or JUnit XML")
    render._sub = "render"  # type: ignore[attr-defined]
    render.add_argument("report", help="a report.json")
    render.add_argument("--format", choices=("md", "html", "junit"), default="md")
    render.add_argument("-o", "--output", metavar="FILE", help="write here instead of standard output")

    compare = commands.add_parser("compare", help="compare reports: feature rows (or checks) by target")
    compare._sub = "compare"  # type: ignore[attr-defined]
    compare.add_argument("reports", nargs="+", help="report.json files")
    compare.add_argument("--checks", action="store_true", help="one line per check instead of per feature row")
    compare.add_argument("--format", choices=("md", "html"), default="md")
    compare.add_argument("-o", "--output", metavar="FILE", help="write here instead of standard output")

    baseline = commands.add_parser("baseline", help="write a baseline from a report (to standard output)")
    baseline._sub = "baseline"  # type: ignore[attr-defined]
    baseline.add_argument("action", choices=("write",))
    baseline.add_argument("report", help="a report.json")

    gate = commands.add_parser("gate", help="exit 1 if a report regresses from a baseline, 0 otherwise")
    gate._sub = "gate"  # type: ignore[attr-defined]
    gate.add_argument("--baseline", required=True, metavar="FILE", help="a baseline written by 'baseline write'")
    gate.add_argument("report", help="a report.json")

    commands.add_parser("targets", help="list the target profiles")
    checks = commands.add_parser("checks", help="list the checks")
    checks._sub = "checks"  # type: ignore[attr-defined]
    checks.add_argument("--row", choices=ROW_IDS, help="only this feature row")

    faults = commands.add_parser("faults", help="list the reference server's faults")
    faults._sub = "faults"  # type: ignore[attr-defined]
    faults.add_argument("--row", choices=ROW_IDS, help="only faults this feature row must catch")

    detect = commands.add_parser(
        "detect", help="run the suite against the reference server with each fault on; score what it catches"
    )
    detect._sub = "detect"  # type: ignore[attr-defined]
    detect.add_argument("--fault", action="append", default=[], metavar="ID", help="only this fault (repeatable)")
    detect.add_argument("--jobs", type=int, default=3, metavar="N", help="suite runs at a time (default 3)")
    detect.add_argument(
        "--output", default="reports/faults", metavar="DIR", help="where detection.json and .md go (reports/faults)"
    )
    return parser


def _key_limit(text: str) -> tuple[int, float]:
    count, _, seconds = text.partition("/")
    try:
        limit = (int(count), float(seconds))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not COUNT/SECONDS, e.g. 10/60") from None
    if limit[0] < 1 or limit[1] <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: the count and the seconds must be positive")
    return limit


def _timeout(text: str) -> float:
    from conformance.profiles import MAX_SECONDS

    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < seconds <= MAX_SECONDS:
        raise argparse.ArgumentTypeError(f"{text!r}: a timeout is more than 0 and at most {MAX_SECONDS:g} seconds")
    return seconds


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r}: a port is from 0 to 65535")
    return port


def _seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not seconds >= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: the seconds cannot be negative")
    if seconds > 3600:
        raise argparse.ArgumentTypeError(f"{text!r}: at most 3600 seconds")
    return seconds


def _fail(message: str, code: int = ExitCode.USAGE) -> int:
    print(f"conformance: error: {message}", file=sys.stderr)
    return code


def entry() -> None:
    """The console script. After a run, the interpreter's teardown (freeing every module and object
    one by one) costs a third of a replay's time and does nothing the operating system will not do,
    so the process ends at once, once its output is flushed and every file is closed."""
    code = main()
    if _RUN_FINISHED:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


# set when a run has finished: its report is written and its threads and servers are stopped
_RUN_FINISHED = False


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in argv:
        index = argv.index("--")
        argv, extra = argv[:index], argv[index + 1 :]
    args = _parser().parse_args(argv)
    try:
        if args.command == "run":
            return _run(args, extra)
        if extra:
            return _fail(f"arguments after -- are only for 'run': {' '.join(extra)}")
        if args.command == "serve-reference":
            return _serve(args)
        if args.command == "targets":
            return _targets()
        if args.command == "render":
            return _render(args)
        if args.command == "compare":
            return _compare(args)
        if args.command == "baseline":
            return _emit(json.dumps(write_baseline(read_report(Path(args.report))), indent=2) + "\n", None)
        if args.command == "gate":
            return _gate(args)
        if args.command == "faults":
            return _faults(args.row)
        if args.command == "detect":
            return _detect(args)
        return _checks(args.row)
    except ConformanceError as exc:
        return _fail(str(exc), exc.exit_code)


def _run(args: argparse.Namespace, extra: list[str]) -> int:
    options = RunOptions(
        **{name: getattr(args, name) for name in RunOptions.__dataclass_fields__ if hasattr(args, name)}
    )
    config = resolve(options)  # fails here, with one line, before pytest starts
    if config.mode == "replay" and not config.dry_run:
        CassetteSet.load(config.cassette_dir)
    pytest_args = ["-c", str(suite_dir() / "pytest.ini"), "--rootdir", str(suite_dir())]
    for name, value in options.__dict__.items():
        if value is True:
            pytest_args.append(f"--conformance-{name.replace('_', '-')}")
        elif value is not None:
            pytest_args += [f"--conformance-{name.replace('_', '-')}", str(value)]
    if config.dry_run:
        pytest_args += ["-p", "no:terminal"]  # the plan is the whole output
    outcome = _Outcome()
    with _stopped_by_signals() as received, redacted_console(config.api_key if config.live else None):
        code = pytest.main([*pytest_args, str(suite_dir()), *extra], plugins=[outcome])
    global _RUN_FINISHED
    _RUN_FINISHED = True
    if config.dry_run:
        if outcome.plan is None:
            return ExitCode.USAGE if code == pytest.ExitCode.USAGE_ERROR else ExitCode.INTERNAL
        if not outcome.plan.checks:
            return _fail("no check matched the selection given to pytest")
        print(render_plan(outcome.plan, config.target.base_url))
        config.report_dir.mkdir(parents=True, exist_ok=True)
        plan_path = config.report_dir / "plan.json"
        plan_path.write_text(json.dumps(outcome.plan.as_dict(), indent=2) + "\n", encoding="utf-8")
        print(f"plan: {plan_path}")
        return ExitCode.OK
    if outcome.code is not None:
        return outcome.code
    if received:
        return stopping.SIGNAL_CODES[received[0]]
    if code in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.NO_TESTS_COLLECTED):
        if code == pytest.ExitCode.NO_TESTS_COLLECTED:
            return _fail("no check matched the selection given to pytest")
        return ExitCode.USAGE
    if code == pytest.ExitCode.INTERRUPTED:
        return ExitCode.INTERRUPTED
    return _fail("the run ended before its report was written (see the output above)", ExitCode.INTERNAL)


@contextlib.contextmanager
def _stopped_by_signals() -> Iterator[list[str]]:
    """SIGINT and SIGTERM stop the run gracefully: requests in flight are cut, no further check runs,
    and the report of what was judged is written with exit 130 or 143. A second signal interrupts
    at once."""
    received: list[str] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return

    def handle(number: int, frame: object) -> None:
        name = signal.Signals(number).name
        received.append(name)
        stop = stopping.current()
        if len(received) == 1 and stop is not None:
            stop.request(f"stopped by {name}", stopping.SIGNAL_CODES[name])
            return
        raise KeyboardInterrupt

    previous = {number: signal.signal(number, handle) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield received
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


class _Outcome:
    """Learns the run's own exit code from the plugin, when the run got that far."""

    code: int | None = None
    plan: Plan | None = None

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        from conformance.plugin import PLAN, STATE

        self.plan = session.config.stash.get(PLAN, None)
        state = session.config.stash.get(STATE, None)
        if state is not None and state.report_path is not None:
            self.code = state.exit_code


def _serve(args: argparse.Namespace) -> int:
    from conformance.reference import ReferenceConfig, ReferenceServer
    from conformance.reference.faults import unknown

    key = os.environ.get(args.api_key_env, "").strip()
    generated = not key
    key = key or "sk-reference-" + secrets.token_hex(12)
    unknown_faults = unknown(set(args.fault))
    if unknown_faults:
        return _fail(f"unknown faults {', '.join(unknown_faults)} (list them with: conformance faults)")
    config = ReferenceConfig(
        api_keys=frozenset({key}),
        flavour=args.flavour,
        base_path="/v1" if args.flavour == "openai" else "/compat/v1",
        faults=frozenset(args.fault),
        key_limit=args.key_limit,
        key_limit_style=args.key_limit_style,
        latency=args.latency,
    )
    server = ReferenceServer(config, host=args.host, port=args.port)

    def announce(base_url: str) -> None:
        print(f"reference server: {base_url} (Ctrl-C stops it)", flush=True)
        if generated:
            print(f"it accepts the key {key}; set {args.api_key_env} to choose your own", flush=True)
        else:
            print(f"it accepts the key in ${args.api_key_env}", flush=True)

    try:
        server.serve_forever(announce)
    except OSError as exc:
        return _fail(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}")
    except KeyboardInterrupt:
        pass
    return ExitCode.OK


def _emit(text: str, output: str | None) -> int:
    if output is None:
        sys.stdout.write(text)
    else:
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as exc:
            return _fail(f"cannot write {output}: {exc.strerror or exc}")
    return ExitCode.OK


def _render(args: argparse.Namespace) -> int:
    from conformance.render import FORMATS

    return _emit(FORMATS[args.format](read_report(Path(args.report))), args.output)


def _compare(args: argparse.Namespace) -> int:
    from conformance.render import compare_html, compare_markdown

    reports = [read_report(Path(path)) for path in args.reports]
    render = compare_html if args.format == "html" else compare_markdown
    return _emit(render(reports, checks=args.checks), args.output)


def _gate(args: argparse.Namespace) -> int:
    path = Path(args.baseline)
    try:
        baseline_data = read_baseline(path)
    except ConfigError as exc:
        return _fail(str(exc))
    result = gate(baseline_data, read_report(Path(args.report)))
    for line in describe(result):
        print(line)
    return ExitCode.OK if result.passed else ExitCode.FAILURES


def _targets() -> int:
    for name in known_targets():
        try:
            target = build_target(load_profile(find_profile(name, default_search_path())))
        except ConfigError as exc:
            print(f"{name:<16} (invalid: {exc})")
            continue
        where = target.base_url or ("built-in reference server" if target.builtin_server else "no base URL")
        print(f"{name:<16} {target.dialect:<10} {where}")
        if target.description:
            print(f"{'':<16} {target.description}")
    return ExitCode.OK


def _checks(row: str | None) -> int:
    from conformance.registry import load_all

    for check in load_all().values():
        if row is None or check.row == row:
            print(f"{check.id:<58} {check.level!s:<6} {check.claim}")
    return ExitCode.OK


def _faults(row: str | None) -> int:
    from conformance.reference.faults import FAULTS

    for fault in FAULTS.values():
        if row is None or row in fault.rows:
            gap = f" [not caught: {fault.gap}]" if fault.gap else ""
            print(f"{fault.id:<36} {fault.level:<6} {', '.join(fault.rows)}: {fault.what}{gap}")
    return ExitCode.OK


def _detect(args: argparse.Namespace) -> int:
    from conformance import detection
    from conformance.reference.faults import unknown

    unknown_faults = unknown(set(args.fault))
    if unknown_faults:
        return _fail(f"unknown faults {', '.join(unknown_faults)} (list them with: conformance faults)")
    if args.jobs < 1:
        return _fail("--jobs must be at least 1")

    def announce(verdict: detection.FaultVerdict) -> None:
        mark = "caught" if verdict.caught else "MISSED"
        stray = "" if verdict.precise else f"; also fails {', '.join(verdict.strays)}"
        print(f"{mark:<7} {verdict.fault:<36} {verdict.seconds:5.1f} s{stray}", flush=True)

    result = detection.detect(args.fault or None, jobs=args.jobs, on_verdict=announce)
    _, md_path = detection.write(result, Path(args.output))
    print(f"{result.score()} in {result.seconds:g} s; {md_path}")
    missed = [v.fault for v in result.verdicts if not v.gap and not (v.caught and v.precise)]
    return ExitCode.FAILURES if missed or result.false_alarms else ExitCode.OK

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
import gc
import json
import os
import secrets
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TextIO

import pytest

from conformance import ahead, files, progress, stopping
from conformance.baseline import describe, gate, read_baseline, write_baseline
from conformance.cassettes import CassetteSet
from conformance.cli_parser import parser
from conformance.console import RedactingStream, redacted_console
from conformance.errors import ConfigError, ConformanceError, ExitCode
from conformance.plan import Plan
from conformance.plan import render as render_plan
from conformance.profiles import build_target, default_search_path, find_profile, known_targets, load_profile
from conformance.pytest_call import arguments, plugins_autoloaded
from conformance.redaction import Redactor
from conformance.report import read_report
from conformance.resources import suite_dir
from conformance.runconfig import RunOptions, resolve


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
    for stream in (sys.stdout, sys.stderr):  # a target's lone surrogate is shown as its escape
        with contextlib.suppress(AttributeError, ValueError):
            stream.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
    extra: list[str] = []
    if "--" in argv:
        index = argv.index("--")
        argv, extra = argv[:index], argv[index + 1 :]
    args = parser().parse_args(argv)
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
        if args.command in ("capture", "migrate"):
            from conformance.migrate import command

            return command.capture(args) if args.command == "capture" else command.migrate(args)
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
    # what is loaded by now (modules, schemas, the cassettes) lives for the whole run: the collector
    # need not scan it again and again, nor run as often (a twentieth of a replay's time)
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)
    pytest_args, quiet = arguments(options, config, extra, pytest_output=args.pytest_output)
    outcome = _Outcome()
    key = config.api_key  # in a replay, the key variable when it is set: looked for in everything shown
    with (
        _stopped_by_signals() as received,
        redacted_console(key),
        _live_display(key, wanted=quiet and config.live and not config.dry_run),
        plugins_autoloaded(bool(extra)),
    ):
        if ahead.wanted(config, extra):
            ahead.start(config)  # a forked copy judges the replay while pytest starts
        try:
            code = pytest.main([*pytest_args, str(suite_dir()), *extra], plugins=[outcome])
        finally:
            ahead.finish()
    global _RUN_FINISHED
    _RUN_FINISHED = True
    if config.dry_run:
        if outcome.plan is None:
            return ExitCode.USAGE if code == pytest.ExitCode.USAGE_ERROR else ExitCode.INTERNAL
        if not outcome.plan.checks:
            return _fail("no check matched the selection given to pytest")
        print(render_plan(outcome.plan, config.target.base_url))
        plan_path = config.report_dir / "plan.json"
        files.write_text(plan_path, json.dumps(outcome.plan.as_dict(), indent=2) + "\n", root=config.report_dir.parent)
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
def _live_display(key: str | None, *, wanted: bool) -> Iterator[None]:
    """On a terminal, the live display writes to a copy of it taken before pytest captures output
    (with the key removed, as from every other stream)."""
    stream = sys.__stderr__
    if not wanted or stream is None or not stream.isatty() or os.environ.get("TERM") == "dumb":
        yield
        return
    terminal = os.fdopen(
        os.dup(stream.fileno()), "w", buffering=1, encoding=stream.encoding or "utf-8", errors="backslashreplace"
    )
    redactor = Redactor(key, None)
    display: TextIO = RedactingStream(terminal, redactor) if redactor.key is not None else terminal
    progress.use_terminal(display)
    try:
        yield
    finally:
        progress.use_terminal(None)
        if isinstance(display, RedactingStream):
            display.close_out()
        terminal.close()


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
        if state is not None and (state.report_path is not None or state.exit_code == ExitCode.ENVIRONMENT):
            self.code = state.exit_code  # with no report: the environment stopped the report (a full disk)


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
        model_noise=args.model_noise,
        thinking=args.thinking,
        reasoning_field=args.reasoning_field,
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
            files.write_text(Path(output), text)
        except OSError as exc:
            return _fail(f"cannot write {output}: {exc.strerror or exc}")
    return ExitCode.OK


def _render(args: argparse.Namespace) -> int:
    from conformance.migrate import render as migration_render
    from conformance.migrate.report import read_migration_report
    from conformance.render import FORMATS

    migration = read_migration_report(Path(args.report))
    if migration is not None:
        return _emit(migration_render.FORMATS[args.format](migration), args.output)
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
            kind = f"model ≥{check.threshold:.0%}" if check.threshold is not None else "protocol"
            print(f"{check.id:<58} {check.level!s:<6} {kind:<10} {check.claim}")
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

    result = detection.detect(args.fault or None, jobs=args.jobs, on_verdict=announce, model_noise=args.model_noise)
    _, md_path = detection.write(result, Path(args.output))
    print(f"{result.score()} in {result.seconds:g} s; {md_path}")
    missed = [v.fault for v in result.verdicts if not v.gap and not (v.caught and v.precise)]
    return ExitCode.FAILURES if missed or result.false_alarms else ExitCode.OK

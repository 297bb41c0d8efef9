"""``conformance capture`` and ``conformance migrate``: the commands, from their options to an exit code.

``capture`` runs the recording proxy until Ctrl-C (or ``--max-requests``). ``migrate`` loads the
traffic, resolves the candidate as ``run`` resolves a target (profile, base URL, key variable,
dialect, mode, trials), sends every captured request to it once per trial (or replays what an earlier
``--mode record`` kept), judges each, and writes the migration report and its renderings.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from conformance import redaction, ts_oracle
from conformance.cassettes import CassetteSet, CassetteWriter, new_set_info, prune, write_set_info
from conformance.errors import ConfigError, EnvironmentFailure, ExitCode
from conformance.exchange import Exchange
from conformance.migrate import engine
from conformance.migrate import report as migration
from conformance.profiles import normalise_base_url
from conformance.redaction import Redactor
from conformance.report import now_iso, read_report
from conformance.runconfig import RunConfig, RunOptions, check_output_dir, resolve
from conformance.schemas import schema_set
from conformance.store import ExchangeStore
from conformance.traffic import load


def capture(args: argparse.Namespace) -> int:
    from conformance.capture import CaptureProxy

    try:
        upstream = normalise_base_url(args.upstream)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    out = Path(args.out)
    check_output_dir(out, "the capture folder")
    try:
        proxy = CaptureProxy(upstream, out, host=args.host, port=args.port, timeout=args.timeout, announce_each=True)
    except OSError as exc:
        raise ConfigError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from None
    done = threading.Event()
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda *_: done.set())
    proxy.start()
    proxy.describe()
    print(
        f"capture: point the app's base_url at {proxy.base_url} (forwarding to the upstream); Ctrl-C stops", flush=True
    )
    while not done.wait(0.2):
        if args.max_requests is not None and proxy.captured >= args.max_requests:
            break
    proxy.stop()
    print(f"captured {proxy.captured} exchanges into {out}", flush=True)
    return ExitCode.OK


def migrate(args: argparse.Namespace) -> int:
    try:
        return _migrate(args)
    except KeyboardInterrupt:
        print("conformance: migrate stopped by Ctrl-C; no report was written", file=sys.stderr)
        return ExitCode.INTERRUPTED
    finally:
        redaction.activate(None)


def _migrate(args: argparse.Namespace) -> int:
    started, t0 = now_iso(), time.monotonic()
    traffic_path = Path(args.traffic)
    captured, origin = load(traffic_path)
    name = traffic_path.stem if traffic_path.is_file() else traffic_path.resolve().name
    cwd = Path.cwd()
    options = RunOptions(
        target=args.to,
        base_url=args.base_url,
        api_key_env=args.api_key_env,
        dialect=args.dialect,
        mode=args.mode,
        cassette_dir=args.cassette_dir or str(cwd / "cassettes" / "migrations" / name),
        report_dir=args.report_dir,
        timeout=args.timeout,
        trials=args.trials,
        rpm=args.rpm,
        concurrency=args.concurrency,
    )
    config = resolve(options)
    report_dir = (
        Path(args.report_dir) if args.report_dir else cwd / "reports" / "migrations" / f"{name}-to-{config.target.name}"
    )
    check_output_dir(report_dir, "the report folder")
    conformance = read_report(Path(args.conformance)) if args.conformance else None
    model_map = dict(args.map_model)
    planned = engine.plan(captured, model_map, config.dialect)
    trials = config.target.limits.trials
    exchanges, base_url, redactor = _exchanges(config, engine.requests_of(planned, trials))
    ts_oracle.queue_ahead(_pairs(exchanges.values()))
    schemas = schema_set(config.dialect)
    judged = []
    for item in planned:
        mine = [exchanges[request.id] for request in engine.requests_of([item], trials)]
        judged.append(
            engine.judge(
                item,
                mine,
                target=config.target,
                dialect=config.dialect,
                schemas=schemas,
                mode=config.mode,
                agreement=args.agreement,
            )
        )
    if migration.unreachable(judged):
        raise EnvironmentFailure(
            f"the candidate {config.target.name} could not be reached at all (is it running at that base URL?)"
        )
    results = [result for item in judged for result in item.results]
    typescript = ts_oracle.version()
    run = {
        "mode": config.mode,
        "started_at": started,
        "finished_at": now_iso(),
        "duration": round(time.monotonic() - t0, 3),
        "trials": trials,
        "agreement": args.agreement,
        "requests_sent": 0 if config.mode == "replay" else len(exchanges),
        "cassettes": str(config.cassette_dir),
        "typescript_client": "ran" if typescript else (ts_oracle.unavailable() or "not needed"),
        "exit_code": 0,
    }
    candidate = {
        "target": config.target.name,
        "dialect": config.dialect.name,
        "base_url": base_url,
        "models": config.target.models.configured(),
        "model_map": model_map,
    }
    traffic_info = {"path": str(args.traffic), "origin": origin, "requests": len(captured)}
    data = migration.build(
        judged, traffic=traffic_info, candidate=candidate, run=run, conformance=conformance, fail_on=args.fail_on
    )
    code = migration.exit_code(data, results)
    data["run"]["exit_code"] = int(code)
    if redactor is not None:
        data = _scrubbed(data, redactor)
    path = migration.write(data, report_dir)
    _print(data, path, code)
    return code


def _exchanges(config: RunConfig, requests: list[Any]) -> tuple[dict[str, Exchange], str | None, Redactor | None]:
    """The candidate's answers: sent (and kept, in record mode), or read from the recordings."""
    if config.mode == "replay":
        from pytest_recording import network

        cassettes = CassetteSet.load(config.cassette_dir)
        store = ExchangeStore("replay", cassettes=cassettes)
        network.block()
        try:
            made = store.get_many(requests)
        finally:
            network.unblock()
        unused = cassettes.ids() - {request.id for request in requests}
        if unused:
            raise ConfigError(
                f"{len(unused)} recordings in {config.cassette_dir} belong to no captured request "
                f"(e.g. {sorted(unused)[0]}); "
                "the traffic changed: re-record with --mode record"
            )
        return {e.id: e for e in made}, config.target.base_url, None
    from conformance.http import HttpClient

    server = None
    base_url = config.target.base_url
    if config.start_builtin:
        from conformance.startup import start_builtin_server

        server, base_url = start_builtin_server(config)
    assert base_url is not None
    redactor = Redactor(config.api_key, base_url)
    redaction.activate(redactor)
    writer = CassetteWriter(config.cassette_dir) if config.mode == "record" else None
    client = HttpClient(
        base_url=base_url,
        auth=config.target.auth,
        api_key=config.api_key,
        limits=config.target.limits,
        redactor=redactor,
        max_tokens_param=config.target.max_tokens_param,
    )
    store = ExchangeStore(
        config.mode, client=client, writer=writer, concurrency=config.target.limits.concurrency, redactor=redactor
    )
    try:
        made = store.get_many(requests)
    finally:
        store.close()
        if server is not None:
            server.stop()
    if writer is not None:
        prune(config.cassette_dir, [request.id for request in requests])
        profile = config.target.model_dump(mode="json", exclude={"origin", "base_url", "builtin_server", "api_key_env"})
        write_set_info(
            config.cassette_dir,
            new_set_info(
                config.target.name,
                config.dialect.name,
                now_iso(),
                f"the candidate of a migration ({config.target.name})",
                profile,
            ),
        )
        for path in config.cassette_dir.rglob("*.yaml"):
            redactor.scrub_file(path)
    return {e.id: e for e in made}, base_url, redactor


def _pairs(exchanges: Any) -> list[tuple[Exchange, Any]]:
    from conformance.checks.ts_client import replay_pairs

    return list(replay_pairs(e for e in exchanges if e.response is not None))


def _scrubbed(data: dict[str, Any], redactor: Redactor) -> dict[str, Any]:
    import json

    text = json.dumps(data, ensure_ascii=False)
    clean = redactor.text(text)
    return data if clean == text else json.loads(clean)


def _print(data: dict[str, Any], path: Path, code: int) -> None:
    for entry in data["requests"]:
        noted = [f"{f['status']} {f['id']}" for f in entry["findings"] if f["status"] in ("fail", "error", "deviation")]
        tail = f"  ({'; '.join(noted[:3])}{' …' if len(noted) > 3 else ''})" if noted else ""
        print(f"  {entry['id']:<40} {entry['method']:<5} {entry['path']:<22} {entry['verdict']}{tail}")
    summary = data["summary"]
    print(
        f"{summary['requests']} requests: {summary['must_failures']} MUST failures, "
        f"{summary['should_failures']} SHOULD "
        f"failures, {summary['differences']} differences from the original"
    )
    print(f"report: {path}")
    what = {0: "nothing at the --fail-on level failed", 1: f"failures at the --fail-on {data['run']['fail_on']} level"}
    print(f"exit {int(code)}: {what.get(int(code), 'the suite could not judge the traffic')}")
    sys.stdout.flush()

"""Starting a run: from its configuration to the state the plugin keeps.

A replay loads the cassettes and blocks the network; a live run starts the built-in reference
server if it needs one, and builds the HTTP client, the redactor and the exchange store; an
xdist worker of a live run takes the controller's target, key, shared folder and a share of the
limits. Every run gets its stop (signals, the time bound) and, once the plan is known, its clock.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_recording import network

from conformance import ahead, generation, redaction, stopping, thinking, ts_oracle
from conformance import report as reporting
from conformance.cassettes import CassetteSet, CassetteWriter, request_mismatch
from conformance.errors import ExitCode
from conformance.exchange import Request
from conformance.profiles import Limits
from conformance.redaction import Redactor
from conformance.replay_scan import refuse_secrets
from conformance.runconfig import RunConfig
from conformance.runstate import RunState
from conformance.schemas import schema_set
from conformance.store import ExchangeStore
from conformance.verdicts import ErrorCause

if TYPE_CHECKING:
    from conformance.reference import ReferenceServer


def start_run(run: RunConfig, worker: dict[str, Any] | None, *, in_worker: bool) -> RunState:
    """The state of a run about to start (``worker``: what an xdist controller gave this worker)."""
    # a replay judges recorded requests: nothing needs generating (see conformance.generation)
    generation.use_placeholders(run.mode == "replay")
    stop = stopping.begin()
    redactor = None
    schemas = schema_set(run.dialect)
    server = cassettes = writer = shared = None
    base_url = run.target.base_url
    limits = run.target.limits
    # an xdist worker of a live run: the controller's target, key and exchanges (see pytest_configure_node)
    if worker is not None:
        base_url = worker["conformance_base_url"]
        run = replace(run, api_key=worker.get("conformance_api_key", run.api_key), start_builtin=False)
        limits = share_limits(limits, int(worker.get("workercount", 1)))
    if run.mode == "replay":
        cassettes = CassetteSet.load(run.cassette_dir)
        refuse_secrets(cassettes.paths(), run.cassette_dir, run.api_key)
        redactor = Redactor(run.api_key, None) if run.api_key else None
        run = noticed_in_recordings(run, cassettes)
        store = ExchangeStore("replay", cassettes=cassettes)
        if ahead.current() is None:  # this process judges the checks (not the original of a split)
            from conformance.checks.ts_client import replay_pairs

            recordings = [cassettes.get(exchange_id) for exchange_id in sorted(cassettes.ids())]
            ts_oracle.queue_ahead(replay_pairs(e for e in recordings if e is not None))
        # under xdist, a worker's run-wide checks read what the other workers replay too
        store.whole_set = in_worker
        network.block()
    else:
        if run.start_builtin:
            server, base_url = start_builtin_server(run)
        assert base_url is not None
        writer = CassetteWriter(run.cassette_dir) if run.mode == "record" else None
        redactor = Redactor(run.api_key, base_url)
        from conformance.http import HttpClient  # only a live run talks HTTP
        from conformance.shared import SharedExchanges

        client = HttpClient(
            base_url=base_url,
            auth=run.target.auth,
            api_key=run.api_key,
            limits=limits,
            redactor=redactor,
            max_tokens_param=run.target.max_tokens_param,
            stop=stop,
        )
        shared = SharedExchanges(Path(worker["conformance_shared"])) if worker is not None else None
        store = ExchangeStore(
            run.mode,
            client=client,
            writer=writer,
            concurrency=limits.concurrency,
            shared=shared,
            redactor=redactor,
        )
    redaction.activate(redactor)
    state = RunState(
        config=run,
        schemas=schemas,
        store=store,
        base_url=base_url,
        cassettes=cassettes,
        server=server,
        started_at=reporting.now_iso(),
        t0=time.monotonic(),
        stop=stop,
        redactor=redactor,
        writer=writer if run.mode == "record" else None,
    )
    if worker is not None and worker.get("conformance_ends_at") is not None:
        end_at(state, float(worker["conformance_ends_at"]))
    if shared is not None:
        shared.follow_stop(stop)
    return state


def noticed_in_recordings(run: RunConfig, cassettes: CassetteSet) -> RunConfig:
    """A replay's configuration, with whether the target thinks read from the recording of the answer the
    recording run noticed it from (conformance.thinking); without one, the run is sized as for a target
    that does not think, as the recording run was."""
    request = thinking.notice_request(run.target)
    recorded = cassettes.get(request.id) if request is not None else None
    if request is None or recorded is None or request_mismatch(request, recorded.request) is not None:
        return run
    return replace(run, target=thinking.noticed(run.target, recorded), noticed_from=request.id)


def notice_live(state: RunState, planned: list[Request]) -> None:
    """Whether the chat model thinks, from its first answer, before any request sized for it is built
    (conformance.thinking); asked only where the planned requests go to chat completions or /responses."""
    request = thinking.notice_request(state.config.target)
    if request is None or state.aborted is not None:
        return
    if not any(r.method == "POST" and r.path in ("/chat/completions", "/responses") for r in planned):
        return
    try:
        first = state.store.get(request)
    except Exception as exc:  # the harness broke on the first request: never a green run
        state.abort(
            redaction.scrub(f"the suite broke making the first request: {type(exc).__name__}: {exc}"),
            ErrorCause.HARNESS,
        )
        return
    state.config = replace(state.config, target=thinking.noticed(state.config.target, first), noticed_from=request.id)


def start_builtin_server(run: RunConfig) -> tuple[ReferenceServer, str]:
    """The suite's reference server for a live run of a target that is it, with the run's fresh key."""
    from conformance.reference import ReferenceConfig, ReferenceServer  # only live runs need a server

    assert run.api_key is not None
    flavour = "openai" if run.target.builtin_server == "reference-openai" else "llama-api"
    server = ReferenceServer(
        ReferenceConfig(
            api_keys=frozenset({run.api_key}),
            flavour=flavour,
            base_path="/v1" if flavour == "openai" else "/compat/v1",
        )
    )
    return server, server.start()


def share_limits(limits: Limits, workers: int) -> Limits:
    """A worker's part of the target's limits: the workers send at the same time, the controller
    (which sends the planned exchanges before any check runs) does not."""
    if workers <= 1:
        return limits
    return limits.model_copy(
        update={
            "requests_per_minute": None
            if limits.requests_per_minute is None
            else max(limits.requests_per_minute // workers, 1),
            "tokens_per_minute": None
            if limits.tokens_per_minute is None
            else max(limits.tokens_per_minute // workers, 1),
            "concurrency": max(-(-limits.concurrency // workers), 1),
        }
    )


def end_at(state: RunState, ends_at: float, bound: float | None = None) -> None:
    """End the run at ``ends_at`` (a time.time()): requests in flight are cut, no check follows.
    ``bound``: the run's time bound as the profile or the plan gave it, for the message."""
    state.ends_at = ends_at
    seconds = max(ends_at - time.time(), 0.0)
    said = bound if bound is not None else round(seconds, 1)

    def expire() -> None:
        state.stop.request(f"the run reached its time bound of {said:g} s (limits.run_timeout)", ExitCode.RUN_TIMEOUT)

    state.timer = threading.Timer(seconds, expire)
    state.timer.daemon = True
    state.timer.start()

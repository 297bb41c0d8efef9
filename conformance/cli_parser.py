"""The command line's grammar: every command, its options, and the types that check their values
(a bad value is one line and exit 2, through ``argparse``'s error, before anything runs)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import NoReturn

from conformance import __version__
from conformance.errors import ExitCode
from conformance.rows import ROW_IDS
from conformance.runconfig import MODES


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(ExitCode.USAGE, f"conformance: error: {message} (see conformance {self._sub} --help)\n")

    _sub = ""


def parser() -> argparse.ArgumentParser:
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
    target.add_argument("--embedding-model", metavar="ID", help="embedding model id (the embeddings row)")
    target.add_argument(
        "--completion-model", metavar="ID", help="model for legacy /completions (default: the chat model)"
    )
    target.add_argument(
        "--text-model", metavar="ID", help="a model that cannot see images (the image row checks that it refuses them)"
    )
    target.add_argument("--dialect", help="the dialect the target claims: openai or llama-api")
    target.add_argument(
        "--timeout", type=_timeout, metavar="SECONDS", help="connect timeout and the longest wait between two reads"
    )
    target.add_argument(
        "--trials",
        type=_trials,
        metavar="N",
        help="send each model check's probe N times; its verdict is a rate over them (default: the "
        "profile's limits.trials, 5; a replay makes as many as its recording)",
    )
    target.add_argument(
        "--max-trials",
        type=_trials,
        metavar="N",
        help="the most trials a model check draws when its first ones leave it undecided (default: the "
        "profile's limits.max_trials, 20; a replay draws what its recording drew)",
    )
    limits = run.add_argument_group(
        "limits",
        "what the target allows, over the profile's [limits]; declared and announced limits are budgets "
        "spent in bursts within their window; with none, only the concurrency holds requests back",
    )
    limits.add_argument("--rpm", type=_count(1, 1_000_000), metavar="N", help="requests a minute the target allows")
    limits.add_argument("--tpm", type=_count(1, 10**10), metavar="N", help="tokens a minute the target allows")
    limits.add_argument(
        "--concurrency", type=_count(1, 64), metavar="N", help="requests at a time (default: the profile's, 4)"
    )
    limits.add_argument(
        "--deadline",
        type=_timeout,
        metavar="SECONDS",
        help="the longest one request may take, headers and body, however slowly the target sends them "
        "(default: the profile's limits.deadline, 120)",
    )
    limits.add_argument(
        "--run-timeout",
        type=_run_timeout,
        metavar="SECONDS",
        help="the longest the whole run may take; then it ends with the report of what it judged, exit 5 "
        "(default: the profile's limits.run_timeout, else enough for the plan, at most 45 minutes)",
    )
    target.add_argument(
        "--allow-rate-limit-probe",
        action="store_true",
        default=None,
        help="provoke a 429 on purpose (spends up to the profile's rate_limit.budget requests per endpoint)",
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
        "--pytest-output",
        action="store_true",
        help="show pytest's own progress (a letter per check, file paths) and failure sections; "
        "also shown with -v after --",
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
    serve.add_argument("--model-noise", type=_probability, default=0.0, metavar="P", help=NOISE_HELP)
    serve.add_argument(
        "--thinking",
        type=_thinking_tokens,
        default=0,
        metavar="TOKENS",
        help="every chat model thinks this many tokens before it answers (a reasoning model; the cap covers both)",
    )
    serve.add_argument(
        "--reasoning-field",
        choices=("reasoning_content", "reasoning"),
        default="reasoning_content",
        help="the message field the thinking comes back in (default reasoning_content)",
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
    detect.add_argument("--model-noise", type=_probability, default=0.0, metavar="P", help=NOISE_HELP)
    detect.add_argument(
        "--output", default="reports/faults", metavar="DIR", help="where detection.json and .md go (reports/faults)"
    )
    from conformance.migrate.arguments import add_parsers

    add_parsers(commands, _trials, _timeout, _count, _port)
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


NOISE_HELP = (
    "behave like a hosted model: at temperature 0 the wording varies with probability P, a mentioned tool is "
    'called on "auto" with probability 1 - P/2, parallel calls come some of the time (default 0: deterministic)'
)


def _probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text!r}: a probability is a number from 0 to 1")
    return value


def _thinking_tokens(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 100_000:
        raise argparse.ArgumentTypeError(f"{text!r}: a count of tokens from 0 to 100000")
    return value


def _count(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = low - 1
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text!r}: a whole number from {low} to {high} is needed")
        return value

    return parse


def _trials(text: str) -> int:
    from conformance.profiles import MAX_TRIALS

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: trials are a whole number from 1 to {MAX_TRIALS}") from None
    if not 1 <= value <= MAX_TRIALS:
        raise argparse.ArgumentTypeError(f"{text!r}: trials are a whole number from 1 to {MAX_TRIALS}")
    return value


def _run_timeout(text: str) -> float:
    from conformance.profiles import MAX_SECONDS

    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < seconds <= 24 * MAX_SECONDS:
        raise argparse.ArgumentTypeError(
            f"{text!r}: a run timeout is more than 0 and at most {24 * MAX_SECONDS:g} seconds"
        )
    return seconds


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

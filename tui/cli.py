"""Command line: the monitor (default), ``snapshot``, ``watch``, ``line``, ``simulate``
and ``config``.

Exit statuses: 0 ok · 2 usage or configuration · 3 the token was refused (401/403)
· 4 the server could not be reached or failed · 5 the report was bad · 6 a ``watch``
budget was exceeded.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import gc
import json
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NoReturn

from tui import __version__
from tui.client import Secret, UsageClient, UsageError
from tui.config import (
    DEFAULT_INTERVAL,
    ConfigError,
    Settings,
    check_interval,
    profile_thresholds,
    resolve,
)
from tui.exits import (
    EXIT_OK,
    EXIT_SIGNAL_BASE,
    EXIT_USAGE,
    exit_code,
)
from tui.format import safe_text

if TYPE_CHECKING:
    from tui.simulator import Simulator

DEMO_INTERVAL = 1.0
DEMO_SPEED = 60.0  # a virtual minute a second: the demo visibly moves


def _timestamp(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date-time: {text!r}") from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    if not 2000 <= moment.astimezone(UTC).year <= 9998:
        raise argparse.ArgumentTypeError("the simulated start must be in the years 2000 to 9998")
    return moment


def _bounded(
    cast: type[int] | type[float], low: float, high: float, what: str
) -> Callable[[str], Any]:
    """An argparse type: a number of `cast` within [low, high], else a usage error."""

    def parse(text: str) -> Any:
        try:
            value = cast(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not low <= value <= high:  # `not` also refuses NaN
            raise argparse.ArgumentTypeError(what)
        return value

    return parse


_port = _bounded(int, 0, 65535, "a port is 0 to 65535 (0: any free port)")
_speed = _bounded(float, 0, 1_000_000, "speed must be between 0 (frozen) and 1000000")


def _token(text: str) -> str:
    if not text.strip() or any(c.isspace() for c in text):
        raise argparse.ArgumentTypeError("a token is a non-empty word without spaces")
    return text


def _scenario_names() -> list[str]:
    from tui.simulator.model import SCENARIOS

    return list(SCENARIOS)


def _add_simulation(p: argparse.ArgumentParser, *, suppress: bool, demo_speed: float) -> None:
    d = argparse.SUPPRESS if suppress else None
    p.add_argument(
        "--scenario",
        choices=_scenario_names(),
        default=d if suppress else "steady",
        help="simulated traffic (default: steady)",
    )
    p.add_argument(
        "--speed",
        type=_speed,
        default=d if suppress else demo_speed,
        help=f"virtual seconds per real second; 0 freezes (default: {demo_speed:g})",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=d if suppress else 1,
        help="simulator seed: same seed, same figures (default: 1)",
    )
    p.add_argument(
        "--start",
        type=_timestamp,
        default=d,
        help="simulated start time, ISO 8601 UTC (default: now)",
    )


def _add_profile(p: argparse.ArgumentParser, *, suppress: bool) -> None:
    p.add_argument(
        "--profile",
        default=argparse.SUPPRESS if suppress else None,
        metavar="NAME",
        help="a profile of the config file (default: $VECTROS_USAGE_PROFILE, else the "
        "file's default_profile); flags and the environment still win over it",
    )


def _add_common(p: argparse.ArgumentParser, *, suppress: bool) -> None:
    d = argparse.SUPPRESS if suppress else None
    _add_profile(p, suppress=suppress)
    p.add_argument(
        "--base-url", default=d, metavar="URL", help="the Vectros API (default: $VECTROS_BASE_URL)"
    )
    p.add_argument(
        "--path",
        default=d,
        metavar="PATH",
        help="path of the usage report (default: /v1/auth/usage)",
    )
    p.add_argument(
        "--demo",
        action="store_true",
        default=d if suppress else False,
        help="run against a built-in simulator on a loopback port",
    )
    p.add_argument(
        "--ca-bundle",
        default=d,
        metavar="FILE",
        help="CA certificates (PEM file or directory) to trust for https "
        "(default: $SSL_CERT_FILE, else the certifi bundle)",
    )
    p.add_argument(
        "--debug",
        default=d,
        metavar="FILE",
        help="append a debug log of requests and answers to FILE (credentials redacted)",
    )
    p.add_argument(
        "--allow-insecure",
        action="store_true",
        default=d if suppress else False,
        help="allow sending the token over plain http:// to a non-loopback host",
    )
    _add_simulation(p, suppress=suppress, demo_speed=DEMO_SPEED)


class _Parser(argparse.ArgumentParser):
    """argparse, but a subcommand may put a line on stdout before a usage error:
    ``line`` feeds a status bar, and an empty one would look like all is well."""

    stdout_on_error: str | None = None
    line_parser: _Parser | None = None  # on the top parser: where `line`'s errors go

    def error(self, message: str) -> NoReturn:
        if self.stdout_on_error is not None:
            with contextlib.suppress(OSError):
                print(self.stdout_on_error, flush=True)
        super().error(message)


def build_parser() -> _Parser:
    parser = _Parser(
        prog="vectros-usage",
        description="A terminal monitor for the Vectros usage report: the monthly credit "
        "allowance and the pre-paid inference balance, live, per environment.",
        epilog="The token is read from $VECTROS_TOKEN, or from a profile of the config file "
        "(`vectros-usage config check` shows what is used; it needs billing:r). Exit statuses: "
        "0 ok, 1 internal error, 2 usage/configuration, 3 token refused, 4 unreachable, "
        "5 bad report, 6 budget exceeded (watch), 128+n ended by signal n.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _add_common(parser, suppress=False)
    parser.add_argument(
        "--interval",
        type=float,
        default=None,
        metavar="SECONDS",
        help="seconds between polls, 1 to 3600 (default: the profile's interval, else "
        f"{DEFAULT_INTERVAL:g}; "
        f"{DEMO_INTERVAL:g} with --demo, whose clock runs x{DEMO_SPEED:g})",
    )
    parser.add_argument(
        "--no-history",
        action="store_true",
        help="keep polls in memory only (default: recorded in the state directory, "
        "$VECTROS_USAGE_STATE_DIR to move it)",
    )
    parser.add_argument(
        "--hide-money",
        action="store_true",
        help="start with balances and amounts hidden, for screen-sharing (h toggles)",
    )
    parser.add_argument(
        "--theme",
        default=None,
        metavar="NAME",
        help="a Textual theme, e.g. textual-light for a light terminal "
        "(default: textual-dark; --theme list shows them)",
    )
    parser.add_argument(
        "--no-mouse",
        action="store_true",
        help="leave the mouse to the terminal (select and copy text as usual)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    snap = sub.add_parser("snapshot", help="print the current report once and exit")
    snap.add_argument("--json", action="store_true", help="JSON with every figure as integers")
    _add_common(snap, suppress=True)

    _add_config(sub)

    sim = sub.add_parser("simulate", help="serve the simulated usage API over HTTP")
    sim.add_argument("--host", default="127.0.0.1", help="bind address (default: 127.0.0.1)")
    sim.add_argument("--port", type=_port, default=8787, help="port (default: 8787; 0: any)")
    sim.add_argument(
        "--token",
        type=_token,
        default="demo-billing",
        help="the token that has billing:r (default: demo-billing)",
    )
    sim.add_argument(
        "--records-token",
        type=_token,
        default="demo-records",
        help="a token with only records:r, answered 403 (default: demo-records)",
    )
    sim.add_argument("-v", "--verbose", action="store_true", help="log each request line")
    _add_simulation(sim, suppress=False, demo_speed=1.0)
    _add_watch(sub)
    parser.line_parser = _add_line(sub)
    return parser


def _add_config(sub: Any) -> None:
    config = sub.add_parser("config", help="check or locate the config file and its profiles")
    what = config.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    check = what.add_parser(
        "check",
        help="print the settings as resolved, and where each came from (the token redacted)",
        description="Resolves the settings as the monitor would (flags, then environment, "
        "then the profile, then defaults) and prints each with its source. The token is "
        "read (a token_command runs) but never shown; the API is NOT contacted. Exit "
        "status 0 when everything resolves, 2 otherwise.",
    )
    check.add_argument("--json", action="store_true", help="the report as JSON")
    _add_profile(check, suppress=True)
    # The flags that take part in resolving, so their precedence can be checked too.
    for flag, metavar in (("--base-url", "URL"), ("--path", "PATH"), ("--ca-bundle", "FILE")):
        check.add_argument(
            flag, default=argparse.SUPPRESS, metavar=metavar, help="as for the monitor"
        )
    check.add_argument(
        "--interval",
        type=float,
        default=argparse.SUPPRESS,
        metavar="SECONDS",
        help="as for the monitor",
    )
    check.add_argument(
        "--allow-insecure",
        action="store_true",
        default=argparse.SUPPRESS,
        help="as for the monitor",
    )
    what.add_parser("path", help="print the config file's path ($VECTROS_USAGE_CONFIG moves it)")


@contextlib.contextmanager
def _settings(args: argparse.Namespace) -> Iterator[Settings]:
    """Resolved settings; with --demo, a simulator running for as long as they are used."""
    if not args.demo:
        yield _real_settings(args)
        return
    settings, sim = _demo(args)
    with sim:  # its own thread: these commands have no event loop of their own to lend
        yield settings


def _real_settings(args: argparse.Namespace) -> Settings:
    return resolve(
        base_url=args.base_url,
        interval=getattr(args, "interval", None),
        profile=args.profile,
        path=args.path,
        allow_insecure=args.allow_insecure,
        ca_bundle=getattr(args, "ca_bundle", None),
        debug_log=getattr(args, "debug", None),
        history=not getattr(args, "no_history", False),
    )


def _demo(args: argparse.Namespace) -> tuple[Settings, Simulator]:
    """The demo's settings and its simulator: bound to a loopback port, not yet serving."""
    from tui.simulator import DEMO_TOKEN, Simulator

    if args.base_url:
        raise ConfigError("--demo runs its own simulator: give --demo or --base-url, not both")
    given = getattr(args, "interval", None)
    # The demo's clock runs fast: at one poll a second each poll is a simulated minute,
    # so the 5-minute rate has five polls to go on (at 5 s it would have one).
    interval = check_interval(DEMO_INTERVAL if given is None else given)
    # The demo brings its own URL and token, but a profile's thresholds still apply.
    thresholds, profile = profile_thresholds(args.profile)
    sim = Simulator(
        port=0, scenario=args.scenario, speed=args.speed, seed=args.seed, start=args.start
    )
    speed = "frozen" if args.speed == 0 else f"×{args.speed:g}"
    settings = Settings(
        base_url=sim.base_url,
        token=Secret(DEMO_TOKEN),
        interval=interval,
        demo=True,
        demo_label=f"DEMO {args.scenario} {speed}",
        debug_log=getattr(args, "debug", None),
        thresholds=thresholds,
        profile=profile,
    )
    return settings, sim


def _start_debug_log(settings: Settings) -> None:
    if settings.debug_log is None:
        return
    if not settings.debug_log.strip():
        raise ConfigError("--debug needs a file name")
    from tui import debuglog

    try:
        debuglog.configure(settings.debug_log, settings.token)
    except OSError as exc:
        why = "it is a symbolic link" if exc.errno == errno.ELOOP else exc.strerror
        message = f"cannot write the debug log {settings.debug_log!r}: {why}"
        raise ConfigError(message) from None


def _theme(name: str | None) -> str | None:
    """The theme asked for, checked before the terminal is taken over."""
    if name is None:
        return None
    from textual.theme import BUILTIN_THEMES

    if name == "list":
        print("\n".join(sorted(BUILTIN_THEMES)))
        raise SystemExit(EXIT_OK)
    if name not in BUILTIN_THEMES:
        known = ", ".join(sorted(BUILTIN_THEMES))
        raise ConfigError(f"no theme {name!r}; the themes are: {known}")
    return name


def _run_monitor(args: argparse.Namespace) -> int:
    from tui.app import VectrosUsageApp

    theme = _theme(args.theme)
    # The demo's simulator answers from the monitor's own event loop (no thread).
    given, sim = _demo(args) if args.demo else (_real_settings(args), None)
    _start_debug_log(given)
    settings = given._replace(theme=theme, hide_money=args.hide_money, mouse=not args.no_mouse)
    app = VectrosUsageApp(settings, service=sim, manage_memory=True)
    # What has been loaded so far (Textual, httpx, the app: a few hundred thousand
    # objects) lives as long as the process: out of the cyclic collector's way, a
    # full collection no longer walks it (one cost ~30 ms in the first frame).
    gc.freeze()
    try:
        app.run(mouse=settings.mouse)
    finally:
        if sim is not None:
            sim.stop()
    # App.run() swallows a crash and leaves the status 0 unless we pass it on.
    return app.return_code if app.return_code is not None else EXIT_OK


def _run_snapshot(args: argparse.Namespace) -> int:
    from tui.snapshot import render_table

    async def once(settings: Settings) -> object:
        async with UsageClient(
            settings.base_url, settings.token, path=settings.path, ca_bundle=settings.ca_bundle
        ) as client:
            return await client.fetch()

    with _settings(args) as settings:
        _start_debug_log(settings)
        try:
            fetched = asyncio.run(once(settings))
        except UsageError as exc:
            print(f"vectros-usage: {safe_text(exc.message, limit=1000)}", file=sys.stderr)
            return exit_code(exc)
    report = fetched.report  # type: ignore[attr-defined]
    simulated: str | None = fetched.simulated  # type: ignore[attr-defined]
    for warning in report.warnings:
        print(f"vectros-usage: warning: {safe_text(warning, limit=1000)}", file=sys.stderr)
    if args.json and (settings.demo or simulated is not None):
        # stdout is the report alone; that its figures are made up goes beside it.
        said = "--demo" if settings.demo else f"the server says {safe_text(simulated, limit=40)}"
        print(f"vectros-usage: simulated figures ({said})", file=sys.stderr)
    text = (
        json.dumps(report.to_json(), indent=2, ensure_ascii=False)
        if args.json
        else render_table(report, demo=settings.demo, simulated=simulated)
    )
    try:
        print(text, flush=True)
    except BrokenPipeError:
        # The reader stopped early (`| head`, `| grep -q`): fine, and no traceback at
        # exit either (Python would otherwise complain flushing stdout again).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return EXIT_OK


def _run_simulator(args: argparse.Namespace) -> int:
    from tui.config import is_loopback
    from tui.simulator import Simulator

    if not is_loopback(args.host):
        print(
            f"vectros-usage: warning: serving on {args.host}, beyond this machine", file=sys.stderr
        )
    try:
        sim = Simulator(
            host=args.host,
            port=args.port,
            scenario=args.scenario,
            speed=args.speed,
            seed=args.seed,
            start=args.start,
            token=args.token,
            records_token=args.records_token,
            verbose=args.verbose,
        )
    except OSError as exc:
        print(
            f"vectros-usage: cannot listen on {args.host}:{args.port}: {exc.strerror}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    print(
        f"simulating {args.scenario!r} at {sim.base_url} (speed {args.speed:g}, "
        f"seed {args.seed}); token {args.token!r} has billing:r. Ctrl-C stops.",
        file=sys.stderr,
        flush=True,
    )
    with contextlib.suppress(KeyboardInterrupt):
        sim.serve_forever()
    sim.stop()
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    # parse_args, but an unknown argument to `line` is `line`'s error (a subparser
    # hands what it does not know back to the top parser, which would say nothing on
    # stdout).
    args, extras = parser.parse_known_args(argv)
    if extras:
        which = parser.line_parser if args.command == "line" else None
        (which or parser).error(f"unrecognized arguments: {' '.join(extras)}")
    try:
        if args.command == "simulate":
            return _run_simulator(args)
        if args.command == "snapshot":
            return _run_snapshot(args)
        if args.command == "config":
            from tui.configcheck import run_config

            return run_config(args)
        if args.command == "watch":
            return _run_watch(args)
        if args.command == "line":
            return _run_line(args)
        return _run_monitor(args)
    except ConfigError as exc:
        print(f"vectros-usage: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:  # Ctrl-C during `snapshot` or `simulate` start-up
        print("vectros-usage: interrupted", file=sys.stderr)
        return EXIT_SIGNAL_BASE + signal.SIGINT


# --------------------------------------------------------------------------- watch


def _argtype(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """A ValueError's message as argparse's usage error (exit 2), not 'invalid value'."""

    def wrapped(text: str) -> Any:
        try:
            return parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return wrapped


def _credits_budget(text: str) -> int:
    from tui.watch import parse_credits

    return int(_argtype(parse_credits)(text))


def _cents_budget(text: str) -> int:
    from tui.watch import parse_cents

    return int(_argtype(parse_cents)(text))


def _duration(text: str) -> float:
    from tui.watch import parse_duration

    return float(_argtype(parse_duration)(text))


def _add_watch(sub: Any) -> None:
    watch = sub.add_parser(
        "watch",
        help="a budget guard for CI: poll, print each change, exit 6 once a budget is exceeded",
        description="Poll the usage report headless and count what is used and spent "
        "since watch started (per environment; a month rollover carries on, a correction "
        "never counts negative, a top-up is not spend). A line per change goes to stdout "
        "(--json: one JSON object per line, money as integers); the summary (spend per "
        "environment, duration, average rate per minute of server time) is always the last "
        "thing on stdout. Messages and retries go to stderr. Transient failures (network, "
        "timeout, 5xx, 429) are retried with backoff until --max-outage passes without a "
        "good poll.",
        epilog="Exit statuses: 0 --for elapsed within budget, 2 usage, 3 token refused, "
        "4 unreachable for longer than --max-outage (or another HTTP failure), 5 bad report, "
        "6 budget exceeded, 128+n stopped by signal n (SIGINT 130, SIGTERM 143, SIGHUP 129).",
    )
    watch.add_argument(
        "--budget-credits",
        type=_credits_budget,
        default=None,
        metavar="CREDITS",
        help="credits that may be used while watching, up to 3 decimals (12.5 = 12,500 "
        "milli-credits)",
    )
    watch.add_argument(
        "--budget-cents",
        type=_cents_budget,
        default=None,
        metavar="CENTS",
        help="inference spend allowed while watching, in whole cents (500 = $5.00); "
        "period spend, so a top-up of the balance does not count",
    )
    watch.add_argument(
        "--env",
        choices=("total", "live", "test"),
        default="total",
        help="the environment the budgets apply to (default: total)",
    )
    watch.add_argument(
        "--for",
        dest="duration",
        type=_duration,
        default=None,
        metavar="DURATION",
        help="stop with 0 after this long within budget: 90s, 15m, 1h30m (default: until "
        "exceeded or stopped)",
    )
    watch.add_argument(
        "--max-outage",
        type=_bounded(float, 1, 86_400, "--max-outage is 1 to 86400 seconds"),
        default=None,
        metavar="SECONDS",
        help="give up (exit 4) after this long without a good poll (default: 6 intervals, "
        "at least 30 s)",
    )
    watch.add_argument("--json", action="store_true", help="JSON lines on stdout")
    watch.add_argument(
        "--interval",
        type=float,
        default=argparse.SUPPRESS,
        metavar="SECONDS",
        help=f"seconds between polls (default: {DEFAULT_INTERVAL:g}; "
        f"{DEMO_INTERVAL:g} with --demo)",
    )
    _add_common(watch, suppress=True)


def _run_watch(args: argparse.Namespace) -> int:
    from tui import watch

    if args.budget_credits is None and args.budget_cents is None:
        raise ConfigError("watch needs a budget: --budget-credits N and/or --budget-cents N")
    with _settings(args) as settings:
        _start_debug_log(settings)
        options = watch.WatchOptions(
            budget=watch.Budget(args.budget_credits, args.budget_cents, args.env),
            interval=settings.interval,
            duration=args.duration,
            max_outage=args.max_outage,
            as_json=args.json,
        )
        return watch.run(
            settings.base_url,
            settings.token,
            options,
            path=settings.path,
            ca_bundle=settings.ca_bundle,
            demo=settings.demo,
        )


# --------------------------------------------------------------------------- line


def _add_line(sub: Any) -> _Parser:
    from tui.line import DEFAULT_MAX_AGE, DEFAULT_TIMEOUT, PLACEHOLDERS

    line: _Parser = sub.add_parser(
        "line",
        help="one short status line (tmux status bar, shell prompt), from history when fresh",
        description="Print one short status line: credits % of the allowance, the inference "
        "balance, the credit rate, and 'stale AGE' when the figures are old. From the "
        "history store's newest poll of this base URL when it is younger than --max-age "
        "(no network); otherwise one fetch with a short timeout, recorded for the next call. "
        "If that fails, the last recorded figures with their age; with none, "
        "'vectros: unreachable' (or 'token refused', 'bad report'). Never an empty line; "
        "no colour unless --tmux.",
        epilog="Exit statuses: 0 fresh figures, 2 usage/configuration, 3 token refused, "
        "4 unreachable, 5 bad report (a line is printed in every case). Placeholders for "
        "--format: " + " ".join(f"{{{p}}}" for p in PLACEHOLDERS) + ".",
    )
    line.add_argument(
        "--max-age",
        type=_bounded(float, 0, 86_400, "--max-age is 0 to 86400 seconds"),
        default=DEFAULT_MAX_AGE,
        metavar="SECONDS",
        help=f"figures younger than this come from history (default: {DEFAULT_MAX_AGE:g})",
    )
    line.add_argument(
        "--timeout",
        type=_bounded(float, 0.1, 60, "--timeout is 0.1 to 60 seconds"),
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"for the fetch when history is not fresh (default: {DEFAULT_TIMEOUT:g})",
    )
    line.add_argument(
        "--format",
        dest="template",
        default=None,
        metavar="TEMPLATE",
        help="a template such as '{credits_pct} {balance} {rate} {status}' (see below)",
    )
    line.add_argument(
        "--hide-money",
        action="store_true",
        help="no balance or spend figures (percent and credit rate only): for screen-sharing",
    )
    line.add_argument(
        "--tmux", action="store_true", help="tmux styles: yellow when stale, red with no figures"
    )
    _add_common(line, suppress=True)
    # Even a usage error prints a line (and argparse's usage on stderr, status 2).
    line.stdout_on_error = "vectros: bad arguments"
    return line


def _run_line(args: argparse.Namespace) -> int:
    from tui import line

    options = line.LineOptions(
        max_age=args.max_age,
        timeout=args.timeout,
        template=args.template,
        hide_money=args.hide_money,
        tmux=args.tmux,
    )
    if args.template is not None:
        try:
            line.check_template(args.template)
        except ValueError as exc:
            print(f"vectros-usage: {exc}", file=sys.stderr)
            return _print_line(line.problem("bad --format", tmux=args.tmux), EXIT_USAGE)
    try:
        with _settings(args) as settings:
            _start_debug_log(settings)
            history_path = None
            if settings.history and not settings.demo:
                from tui.history import default_path

                history_path = default_path()
            text, code = line.line(
                settings.base_url,
                settings.token,
                options,
                path=settings.path,
                ca_bundle=settings.ca_bundle,
                history_path=history_path,
            )
    except ConfigError as exc:
        # Still a line: a status bar showing nothing would look like all is well.
        print(f"vectros-usage: {exc}", file=sys.stderr)
        text, code = line.render(None, now=0, stale=False, code=EXIT_USAGE, tmux=args.tmux), 2
    return _print_line(text, code)


def _print_line(text: str, code: int) -> int:
    try:
        print(text, flush=True)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return code

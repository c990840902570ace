"""`make bench`: what the monitor costs on a terminal, against the Textual floor.

Runs bench/floor_app.py (one Label updated once a second) and the monitor in demo
mode (``python -m tui --demo --interval 1``: at the demo's simulated speed ×60 the
figures change on every poll) in a 120x40 pseudo-terminal through
bench/tuimeasure.py, then prints a markdown table and the budget checks, and
writes the raw JSON to bench/out/. Stdlib only; the programs run under
sys.executable (the .venv python under `make bench`), cwd = the repo root.

It is a benchmark, not a test: it exits 0 when a budget fails (and says which);
it exits 1 only when a measurement itself could not be made.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
TOOL = BENCH / "tuimeasure.py"
OUT = BENCH / "out"
COLS, ROWS = 120, 40

# What counts as "data on screen" for each program (the tool matches it against the
# output with escape sequences stripped).
FLOOR_READY = r"floor tick \d+"
MONITOR_READY = r"used\s+[\d,]+\.\d{3} credits"

# Budgets, relative to the floor measured in the same run.
CPU_FACTOR = 2.0  # monitor idle CPU <= 2 x floor
MAX_BYTES_PER_S = 1000.0  # to the terminal, steady state
READY_SLACK_MS = 150.0  # monitor first data <= floor first paint + 150 ms
RSS_FACTOR = 1.4  # monitor peak RSS <= 1.4 x floor


@dataclass(frozen=True)
class Target:
    key: str
    name: str
    command: list[str]
    ready: str


TARGETS = [
    Target(
        "floor",
        "floor (bare Textual, 1 Label, 1 update/s)",
        [sys.executable, str(BENCH / "floor_app.py")],
        FLOOR_READY,
    ),
    Target(
        "monitor",
        "monitor (`--demo --interval 1`)",
        [sys.executable, "-m", "tui", "--demo", "--interval", "1"],
        MONITOR_READY,
    ),
]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Measure the monitor against a bare Textual app in a pty.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--window", type=float, default=20.0, help="steady-state window, seconds")
    p.add_argument("--settle", type=float, default=3.0, help="seconds after ready, unmeasured")
    p.add_argument("--repeat", type=int, default=3, help="runs per program (medians are used)")
    p.add_argument(
        "--starts",
        type=int,
        default=7,
        help="start-ups per program for first data, taken in turns (medians are used)",
    )
    p.add_argument(
        "--quick", action="store_true", help="a smoke run: --window 5 --settle 1 --repeat 1"
    )
    p.add_argument("--out", type=Path, default=OUT, help="directory for the raw JSON")
    args = p.parse_args(argv)
    if args.quick:
        args.window, args.settle, args.repeat, args.starts = 5.0, 1.0, 1, 1
    if args.window <= 0 or args.repeat < 1 or args.settle < 0 or args.starts < 1:
        p.error("need --window > 0, --repeat >= 1, --settle >= 0, --starts >= 1")
    return args


def measure(
    target: Target,
    args: argparse.Namespace,
    *,
    window: float,
    settle: float,
    repeat: int,
    warmup: int,
) -> dict:
    cmd = [
        sys.executable,
        str(TOOL),
        "--cols",
        str(COLS),
        "--rows",
        str(ROWS),
        "--ready",
        target.ready,
        "--settle",
        str(settle),
        "--window",
        str(window),
        "--repeat",
        str(repeat),
        # Bytecode caching as on a user's machine (this workplace sets
        # PYTHONDONTWRITEBYTECODE, which would make every start compile).
        "--warmup",
        str(warmup),
        "--unset",
        "PYTHONDONTWRITEBYTECODE",
        "--cwd",
        str(ROOT),
        "--label",
        target.key,
        "--",
        *target.command,
    ]
    per_run = 30 + settle + window + 20  # the tool's own bound, roughly
    started = time.monotonic()
    try:
        proc = subprocess.run(
            cmd, cwd=ROOT, capture_output=True, text=True, timeout=per_run * (repeat + warmup) + 60
        )
    except subprocess.TimeoutExpired:
        sys.exit(f"bench: tuimeasure did not finish measuring {target.key} in time")
    try:
        result = json.loads(proc.stdout)
    except json.JSONDecodeError:
        sys.exit(f"bench: tuimeasure gave no JSON for {target.key}:\n{proc.stderr[-2000:]}")
    result["elapsed_s"] = round(time.monotonic() - started, 1)
    return result


def measure_starts(args: argparse.Namespace) -> dict[str, dict]:
    """First data from start-ups alone (no window), the programs taken in turns.

    One start-up varies by ±60 ms on a shared host, and the host's speed drifts over
    the minutes a window run takes: programs measured one block after the other
    would carry that drift into their difference. In turns, both see the same host.
    The first round is a warm-up (page cache, bytecode), not counted.
    """
    runs: dict[str, list[dict]] = {target.key: [] for target in TARGETS}
    for round_ in range(args.starts + 1):
        # Who goes first alternates too: neither always runs just after the other.
        for target in TARGETS if round_ % 2 else TARGETS[::-1]:
            result = measure(target, args, window=0, settle=0, repeat=1, warmup=0)
            if round_:
                runs[target.key].extend(result.get("runs", []))
    starts: dict[str, dict] = {}
    for key, these in runs.items():
        ready = sorted(r["ready_ms"] for r in these if r.get("ok") and r.get("ready_ms"))
        starts[key] = {
            "runs": these,
            "ready_ms": ready,
            "median_ready_ms": statistics.median(ready) if ready else None,
        }
    return starts


def median(result: dict, field: str) -> float | None:
    entry = result.get("summary", {}).get(field)
    return None if entry is None else float(entry["median"])


def fmt(value: float | None, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


def budgets(floor: dict, monitor: dict, starts: dict[str, dict]) -> list[dict]:
    f_cpu, m_cpu = median(floor, "cpu_pct"), median(monitor, "cpu_pct")
    f_ready = starts["floor"]["median_ready_ms"]
    m_ready = starts["monitor"]["median_ready_ms"]
    f_rss, m_rss = median(floor, "rss_peak_mb"), median(monitor, "rss_peak_mb")
    m_bps = median(monitor, "bytes_per_s")

    def check(name: str, measured: str, limit: str, ok: bool | None) -> dict:
        verdict = "n/a" if ok is None else ("PASS" if ok else "FAIL")
        return {"check": name, "measured": measured, "budget": limit, "verdict": verdict}

    def both(a: float | None, b: float | None) -> bool:
        return a is not None and b is not None

    # CPU: a floor below the tool's resolution (0.05 % over 20 s) would make any
    # monitor fail 2x; give the floor at least one clock tick over the window.
    tick_pct = 100.0 / os.sysconf("SC_CLK_TCK") / float(floor["window_s"])
    cpu_floor = None if f_cpu is None else max(f_cpu, tick_pct)
    return [
        check(
            "idle CPU ≤ 2× floor",
            f"{fmt(m_cpu, '.2f')} % vs {fmt(f_cpu, '.2f')} % "
            f"(×{fmt(m_cpu / cpu_floor if both(m_cpu, cpu_floor) else None, '.1f')})",
            f"≤ {fmt(None if cpu_floor is None else CPU_FACTOR * cpu_floor, '.2f')} %",
            None if not both(m_cpu, cpu_floor) else m_cpu <= CPU_FACTOR * cpu_floor,
        ),
        check(
            "bytes to the terminal ≤ 1000/s",
            f"{fmt(m_bps, ',.0f')} B/s",
            f"≤ {MAX_BYTES_PER_S:,.0f} B/s",
            None if m_bps is None else m_bps <= MAX_BYTES_PER_S,
        ),
        check(
            "first data ≤ floor first paint + 150 ms",
            f"{fmt(m_ready, '.0f')} ms vs {fmt(f_ready, '.0f')} ms "
            f"(+{fmt(m_ready - f_ready if both(m_ready, f_ready) else None, '.0f')} ms)",
            f"≤ {fmt(None if f_ready is None else f_ready + READY_SLACK_MS, '.0f')} ms",
            None if not both(m_ready, f_ready) else m_ready <= f_ready + READY_SLACK_MS,
        ),
        check(
            "peak RSS ≤ 1.4× floor",
            f"{fmt(m_rss, '.1f')} MB vs {fmt(f_rss, '.1f')} MB "
            f"(×{fmt(m_rss / f_rss if both(m_rss, f_rss) else None, '.2f')})",
            f"≤ {fmt(None if f_rss is None else RSS_FACTOR * f_rss, '.1f')} MB",
            None if not both(m_rss, f_rss) else m_rss <= RSS_FACTOR * f_rss,
        ),
    ]


def figures_table(results: dict[str, dict], starts: dict[str, dict]) -> list[str]:
    lines = [
        "| program | first data (ms) | its start-ups (ms) | idle CPU (% of a core) "
        "| peak RSS (MB) | bytes/s | updates/s | quit + terminal restored |",
        "|---|--:|--:|--:|--:|--:|--:|:-:|",
    ]
    for target in TARGETS:
        r = results[target.key]
        s = r.get("summary", {})
        first = starts[target.key]
        clean = "yes" if s.get("quit_ok") and s.get("terminal_restored") else "NO"
        ready = first["ready_ms"]
        spread = f"{ready[0]:.0f}–{ready[-1]:.0f}" if ready else "n/a"
        lines.append(
            f"| {target.name} | {fmt(first['median_ready_ms'], '.0f')} | {spread} "
            f"| {fmt(median(r, 'cpu_pct'), '.2f')} "
            f"| {fmt(median(r, 'rss_peak_mb'), '.1f')} "
            f"| {fmt(median(r, 'bytes_per_s'), ',.0f')} "
            f"| {fmt(median(r, 'updates_per_s'), '.2f')} | {clean} |"
        )
    return lines


def budget_table(checks: list[dict]) -> list[str]:
    lines = ["| budget | measured | limit | verdict |", "|---|---|---|:-:|"]
    for c in checks:
        verdict = f"**{c['verdict']}**" if c["verdict"] != "PASS" else "PASS"
        lines.append(f"| {c['check']} | {c['measured']} | {c['budget']} | {verdict} |")
    return lines


def _git(*argv: str) -> subprocess.CompletedProcess[str] | None:
    try:
        return subprocess.run(["git", *argv], cwd=ROOT, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None


def git_revision() -> str | None:
    """The commit, and whether what is measured (tui/, the bench, the deps) differs from it."""
    head = _git("rev-parse", "--short", "HEAD")
    if head is None or head.returncode != 0:
        return None
    changed = _git("status", "--porcelain", "--", "tui", "bench", "pyproject.toml")
    dirty = sorted(
        {line[3:].split("/", 1)[0] for line in changed.stdout.splitlines()} if changed else set()
    )
    rev = head.stdout.strip()
    return f"{rev} + uncommitted changes in {', '.join(dirty)}" if dirty else rev


def machine() -> dict:
    try:
        from importlib.metadata import version

        textual = version("textual")
    except Exception:
        textual = None
    return {
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "textual": textual,
        "executable": sys.executable,
        "git": git_revision(),
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if importlib.util.find_spec("textual") is None:
        sys.exit(f"bench: textual is not importable by {sys.executable}; run `make bench`")
    host = machine()
    per_target = args.repeat * (args.settle + args.window + 3) + (args.starts + 1) * 1.5
    print(
        f"bench: {COLS}x{ROWS} pty, settle {args.settle:g} s, window {args.window:g} s, "
        f"{args.repeat} run(s) each, {args.starts} start-up(s) each; about {2 * per_target:.0f} s",
        file=sys.stderr,
        flush=True,
    )
    results: dict[str, dict] = {}
    for target in TARGETS:
        print(f"bench: measuring {target.key}…", file=sys.stderr, flush=True)
        # One unrecorded run first.
        results[target.key] = measure(
            target, args, window=args.window, settle=args.settle, repeat=args.repeat, warmup=1
        )
    print(
        f"bench: first data, {args.starts} start-up(s) of each in turns…",
        file=sys.stderr,
        flush=True,
    )
    starts = measure_starts(args)

    failed_runs = [
        f"{key} run {i}: {run.get('error')}"
        for key, r in results.items()
        for i, run in enumerate(r.get("runs", []))
        if not run.get("ok")
    ] + [
        f"{key} start-up {i}: {run.get('error')}"
        for key, r in starts.items()
        for i, run in enumerate(r["runs"])
        if not run.get("ok")
    ]
    checks = budgets(results["floor"], results["monitor"], starts)
    stamp = time.strftime("%Y-%m-%d %H:%M:%S %Z")

    out = [
        f"## vectros-usage bench — {stamp}",
        "",
        f"{COLS}x{ROWS} pty, TERM=xterm-256color; settle {args.settle:g} s, window "
        f"{args.window:g} s, medians of {args.repeat} run(s) (first data: of {args.starts} "
        f"start-ups each, in turns); nproc {host['nproc']}, "
        f"Python {host['python']}, Textual {host['textual']}, rev {host['git']}",
        "",
        *figures_table(results, starts),
        "",
        *budget_table(checks),
    ]
    busy = {key: median(r, "host_other_pct") or 0.0 for key, r in results.items()}
    if max(busy.values()) > 10:
        shares = ", ".join(f"{key} {pct:.0f} %" for key, pct in busy.items())
        out += [
            "",
            f"Note: the host was busy besides the measured program ({shares} of a core, "
            "median over the windows); CPU and timing figures are noisy, run again when idle.",
        ]
    failed = [c["check"] for c in checks if c["verdict"] != "PASS"]
    out += [
        "",
        "Budgets: all pass."
        if not failed
        else f"Budgets: {len(failed)} of {len(checks)} FAILED: " + "; ".join(failed),
    ]
    if failed_runs:
        out += ["", "Measurement errors:", *[f"- {e}" for e in failed_runs]]

    args.out.mkdir(parents=True, exist_ok=True)
    name = "bench-" + time.strftime("%Y%m%d-%H%M%S") + ".json"
    record = {
        "date": stamp,
        "machine": host,
        "settings": {
            "cols": COLS,
            "rows": ROWS,
            "window_s": args.window,
            "settle_s": args.settle,
            "repeat": args.repeat,
            "starts": args.starts,
        },
        "budgets": checks,
        "results": results,
        "starts": starts,
    }
    for path in (args.out / name, args.out / "latest.json"):
        path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    shown = args.out.resolve() / name
    if shown.is_relative_to(ROOT):
        shown = shown.relative_to(ROOT)
    out += ["", f"Raw JSON: {shown} (and latest.json beside it)"]
    print("\n".join(out))
    return 1 if failed_runs else 0


if __name__ == "__main__":
    sys.exit(main())

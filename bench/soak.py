"""Soak: thousands of polls in one monitor; memory and file descriptors must stay flat.

    .venv/bin/python bench/soak.py [--polls 2000] [--interval 0.01]

Runs the real app (headless, so no terminal is needed and polls can come faster than
the CLI's 1 s minimum) against the simulator at x600 over loopback HTTP, so every
poll brings new figures and redraws the panels and, now and then, the chart; each
poll is recorded in a SQLite history in a throwaway state directory. Every
``--every`` polls it samples this process's RSS and open file descriptors. Flat means:
after the warm-up sample, RSS grows by less than ``--rss-slack`` MB and the number of
open descriptors does not change. Exit 0 when flat, 1 when not (or when polls stall).
Not a test: its figures go in bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tui.app import VectrosUsageApp  # noqa: E402
from tui.client import Secret  # noqa: E402
from tui.config import Settings  # noqa: E402
from tui.history import ENV_STATE_DIR  # noqa: E402
from tui.simulator import DEMO_TOKEN, Simulator  # noqa: E402


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def soak(polls: int, interval: float, every: int) -> list[dict[str, float]]:
    samples: list[dict[str, float]] = []
    # History on, as a real run has it, in a throwaway state directory.
    state = tempfile.TemporaryDirectory(prefix="vectros-soak-")
    os.environ[ENV_STATE_DIR] = state.name
    with state, Simulator(speed=600) as sim:
        settings = Settings(base_url=sim.base_url, token=Secret(DEMO_TOKEN), interval=interval)
        app = VectrosUsageApp(settings, manage_memory=True)  # as the monitor runs (tui.memory)
        started = time.monotonic()
        async with app.run_test(size=(120, 40)) as pilot:
            next_sample = every
            last_progress, last_polls = time.monotonic(), 0
            while app.polls < polls:
                await pilot.pause(0.05)
                if app.polls != last_polls:
                    last_progress, last_polls = time.monotonic(), app.polls
                elif time.monotonic() - last_progress > 30:
                    raise SystemExit(f"soak: polls stalled at {app.polls}")
                if app.polls >= next_sample:
                    samples.append(
                        {
                            "polls": app.polls,
                            "seconds": round(time.monotonic() - started, 1),
                            "rss_mb": round(rss_mb(), 2),
                            "fds": open_fds(),
                        }
                    )
                    next_sample += every
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--polls", type=int, default=2000)
    parser.add_argument("--interval", type=float, default=0.01)
    parser.add_argument("--every", type=int, default=250)
    parser.add_argument("--rss-slack", type=float, default=3.0, metavar="MB")
    args = parser.parse_args()
    samples = asyncio.run(soak(args.polls, args.interval, args.every))
    warm = samples[0]
    last = samples[-1]
    growth = last["rss_mb"] - warm["rss_mb"]
    fds_flat = all(s["fds"] == warm["fds"] for s in samples)
    flat = growth < args.rss_slack and fds_flat
    print(f"## soak: {last['polls']:.0f} polls in {last['seconds']:.0f} s\n")
    print("| polls | s | RSS (MB) | open fds |\n|--:|--:|--:|--:|")
    for s in samples:
        print(f"| {s['polls']:.0f} | {s['seconds']:.1f} | {s['rss_mb']:.1f} | {s['fds']:.0f} |")
    print(
        f"\nRSS {warm['rss_mb']:.1f} → {last['rss_mb']:.1f} MB ({growth:+.1f} MB after the "
        f"first {warm['polls']:.0f} polls; slack {args.rss_slack:g}); open fds "
        f"{'flat at ' + str(int(warm['fds'])) if fds_flat else 'CHANGED'}: "
        f"{'FLAT' if flat else 'NOT FLAT'}"
    )
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    (out / f"soak-{stamp}.json").write_text(json.dumps({"samples": samples, "flat": flat}))
    return 0 if flat else 1


if __name__ == "__main__":
    sys.exit(main())

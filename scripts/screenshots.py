"""Regenerate screenshots/*.svg from the real app in demo mode (`make screenshots`).

The simulator's clock is frozen at a fixed instant and the app's own clock is
frozen too, so the same code always gives the same pictures. Before each picture the
simulator's clock is stepped through 15 one-minute polls, so rates and runways show
figures (in a history kept in memory: nothing is written to the state directory).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tui.app import VectrosUsageApp
from tui.client import Secret
from tui.config import Settings
from tui.pilot import poll_through, press_and_settle
from tui.simulator import DEMO_TOKEN, Simulator
from tui.thresholds import Thresholds

OUT = Path(__file__).resolve().parent.parent / "screenshots"
SHOTS = [
    # (file, scenario, start, keys, size)
    ("total-120x40.svg", "steady", datetime(2026, 12, 17, 15, 0, tzinfo=UTC), "", (120, 40)),
    (
        "load-test-live-120x40.svg",
        "load-test",
        datetime(2026, 12, 17, 15, 0, tzinfo=UTC),
        "2",
        (120, 40),
    ),
    ("total-80x24.svg", "steady", datetime(2026, 12, 17, 15, 0, tzinfo=UTC), "", (80, 24)),
    ("total-60x20.svg", "steady", datetime(2026, 12, 17, 15, 0, tzinfo=UTC), "", (60, 20)),
    # t: the chart's last hour, minute by minute, during the load test's burst.
    (
        "load-test-last-hour-120x40.svg",
        "load-test",
        datetime(2026, 12, 17, 15, 0, tzinfo=UTC),
        "t",
        (120, 40),
    ),
]
# On a light theme, with levels set so the allowance warns and the runway is critical.
LIGHT = (
    "light-levels-100x30.svg",
    "load-test",
    datetime(2026, 12, 17, 15, 0, tzinfo=UTC),
    "",
    (100, 30),
)
LIGHT_SETTINGS = {
    "theme": "textual-light",
    "thresholds": Thresholds(credits_warn_percent=40, credits_critical_percent=90),
}


async def shoot(
    name: str,
    scenario: str,
    start: datetime,
    keys: str,
    size: tuple[int, int],
    **extra: Any,
) -> None:
    with Simulator(scenario=scenario, speed=0, start=start) as sim:
        if scenario == "load-test":
            sim.clock.advance(45 * 60)  # into the burst
        settings = Settings(
            base_url=sim.base_url,
            token=Secret(DEMO_TOKEN),
            demo=True,
            demo_label=f"DEMO {scenario} frozen",
            **extra,
        )
        app = VectrosUsageApp(settings, clock=lambda: 1000.0)
        async with app.run_test(size=size) as pilot:
            await press_and_settle(pilot)
            await poll_through(pilot, sim.clock.advance, polls=15, step=60)
            await press_and_settle(pilot, *keys)
            app.clear_notifications()  # alerts' toasts come and go by the wall clock
            await press_and_settle(pilot)
            app.save_screenshot(filename=name, path=str(OUT))
    print(f"wrote screenshots/{name}")


async def main() -> None:
    OUT.mkdir(exist_ok=True)
    for shot in SHOTS:
        await shoot(*shot)
    await shoot(*LIGHT, **LIGHT_SETTINGS)


if __name__ == "__main__":
    asyncio.run(main())

"""Driving the app headless until it has settled: shared by the snapshot tests and
the screenshot script, so both picture exactly the same moment."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot


async def press_and_settle(pilot: Pilot[Any], *keys: str, timeout: float = 10) -> None:
    """Wait for the first report (chart included), press keys, wait for it again."""
    app = pilot.app
    settled = getattr(app, "settled", None)
    if settled is None:
        raise TypeError(f"{type(app).__name__} has no 'settled' to wait for")
    async with asyncio.timeout(timeout):
        while not app.settled:  # type: ignore[attr-defined]
            await pilot.pause(0.02)
        for key in keys:
            await pilot.press(key)
            await pilot.pause()
        while not app.settled:  # type: ignore[attr-defined]
            await pilot.pause(0.02)
    await pilot.pause()


async def poll_through(
    pilot: Pilot[Any], advance: Callable[[float], None], polls: int, step: float
) -> None:
    """Move a simulator's clock by ``step`` seconds and poll (``r``), ``polls`` times:
    a frozen history, so rates and runways have figures in pictures and tests."""
    app = pilot.app
    for _ in range(polls):
        before = app.polls  # type: ignore[attr-defined]
        advance(step)
        await pilot.press("r")
        async with asyncio.timeout(10):
            while app.polls == before:  # type: ignore[attr-defined]
                await pilot.pause(0.02)
    await pilot.pause()

"""Driving the app headless until it has settled: shared by the snapshot tests and
the screenshot script, so both picture exactly the same moment."""

from __future__ import annotations

import asyncio
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

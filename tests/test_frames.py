"""The screen's frame clock: a frame soon after a change, never two within a period."""

from __future__ import annotations

import asyncio
import inspect
import re

import textual.screen

from tests.conftest import settings_for, until
from tui.app import MonitorScreen, VectrosUsageApp
from tui.frames import UPDATE_PERIOD, FrameClock
from tui.simulator.server import Simulator


class Recorder:
    def __init__(self) -> None:
        self.times: list[float] = []
        self.errors: list[Exception] = []
        self.fail = False

    def draw(self) -> None:
        self.times.append(asyncio.get_running_loop().time())
        if self.fail:
            raise ValueError("drawing failed")


async def test_resumes_before_a_frame_make_one_frame() -> None:
    seen = Recorder()
    clock = FrameClock(seen.draw, seen.errors.append)
    clock.resume()
    clock.resume()
    clock.resume()
    await asyncio.sleep(3 * UPDATE_PERIOD)
    assert len(seen.times) == 1
    assert clock.frames == 1


async def test_a_frame_comes_after_what_the_change_set_going() -> None:
    # A poll's refresh asks for a layout two hops later (a message to a widget, its
    # message to the screen): the frame must see it, not draw the screen before it.
    loop = asyncio.get_running_loop()
    laid_out: list[bool] = []
    seen = Recorder()
    clock = FrameClock(lambda: (seen.draw(), laid_out.append(bool(steps))), seen.errors.append)
    steps: list[int] = []

    def message(hops: int) -> None:
        if hops:
            loop.call_soon(message, hops - 1)
        else:
            steps.append(1)

    clock.resume()
    loop.call_soon(message, 2)
    await asyncio.sleep(3 * UPDATE_PERIOD)
    assert laid_out == [True]


async def test_frames_are_at_least_a_period_apart() -> None:
    seen = Recorder()
    clock = FrameClock(seen.draw, seen.errors.append)
    for drawn in range(1, 6):  # a change right after each frame
        clock.resume()
        while len(seen.times) < drawn:
            await asyncio.sleep(0)
    gaps = [b - a for a, b in zip(seen.times, seen.times[1:], strict=False)]
    assert len(seen.times) == 5
    assert all(gap >= UPDATE_PERIOD * 0.99 for gap in gaps), gaps


async def test_a_paused_clock_draws_nothing_and_a_failure_is_reported() -> None:
    seen = Recorder()
    clock = FrameClock(seen.draw, seen.errors.append)
    clock.resume()
    clock.pause()
    await asyncio.sleep(3 * UPDATE_PERIOD)
    assert seen.times == []
    seen.fail = True
    clock.resume()
    await asyncio.sleep(3 * UPDATE_PERIOD)
    assert len(seen.times) == 1
    assert [str(e) for e in seen.errors] == ["drawing failed"]
    clock.resume()  # a failed frame does not stop the next one
    await asyncio.sleep(3 * UPDATE_PERIOD)
    assert len(seen.times) == 2


def test_textual_uses_the_screen_timer_only_as_the_frame_clock_serves_it() -> None:
    """A Textual bump that uses the timer otherwise must be looked at, not run blind."""
    source = inspect.getsource(textual.screen.Screen)
    uses = set(re.findall(r"self\._update_timer\.(\w+)", source))
    assert uses == {"resume", "pause"}


async def test_the_monitor_draws_its_polls_through_the_frame_clock(simulator: Simulator) -> None:
    app = VectrosUsageApp(settings_for(simulator.base_url, interval=1))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.polls >= 1)
        screen = app.screen
        assert isinstance(screen, MonitorScreen)
        frames = screen._frames.frames
        simulator.clock.advance(600)  # the figures move: the next poll must be drawn
        polls = app.polls
        await until(pilot, lambda: app.polls > polls)
        await pilot.pause()
        assert screen._frames.frames > frames

"""What reaches the terminal, poll after poll, is what the monitor shows.

The monitor paints only the cells a poll changed (tui.widgets.diffed), tells the
screen of them directly and draws from its own frame clock (tui.frames). A cell that
one of those forgot would stay wrong on the terminal while every in-process check
passed. So here each frame the app writes is fed to a terminal emulator (pyte), and
after polls that move the figures its screen is compared, cell by cell, with a fresh
full drawing of the same state.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator

import pyte
from textual._compositor import CompositorUpdate
from textual.pilot import Pilot
from textual.screen import Screen

from tests.conftest import settings_for, until
from tui.app import MonitorScreen, VectrosUsageApp
from tui.simulator.server import Simulator
from tui.widgets.credits import CreditsPanel

SIZE = (120, 40)


class Terminal:
    """A terminal emulator fed what the app writes (the headless driver writes nothing)."""

    def __init__(self) -> None:
        self.screen = pyte.Screen(*SIZE)
        self.stream = pyte.Stream(self.screen)
        self.frames = 0
        self.badges: list[str] = []  # the freshness badge as each frame left it

    def feed(self, text: str) -> None:
        self.stream.feed(text)
        self.badges += [row.strip() for row in self.screen.display if "● live" in row]

    def cells(self) -> list[list[tuple[str, str, str, bool]]]:
        rows = []
        for y in range(self.screen.lines):
            line = self.screen.buffer[y]
            rows.append(
                [
                    (c.data, c.fg, c.bg, c.reverse)
                    for x in range(self.screen.columns)
                    for c in [line[x]]
                ]
            )
        return rows


def watch(app: VectrosUsageApp, terminal: Terminal) -> None:
    shown = app._display

    def display(screen: Screen[object], renderable: object) -> None:
        if isinstance(renderable, CompositorUpdate):
            terminal.feed(renderable.render_segments(app.console))
            terminal.frames += 1
        shown(screen, renderable)  # type: ignore[arg-type]

    app._display = display  # type: ignore[method-assign]


def full_drawing(app: VectrosUsageApp) -> Terminal:
    fresh = Terminal()
    update = app.screen._compositor.render_update(full=True)
    assert isinstance(update, CompositorUpdate)
    fresh.feed(update.render_segments(app.console))
    return fresh


def mismatches(app: VectrosUsageApp, terminal: Terminal) -> list[tuple[int, str, str]]:
    """Rows where what was painted differs from a fresh drawing: (row, painted, fresh)."""
    painted, fresh = terminal.cells(), full_drawing(app).cells()
    return [
        (y, "".join(c[0] for c in painted[y]), "".join(c[0] for c in fresh[y]))
        for y in range(SIZE[1])
        if painted[y] != fresh[y]
    ]


@contextlib.asynccontextmanager
async def painted(
    simulator: Simulator,
) -> AsyncIterator[tuple[VectrosUsageApp, Pilot[int], Terminal]]:
    """The monitor on the simulator, its frames fed to a terminal, the first one drawn."""
    terminal = Terminal()
    app = VectrosUsageApp(settings_for(simulator.base_url, interval=1))
    watch(app, terminal)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.polls >= 1 and app.settled)
        yield app, pilot, terminal


async def next_poll(app: VectrosUsageApp, pilot: Pilot[int], simulator: Simulator) -> None:
    """An hour on for the simulator, and the poll that sees it."""
    simulator.clock.advance(3600)
    polls = app.polls
    await until(pilot, lambda: app.polls > polls)


async def test_after_polls_that_move_the_figures_the_terminal_shows_a_full_drawing(
    simulator: Simulator,
) -> None:
    async with painted(simulator) as (app, pilot, terminal):
        first = app.query_one(CreditsPanel).figures()["used"]
        frames = terminal.frames
        for _ in range(3):
            await next_poll(app, pilot, simulator)
            await pilot.pause(0.2)  # the frame after it (and the chart's, if it moved)
        assert app.query_one(CreditsPanel).figures()["used"] != first
        assert terminal.frames > frames  # the polls were painted bit by bit
        wrong = mismatches(app, terminal)
        assert wrong == [], wrong[:3]
        # No frame showed the badge cut short (drawn before the layout its new width
        # asked for): every one ends in its whole words.
        assert terminal.badges
        cut = [b for b in terminal.badges if not re.search(r"● live · (just now|\d+ s ago)$", b)]
        assert cut == []


async def test_figures_that_moved_under_the_help_screen_are_painted_when_it_closes(
    simulator: Simulator,
) -> None:
    async with painted(simulator) as (app, pilot, terminal):
        await pilot.press("question_mark")
        await pilot.pause(0.2)
        assert not isinstance(app.screen, MonitorScreen)
        await next_poll(app, pilot, simulator)
        await pilot.press("escape")
        await pilot.pause(0.3)
        wrong = mismatches(app, terminal)
        assert wrong == [], wrong[:3]


async def test_a_theme_chosen_from_a_screen_on_top_is_painted_when_it_closes(
    simulator: Simulator,
) -> None:
    async with painted(simulator) as (app, pilot, terminal):
        for theme in ("textual-light", "textual-dark"):
            await pilot.press("question_mark")
            await pilot.pause(0.2)
            app.theme = theme
            await pilot.pause(0.2)
            await pilot.press("escape")
            await pilot.pause(0.3)
            wrong = mismatches(app, terminal)
            assert wrong == [], (theme, wrong[:3])


def colours(svg: str) -> set[str]:
    return set(re.findall(r"fill[=:] ?\"?(#[0-9a-f]{6})", svg))


async def screenshot(simulator: Simulator, theme: str | None, switch_to: str | None) -> str:
    settings = settings_for(simulator.base_url, interval=1)
    app = VectrosUsageApp(settings._replace(theme=theme) if theme else settings)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.polls >= 1 and app.settled)
        if switch_to:
            app.theme = switch_to
        await pilot.pause(0.5)
        return app.export_screenshot()


async def test_a_theme_chosen_while_it_runs_leaves_no_colour_of_the_old_one(
    simulator: Simulator,
) -> None:
    # The figures stand still (the clock is frozen): nothing but the theme redraws them.
    # (The panels' labels and rows carry styles of their own, looked up when built.)
    switched = await screenshot(simulator, None, "textual-light")
    started = await screenshot(simulator, "textual-light", None)
    assert colours(switched) - colours(started) == set()

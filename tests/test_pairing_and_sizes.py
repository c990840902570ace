"""Pilot tests: levels and alerts, hiding money, help and the palette, and sizes from
below the minimum to large, against the real simulator over loopback HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from textual.command import CommandPalette
from textual.pilot import Pilot

from tests.conftest import settings_for
from tui.app import VectrosUsageApp
from tui.pilot import poll_through, press_and_settle
from tui.simulator import Simulator
from tui.thresholds import Thresholds
from tui.widgets.chart_slot import ChartSlot
from tui.widgets.help import HelpScreen
from tui.widgets.inference import InferencePanel
from tui.widgets.too_small import TooSmall


@asynccontextmanager
async def monitor(
    sim: Simulator, size: tuple[int, int] = (100, 30), **settings: Any
) -> AsyncIterator[tuple[VectrosUsageApp, Pilot[Any]]]:
    app = VectrosUsageApp(settings_for(sim.base_url)._replace(**settings))
    async with app.run_test(size=size) as pilot:
        await press_and_settle(pilot)
        yield app, pilot


def screen_text(app: VectrosUsageApp) -> str:
    """Every character on screen, as a terminal would show it."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def toasts(app: VectrosUsageApp) -> list[str]:
    return [f"{n.title} {n.message}" for n in app._notifications]


async def test_levels_show_as_words_and_a_crossing_alerts_once(simulator: Simulator) -> None:
    # 5.4 % of the allowance is used at the frozen start: critical at 5 %, and a
    # balance of $492.87 warns below $1,000.00.
    levels = Thresholds(
        credits_warn_percent=2, credits_critical_percent=5, balance_warn_cents=10**5
    )
    async with monitor(simulator, thresholds=levels) as (app, pilot):
        assert "✖ CRITICAL" in screen_text(app)
        assert "balance" in app.query_one(InferencePanel).figures()
        assert "▲ WARN" in app.query_one(InferencePanel).figures()["balance"]
        said = toasts(app)
        assert any("CRITICAL" in t and "5.4 % of the monthly allowance used" in t for t in said)
        assert any("WARN" in t and "inference balance down to $492.87" in t for t in said)
        before = len(said)
        await pilot.press("r")  # the same levels again: nothing new to say
        await press_and_settle(pilot)
        assert app.polls >= 2
        assert len(toasts(app)) == before


async def test_default_levels_say_ok_and_alert_nothing(simulator: Simulator) -> None:
    async with monitor(simulator) as (app, _):
        text = screen_text(app)
        assert "5.4 % ok" in text
        assert "WARN" not in text and "CRITICAL" not in text
        assert toasts(app) == []


async def test_h_hides_money_and_keeps_percentages_and_rates(simulator: Simulator) -> None:
    async with monitor(simulator) as (app, pilot):
        assert "$492.87" in screen_text(app)
        await press_and_settle(pilot, "h", "c")  # and the chart of inference spend
        app.clear_notifications()
        await press_and_settle(pilot)
        text = screen_text(app)
        assert "$" not in text.replace("h Hide $", "")  # the footer's own key label
        assert "49,287" not in text and "7,347" not in text  # the cents figures too
        assert "5.4 %" in text and "hidden (h shows)" in text
        assert "amounts hidden" in text  # the chart says why its axis has no figures
        await press_and_settle(pilot, "h")
        assert "$492.87" in screen_text(app)


async def test_hide_money_from_the_start(simulator: Simulator) -> None:
    async with monitor(simulator, hide_money=True) as (app, pilot):
        assert "$492.87" not in screen_text(app)
        assert app.query_one(InferencePanel).border_title.endswith("money hidden")
        await press_and_settle(pilot, "question_mark")  # the help's balance levels too
        assert "levels hidden with the money" in screen_text(app)
        assert "$" not in screen_text(app).replace("h Hide $", "")


async def test_help_opens_on_question_mark_and_q_closes_only_it(simulator: Simulator) -> None:
    async with monitor(simulator, size=(100, 40)) as (app, pilot):
        await press_and_settle(pilot, "question_mark")
        assert isinstance(app.screen, HelpScreen)
        assert "hide money" in screen_text(app)
        await press_and_settle(pilot, "q")
        assert not isinstance(app.screen, HelpScreen)
        assert app.is_running  # q closed the help, not the monitor


async def run_command(pilot: Pilot[Any], words: str) -> None:
    """Open the palette, type, take the first match."""
    await pilot.press("ctrl+p")
    await pilot.pause()
    await pilot.press(*words)
    await pilot.pause(0.5)
    await pilot.press("enter")
    await press_and_settle(pilot)


async def test_the_command_palette_runs_the_monitors_actions(simulator: Simulator) -> None:
    async with monitor(simulator) as (app, pilot):
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Hide money" in titles and "Theme" in titles and "Quit" in titles
        assert "Keys" not in titles and "Maximize" not in titles  # ? is the help here
        await run_command(pilot, "hide money")
        assert app.hide_money
        await run_command(pilot, "live tab")
        assert app.scope == "live"
        await pilot.press("ctrl+p")  # and Ctrl-P again closes it, without Esc
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert not isinstance(app.screen, CommandPalette)


async def test_too_small_says_so_and_recovers_when_the_terminal_grows(
    simulator: Simulator,
) -> None:
    async with monitor(simulator, size=(50, 16)) as (app, pilot):
        assert app.query_one(TooSmall).display
        assert "Terminal too small: 50×16" in screen_text(app)
        assert "2,743.470" not in screen_text(app)
        assert not app.query_one("#panels").display
        await pilot.resize_terminal(80, 24)
        await press_and_settle(pilot)
        assert not app.query_one(TooSmall).display
        text = screen_text(app)
        assert "Terminal too small" not in text
        assert "2,743.470 credits" in text and "$492.87" in text
        # 24 rows: the figures keep them, the daily chart gives way.
        assert not app.query_one(ChartSlot).display
        await pilot.resize_terminal(120, 40)
        await press_and_settle(pilot)
        assert app.query_one(ChartSlot).display


async def test_at_60x20_every_figure_stays_in_a_shorter_form(simulator: Simulator) -> None:
    async with monitor(simulator, size=(60, 20)) as (app, _):
        text = screen_text(app)
        rows = [line for line in text.splitlines()[3:] if "╭" not in line]  # not titles
        assert not [line for line in rows if "…" in line]  # nothing cut
        for figure in ("2,743.470", "50,000.000", "47,256.530", "$492.87", "$70.63", "3,531"):
            assert figure in text


async def test_the_chart_replots_for_a_new_height(simulator: Simulator) -> None:
    async with monitor(simulator, size=(120, 40)) as (app, pilot):
        chart = app.query_one("#chart")
        tall = chart._key
        await pilot.resize_terminal(120, 30)
        await press_and_settle(pilot)
        assert chart._key != tall  # the bars' rows and ticks are for the new height
        assert chart._key[5] == chart.content_region.height - 4  # rows of the plot


async def test_at_60x20_the_live_tab_with_a_mark_and_rates_is_not_cut(
    make_simulator: Any,
) -> None:
    sim = make_simulator(scenario="load-test")
    async with monitor(sim, size=(60, 20)) as (app, pilot):
        await press_and_settle(pilot, "2", "m")
        await pilot.press("enter")
        await poll_through(pilot, sim.clock.advance, polls=8, step=60)
        app.clear_notifications()
        await press_and_settle(pilot)
        text = screen_text(app)
        assert "since mark" in text and "▲" in text  # the runway flagged, in short
        rows = [line for line in text.splitlines()[3:] if "╭" not in line]
        assert not [line for line in rows if "…" in line], text


async def test_a_narrow_live_tab_still_says_the_balance_is_the_accounts(
    simulator: Simulator,
) -> None:
    # 66 columns: "(account)" does not fit beside the balance, "(acct)" does.
    async with monitor(simulator, size=(66, 24)) as (app, pilot):
        await press_and_settle(pilot, "2")
        balance = next(line for line in screen_text(app).splitlines() if "│ balance" in line)
        assert "$492.87 (acct)" in balance and "…" not in balance

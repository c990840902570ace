"""Rates, runways, top-ups and rollovers in the running app, fed by the simulator."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Static

from tests.conftest import settings_for
from tests.test_app import _drawn, header, shown, until
from tui import format as fmt
from tui.app import VectrosUsageApp
from tui.history import default_path
from tui.pilot import poll_through
from tui.simulator import Simulator
from tui.widgets.credits import CreditsPanel
from tui.widgets.daily_chart import DailyChart
from tui.widgets.inference import InferencePanel
from tui.widgets.intraday import IntradayStrip
from tui.widgets.marks import MarksScreen
from tui.widgets.status import NoticeBar


@contextlib.asynccontextmanager
async def watching(
    sim: Simulator, size: tuple[int, int] = (120, 40)
) -> AsyncIterator[tuple[VectrosUsageApp, Pilot[int]]]:
    """An app polling the simulator, its first report on screen."""
    app = VectrosUsageApp(settings_for(sim.base_url))
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: app.settled)
        yield app, pilot


async def poll_after(pilot, app: VectrosUsageApp, sim: Simulator, seconds: float) -> None:  # type: ignore[no-untyped-def]
    await poll_through(pilot, sim.clock.advance, polls=1, step=seconds)


def row(app: VectrosUsageApp, panel: type, label: str) -> str:
    """The value on the row with this label, checked to be drawn on screen."""
    value = app.query_one(panel).figures()[label]
    assert value in shown(app, panel)
    return value


async def test_rates_warm_up_then_show_the_simulators_own_pace(
    make_simulator: Callable[..., Simulator],
) -> None:
    sim = make_simulator()
    async with watching(sim) as (app, pilot):
        first = sim.model.report()
        assert row(app, CreditsPanel, "rate 5m") == "warming up"
        await poll_after(pilot, app, sim, 20)
        assert row(app, CreditsPanel, "rate 5m") == "warming up"  # 20 s is not enough
        for _ in range(6):
            await poll_after(pilot, app, sim, 60)
        # Six minutes of polls: the 5-minute rate has a figure, the hour's needs ten.
        assert row(app, CreditsPanel, "rate 5m").endswith("credits/min")
        assert row(app, CreditsPanel, "rate 1h") == "warming up"
        for _ in range(6):
            await poll_after(pilot, app, sim, 60)
        last = sim.model.report()
        span = 20 + 12 * 60
        whole = Fraction(last["credits"]["usedMilli"] - first["credits"]["usedMilli"]) * 60 / span
        # 1 h window holds every poll: exactly the model's pace, to the milli-credit.
        assert row(app, CreditsPanel, "rate 1h") == fmt.milli_rate(whole)
        spent = last["inference"]["spentCents"] - first["inference"]["spentCents"]
        assert row(app, InferencePanel, "rate 1h") == fmt.cents_rate(Fraction(spent) * 60 / span)
        runs_out = row(app, InferencePanel, "runs out")
        assert runs_out.startswith("in ") and runs_out.endswith("at this rate")
        assert row(app, CreditsPanel, "runs out").startswith(("not before the Jan 1 reset", "Dec"))


async def test_a_top_up_is_an_event_not_negative_spend(
    make_simulator: Callable[..., Simulator],
) -> None:
    start = datetime(2026, 12, 3, 14, 0, tzinfo=UTC)
    sim = make_simulator(scenario="top-up", start=start)
    async with watching(sim) as (app, pilot):
        for _ in range(12):  # two minutes a poll, across the top-up at 14:10
            await poll_after(pilot, app, sim, 120)
        assert row(app, InferencePanel, "top-up") == "+$500.00 at 14:10 UTC"
        rate = row(app, InferencePanel, "rate 5m")
        assert not rate.startswith("-") and rate.endswith("¢/min")
        assert "-" not in row(app, InferencePanel, "rate 1h")


async def test_a_top_up_seen_after_a_gap_says_it_happened_in_it(
    make_simulator: Callable[..., Simulator],
) -> None:
    # The monitor saw 14:00, then nothing until 14:30 (stopped, or offline): the
    # top-up at 14:10 happened somewhere in between, and that is all it can say.
    start = datetime(2026, 12, 3, 14, 0, tzinfo=UTC)
    sim = make_simulator(scenario="top-up", start=start)
    async with watching(sim) as (app, pilot):
        await poll_after(pilot, app, sim, 30 * 60)
        assert row(app, InferencePanel, "top-up") == "+$500.00 between 14:00 and 14:30 UTC"
    # And so it stays when read back from the history by a new monitor.
    async with watching(sim) as (app, pilot):
        assert row(app, InferencePanel, "top-up") == "+$500.00 between 14:00 and 14:30 UTC"


async def test_a_month_rollover_is_said_and_the_rate_starts_again(
    make_simulator: Callable[..., Simulator],
) -> None:
    sim = make_simulator(scenario="month-end", start=datetime(2026, 12, 31, 23, 45, tzinfo=UTC))
    async with watching(sim) as (app, pilot):
        for _ in range(10):
            await poll_after(pilot, app, sim, 60)
        assert app.report is not None and app.report.period.key == (2026, 12)
        december_rate = row(app, CreditsPanel, "rate 5m")
        assert december_rate.endswith("credits/min")
        for _ in range(10):  # past midnight: January
            await poll_after(pilot, app, sim, 60)
        assert app.report is not None and app.report.period.key == (2027, 1)
        notice = shown(app, NoticeBar)
        assert "a new period began" in notice and "January 2027" in notice
        # Measured on January's polls only: no negative spike from the reset, and the
        # hour's window, which would otherwise span the reset, is still warming up.
        assert not row(app, CreditsPanel, "rate 5m").startswith("-")
        assert row(app, CreditsPanel, "rate 1h") == "warming up"
        assert app.report.credits.used_milli < 100_000  # January's, not December's


async def test_history_survives_a_restart_so_rates_need_no_new_warm_up(
    make_simulator: Callable[..., Simulator], state_dir: Path
) -> None:
    sim = make_simulator()
    first = VectrosUsageApp(settings_for(sim.base_url))
    async with first.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: first.settled)
        for _ in range(5):
            await poll_after(pilot, first, sim, 30)
        rate = row(first, CreditsPanel, "rate 5m")
    assert rate != "warming up"
    assert default_path().is_relative_to(state_dir) and default_path().exists()
    assert b"demo-billing" not in default_path().read_bytes()  # figures only, no token
    again = VectrosUsageApp(settings_for(sim.base_url))
    async with again.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: again.settled)
        assert row(again, CreditsPanel, "rate 5m") == rate  # from the recorded polls


async def test_no_history_records_nothing(
    make_simulator: Callable[..., Simulator], state_dir: Path
) -> None:
    sim = make_simulator()
    settings = settings_for(sim.base_url)._replace(history=False)
    app = VectrosUsageApp(settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.settled)
        await poll_after(pilot, app, sim, 30)
    assert not default_path().exists()


async def test_brackets_step_through_closed_periods_fetched_once(
    make_simulator: Callable[..., Simulator],
) -> None:
    sim = make_simulator()
    async with watching(sim) as (app, pilot):
        assert app._client is not None
        fetched: list[object] = []
        real_fetch = app._client.fetch

        async def counting(period: tuple[int, int] | None = None) -> object:
            fetched.append(period)
            return await real_fetch(period)

        app._client.fetch = counting  # type: ignore[method-assign]
        await pilot.press("left_square_bracket")
        await until(pilot, lambda: "November 2026 UTC · CLOSED" in header(app))
        november = sim.model.report((2026, 11))
        used = fmt.milli(november["credits"]["usedMilli"])
        assert f"{used} credits" in shown(app, CreditsPanel)
        await until(pilot, lambda: "closed period" in shown(app, NoticeBar))  # once laid out
        assert "rate 5m" not in shown(app, CreditsPanel)  # no rates for a closed month
        await pilot.press("left_square_bracket")
        await until(pilot, lambda: "October 2026 UTC · CLOSED" in header(app))
        await pilot.press("right_square_bracket")
        await until(pilot, lambda: "November 2026 UTC · CLOSED" in header(app))
        await pilot.press("right_square_bracket")  # past the current month: live again
        await until(pilot, lambda: "December 2026 UTC · Demo" in header(app))
        assert "CLOSED" not in header(app)
        assert "rate 5m" in shown(app, CreditsPanel)
        await pilot.press("left_square_bracket")
        await until(pilot, lambda: "November 2026 UTC · CLOSED" in header(app))
        past = [p for p in fetched if p is not None]
        assert past == [(2026, 11), (2026, 10)]  # each closed month fetched once
        # Live polling goes on underneath, for the current month only.
        polls = app.polls
        await pilot.press("r")
        await until(pilot, lambda: app.polls > polls)
        assert "November 2026 UTC · CLOSED" in header(app)


async def test_quick_bracket_presses_each_step_a_month(
    make_simulator: Callable[..., Simulator],
) -> None:
    sim = make_simulator()
    async with watching(sim) as (app, pilot):
        assert app._client is not None
        real_fetch = app._client.fetch

        async def slow(period: tuple[int, int] | None = None) -> object:
            if period is not None:
                await asyncio.sleep(0.3)  # three presses land while a month is fetched
            return await real_fetch(period)

        app._client.fetch = slow  # type: ignore[method-assign]
        await pilot.press("left_square_bracket", "left_square_bracket", "left_square_bracket")
        await until(pilot, lambda: "September 2026 UTC · CLOSED" in header(app))
        await pilot.pause(0.5)  # a fetch for a month passed by must not take the screen
        assert "September 2026 UTC · CLOSED" in header(app)
        await pilot.press("right_square_bracket", "right_square_bracket")
        await until(pilot, lambda: "November 2026 UTC · CLOSED" in header(app))


async def test_a_period_the_server_refuses_is_said_and_the_screen_stays(
    make_simulator: Callable[..., Simulator],
) -> None:
    sim = make_simulator()
    async with watching(sim) as (app, pilot):
        for _ in range(13):  # the simulator answers 12 months back, no further
            await pilot.press("left_square_bracket")
            await pilot.pause(0.2)
        await until(pilot, lambda: "cannot show 2025-11" in shown(app, NoticeBar))
        assert "December 2025 UTC · CLOSED" in header(app)


async def test_a_named_mark_counts_spend_on_every_tab_persists_and_clears(
    make_simulator: Callable[..., Simulator],
) -> None:
    sim = make_simulator(scenario="load-test")
    async with watching(sim, size=(120, 50)) as (app, pilot):
        start = sim.model.report()
        await pilot.press("m")
        await pilot.press(*"load test started")
        await pilot.press("enter")
        await until(pilot, lambda: "since mark" in shown(app, CreditsPanel))
        assert row(app, CreditsPanel, "since mark") == "+0.000 credits"
        for _ in range(5):
            await poll_after(pilot, app, sim, 60)
        now = sim.model.report()
        used = now["credits"]["usedMilli"] - start["credits"]["usedMilli"]
        spent = now["inference"]["spentCents"] - start["inference"]["spentCents"]
        assert row(app, CreditsPanel, "mark") == "“load test started” 5 min ago"
        assert row(app, CreditsPanel, "since mark") == f"+{fmt.milli(used)} credits"
        assert row(app, CreditsPanel, "mark avg") == fmt.milli_rate(Fraction(used, 5))
        assert row(app, InferencePanel, "since mark").startswith(f"+{fmt.money(spent)}")
        await pilot.press("2")  # the Live tab: live's own spend since the mark
        await until(pilot, lambda: app.scope == "live")
        await pilot.pause()
        live = (
            now["environments"]["live"]["credits"]["usedMilli"]
            - (start["environments"]["live"]["credits"]["usedMilli"])
        )
        assert row(app, CreditsPanel, "since mark") == f"+{fmt.milli(live)} credits"
    # The mark is in the history store: a new monitor picks it up.
    again = VectrosUsageApp(settings_for(sim.base_url))
    async with again.run_test(size=(120, 50)) as pilot:
        await until(pilot, lambda: again.settled)
        assert row(again, CreditsPanel, "since mark") == f"+{fmt.milli(used)} credits"
        await pilot.press("M")
        await until(pilot, lambda: isinstance(again.screen, MarksScreen))
        listed = " ".join(str(w.render()) for w in again.screen.query(Static))
        assert "load test started" in listed and "Dec 3 10:30 UTC" in listed
        await pilot.press("x")  # clear all marks? it asks first
        await pilot.pause()
        assert isinstance(again.screen, MarksScreen)
        assert "x again clears" in " ".join(str(w.render()) for w in again.screen.query(Static))
        await pilot.press("n", "x")  # no: kept; and the next x asks again
        await pilot.pause()
        assert isinstance(again.screen, MarksScreen)
        await pilot.press("x")  # yes
        await until(pilot, lambda: "since mark" not in shown(again, CreditsPanel))


async def test_the_last_hour_minute_by_minute_follows_the_chart_metric(
    make_simulator: Callable[..., Simulator],
) -> None:
    sim = make_simulator(scenario="load-test")
    async with watching(sim) as (app, pilot):
        figures = [sim.model.report()]
        for _ in range(8):  # a poll a minute: each climb lands in its own minute
            await poll_after(pilot, app, sim, 60)
            figures.append(sim.model.report())
        strip = app.query_one(IntradayStrip)
        used = [f["credits"]["usedMilli"] for f in figures]
        peak = max(b - a for a, b in itertools.pairwise(used))
        text = _drawn(strip)
        assert text.startswith(" last hour, credits/min ")
        assert text.rstrip().endswith(f"peak {fmt.milli(peak)} credits/min")
        assert "█" in text and "·" in text  # the peak minute, and minutes before polling
        await pilot.press("c")
        await until(pilot, lambda: "¢/min" in _drawn(strip))
        spent = [f["inference"]["spentCents"] for f in figures]
        assert (
            _drawn(strip)
            .rstrip()
            .endswith(f"peak {fmt.cents(max(b - a for a, b in itertools.pairwise(spent)))}/min")
        )
        await pilot.press("left_square_bracket")  # a closed month has no last hour
        await until(pilot, lambda: not strip.display or strip.has_class("-hidden"))


async def test_runways_fall_back_to_the_hour_when_five_minutes_are_too_few(
    make_simulator: Callable[..., Simulator],
) -> None:
    # Polls five simulated minutes apart (a fast clock, or a long interval): the 5-min
    # rate never has three polls, the hour's does, and the runways use it.
    sim = make_simulator()
    async with watching(sim) as (app, pilot):
        for _ in range(4):
            await poll_after(pilot, app, sim, 300)
        assert row(app, CreditsPanel, "rate 5m") == "warming up"
        assert row(app, CreditsPanel, "rate 1h").endswith("credits/min")
        assert row(app, InferencePanel, "runs out").startswith("in ")
        assert row(app, CreditsPanel, "runs out") != "—"


async def test_t_shows_the_last_hour_minute_by_minute_in_the_chart(
    make_simulator: Callable[..., Simulator],
) -> None:
    sim = make_simulator(scenario="load-test")
    async with watching(sim, size=(120, 40)) as (app, pilot):
        for _ in range(8):
            await poll_after(pilot, app, sim, 60)
        strip = app.query_one(IntradayStrip)
        assert strip.display and strip.styles.display == "block"
        await pilot.press("t")
        await until(pilot, lambda: app.settled)
        chart = app.query_one(DailyChart)
        assert chart.border_title.startswith("Last hour, credits/min · live + test")
        drawn = "\n".join(line.plain for line in chart._lines)
        assert "now" in drawn and "-45" in drawn  # the hour, ticked every 15 minutes
        assert "credits/min" in drawn
        assert not strip.region.height  # the chart shows that hour: no strip besides
        await pilot.press("c")
        await until(pilot, lambda: "Last hour, ¢/min" in chart.border_title)
        await pilot.press("left_square_bracket")  # a closed month has no last hour
        await until(pilot, lambda: "CLOSED" in header(app))
        await until(pilot, lambda: chart.border_title.startswith("Daily inference spent"))
        await pilot.press("right_square_bracket", "t")
        await until(pilot, lambda: chart.border_title.startswith("Daily inference spent"))
        assert "CLOSED" not in header(app)

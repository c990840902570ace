"""SVG snapshots of the real app on the frozen simulator (deterministic data and clock).

Re-record after a deliberate change of the screen: `make snapshots-update`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.conftest import settings_for
from tui.app import VectrosUsageApp
from tui.config import Settings
from tui.pilot import poll_through, press_and_settle
from tui.simulator import Simulator
from tui.thresholds import Thresholds


def frozen_app(sim: Simulator, **settings: Any) -> VectrosUsageApp:
    base = settings_for(sim.base_url)
    label = f"DEMO {sim.model.scenario} frozen"
    given = Settings(
        base_url=base.base_url, token=base.token, demo=True, demo_label=label, **settings
    )
    # A frozen monotonic clock: "live · just now" in every run.
    return VectrosUsageApp(given, clock=lambda: 1000.0)


def after_first_poll(*keys: str) -> Callable[[Pilot[Any]], Any]:
    async def run_before(pilot: Pilot[Any]) -> None:
        await press_and_settle(pilot, *keys)

    return run_before


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_total_tab(snap_compare: Any, simulator: Simulator, size: tuple[int, int]) -> None:
    assert snap_compare(frozen_app(simulator), terminal_size=size, run_before=after_first_poll())


def test_live_tab_120x40(snap_compare: Any, simulator: Simulator) -> None:
    assert snap_compare(
        frozen_app(simulator), terminal_size=(120, 40), run_before=after_first_poll("2")
    )


def test_test_tab_inference_chart_80x24(snap_compare: Any, simulator: Simulator) -> None:
    assert snap_compare(
        frozen_app(simulator), terminal_size=(80, 24), run_before=after_first_poll("3", "c")
    )


def test_total_tab_with_a_mark_and_a_top_up_120x40(
    snap_compare: Any, make_simulator: Callable[..., Simulator]
) -> None:
    # A mark at 14:00, then twelve two-minute polls across the top-up scenario's
    # $500.00 at 14:10 UTC: rates, runways and spend since the mark have figures, and
    # the top-up shows as an event.
    sim = make_simulator(scenario="top-up", start=datetime(2026, 12, 3, 14, 0, tzinfo=UTC))

    async def run_before(pilot: Pilot[Any]) -> None:
        await press_and_settle(pilot)
        await pilot.press("m", *"load test", "enter")
        await poll_through(pilot, sim.clock.advance, polls=12, step=120)
        pilot.app.clear_notifications()  # the "mark set" toast: gone by its own clock
        await press_and_settle(pilot)

    assert snap_compare(frozen_app(sim), terminal_size=(120, 40), run_before=run_before)


@pytest.mark.parametrize("size", [(60, 20), (200, 60)])
def test_small_and_large_terminals(
    snap_compare: Any, simulator: Simulator, size: tuple[int, int]
) -> None:
    # 60x20: every figure stays (shorter forms where a full one would be cut) and
    # the daily chart gives way; 200x60: a bigger chart.
    assert snap_compare(frozen_app(simulator), terminal_size=size, run_before=after_first_poll())


def test_below_the_minimum_says_so(snap_compare: Any, simulator: Simulator) -> None:
    assert snap_compare(
        frozen_app(simulator), terminal_size=(50, 16), run_before=after_first_poll()
    )


def test_light_theme_with_warn_and_critical_levels(snap_compare: Any, simulator: Simulator) -> None:
    # Levels set so the allowance (6 % used) is critical and the balance warns: the
    # words and colours of both states, readable on a light background.
    levels = Thresholds(
        credits_warn_percent=2, credits_critical_percent=5, balance_warn_cents=10**7
    )

    async def run_before(pilot: Pilot[Any]) -> None:
        await press_and_settle(pilot)
        pilot.app.clear_notifications()  # the alerts' toasts: gone by their own clock
        await press_and_settle(pilot)

    app = frozen_app(simulator, theme="textual-light", thresholds=levels)
    assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)


def test_money_hidden_80x30(snap_compare: Any, simulator: Simulator) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await press_and_settle(pilot, "h", "c")
        pilot.app.clear_notifications()
        await press_and_settle(pilot)

    assert snap_compare(frozen_app(simulator), terminal_size=(80, 30), run_before=run_before)


def test_help_lists_the_keys(snap_compare: Any, simulator: Simulator) -> None:
    assert snap_compare(
        frozen_app(simulator), terminal_size=(100, 40), run_before=after_first_poll("?")
    )

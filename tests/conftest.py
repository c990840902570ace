from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tui.client import Secret
from tui.config import Settings
from tui.simulator import DEMO_TOKEN, Simulator

EXAMPLES = Path(__file__).parent / "examples"
# A Thursday, mid-morning UTC, three days into December: every frozen test sees this.
FROZEN_START = datetime(2026, 12, 3, 10, 30, tzinfo=UTC)


async def until(pilot: Pilot[Any], condition: Callable[[], bool], timeout: float = 10) -> None:
    """Let the app run until condition holds (a liveness bound, not a speed check)."""
    async with asyncio.timeout(timeout):
        while not condition():
            await pilot.pause(0.05)


def example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / name).read_text())
    return data


@pytest.fixture(autouse=True)
def state_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test (and every subprocess it starts) records history in its own tmp dir."""
    path = tmp_path_factory.mktemp("state")
    monkeypatch.setenv("VECTROS_USAGE_STATE_DIR", str(path))
    return path


@pytest.fixture
def make_simulator() -> Iterator[Callable[..., Simulator]]:
    started: list[Simulator] = []

    def make(**kwargs: Any) -> Simulator:
        kwargs.setdefault("speed", 0)
        kwargs.setdefault("start", FROZEN_START)
        sim = Simulator(**kwargs).start()
        started.append(sim)
        return sim

    yield make
    for sim in started:
        sim.stop()


@pytest.fixture
def simulator(make_simulator: Callable[..., Simulator]) -> Simulator:
    """The simulator on a loopback port, clock frozen at FROZEN_START."""
    return make_simulator()


def settings_for(base_url: str, *, token: str = DEMO_TOKEN, interval: float = 5.0) -> Settings:
    return Settings(base_url=base_url, token=Secret(token), interval=interval)


@pytest.fixture(autouse=True)
def config_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test (nor its subprocesses) reads the developer's own config file or profile."""
    path = tmp_path_factory.mktemp("config")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(path))
    monkeypatch.delenv("VECTROS_USAGE_CONFIG", raising=False)
    monkeypatch.delenv("VECTROS_USAGE_PROFILE", raising=False)
    return path

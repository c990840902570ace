"""The simulated Vectros usage API: a deterministic model and a real HTTP server."""

from tui.simulator.model import SCENARIOS, UsageModel, VirtualClock
from tui.simulator.server import DEMO_RECORDS_TOKEN, DEMO_TOKEN, Simulator

__all__ = [
    "DEMO_RECORDS_TOKEN",
    "DEMO_TOKEN",
    "SCENARIOS",
    "Simulator",
    "UsageModel",
    "VirtualClock",
]

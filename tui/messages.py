"""Typed messages: how data reaches the widgets from the poll worker."""

from __future__ import annotations

from textual.message import Message

from tui.client import Fetched, UsageError


class ReportReceived(Message):
    """A poll succeeded (a fresh report, or 304: the one we have is still current)."""

    def __init__(self, fetched: Fetched) -> None:
        super().__init__()
        self.fetched = fetched


class PollFailed(Message):
    """A poll failed; the last good figures stay, now stale. ``retry_in`` is seconds."""

    def __init__(self, error: UsageError, retry_in: float) -> None:
        super().__init__()
        self.error = error
        self.retry_in = retry_in


class PastReceived(Message):
    """A closed period's report, fetched once when someone stepped back to it."""

    def __init__(self, fetched: Fetched) -> None:
        super().__init__()
        self.fetched = fetched


class PastFailed(Message):
    def __init__(self, period: tuple[int, int], error: UsageError) -> None:
        super().__init__()
        self.period = period
        self.error = error

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

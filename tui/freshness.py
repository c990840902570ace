"""How fresh the figures on screen are, in words. Pure: no Textual, no clock of its own."""

from __future__ import annotations

import math
from typing import Literal, NamedTuple

from tui.client import UsageError
from tui.format import duration

State = Literal["connecting", "live", "stale", "refused", "error"]

# Under this age the badge says "just now": at a 1 s interval it then stays still
# instead of flickering between 0 and 1 s (and repainting) between polls.
JUST_NOW = 2.0


def stale_after(interval: float) -> float:
    """A healthy poller refreshes every interval; well past that, something is stuck."""
    return max(3 * interval, interval + 10)


class Freshness(NamedTuple):
    state: State
    badge: str  # short, for the header: "● live · 3 s ago"
    detail: str  # the reason in words, for the notice line ("" when all is well)


def describe(
    *,
    now: float,
    last_success: float | None,
    interval: float,
    error: UsageError | None,
    retry_at: float | None,
) -> Freshness:
    """``now``, ``last_success`` and ``retry_at`` are monotonic seconds."""
    age = None if last_success is None else now - last_success
    retry = ""
    if retry_at is not None and error is not None:
        wait = retry_at - now
        retry = f" — retrying in {duration(wait)}" if wait >= 1 else " — retrying now"
    if error is not None:
        reason = error.message.rstrip(". ") + retry
        state: State = "refused" if error.is_auth else "stale"
        word = "token refused" if error.is_auth else "stale"
        if age is None:
            first = "token refused" if error.is_auth else "no data yet"
            return Freshness(state, f"✖ {first}", reason)
        return Freshness(state, f"▲ {word} · {duration(age)} old", reason)
    if age is None:
        return Freshness("connecting", "◌ connecting…", "")
    if age > stale_after(interval):
        return Freshness("stale", f"▲ stale · {duration(age)} old", "no answer from the server yet")
    when = "just now" if age < JUST_NOW else f"{duration(age)} ago"
    return Freshness("live", f"● live · {when}", "")


def next_change(
    *,
    now: float,
    last_success: float | None,
    interval: float,
    error: UsageError | None,
) -> float:
    """Seconds until ``describe``'s words can next differ from what they say at ``now``.

    The header is drawn again then, not every second: at a 1 s interval the polls
    keep the badge at "just now" and nothing else has to wake. While something is
    wrong (a retry counting down) it is a second.
    """
    if error is not None or last_success is None:
        return 1.0
    age = now - last_success
    limit = stale_after(interval)
    if age >= limit:
        # Past the limit the words no longer move but by the second ("5 s old").
        return 1e-3 if age == limit else math.floor(age) + 1 - age
    # "just now" until 2 s; after that the whole seconds; and the turn to stale.
    whole = JUST_NOW - age if age < JUST_NOW else math.floor(age) + 1 - age
    return min(whole, limit - age)

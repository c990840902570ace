"""When the monitor's screen draws a frame: as soon as what a change set going has run,
at most 60 times a second, and otherwise never wakes.

Textual's screen draws from an interval timer that it pauses between frames. After
each frame that timer sleeps on to the next 1/60 s slot before it waits to be
resumed: one more wake-up of the whole process for every frame, with nothing to do.
A monitor that draws once a second and otherwise sleeps pays for it in CPU: waking
an idle process costs more here than the work it then does (the freshness tick's
wake-up alone was ~0.7 ms a second). ``FrameClock`` keeps the same contract (a frame
soon after ``resume``, no two frames closer than ``UPDATE_PERIOD``, none while paused)
with a few loop callbacks a frame and no timer. The frame waits behind what was already
queued when it was asked for, and what that queued in turn (``HOPS`` rounds of the
loop): a poll that changes the figures also asks, through two hops of Textual's
messages, for a layout (the header's badge growing), and that layout belongs in the
same frame, not in one a moment later (which drew the badge cut short).

Textual's ``Screen`` uses its ``_update_timer`` only through ``resume()`` and
``pause()`` (textual 8.2.8, pinned); ``tests/test_frames.py`` holds it to that.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from textual import constants

UPDATE_PERIOD = 1 / constants.MAX_FPS  # as Textual's own screen timer
HOPS = 4  # rounds of the event loop a frame waits behind, each after what is ready


class FrameClock:
    """Calls ``draw`` once the loop has run what was ready at ``resume()`` (and what that
    made ready, ``HOPS`` deep), no sooner than a period after the last frame."""

    def __init__(self, draw: Callable[[], None], on_error: Callable[[Exception], None]) -> None:
        self._draw = draw
        self._on_error = on_error
        self._pending: asyncio.Handle | None = None
        self._last = float("-inf")  # loop time of the last frame
        self.frames = 0  # drawn so far (for tests and the curious)

    def resume(self) -> None:
        if self._pending is not None:
            return  # a frame is already coming: it will draw everything dirty by then
        loop = asyncio.get_running_loop()
        wait = self._last + UPDATE_PERIOD - loop.time()
        if wait > 0:
            self._pending = loop.call_later(wait, self._frame)
        else:
            self._pending = loop.call_soon(self._hop, HOPS)

    def pause(self) -> None:
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None

    def stop(self) -> None:
        self.pause()

    def _hop(self, left: int) -> None:
        # Each call_soon goes behind everything already ready to run.
        if left:
            self._pending = asyncio.get_running_loop().call_soon(self._hop, left - 1)
        else:
            self._frame()

    def _frame(self) -> None:
        self._pending = None
        self._last = asyncio.get_running_loop().time()
        self.frames += 1
        try:
            self._draw()
        except Exception as error:  # as Textual's timer does: the app reports it
            self._on_error(error)

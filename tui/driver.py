"""Textual's terminal driver, but the end of the terminal's input ends the monitor.

Textual's ``LinuxDriver`` (8.2.8, pinned) reads the terminal in a thread. Once that
input is at end of file, its loop goes on selecting (at once: end of file is always
"readable") and reading nothing: a core at 100 % for as long as the process lives.
That is what a dropped SSH session leaves when the monitor gets no SIGHUP (started
under ``nohup`` or ``setsid``, or the hang-up lost): a process nobody can see, burning
a core on an ops box and polling the API for ever. (Textual's PR #6690, open, stops
the reading; here the monitor quits, as a hang-up makes it: status 129.)

``run_input_thread`` below is Textual's loop with that one change: the end of file is
seen on the bytes read, before they are decoded (an incomplete UTF-8 sequence also
decodes to nothing, and is not the end). ``tests/test_terminal.py`` holds the copy to
the pinned Textual's source, so a Textual bump brings it back here.
"""

from __future__ import annotations

import logging
import os
import select
import selectors
from codecs import getincrementaldecoder
from typing import TextIO

from textual._loop import loop_last
from textual._parser import ParseError
from textual._xterm_parser import XTermParser
from textual.drivers.linux_driver import LinuxDriver

log = logging.getLogger("vectros_usage.driver")

EXIT_HANGUP = 128 + 1  # as when SIGHUP ends it


def _hung_up(file: TextIO | None) -> bool:
    """Whether the terminal's output end is gone too (a closed pty reports POLLHUP)."""
    if file is None:
        return True
    try:
        poller = select.poll()
        poller.register(file.fileno(), select.POLLOUT)
        return any(mask & (select.POLLHUP | select.POLLERR) for _, mask in poller.poll(0))
    except (OSError, ValueError):
        return True


class HangupAwareDriver(LinuxDriver):
    def _input_ended(self) -> None:
        """From the input thread: the terminal is gone, so is anyone watching."""
        log.warning("the terminal's input ended (the session is gone): quitting")
        # Said where the screen was, unless that is gone too (writing would fail).
        said: str | None = (
            "vectros-usage: the terminal's input ended (is stdin a terminal?), so it quit"
        )
        if _hung_up(self._file):
            said = None
        self._loop.call_soon_threadsafe(
            lambda: self._app.exit(return_code=EXIT_HANGUP, message=said)
        )

    def run_input_thread(self) -> None:
        """Wait for input and dispatch events (Textual's, but for the end of file)."""
        selector = selectors.SelectSelector()
        selector.register(self.fileno, selectors.EVENT_READ)

        fileno = self.fileno
        EVENT_READ = selectors.EVENT_READ

        parser = XTermParser(self._debug)
        feed = parser.feed
        tick = parser.tick

        utf8_decoder = getincrementaldecoder("utf-8")().decode
        decode = utf8_decoder
        read = os.read
        ended = False

        def process_selector_events(
            selector_events: list[tuple[selectors.SelectorKey, int]],
            final: bool = False,
        ) -> None:
            nonlocal ended
            for last, (_selector_key, mask) in loop_last(selector_events):
                if mask & EVENT_READ:
                    try:
                        data = read(fileno, 1024 * 4)
                    except OSError:  # EIO: a terminal hung up, as some systems say it
                        data = b""
                    if not data:  # the change: the end of file, not a quiet moment
                        ended = True
                        break
                    unicode_data = decode(data, final=final and last)
                    if not unicode_data:
                        break
                    for event in feed(unicode_data):
                        self.process_message(event)
            for event in tick():
                self.process_message(event)

        try:
            while not self.exit_event.is_set() and not ended:
                process_selector_events(selector.select(0.1))
            if ended:
                self._input_ended()
                return
            selector.unregister(self.fileno)
            process_selector_events(selector.select(0.1), final=True)

        finally:
            selector.close()
            try:
                for _event in feed(""):
                    pass
            except (EOFError, ParseError):
                pass

"""The monitor in a real pseudo-terminal: it quits on q, Ctrl-C, SIGTERM and SIGHUP,
says which in its exit status, and leaves the terminal as it found it."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time

import pytest

ALT_SCREEN_ON, ALT_SCREEN_OFF = b"\x1b[?1049h", b"\x1b[?1049l"
CURSOR_SHOWN = b"\x1b[?25h"


class PtyRun:
    def __init__(self, *args: str) -> None:
        self.master, slave = os.openpty()
        os.set_blocking(self.master, False)
        env = {k: v for k, v in os.environ.items() if not k.startswith("VECTROS_")}
        env |= {"TERM": "xterm-256color", "COLUMNS": "100", "LINES": "30"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tui", *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            start_new_session=True,
            close_fds=True,
        )
        os.close(slave)
        self.output = bytearray()

    def read_until(self, needle: bytes, timeout: float = 20) -> bool:
        deadline = time.monotonic() + timeout
        while needle not in self.output and time.monotonic() < deadline:
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if ready:
                try:
                    self.output += os.read(self.master, 65536)
                except OSError:
                    break
        return needle in self.output

    def finish(self, timeout: float = 15) -> int:
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            self.read_until(b"\x00never", timeout=0.2)
        if self.proc.poll() is None:
            self.proc.kill()
        self.read_until(b"\x00never", timeout=0.3)
        os.close(self.master)
        return self.proc.wait(5)


@pytest.mark.parametrize(
    ("how", "status"),
    [
        ("q", 0),
        ("ctrl-c", 0),
        (signal.SIGTERM, 128 + 15),
        (signal.SIGHUP, 128 + 1),
        (signal.SIGINT, 128 + 2),
    ],
)
def test_quits_and_restores_the_terminal(how: object, status: int) -> None:
    run = PtyRun("--demo", "--speed", "0", "--start", "2026-12-03T10:30:00Z")
    try:
        assert run.read_until(b"credits"), bytes(run.output[-500:])
        if how == "q":
            os.write(run.master, b"q")
        elif how == "ctrl-c":
            os.write(run.master, b"\x03")
        else:
            assert isinstance(how, signal.Signals)
            run.proc.send_signal(how)
    finally:
        code = run.finish()
    assert code == status
    out = bytes(run.output)
    assert ALT_SCREEN_ON in out
    assert out.rfind(ALT_SCREEN_OFF) > out.rfind(ALT_SCREEN_ON)  # back on the normal screen
    assert out.rfind(CURSOR_SHOWN) > out.rfind(ALT_SCREEN_ON)
    assert b"Traceback" not in out

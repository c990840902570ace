"""The monitor in a real pseudo-terminal: it quits on q, Ctrl-C, SIGTERM and SIGHUP,
says which in its exit status, and leaves the terminal as it found it."""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import os
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import ClassVar

import pytest
from textual.drivers.linux_driver import LinuxDriver

from tui.simulator import Simulator

ALT_SCREEN_ON, ALT_SCREEN_OFF = b"\x1b[?1049h", b"\x1b[?1049l"
CURSOR_SHOWN = b"\x1b[?25h"


class PtyRun:
    started: ClassVar[list[PtyRun]] = []

    def __init__(
        self, *args: str, env: dict[str, str] | None = None, code: str | None = None
    ) -> None:
        self.master, slave = os.openpty()
        os.set_blocking(self.master, False)
        base = {
            k: v for k, v in os.environ.items() if k not in ("VECTROS_BASE_URL", "VECTROS_TOKEN")
        }
        base |= {"TERM": "xterm-256color", "COLUMNS": "100", "LINES": "30"} | (env or {})
        env = base
        program = ["-c", code] if code else ["-m", "tui"]
        self.proc = subprocess.Popen(
            [sys.executable, *program, *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            start_new_session=True,
            close_fds=True,
        )
        os.close(slave)
        self.output = bytearray()
        PtyRun.started.append(self)

    @classmethod
    def reap(cls) -> None:
        """Kill what a failed test left running: it would outlive the test run."""
        while cls.started:
            run = cls.started.pop()
            if run.proc.poll() is None:
                run.proc.kill()
                run.proc.wait(5)
            with contextlib.suppress(OSError):
                os.close(run.master)

    def read_until(self, needle: bytes, timeout: float = 20, since: int = 0) -> bool:
        """Read until needle shows up in the output after offset ``since``."""
        deadline = time.monotonic() + timeout
        while needle not in self.output[since:] and time.monotonic() < deadline:
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if ready:
                try:
                    self.output += os.read(self.master, 65536)
                except OSError:
                    break
        return needle in self.output[since:]

    def finish(self, timeout: float = 15) -> int:
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            self.read_until(b"\x00never", timeout=0.2)
        if self.proc.poll() is None:
            self.proc.kill()
        self.read_until(b"\x00never", timeout=0.3)
        os.close(self.master)
        PtyRun.started.remove(self)
        return self.proc.wait(5)


@pytest.fixture(autouse=True)
def no_program_outlives_its_test() -> Iterator[None]:
    yield
    PtyRun.reap()


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


def test_quits_when_the_terminal_goes_away_without_a_hangup() -> None:
    # An SSH session that dies without the monitor getting SIGHUP (nohup, setsid): the
    # terminal's input ends. Textual alone would read nothing at 100 % of a core for
    # ever (tui/driver.py); the monitor quits, as a hang-up makes it.
    run = PtyRun("--demo", "--speed", "0", "--start", "2026-12-03T10:30:00Z")
    assert run.read_until(b"credits"), bytes(run.output[-500:])
    os.close(run.master)  # the session's end: no signal, this run has no controlling tty
    PtyRun.started.remove(run)
    try:
        assert run.proc.wait(15) == 128 + 1
    finally:
        if run.proc.poll() is None:
            run.proc.kill()
            run.proc.wait(5)


def test_with_no_terminal_to_read_it_says_so_and_quits() -> None:
    master, slave = os.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui", "--demo", "--speed", "0"],
        stdin=subprocess.DEVNULL,  # `vectros-usage < /dev/null`: input at its end at once
        stdout=slave,
        stderr=slave,
        env=os.environ | {"TERM": "xterm-256color"},
        start_new_session=True,
    )
    os.close(slave)
    try:
        assert proc.wait(15) == 128 + 1
        output = bytearray()
        while select.select([master], [], [], 0.2)[0]:
            try:
                output += os.read(master, 65536)
            except OSError:
                break
        assert b"the terminal's input ended (is stdin a terminal?)" in output
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
        os.close(master)


# The sha256 of Textual 8.2.8's LinuxDriver.run_input_thread, which tui/driver.py
# copies with one change: another Textual means reading its loop again.
PINNED_INPUT_LOOP = "d796af6d69db337d6fa6bd463984f7d17188d991dbb22f60efb92a8a9619507c"


def test_the_input_loop_copied_is_the_pinned_textuals() -> None:
    source = inspect.getsource(LinuxDriver.run_input_thread)
    assert hashlib.sha256(source.encode()).hexdigest() == PINNED_INPUT_LOOP, (
        "Textual's input loop changed: compare it with tui/driver.py's copy, then update"
    )


def restored(out: bytes) -> bool:
    return (
        ALT_SCREEN_ON in out
        and out.rfind(ALT_SCREEN_OFF) > out.rfind(ALT_SCREEN_ON)
        and out.rfind(CURSOR_SHOWN) > out.rfind(ALT_SCREEN_ON)
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def simulate(port: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [sys.executable, "-m", "tui", "simulate", "--port", str(port), "--speed", "60"],
        stderr=subprocess.PIPE,
    )
    assert server.stderr is not None
    assert b"simulating" in server.stderr.readline()  # listening
    return server


LIVE = "● live".encode()


def test_server_going_away_and_back_in_a_real_terminal() -> None:
    port = free_port()
    server = simulate(port)
    env = {"VECTROS_BASE_URL": f"http://127.0.0.1:{port}", "VECTROS_TOKEN": "demo-billing"}
    run = PtyRun("--interval", "1", env=env)
    try:
        assert run.read_until(LIVE), bytes(run.output[-500:])
        # The token came from the environment: not in the process's arguments or title.
        with open(f"/proc/{run.proc.pid}/cmdline", "rb") as cmdline:
            assert b"demo-billing" not in cmdline.read()
        server.terminate()
        server.wait(10)
        assert run.read_until(b"stale"), bytes(run.output[-800:])
        assert run.read_until(b"refused"), bytes(run.output[-800:])
        mark = len(run.output)
        server = simulate(port)
        # Backoff is capped at 4 intervals: it finds the server again by itself.
        assert run.read_until(LIVE, since=mark), bytes(run.output[-800:])
        os.write(run.master, b"q")
    finally:
        code = run.finish()
        server.terminate()
        server.wait(10)
    assert code == 0
    assert restored(bytes(run.output))
    assert b"demo-billing" not in run.output


CRASH = """
import sys
from tui.app import VectrosUsageApp
def boom(self):
    secret_in_a_local = self.settings.token
    raise RuntimeError("an internal error, on purpose")
VectrosUsageApp.action_refresh_now = boom
from tui.cli import main
sys.exit(main(["--interval", "1"]))
"""


def test_an_internal_error_restores_the_terminal_says_so_and_leaks_no_token(
    simulator: Simulator,
) -> None:
    token = "demo-billing"
    env = {"VECTROS_BASE_URL": simulator.base_url, "VECTROS_TOKEN": token}
    run = PtyRun(env=env, code=CRASH)
    try:
        assert run.read_until(b"credits"), bytes(run.output[-500:])
        os.write(run.master, b"r")  # the patched action raises
    finally:
        code = run.finish()
    out = bytes(run.output)
    assert code == 1  # not 0: App.run() swallows the crash, the CLI passes it on
    assert restored(out)
    assert b"an internal error, on purpose" in out  # Textual's crash report
    assert b"secret_in_a_local" in out  # ...which prints local variables,
    assert token.encode() not in out  # ...and still shows no token

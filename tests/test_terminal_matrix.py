"""The monitor under the terminals people run it in: TERM variants, NO_COLOR, without
the mouse, and alerts by bell and desktop-notification escape. Real pseudo-terminals."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

from tests.test_terminal import (
    ALT_SCREEN_OFF,
    CURSOR_SHOWN,
    PtyRun,
    no_program_outlives_its_test,  # noqa: F401 - the fixture, for these tests too
)

FROZEN = ("--demo", "--speed", "0", "--start", "2026-12-03T10:30:00Z")
MOUSE_ON = b"\x1b[?1000h"


def run_and_quit(*args: str, env: dict[str, str]) -> tuple[int, bytes]:
    run = PtyRun(*args, env=env)
    assert run.read_until(b"allowance", timeout=30), run.output[-400:]
    run.read_until(b"\x00never", timeout=1.0)  # the first report's frame, whole
    os.write(run.master, b"q")
    status = run.finish()
    return status, bytes(run.output)


def colours(output: bytes) -> set[int]:
    """Every 256-colour index the output used (foreground or background)."""
    return {int(n) for n in re.findall(rb"[34]8;5;(\d+)", output)}


@pytest.mark.parametrize("term", ["xterm-256color", "screen", "tmux-256color", "linux"])
def test_each_term_shows_the_figures_and_restores_the_terminal(term: str) -> None:
    status, output = run_and_quit(*FROZEN, env={"TERM": term})
    assert status == 0
    assert b"2,743.470" in output and b"$492.87" in output
    assert output.rstrip().endswith(ALT_SCREEN_OFF) or ALT_SCREEN_OFF in output[-200:]
    assert CURSOR_SHOWN in output[-200:]
    if term in ("linux", "screen"):
        # 16 colours: no 256-colour or true-colour escapes a console cannot show.
        assert b"38;5;" not in output and b"38;2;" not in output


def test_no_color_leaves_only_greys_and_the_words() -> None:
    status, output = run_and_quit(*FROZEN, env={"NO_COLOR": "1"})
    assert status == 0
    greys = set(range(232, 256)) | {0, 7, 8, 15, 16, 231}
    assert colours(output) <= greys, colours(output) - greys
    assert b"38;2;" not in output
    assert b"live" in output and b"ok" in output  # the states still have their words


def test_no_mouse_leaves_the_mouse_to_the_terminal() -> None:
    _, with_mouse = run_and_quit(*FROZEN, env={})
    status, without = run_and_quit(*FROZEN, "--no-mouse", env={})
    assert status == 0
    assert MOUSE_ON in with_mouse
    assert MOUSE_ON not in without


def test_a_crossed_level_rings_and_asks_for_a_desktop_notification(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        "[profiles.loud.thresholds]\n"
        "credits_warn_percent = 2\ncredits_critical_percent = 5\n"
        "bell = true\nnotify = true\n"
    )
    env = {"VECTROS_USAGE_CONFIG": str(config)}
    run = PtyRun(*FROZEN, "--profile", "loud", env=env)
    assert run.read_until(b"\x1b]9;", timeout=30), run.output[-400:]
    since = run.output.index(b"\x1b]9;")
    assert run.read_until(b"\x07", since=since)
    notice = bytes(run.output[since : run.output.index(b"\x07", since)])
    assert b"CRITICAL" in notice and b"5.4 % of the monthly allowance used" in notice
    # The bell itself: a BEL that ends no escape sequence.
    time.sleep(0.5)
    run.read_until(b"\x00never", timeout=0.5)
    bare = re.sub(rb"\x1b\][^\x07]*\x07", b"", bytes(run.output))
    assert b"\x07" in bare
    os.write(run.master, b"q")
    assert run.finish() == 0


def test_without_notify_no_escape_is_sent(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[thresholds]\ncredits_warn_percent = 2\ncredits_critical_percent = 5\n")
    status, output = run_and_quit(*FROZEN, env={"VECTROS_USAGE_CONFIG": str(config)})
    assert status == 0
    assert b"CRITICAL" in output  # the level shows on screen...
    assert b"\x1b]9;" not in output and b"\x1b]777;" not in output  # ...and nothing else

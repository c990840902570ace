"""The notification escape: the right dialect, nothing that could end it early."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tui.alerts import notification


def test_osc9_by_default_and_osc777_on_vte_and_foot() -> None:
    assert notification("vectros", "balance low", {}) == "\x1b]9;vectros: balance low\x07"
    vte = notification("vectros", "balance low", {"VTE_VERSION": "7600"})
    assert vte == "\x1b]777;notify;vectros;balance low\x07"
    assert notification("t", "b", {"TERM": "foot"}).startswith("\x1b]777;notify;")


def test_inside_tmux_it_is_wrapped_for_passthrough() -> None:
    wrapped = notification("vectros", "low", {"TMUX": "/tmp/tmux-0/default,1,0"})
    assert wrapped == "\x1bPtmux;\x1b\x1b]9;vectros: low\x07\x1b\\"


@given(st.text(), st.text())
def test_server_text_cannot_break_out_of_the_escape(title: str, body: str) -> None:
    for env in ({}, {"VTE_VERSION": "1"}):
        sequence = notification(title, body, env)
        inner = sequence[2:-1]  # between "ESC ]" and the closing BEL
        assert not any(ord(c) < 32 or 127 <= ord(c) < 160 for c in inner)
        if env:
            assert inner.count(";") == 3  # 777 ; notify ; title ; body

"""Desktop notifications by terminal escape, for an alert worth more than a toast. Pure.

There is no one standard: iTerm2, WezTerm, kitty, Ghostty and Windows Terminal show
OSC 9 (``ESC ] 9 ; text BEL``); urxvt, foot and VTE terminals (GNOME Terminal, Tilix)
show OSC 777 (``ESC ] 777 ; notify ; title ; body BEL``). Sending both makes some
terminals show two, so one is picked from the environment. Inside tmux the escape is
wrapped for passthrough (tmux needs ``set -g allow-passthrough on`` to let it out).
"""

from __future__ import annotations

from collections.abc import Mapping

from tui.format import safe_text

ESC, BEL = "\x1b", "\x07"


def _clean(text: str, limit: int) -> str:
    # No control characters (they would end the escape early) and no ';' (a field
    # separator in OSC 777).
    return safe_text(text, limit=limit).replace(";", ",")


def wants_osc777(env: Mapping[str, str]) -> bool:
    term = env.get("TERM", "")
    return bool(env.get("VTE_VERSION")) or term.startswith(("rxvt", "foot"))


def notification(title: str, body: str, env: Mapping[str, str]) -> str:
    """The escape sequence that asks this terminal for a desktop notification."""
    title, body = _clean(title, 60), _clean(body, 200)
    if wants_osc777(env):
        sequence = f"{ESC}]777;notify;{title};{body}{BEL}"
    else:
        sequence = f"{ESC}]9;{title}: {body}{BEL}"
    if env.get("TMUX"):
        # DCS passthrough: every ESC inside doubled.
        sequence = f"{ESC}Ptmux;{sequence.replace(ESC, ESC + ESC)}{ESC}\\"
    return sequence

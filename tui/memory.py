"""Keeping a long-running monitor's memory flat.

Textual's strips cache their own crops, so every repainted line becomes a reference
cycle that only the cyclic collector frees; CPython runs a full collection only
once the survivors have grown by a quarter of everything alive, which for a Textual
app is tens of thousands of dead strips between collections (RSS climbed ~0.5 MB in
the benchmark's first 25 s, ~1 MB over half an hour).

So, once start-up has settled (the first report drawn, the chart built), what is
alive then is frozen (it lives as long as the process: a collection no longer walks
it), and a full collection runs every few seconds: ~1 ms each, on what is left. It
runs when a poll or the freshness is shown, past its time: on a timer of its own it
would wake the process up for it.
"""

from __future__ import annotations

import gc

SETTLE_AFTER = 2.0  # seconds after the first report: the chart is built by then
COLLECT_EVERY = 5.0  # seconds between full collections


def settle() -> None:
    """What start-up left alive is the process's for good: out of the collector's way."""
    gc.collect()
    gc.freeze()


def collect() -> None:
    gc.collect()

"""The history store on real SQLite files in tmp dirs, including two writers at once."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tui.history import FULL_FOR, MINUTES_FOR, SCHEMA_VERSION, History, HistoryError
from tui.rates import Sample

T0 = 1_796_300_000.0
DEC = (2026, 12)
BASE = "https://api.vectros.example"


def poll(at: float, used: int = 0, balance: int = 50_000, spent: int = 0) -> dict[str, Sample]:
    total = Sample(at, at, DEC, used, spent, balance)
    return {
        "total": total,
        "live": Sample(at, at, DEC, used // 2, spent // 2),
        "test": Sample(at, at, DEC, used - used // 2, spent - spent // 2),
    }


def test_polls_survive_a_restart_and_series_never_mix(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    store = History(path, BASE, "acct_1")
    for i in range(5):
        store.record(poll(T0 + 10 * i, used=1000 * i))
    store.close()
    again = History(path, BASE, "acct_1")
    assert [s.used_milli for s in again.samples("total", since=None)] == [0, 1000, 2000, 3000, 4000]
    assert again.latest("live") == Sample(T0 + 40, T0 + 40, DEC, 2000, 0)
    # Another account, or the same account through another base URL: its own series.
    assert History(path, BASE, "acct_2").latest("total") is None
    assert History(path, "http://127.0.0.1:8787", "acct_1").latest("total") is None


def test_a_top_up_is_recorded_as_an_event_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    store = History(path, BASE, "acct_1")
    store.record(poll(T0, balance=1_000, spent=100))
    events = store.record(poll(T0 + 60, balance=51_000 - 20, spent=120))
    assert [(e.kind, e.amount) for e in events] == [("top-up", 50_000)]
    store.close()
    assert [(e.kind, e.amount) for e in History(path, BASE, "acct_1").events()] == [
        ("top-up", 50_000)
    ]


def test_no_history_keeps_nothing_on_disk(tmp_path: Path) -> None:
    store = History(None, BASE, "acct_1")
    store.record(poll(T0))
    assert store.count() == 3
    assert list(tmp_path.iterdir()) == []


def test_retention_policy_holds(tmp_path: Path) -> None:
    now = T0 + 60 * 86_400
    store = History(tmp_path / "h.sqlite3", BASE, "acct_1")
    recent = [now - 3600 + 5 * i for i in range(50)]  # within 48 h: all kept
    days_ago = [now - 3 * 86_400 + 5 * i for i in range(240)]  # 20 minutes' worth
    month_ago = [now - 40 * 86_400 + 20 * i for i in range(540)]  # 3 hours' worth
    for at in month_ago + days_ago + recent:
        store.record(poll(at))
    store.compact(now)
    kept = [s.at for s in store.samples("total", since=None)]
    assert [a for a in kept if a >= now - FULL_FOR] == recent
    middle = [a for a in kept if now - MINUTES_FOR <= a < now - FULL_FOR]
    assert len(middle) == len({int(a // 60) for a in days_ago}) < 25  # one a minute
    old = [a for a in kept if a < now - MINUTES_FOR]
    assert len(old) == len({int(a // 3600) for a in month_ago}) < 6  # one an hour
    assert old[-1] == month_ago[-1]  # the last of each bucket is the one kept
    # Every scope follows the same policy.
    assert len(store.samples("live", since=None)) == len(kept)


def test_schema_is_versioned_and_a_newer_file_is_refused_not_damaged(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    History(path, BASE, "acct_1").close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(HistoryError, match="written by a newer vectros-usage"):
        History(path, BASE, "acct_1")
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1


def test_an_old_file_is_migrated_and_keeps_its_rows(tmp_path: Path) -> None:
    # A file from before any schema (user_version 0, unrelated table): migrated in place.
    path = tmp_path / "h.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE notes (text TEXT)")
        db.execute("INSERT INTO notes VALUES ('kept')")
    store = History(path, BASE, "acct_1")
    store.record(poll(T0))
    store.close()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT text FROM notes").fetchall() == [("kept",)]
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_a_broken_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(HistoryError, match="cannot use the history file"):
        History(path, BASE, "acct_1")


WRITER = """
import sys
from tui.history import History
from tui.rates import Sample
path, parity = sys.argv[1], int(sys.argv[2])
store = History(__import__("pathlib").Path(path), "https://api.vectros.example", "acct_1")
for i in range(300):
    at = 1_796_300_000.0 + 2 * i + parity
    s = Sample(at, at, (2026, 12), i, i, 1000)
    store.record({"total": s, "live": s, "test": s})
store.close()
"""


def test_two_monitors_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    History(path, BASE, "acct_1").close()  # created once, as the first monitor would
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(parity)])
        for parity in (0, 1)
    ]
    assert [w.wait(120) for w in writers] == [0, 0]
    store = History(path, BASE, "acct_1")
    assert store.count() == 2 * 300 * 3
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_schema_1_file_gains_the_allowance_and_latest_under_reads_it(tmp_path: Path) -> None:
    """Migration 2 adds the account's allowance and currency to each series; rows of a
    file written before it are kept, and read back with the allowance unknown."""
    from tui.history import MIGRATIONS, latest_under

    path = tmp_path / "h.sqlite3"
    with sqlite3.connect(path) as db:
        db.executescript(MIGRATIONS[0])
        db.execute("PRAGMA user_version = 1")
        db.execute("INSERT INTO series VALUES (1, ?, 'acct_1')", (BASE,))
        db.execute("INSERT INTO polls VALUES (1, 'total', ?, ?, 2026, 12, 1000, 10, 500)", (T0, T0))
    assert latest_under(tmp_path / "none.sqlite3", BASE, window=300) is None
    old = latest_under(path, BASE, window=300)
    assert old is not None
    assert old.sample == Sample(T0, T0, DEC, 1000, 10, 500)
    assert (old.account_id, old.allowance_milli, old.currency) == ("acct_1", None, None)
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3
    store = History(path, BASE, "acct_1")
    store.record(poll(T0 + 60, used=2000))
    store.set_limits(50_000_000, "EUR")
    store.close()
    new = latest_under(path, BASE, window=300)
    assert new is not None and new.sample.used_milli == 2000
    assert [s.used_milli for s in new.recent] == [1000, 2000]
    assert (new.allowance_milli, new.currency) == (50_000_000, "EUR")
    assert latest_under(path, "https://elsewhere.example", window=300) is None


def test_a_schema_2_file_keeps_its_events_and_gains_their_since(tmp_path: Path) -> None:
    """Migration 3 adds to each event the time of the poll before it; events recorded
    before it read back with that unknown (shown as "at", as they were)."""
    from tui.history import MIGRATIONS

    path = tmp_path / "h.sqlite3"
    with sqlite3.connect(path) as db:
        db.executescript(MIGRATIONS[0])
        db.executescript(MIGRATIONS[1])
        db.execute("PRAGMA user_version = 2")
        db.execute("INSERT INTO series VALUES (1, ?, 'acct_1', NULL, NULL)", (BASE,))
        db.execute("INSERT INTO events VALUES (1, ?, 'top-up', 'inference', 50000, '')", (T0,))
    store = History(path, BASE, "acct_1")
    assert [(e.kind, e.amount, e.since) for e in store.events()] == [("top-up", 50000, None)]
    store.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 3


def test_the_moving_window_reads_as_the_whole_query_does(tmp_path: Path) -> None:
    """recent() keeps what it read and reads only new arrivals: whatever the polls do
    (the same instant polled again, the server's clock going back, the window moving
    past old polls), it answers what samples() answers."""
    store = History(tmp_path / "h.sqlite3", BASE, "acct_1")
    clock_back_at = 25
    wall = T0
    for i in range(60):
        wall += 7
        at = wall if i < clock_back_at else wall - 3600  # a restarted server, an hour behind
        if i % 9 == 4:
            at = store.latest("total").at  # type: ignore[union-attr]  # polled again, same instant
        total = Sample(at, wall, DEC, 1000 * i, 10 * i, 50_000 - i)
        store.record({"total": total, "live": total, "test": total})
        since = wall - 3600 - 60 - (0 if i % 2 else 200)  # the window, moving on
        since = max(since, T0 - 4000 + 90 * i)
        for scope in ("total", "live"):
            assert store.recent(scope, since) == store.samples(scope, since=since), (i, scope)


def test_the_moving_window_sees_what_another_monitor_records(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    mine, theirs = History(path, BASE, "acct_1"), History(path, BASE, "acct_1")
    mine.record(poll(T0, used=1))
    assert [s.used_milli for s in mine.recent("total", T0 - 100)] == [1]
    theirs.record(poll(T0 + 5, used=2))
    mine.record(poll(T0 + 10, used=3))
    assert [s.used_milli for s in mine.recent("total", T0 - 100)] == [1, 2, 3]
    assert [s.used_milli for s in mine.recent("total", T0 + 1)] == [2, 3]  # the window moved

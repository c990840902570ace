"""Recorded polls in SQLite, so rates and events survive a restart. No Textual here.

One file in the user's state directory (platformdirs; ``VECTROS_USAGE_STATE_DIR``
overrides it), WAL mode so several monitors on one box can write at once. Each
series is keyed by base URL + account id: a demo, a staging API and production never
mix. What is kept (``compact``):

* every poll for 48 hours;
* then the last poll of each minute, for 30 days;
* then the last poll of each hour, for as long as the file lives.

The token is never written: rows hold figures, times and the base URL only.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

from tui.rates import Event, Sample, events_between

ENV_STATE_DIR = "VECTROS_USAGE_STATE_DIR"
FILE_NAME = "history.sqlite3"
FULL_FOR = 48 * 3600.0
MINUTES_FOR = 30 * 24 * 3600.0
COMPACT_EVERY = 3600.0  # seconds between compactions by one monitor

SCOPES = ("total", "live", "test")

# Each entry moves the schema from version i to i + 1 (``PRAGMA user_version``).
MIGRATIONS: Sequence[str] = (
    """
    CREATE TABLE series (
        id INTEGER PRIMARY KEY,
        base_url TEXT NOT NULL,
        account_id TEXT NOT NULL,
        UNIQUE (base_url, account_id)
    );
    CREATE TABLE polls (
        series_id INTEGER NOT NULL REFERENCES series (id),
        scope TEXT NOT NULL,
        at REAL NOT NULL,
        wall REAL NOT NULL,
        year INTEGER NOT NULL,
        month INTEGER NOT NULL,
        used_milli INTEGER NOT NULL,
        spent_cents INTEGER,
        balance_cents INTEGER,
        PRIMARY KEY (series_id, scope, at)
    ) WITHOUT ROWID;
    CREATE TABLE events (
        series_id INTEGER NOT NULL REFERENCES series (id),
        at REAL NOT NULL,
        kind TEXT NOT NULL,
        axis TEXT NOT NULL,
        amount INTEGER NOT NULL,
        detail TEXT NOT NULL,
        PRIMARY KEY (series_id, at, kind, axis)
    ) WITHOUT ROWID;
    CREATE TABLE marks (
        series_id INTEGER NOT NULL REFERENCES series (id),
        at REAL NOT NULL,
        name TEXT NOT NULL,
        PRIMARY KEY (series_id, at)
    ) WITHOUT ROWID;
    """,
    # 2: what a poll's rows leave out but a one-line status needs to show a percentage
    # and a currency: the account's allowance and currency, as last seen.
    """
    ALTER TABLE series ADD COLUMN allowance_milli INTEGER;
    ALTER TABLE series ADD COLUMN currency TEXT;
    """,
    # 3: when the poll before an event was (server time): a top-up seen after a gap in
    # polling happened somewhere in it, and is said so.
    """
    ALTER TABLE events ADD COLUMN since REAL;
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


class HistoryError(Exception):
    """The history file cannot be used (a newer schema, a broken file): said, not raised."""


def state_dir() -> Path:
    override = os.environ.get(ENV_STATE_DIR)
    if override:
        return Path(override)
    from platformdirs import user_state_dir

    return Path(user_state_dir("vectros-usage", appauthor=False))


def default_path() -> Path:
    return state_dir() / FILE_NAME


_SELECT_SAMPLES = (  # a scope's polls from a server time on (samples() and recent())
    "SELECT at, wall, year, month, used_milli, spent_cents, balance_cents FROM polls "
    "WHERE series_id = ? AND scope = ? AND at >= ?"
)


def _sample(row: tuple[float, float, int, int, int, int | None, int | None]) -> Sample:
    return Sample(row[0], row[1], (row[2], row[3]), row[4], row[5], row[6])


class History:
    """The store. ``path=None`` keeps everything in memory (``--no-history``)."""

    def __init__(self, path: Path | None, base_url: str, account_id: str) -> None:
        self.path = path
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        target = ":memory:" if path is None else str(path)
        try:
            self._db = sqlite3.connect(target, timeout=10, isolation_level=None)
            self._db.execute("PRAGMA busy_timeout = 10000")
            if path is not None:
                self._db.execute("PRAGMA journal_mode = WAL")
                self._db.execute("PRAGMA synchronous = NORMAL")
                with contextlib.suppress(OSError):
                    os.chmod(path, 0o600)
            migrate(self._db)
            self._series = self._series_id(base_url, account_id)
        except sqlite3.DatabaseError as exc:
            raise HistoryError(f"cannot use the history file {target}: {exc}") from None
        self._last_compaction = 0.0
        # recent(): per scope, the window's samples read so far and the newest arrival.
        self._recent: dict[str, tuple[list[Sample], float]] = {}

    def close(self) -> None:
        self._db.close()

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        # BEGIN IMMEDIATE takes the write lock up front: two monitors queue (for up to
        # busy_timeout) instead of one failing half-way through.
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _series_id(self, base_url: str, account_id: str) -> int:
        with self._write() as db:
            db.execute(
                "INSERT OR IGNORE INTO series (base_url, account_id) VALUES (?, ?)",
                (base_url, account_id),
            )
            row = db.execute(
                "SELECT id FROM series WHERE base_url = ? AND account_id = ?",
                (base_url, account_id),
            ).fetchone()
        return int(row[0])

    def record(self, samples: dict[str, Sample]) -> list[Event]:
        """Store one poll; returns the events it shows against the previous one."""
        total = samples["total"]
        previous = self.latest("total")
        events = events_between(previous, total) if previous is not None else []
        with self._write() as db:
            db.executemany(
                "INSERT OR REPLACE INTO polls VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        self._series,
                        scope,
                        s.at,
                        s.wall,
                        s.period[0],
                        s.period[1],
                        s.used_milli,
                        s.spent_cents,
                        s.balance_cents,
                    )
                    for scope, s in samples.items()
                ],
            )
            db.executemany(
                "INSERT OR IGNORE INTO events VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(self._series, e.at, e.kind, e.axis, e.amount, e.detail, e.since) for e in events],
            )
        if time.monotonic() - self._last_compaction > COMPACT_EVERY:
            self.compact(now=total.at)
        return events

    def latest(self, scope: str) -> Sample | None:
        rows = self.samples(scope, since=None, limit=1)
        return rows[-1] if rows else None

    def samples(self, scope: str, since: float | None, limit: int | None = None) -> list[Sample]:
        """In arrival order, oldest first; ``since`` in server time.

        Arrival, not the server's clock: a server whose clock or figures jump back (a
        restart, a bad poll dated hours ahead) then starts a new run of samples instead
        of leaving the newest polls sorted among older ones.
        """
        query = _SELECT_SAMPLES + " ORDER BY wall DESC, at DESC"
        params: tuple[object, ...] = (self._series, scope, -1.0 if since is None else since)
        if limit is not None:
            query += " LIMIT ?"
            params += (limit,)
        rows = self._db.execute(query, params).fetchall()
        return [_sample(row) for row in reversed(rows)]

    def recent(self, scope: str, since: float) -> list[Sample]:
        """``samples(scope, since)`` for a window that moves forward poll by poll: the
        samples read before are kept and only the rows that arrived since are read.
        (An hour of 1 s polls is 3,600 rows: ~7 ms to read back on every poll.)

        Rows arrive in ``wall`` order, also from another monitor on the same file; one
        that another process commits with an arrival time older than the newest seen
        here is missed until the window is read afresh (a new store)."""
        kept, newest = self._recent.get(scope, ([], None))
        if newest is None:
            fresh = self.samples(scope, since=since)
            kept = []
        else:
            rows = self._db.execute(
                _SELECT_SAMPLES + " AND wall > ? ORDER BY wall, at",
                (self._series, scope, since, newest),
            ).fetchall()
            fresh = [_sample(row) for row in rows]
        replaced = {sample.at for sample in fresh}  # one row per instant: a later poll wins
        kept = [s for s in kept if s.at >= since and s.at not in replaced] + fresh
        if fresh:  # in arrival order: the last is the newest
            newest = fresh[-1].wall
        if kept and newest is not None:
            self._recent[scope] = (kept, newest)
        else:
            self._recent.pop(scope, None)
        return list(kept)

    def events(self, since: float | None = None) -> list[Event]:
        rows = self._db.execute(
            "SELECT at, kind, axis, amount, detail, since FROM events "
            "WHERE series_id = ? AND at >= ? ORDER BY at",
            (self._series, -1.0 if since is None else since),
        ).fetchall()
        return [Event(r[1], r[0], r[2], r[3], r[4], r[5]) for r in rows]

    def set_limits(self, allowance_milli: int | None, currency: str) -> None:
        """The account's allowance and currency as last seen (for ``latest_under``)."""
        with self._write() as db:
            db.execute(
                "UPDATE series SET allowance_milli = ?, currency = ? WHERE id = ?",
                (allowance_milli, currency[:8], self._series),
            )

    def add_mark(self, at: float, name: str) -> None:
        with self._write() as db:
            db.execute(
                "INSERT OR REPLACE INTO marks VALUES (?, ?, ?)", (self._series, at, name[:80])
            )

    def marks(self) -> list[tuple[float, str]]:
        rows = self._db.execute(
            "SELECT at, name FROM marks WHERE series_id = ? ORDER BY at", (self._series,)
        ).fetchall()
        return [(float(r[0]), str(r[1])) for r in rows]

    def clear_marks(self) -> None:
        with self._write() as db:
            db.execute("DELETE FROM marks WHERE series_id = ?", (self._series,))

    def count(self) -> int:
        row = self._db.execute(
            "SELECT count(*) FROM polls WHERE series_id = ?", (self._series,)
        ).fetchone()
        return int(row[0])

    def compact(self, now: float) -> None:
        """Apply the retention policy (see the module) to every series in the file."""
        self._last_compaction = time.monotonic()
        with self._write() as db:
            for bucket, older_than in ((60, now - FULL_FOR), (3600, now - MINUTES_FOR)):
                # Keep the last poll of each bucket, per series and scope.
                db.execute(
                    """
                    DELETE FROM polls
                    WHERE at < :cut AND (series_id, scope, at) NOT IN (
                        SELECT series_id, scope, max(at) FROM polls WHERE at < :cut
                        GROUP BY series_id, scope, CAST(at / :bucket AS INTEGER)
                    )
                    """,
                    {"cut": older_than, "bucket": bucket},
                )


class Latest(NamedTuple):
    """The newest poll of the total under one base URL, whichever account made it."""

    account_id: str
    sample: Sample
    recent: list[Sample]  # that series' total polls of the last ``window``, oldest first
    allowance_milli: int | None  # as last recorded with ``set_limits``; None: never
    currency: str | None


def latest_under(path: Path, base_url: str, *, window: float) -> Latest | None:
    """For a quick status line: the newest recorded poll for ``base_url`` (any account),
    without creating anything when there is no history file yet."""
    if not path.exists():
        return None
    try:
        db = sqlite3.connect(str(path), timeout=2, isolation_level=None)
    except sqlite3.DatabaseError as exc:
        raise HistoryError(f"cannot use the history file {path}: {exc}") from None
    try:
        db.execute("PRAGMA busy_timeout = 2000")
        migrate(db)
        row = db.execute(
            "SELECT s.id, s.account_id, s.allowance_milli, s.currency, p.at FROM polls p "
            "JOIN series s ON s.id = p.series_id WHERE s.base_url = ? AND p.scope = 'total' "
            "ORDER BY p.wall DESC, p.at DESC LIMIT 1",
            (base_url,),
        ).fetchone()
        if row is None:
            return None
        rows = db.execute(
            "SELECT at, wall, year, month, used_milli, spent_cents, balance_cents FROM polls "
            "WHERE series_id = ? AND scope = 'total' AND at >= ? ORDER BY wall, at",
            (row[0], row[4] - window),
        ).fetchall()
    except sqlite3.DatabaseError as exc:
        raise HistoryError(f"cannot use the history file {path}: {exc}") from None
    finally:
        db.close()
    recent = [Sample(r[0], r[1], (r[2], r[3]), r[4], r[5], r[6]) for r in rows]
    return Latest(str(row[1]), recent[-1], recent, row[2], row[3])


def migrate(db: sqlite3.Connection) -> None:
    """Bring the file's schema up to date, one numbered step at a time."""
    version = int(db.execute("PRAGMA user_version").fetchone()[0])
    if version > SCHEMA_VERSION:
        raise sqlite3.DatabaseError(
            f"it was written by a newer vectros-usage (schema {version}; this one knows "
            f"up to {SCHEMA_VERSION})"
        )
    for step in range(version, SCHEMA_VERSION):
        db.execute("BEGIN IMMEDIATE")
        try:
            for statement in MIGRATIONS[step].split(";"):
                if statement.strip():
                    db.execute(statement)
            db.execute(f"PRAGMA user_version = {step + 1}")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

"""The gateway's store: the one module that owns its SQLite file (WAL) - schema, migrations,
transactions, the outbox of messages not yet acknowledged by the broker, per-device counters,
fragments, queued downlinks and dead rows. Nothing else in the gateway writes SQL.

Why SQLite: a frame accepted by the pipeline is committed here before the source acknowledges it, and
its row is deleted only when the broker's PUBACK arrives, so neither a broker outage nor a gateway
crash loses it. Sequence numbers come from AUTOINCREMENT and are never reused, which gives the sink a
simple cursor and keeps publication in arrival order.

The same file holds the per-device counters (kept in memory by `lpwa.gateway.state`) and the queued
downlinks, so an accepted message and the counter that makes its replay detectable are committed in
ONE transaction.

Durability trade-off (`queue.synchronous`):
- "normal" (default): WAL + synchronous=NORMAL. A committed row survives the process being killed
  (kill -9, crash, OOM); a power cut may lose the last transactions since the previous WAL sync.
  Commits cost microseconds.
- "full": every commit is fsync'ed: survives power loss too, at one fsync per transaction
  (milliseconds on an SD card). The pipeline batches where it can (`Pipeline.ingest_batch`).
"""

import os
import sqlite3
import threading
import time
from contextlib import contextmanager

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    device TEXT NOT NULL,
    personal INTEGER NOT NULL,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    qos INTEGER NOT NULL,
    retain INTEGER NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS dead (
    seq INTEGER PRIMARY KEY,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    reason TEXT NOT NULL,
    created REAL NOT NULL,
    device TEXT NOT NULL DEFAULT '',
    personal INTEGER NOT NULL DEFAULT 1,
    qos INTEGER NOT NULL DEFAULT 1,
    retain INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS downlinks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    device TEXT NOT NULL,
    payload BLOB NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS fragments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    radio TEXT NOT NULL,
    raw BLOB NOT NULL,
    meta TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS devices (
    device TEXT PRIMARY KEY,
    counter INTEGER NOT NULL,
    last_seen REAL NOT NULL,
    radio TEXT NOT NULL,
    down_counter INTEGER NOT NULL DEFAULT 0
);
"""


# user_version -> statements bringing a file of that version to the next (files from before a
# column existed keep working: dead rows of version 0 have no device, and count as personal)
MIGRATIONS = {
    0: ["ALTER TABLE dead ADD COLUMN device TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE dead ADD COLUMN personal INTEGER NOT NULL DEFAULT 1",
        "ALTER TABLE dead ADD COLUMN qos INTEGER NOT NULL DEFAULT 1",
        "ALTER TABLE dead ADD COLUMN retain INTEGER NOT NULL DEFAULT 0"],
}
VERSION = 1
FRAGMENT_ROWS = 4096  # = 64 groups x 16 fragments x 4 copies: what gateway.reassembly can hold
FRAGMENT_KEEP_S = 600  # fragments kept for a restart; the decoder's own fragment timeout


def _migrate(db):
    """Bring an existing file to VERSION (a fresh one is created at VERSION by SCHEMA)."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    fresh = db.execute("SELECT COUNT(*) FROM sqlite_master WHERE name = 'outbox'").fetchone()[0] == 0
    db.executescript(SCHEMA)
    if fresh:
        version = VERSION
    while version < VERSION:
        have = {r[1] for r in db.execute("PRAGMA table_info(dead)")}
        for stmt in MIGRATIONS[version]:
            if stmt.split()[5] not in have:  # "ALTER TABLE dead ADD COLUMN <name> ..."
                db.execute(stmt)
        version += 1
    db.execute("PRAGMA user_version = %d" % VERSION)


class QueueFull(Exception):
    """The queue holds max_frames messages; new frames are refused, queued ones are kept."""


def _connect(path, synchronous):
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=%s" % ("FULL" if synchronous == "full" else "NORMAL"))
    db.execute("PRAGMA busy_timeout=30000")
    return db


class Store:
    """The SQLite file: outbox with a size cap. Writers share one connection under `lock`; the sink reads
    and deletes on its own connection (WAL lets readers run beside the writer)."""

    def __init__(self, path, max_frames=100000, synchronous="normal"):
        parent = os.path.dirname(os.path.abspath(path))
        os.makedirs(parent, exist_ok=True)
        self.path = path
        self.max_frames = max_frames
        self.synchronous = synchronous
        self.lock = threading.RLock()
        self.db = _connect(path, synchronous)
        _migrate(self.db)
        self._reader = _connect(path, synchronous)
        self._reader_lock = threading.Lock()
        self._depth = self.db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]
        self._dead = self.db.execute("SELECT COUNT(*) FROM dead").fetchone()[0]
        self.handed = 0  # the sink's cursor: rows up to this seq were handed to the broker (in this process)
        self.full_events = 0
        self.enqueued = 0
        self._deleted = 0
        # With the sink in a process of its own (lpwa.gateway.sink_process) rows leave the table in
        # that process: it reports them (on_removed), and the ingest process adds them to `remote`
        # ([deleted, dead]), which its depth and size cap subtract.
        self.remote = None
        self.on_removed = None  # callable(deleted, dead) after a commit that removed rows (sink process)
        self._nowait = False
        self._acked = []  # seqs acknowledged by the broker, deleted in the next write transaction
        self._acked_lock = threading.Lock()

    @property
    def depth(self):
        r = self.remote
        return self._depth if r is None else self._depth - r[0] - r[1]

    @property
    def deleted(self):
        r = self.remote
        return self._deleted if r is None else self._deleted + r[0]

    @property
    def dead(self):
        r = self.remote
        return self._dead if r is None else self._dead + r[1]

    def recount(self):
        """Depth from the table itself (after a sink process died: a delete it committed may not
        have been reported)."""
        with self.lock:
            r = self.remote
            if r is not None:
                self._deleted += r[0]
                self._dead += r[1]
                r[0] = r[1] = 0
            self._depth = self.db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]

    def _removed(self, deleted, dead=0):
        self._depth -= deleted + dead
        self._deleted += deleted
        self._dead += dead
        if self.on_removed is not None and (deleted or dead):
            self.on_removed(deleted, dead)

    # -- writing (pipeline side) -------------------------------------------------------------

    @contextmanager
    def transaction(self):
        """BEGIN ... COMMIT on the writer connection; yields a Batch to add rows to."""
        with self.lock:
            batch = Batch(self)
            self.db.execute("BEGIN IMMEDIATE")
            seqs = []
            try:
                gone, seqs = self._delete_acked()  # piggyback the sink's deletes: no commit of their own
                yield batch
                if batch.rows:
                    self.db.executemany(
                        "INSERT INTO outbox (device, personal, topic, payload, qos, retain, created) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?)", batch.rows)
                self.db.execute("COMMIT")
            except BaseException:
                self._rollback()
                self._unack(seqs)
                raise
            self._depth += len(batch.rows)
            self._removed(gone)
            self.enqueued += len(batch.rows)

    def room(self):
        return self.max_frames - self.depth

    def purge_personal(self, device):
        """Delete queued personal-data messages of one device (consent withdrawn) that the sink has not
        handed to the broker yet (seq above `handed`); those handed are in flight and cannot be recalled:
        their rows stay until the PUBACK. Returns (purged, handed and still unacknowledged)."""
        with self.lock:
            n = self.db.execute("DELETE FROM outbox WHERE device = ? AND personal = 1 AND seq > ?",
                                (device, self.handed)).rowcount
            self._depth -= n
            kept = self.db.execute("SELECT COUNT(*) FROM outbox WHERE device = ? AND personal = 1",
                                   (device,)).fetchone()[0]
            return n, kept

    # -- device state, fragments, downlinks ----------------------------------------------------

    def device_rows(self):
        """(device, counter, last_seen, radio, down_counter) of every device the file knows."""
        with self.lock:
            return self.db.execute("SELECT device, counter, last_seen, radio, down_counter FROM devices").fetchall()

    def recent_fragments(self, now):
        """(radio, raw, meta JSON, created) of the fragments kept for a restart, oldest first."""
        with self.lock:
            return self.db.execute("SELECT radio, raw, meta, created FROM fragments WHERE created >= ? "
                                   "ORDER BY id", (now - FRAGMENT_KEEP_S,)).fetchall()

    def fragment_rows(self):
        """Fragment copies kept for a restart (status: bounded by FRAGMENT_ROWS)."""
        with self.lock:
            return self.db.execute("SELECT COUNT(*) FROM fragments").fetchone()[0]

    def downlink_devices(self):
        with self.lock:
            return {row[0] for row in self.db.execute("SELECT DISTINCT device FROM downlinks")}

    # -- reading (sink side) -----------------------------------------------------------------

    def oldest_age(self, now=None):
        """Seconds the oldest queued message has waited (None when empty): the outage gauge."""
        with self._reader_lock:
            row = self._reader.execute("SELECT created FROM outbox ORDER BY seq LIMIT 1").fetchone()
        return None if row is None else round((now or time.time()) - row[0], 3)

    def depth_by_device(self):
        """{device: queued messages} (the per-source backlog metric: one scan of the outbox per scrape)."""
        with self._reader_lock:
            return dict(self._reader.execute("SELECT device, COUNT(*) FROM outbox GROUP BY device").fetchall())

    def read_after(self, seq, limit):
        """Up to `limit` rows (seq, device, personal, topic, payload, qos, retain, created) after `seq`, in order."""
        with self._reader_lock:
            return self._reader.execute(
                "SELECT seq, device, personal, topic, payload, qos, retain, created FROM outbox "
                "WHERE seq > ? ORDER BY seq LIMIT ?", (seq, limit)).fetchall()

    def ack(self, seqs):
        """The broker acknowledged these rows. They are deleted in the next write transaction (the
        pipeline's, or flush_acked()), so the sink never waits for the pipeline's lock; until then
        they still count towards depth, and a crash only means they are published once more."""
        with self._acked_lock:
            self._acked.extend(seqs)

    def acked_pending(self):
        return len(self._acked)

    def flush_acked(self, blocking=False):
        """Delete acknowledged rows now if the writer is free (or wait for it when blocking)."""
        if not self._acked or not self.lock.acquire(blocking):
            return 0
        try:
            if not self._begin(blocking):
                return 0
            seqs = []
            try:
                n, seqs = self._delete_acked()
                self.db.execute("COMMIT")
            except BaseException:
                self._rollback()
                self._unack(seqs)
                raise
            self._removed(n)
            return n
        finally:
            self.lock.release()

    def nowait_deletes(self):
        """For a sink in its own process: a delete that finds the database locked by the ingest
        process gives up at once (the rows stay acknowledged, deleted next time) instead of
        stalling the MQTT loop in SQLite's busy handler."""
        self._nowait = True
        self.db.execute("PRAGMA busy_timeout=0")

    def _begin(self, wait):
        """BEGIN IMMEDIATE; with nowait_deletes(), False when another process holds the write lock
        and not `wait` (when waiting, retry every millisecond for up to 30 s)."""
        deadline = None
        while True:
            try:
                self.db.execute("BEGIN IMMEDIATE")
                return True
            except sqlite3.OperationalError as e:
                if not self._nowait or "locked" not in str(e):
                    raise
                if not wait:
                    return False
                deadline = deadline or time.monotonic() + 30.0
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.001)

    def _delete_acked(self):
        """DELETE the acknowledged rows inside the open transaction -> (rows deleted, their seqs)."""
        with self._acked_lock:
            seqs, self._acked = self._acked, []
        n = 0
        try:
            for i in range(0, len(seqs), 500):
                chunk = seqs[i:i + 500]
                n += self.db.execute("DELETE FROM outbox WHERE seq IN (%s)" % ",".join("?" * len(chunk)),
                                     chunk).rowcount
        except BaseException:
            self._unack(seqs)
            raise
        return n, seqs

    def _rollback(self):
        """ROLLBACK if a transaction is still open (a failed COMMIT may already have ended it)."""
        if self.db.in_transaction:
            try:
                self.db.execute("ROLLBACK")
            except sqlite3.Error:
                pass

    def _unack(self, seqs):
        """The transaction that deleted these did not commit: delete them next time."""
        if seqs:
            with self._acked_lock:
                self._acked[:0] = seqs

    def delete(self, seqs):
        """Delete rows now, in one transaction."""
        self.ack(seqs)
        return self.flush_acked(blocking=True)

    def bury(self, seq, reason):
        """Move a row the broker refused (e.g. not authorised) to the `dead` table for the operator."""
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                self.db.execute("INSERT OR REPLACE INTO dead (seq, topic, payload, reason, created, device, personal, "
                                "qos, retain) SELECT seq, topic, payload, ?, ?, device, personal, qos, retain "
                                "FROM outbox WHERE seq = ?", (reason, time.time(), seq))
                n = self.db.execute("DELETE FROM outbox WHERE seq = ?", (seq,)).rowcount
                self.db.execute("COMMIT")
            except BaseException:
                self._rollback()
                raise
            self._removed(0, n)

    # -- dead rows (`lpwa gateway dead`) -------------------------------------------------------

    def dead_rows(self):
        """(seq, device, topic, reason, created, bytes) of every dead row, oldest first (no payload)."""
        with self.lock:
            return self.db.execute("SELECT seq, device, topic, reason, created, length(payload) FROM dead "
                                   "ORDER BY seq").fetchall()

    def _dead_where(self, seqs):
        if seqs is None:
            return "", ()
        return " WHERE seq IN (%s)" % ",".join("?" * len(seqs)), tuple(seqs)

    def requeue_dead(self, seqs=None):
        """Put dead rows (all, or those seqs) back at the end of the outbox -> how many."""
        where, args = self._dead_where(seqs)
        with self.transaction() as batch:
            rows = self.db.execute("SELECT device, personal, topic, payload, qos, retain, ? FROM dead%s ORDER BY seq"
                                   % where, (time.time(),) + args).fetchall()
            for row in rows:
                batch.add(*row)  # QueueFull when they do not fit: nothing moves
            self.db.execute("DELETE FROM dead" + where, args)
        self._dead -= len(rows)
        return len(rows)

    def drop_dead(self, seqs=None):
        """Delete dead rows (all, or those seqs) for good -> how many."""
        where, args = self._dead_where(seqs)
        with self.transaction():
            n = self.db.execute("DELETE FROM dead" + where, args).rowcount
        self._dead -= n
        return n

    def close(self):
        with self.lock:
            for db in (self._reader, self.db):
                try:
                    db.close()
                except sqlite3.Error:
                    pass


class Batch:
    """Rows and other writes of one transaction (see Queue.transaction)."""

    __slots__ = ("queue", "rows", "db")

    def __init__(self, queue):
        self.queue = queue
        self.db = queue.db
        self.rows = []

    def add(self, device, personal, topic, payload, qos, retain, created):
        if self.queue.depth + len(self.rows) >= self.queue.max_frames:
            raise QueueFull()
        self.rows.append((device, personal, topic, payload, qos, retain, created))

    def take_downlink(self, device, max_len=None):
        """Remove and return the oldest queued downlink of `device` (no longer than max_len), or None."""
        for row_id, payload in self.db.execute(
                "SELECT id, payload FROM downlinks WHERE device = ? ORDER BY id", (device,)):
            if max_len is None or len(payload) <= max_len:
                self.db.execute("DELETE FROM downlinks WHERE id = ?", (row_id,))
                return bytes(payload)
            return None  # keep order: never skip ahead of a downlink that does not fit yet
        return None

    def has_downlink(self, device):
        return self.db.execute("SELECT 1 FROM downlinks WHERE device = ? LIMIT 1", (device,)).fetchone() is not None

    def add_downlink(self, device, payload, created):
        self.db.execute("INSERT INTO downlinks (device, payload, created) VALUES (?, ?, ?)",
                        (device, bytes(payload), created))

    def add_fragment(self, radio, raw, meta_json, now, purge):
        """Keep a fragment for a restart; with `purge`, drop those older than FRAGMENT_KEEP_S."""
        cur = self.db.execute("INSERT INTO fragments (radio, raw, meta, created) VALUES (?, ?, ?, ?)",
                              (radio, bytes(raw), meta_json, now))
        # Bounded: never more rows than the reassembler can hold (ids are consecutive, so this is an
        # index range delete, not a scan). A flood of forged fragments cannot grow the file.
        self.db.execute("DELETE FROM fragments WHERE id <= ?", (cur.lastrowid - FRAGMENT_ROWS,))
        if purge:
            self.db.execute("DELETE FROM fragments WHERE created < ?", (now - FRAGMENT_KEEP_S,))

    def save_counter(self, device, counter, now, radio):
        """Persist an accepted counter (memory is updated after COMMIT)."""
        self.db.execute("INSERT INTO devices (device, counter, last_seen, radio) VALUES (?, ?, ?, ?) "
                        "ON CONFLICT(device) DO UPDATE SET counter = excluded.counter, "
                        "last_seen = excluded.last_seen, radio = excluded.radio", (device, counter, now, radio))

    def save_down_counter(self, device, down_counter):
        self.db.execute("INSERT INTO devices (device, counter, last_seen, radio, down_counter) VALUES (?, -1, 0, '', ?) "
                        "ON CONFLICT(device) DO UPDATE SET down_counter = excluded.down_counter",
                        (device, down_counter))

"""The store owns the SQLite file: a file from before the dead table had device/personal/qos/retain
columns is migrated in place (its rows kept), and dead rows keep what a re-queue needs."""

import sqlite3

from lpwa.gateway.store import VERSION, Store

OLD_SCHEMA = """
CREATE TABLE outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, device TEXT NOT NULL, personal INTEGER NOT NULL,
    topic TEXT NOT NULL, payload BLOB NOT NULL, qos INTEGER NOT NULL, retain INTEGER NOT NULL, created REAL NOT NULL);
CREATE TABLE dead (seq INTEGER PRIMARY KEY, topic TEXT NOT NULL, payload BLOB NOT NULL, reason TEXT NOT NULL,
    created REAL NOT NULL);
INSERT INTO outbox (device, personal, topic, payload, qos, retain, created) VALUES ('0a1b2c3d', 0, 'a/up', x'7b7d', 1, 0, 5);
INSERT INTO dead (seq, topic, payload, reason, created) VALUES (7, 'b/up', x'7b7d', 'Not authorized', 3);
"""


def test_an_old_file_is_migrated_and_keeps_its_rows(tmp_path):
    path = str(tmp_path / "queue.sqlite3")
    db = sqlite3.connect(path)
    db.executescript(OLD_SCHEMA)
    db.close()
    store = Store(path)
    assert store.depth == 1 and store.dead == 1
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == VERSION
    assert store.dead_rows() == [(7, "", "b/up", "Not authorized", 3.0, 2)]
    assert store.requeue_dead([7]) == 1 and store.depth == 2 and store.dead == 0
    row = store.read_after(1, 10)[0]
    assert row[1:7] == ("", 1, "b/up", b"{}", 1, 0)  # an old dead row has no device: treated as personal
    store.close()
    again = Store(path)  # a second open migrates nothing
    assert again.depth == 2
    again.close()


def test_buried_rows_keep_device_qos_and_retain(tmp_path):
    store = Store(str(tmp_path / "queue.sqlite3"))
    with store.transaction() as batch:
        batch.add("11223344", 1, "x/config", b"{}", 0, 1, 1.0)
    seq = store.read_after(0, 1)[0][0]
    store.bury(seq, "Not authorized")
    assert store.depth == 0 and store.dead == 1
    assert store.drop_dead([seq + 100]) == 0  # not a dead row: nothing happens
    store.requeue_dead()
    assert store.read_after(0, 10)[0][1:7] == ("11223344", 1, "x/config", b"{}", 0, 1)
    store.close()

"""`lpwa gateway dead list|requeue|drop` against a real store whose dead rows a real Mosquitto made
(an ACL that refuses drone-vital topics), then re-queued and delivered once the ACL allows them."""

import os
import shutil

import pytest

from lpwa.gateway.store import QueueFull, Store
from lpwa.tools.cli import main
from support.broker import Mosquitto
from support.gateway import KEYS, frame, make_config, running
from support.mqtt import Subscriber
from support.waits import wait_for

pytestmark = pytest.mark.broker

DENY_VITALS = "topic readwrite lpwa/+/buoy/#\ntopic readwrite lpwa/+/status\ntopic read lpwa/+/+/+/down\n"
ALLOW_ALL = "topic readwrite lpwa/#\n"


def _broker(acl_text):
    broker = Mosquitto()
    os.chmod(broker.dir, 0o755)
    acl = os.path.join(broker.dir, "acl")
    with open(acl, "w") as f:
        f.write(acl_text)
    os.chmod(acl, 0o644)
    broker.extra_conf = "acl_file %s\n" % acl
    return broker, acl


def _cli(capsys, *args):
    rc = main(["gateway", "dead", *args])
    out, err = capsys.readouterr()
    return rc, out, err


def test_refused_rows_are_listed_requeued_and_delivered(tmp_path, capsys):
    broker, acl = _broker(DENY_VITALS)
    try:
        broker.start()
        cfg = make_config(tmp_path, broker)
        with running(cfg) as gw:
            for c in (1, 2):
                assert gw.pipeline.ingest("lora", frame("11223344", c), {}, "udp").accepted  # drone-vital
            wait_for(lambda: gw.queue.dead == 2, 10, "two refused rows")
        rc, out, err = _cli(capsys, "list", "--state-dir", str(tmp_path))
        lines = out.splitlines()
        assert rc == 0 and len(lines) == 3 and err.strip() == "2 dead rows"
        assert all("11223344" in ln and "lpwa/gw-test/drone-vital/11223344/up" in ln and "authori" in ln.lower()
                   for ln in lines[1:])
        assert "heart" not in out and "readings" not in out and KEYS["11223344"] not in out  # never a payload
        rc, out, err = _cli(capsys, "requeue", "--state-dir", str(tmp_path))
        assert rc == 2 and "--all" in err  # nothing named: nothing moves
        broker.stop()
        with open(acl, "w") as f:
            f.write(ALLOW_ALL)
        broker.start()
        seq = int(_cli(capsys, "list", "--state-dir", str(tmp_path))[1].splitlines()[1].split()[0])
        assert _cli(capsys, "requeue", "--state-dir", str(tmp_path), str(seq))[:2] == (0, "re-queued 1 row\n")
        sub = Subscriber(broker, "lpwa/+/drone-vital/#")
        with running(cfg) as gw:
            wait_for(lambda: len(sub.uplinks()) == 1, 10, "the re-queued message")
            wait_for(lambda: gw.queue.depth == 0, 10, "its row deleted on PUBACK")
            assert gw.queue.dead == 1
        assert sub.uplinks()[0]["device"] == "11223344"
        sub.close()
        assert _cli(capsys, "drop", "--state-dir", str(tmp_path), "--all")[:2] == (0, "dropped 1 row\n")
        rc, out, err = _cli(capsys, "list", "--state-dir", str(tmp_path))
        assert rc == 0 and len(out.splitlines()) == 1 and err.strip() == "0 dead rows"
    finally:
        broker.stop()
        shutil.rmtree(broker.dir, ignore_errors=True)


def test_changes_refuse_while_the_gateway_runs(tmp_path, capsys):
    cfg = make_config(tmp_path)
    with running(cfg) as gw:
        gw.write_status()
        rc, out, err = _cli(capsys, "drop", "--state-dir", str(tmp_path), "--all")
        assert rc == 1 and "running (pid %d)" % os.getpid() in err


def test_a_missing_store_is_a_one_line_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        _cli(capsys, "list", "--state-dir", str(tmp_path / "nowhere"))
    assert e.value.code == 1 and capsys.readouterr().err.count("\n") == 1


def test_a_full_queue_requeues_nothing(tmp_path, capsys):
    store = Store(str(tmp_path / "queue.sqlite3"), max_frames=1)
    with store.transaction() as batch:
        batch.add("0a1b2c3d", 0, "t/1", b"{}", 1, 0, 1.0)
    store.bury(1, "Not authorized")
    with store.transaction() as batch:
        batch.add("0a1b2c3d", 0, "t/2", b"{}", 1, 0, 1.0)
    with pytest.raises(QueueFull):
        store.requeue_dead()
    assert store.dead_rows()[0][:4] == (1, "0a1b2c3d", "t/1", "Not authorized")
    store.close()

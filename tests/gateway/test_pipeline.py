"""Pipeline without a broker: real frames in, rows in the SQLite queue out; replay and duplicate
detection (persisted across a restart), consent, the size cap, downlinks, rejections logged
without keys, and hypothesis-fuzzed input that must only ever be counted."""

import json
import logging
import threading
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lpwa.gateway.consent import Consent
from lpwa.gateway.counters import sigfox_extend
from lpwa.gateway.pipeline import Outcome, Pipeline
from support.gateway import KEYS, frame, frames, make_config


def rows(pipeline):
    return pipeline.queue.read_after(0, 100000)


def uplinks(pipeline):
    return [json.loads(r[4]) for r in rows(pipeline) if r[3].endswith("/up")]


@pytest.fixture
def pipe(tmp_path):
    p = Pipeline(make_config(tmp_path))
    yield p
    p.queue.close()


def test_accepted_frame_is_queued_with_values_units_and_metadata(pipe):
    out = pipe.ingest("lora", frame("0a1b2c3d", 7), {"rssi": -91, "snr": 6.5, "freq": 923.2}, "udp")
    assert isinstance(out, Outcome) and out.accepted and out.messages == 1 and out.reason is None
    (seq, device, personal, topic, payload, qos, retain, _created), = rows(pipe)
    assert (device, personal, topic, qos, retain) == ("0a1b2c3d", 0, "lpwa/gw-test/buoy/0a1b2c3d/up", 1, 0)
    msg = json.loads(payload)
    assert msg["readings"]["water_temp_c"] == {"value": 18.25, "unit": "degC"}
    assert msg["counter"] == 7 and msg["kind"] == "buoy" and msg["device"] == "0a1b2c3d"
    assert msg["rx"] == {"rssi": -91, "snr": 6.5, "freq": 923.2} and msg["radio"] == "lora"
    assert msg["gateway"] == "gw-test" and msg["time"].endswith("Z") and msg["source"] == "udp"
    assert "raw_hex" not in msg


def test_duplicate_and_replayed_frames_are_rejected_and_counted(pipe):
    f5, f6 = frame("0a1b2c3d", 5), frame("0a1b2c3d", 6)
    assert pipe.ingest("lora", f5, {}, "udp").accepted
    assert pipe.ingest("lora", f6, {}, "udp").accepted
    dup = pipe.ingest("lora", f6, {"rssi": -120}, "udp")  # the same frame heard by a second forwarder
    assert (dup.accepted, dup.reason) == (False, "duplicate")
    old = pipe.ingest("lora", f5, {}, "udp")
    # an older frame played back: the counter check calls it a duplicate (same bytes as an accepted
    # one) or replayed; a decoder that rebuilds counters only forwards may already fail its MIC
    assert old.reason in ("duplicate", "replayed", "bad-mic") and not old.accepted
    assert pipe.rejections["duplicate"] >= 1 and len(uplinks(pipe)) == 2
    st = pipe.status()
    assert st["sources"]["udp"] == {"received": 4, "accepted": 2, "rejected": 2}
    assert st["devices"]["0a1b2c3d"]["counter"] == 6


def test_counters_survive_a_restart(tmp_path):
    cfg = make_config(tmp_path)
    p = Pipeline(cfg)
    for c in (1, 2, 3):
        assert p.ingest("lora", frame("0a1b2c3d", c), {}, "udp").accepted
    p.queue.close()
    p2 = Pipeline(cfg)  # a restart: fresh memory, same state_dir
    assert p2.ingest("lora", frame("0a1b2c3d", 2), {}, "udp").reason in ("replayed", "bad-mic")
    assert p2.ingest("lora", frame("0a1b2c3d", 3), {}, "udp").reason == "replayed"  # not remembered: replayed
    assert p2.ingest("lora", frame("0a1b2c3d", 4), {}, "udp").accepted
    assert p2.queue.depth == 4  # nothing was published: all four rows are still queued
    p2.queue.close()


def test_bad_frames_are_counted_by_reason(pipe):
    good = bytearray(frame("0a1b2c3d", 9))
    good[-1] ^= 0xFF
    assert pipe.ingest("lora", bytes(good), {}, "udp").reason == "bad-mic"
    assert pipe.ingest("lora", b"", {}, "udp").reason == "truncated"
    assert pipe.ingest("lora", b"\xff\x00", {}, "udp").reason == "bad-version"
    stranger = frame("0a1b2c3d", 1)
    stranger = stranger[:2] + bytes.fromhex("deadbeef") + stranger[6:]
    assert pipe.ingest("lora", stranger, {}, "udp").reason == "unknown-device"
    pipe.count_rejection("udp", "bad-datagram")
    assert pipe.rejections["bad-datagram"] == 1 and pipe.queue.depth == 0
    assert pipe.status()["sources"]["udp"]["rejected"] == 5


def test_rejections_are_logged_once_per_device_and_reason_without_the_key(pipe, caplog):
    caplog.set_level(logging.DEBUG, logger="lpwa")
    f = frame("0a1b2c3d", 3)
    pipe.ingest("lora", f, {}, "udp")
    for _ in range(20):
        pipe.ingest("lora", f, {}, "udp")
    lines = [r for r in caplog.records if getattr(r, "event", None) == "rejected"]
    assert len(lines) == 1 and lines[0].device == "0a1b2c3d" and lines[0].reason == "duplicate"
    assert pipe.rejections["duplicate"] == 20
    text = caplog.text + " ".join(str(r.__dict__) for r in caplog.records)
    for key in KEYS.values():
        assert key not in text and key.upper() not in text


def test_personal_kinds_need_consent(tmp_path):
    p = Pipeline(make_config(tmp_path, consent=False))
    out = p.ingest("lora", frame("11223344", 1), {}, "udp")  # drone-vital
    assert (out.accepted, out.reason) == (False, "no-consent")
    assert p.ingest("lora", frame("0a1b2c3d", 1), {}, "udp").accepted  # buoy: not personal
    p.consent.set("11223344", True)
    assert p.ingest("lora", frame("11223344", 2), {}, "udp").accepted
    (row,) = [r for r in rows(p) if r[1] == "11223344" and r[3].endswith("/up")]
    assert row[2] == 1 and row[3] == "lpwa/gw-test/drone-vital/11223344/up"
    p.queue.close()


def test_consent_withdrawal_from_the_file_purges_queued_personal_data_and_is_logged(tmp_path, caplog):
    consent_file = tmp_path / "consent.toml"
    consent_file.write_text('devices = { "11223344" = true, "55667788" = true }\n')
    cfg = make_config(tmp_path / "state", consent=False)
    cfg["consent"]["file"] = str(consent_file)
    p = Pipeline(cfg)
    assert p.ingest("lora", frame("11223344", 1), {}, "udp").accepted
    assert p.ingest("lora", frame("55667788", 1), {}, "udp").accepted
    assert p.ingest("lora", frame("0a1b2c3d", 1), {}, "udp").accepted
    caplog.set_level(logging.INFO, logger="lpwa")
    consent_file.write_text('devices = { "11223344" = false, "55667788" = true }\n')
    assert p.consent.reload()
    withdrawn = [r for r in caplog.records if getattr(r, "event", None) == "consent-withdrawn"]
    assert [r.device for r in withdrawn] == ["11223344"]
    assert sorted(r[1] for r in rows(p) if r[3].endswith("/up")) == ["0a1b2c3d", "55667788"]  # drone-vital data is gone
    assert p.ingest("lora", frame("11223344", 2), {}, "udp").reason == "no-consent"
    consent_file.write_text("devices = [1, 2]\n")  # a broken edit keeps the current state
    assert not p.consent.reload() and p.consent.allowed_personal("55667788")
    p.queue.close()


def test_size_cap_refuses_new_frames_keeps_old_ones_and_reports_it(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="lpwa")
    p = Pipeline(make_config(tmp_path, queue={"max_frames": 3}))
    outs = [p.ingest("lora", frame("0a1b2c3d", c), {}, "udp") for c in range(1, 6)]
    assert [o.accepted for o in outs] == [True, True, True, False, False]
    assert outs[3].reason == "queue-full"
    st = p.status()["queue"]
    assert st["depth"] == 3 and st["full"] and st["full_events"] == 2 and st["oldest_age_s"] >= 0
    assert [r for r in caplog.records if getattr(r, "event", None) == "queue-full"]
    # a refused frame did not advance the counter: the node's retry is accepted once there is room
    p.queue.delete([r[0] for r in rows(p)[:1]])
    assert p.ingest("lora", frame("0a1b2c3d", 4), {}, "udp").accepted
    p.queue.close()


def test_ingest_batch_is_one_transaction_with_per_frame_outcomes(pipe):
    batch = [("lora", frame("0a1b2c3d", c), {}, "replay") for c in (1, 2, 2, 3)]
    outs = pipe.ingest_batch(batch)
    assert [o.accepted for o in outs] == [True, True, False, True] and outs[2].reason == "duplicate"
    assert [m["counter"] for m in uplinks(pipe)] == [1, 2, 3]


def test_fragments_reassemble_into_one_message(pipe):
    big = frames("11223344", 1, radio="lora", readings={"heart_rate_bpm": 72, "spo2_pct": 98, "body_temp_c": 36.6,
                                                        "lat_deg": 35.681236, "lon_deg": 139.767125, "triage": 2,
                                                        "battery_v": 3.71})
    assert len(big) > 1  # does not fit SF10 within 400 ms dwell
    outs = [pipe.ingest("lora", f, {}, "udp") for f in big]
    assert all(o.accepted for o in outs) and [o.messages for o in outs][-1] == 1
    (msg,) = uplinks(pipe)
    assert msg["readings"]["triage"]["value"] == 2


def test_sigfox_sequence_numbers_wrap(pipe):
    assert sigfox_extend(4095, 4090) == 4095 and sigfox_extend(3, 4095) == 4099
    assert sigfox_extend(4090, 4099) < 4099  # old
    for seq in (4094, 4095, 0, 1):
        out = pipe.ingest("sigfox", frame("55667788", seq, radio="sigfox"), {"device": "55667788", "seq": seq},
                          "sigfox")
        assert out.accepted, (seq, out)
    assert pipe.ingest("sigfox", frame("55667788", 4095, radio="sigfox"),
                       {"device": "55667788", "seq": 4095}, "sigfox").reason in ("duplicate", "replayed")
    assert [m["counter"] for m in uplinks(pipe)] == [4094, 4095, 0, 1]


def test_downlink_is_queued_then_taken_by_the_next_uplink(pipe):
    assert pipe.queue_downlink("0a1b2c3d", {"cmd": "set-interval", "seconds": 600}) is None
    assert pipe.queue_downlink("deadbeef", {"cmd": "reboot"}) == "unknown-device"
    assert pipe.queue_downlink("0a1b2c3d", {"cmd": "no-such"}) == "bad-command"
    assert pipe.queue_downlink("0a1b2c3d", "reboot") == "bad-command"
    out = pipe.ingest("lora", frame("0a1b2c3d", 1), {"datr": "SF10BW125"}, "udp")
    assert out.accepted and isinstance(out.downlink, bytes) and 0 < len(out.downlink) <= 8
    from lpwa.codecs.command import decode_command
    cmd = decode_command(out.downlink, 0x0a1b2c3d, bytes.fromhex(KEYS["0a1b2c3d"]))
    assert cmd["cmd"] == "set-interval" and cmd["seconds"] == 600
    assert pipe.ingest("lora", frame("0a1b2c3d", 2), {}, "udp").downlink is None  # taken once


def test_sigfox_downlink_only_when_the_device_asked(pipe):
    pipe.queue_downlink("55667788", {"cmd": "reboot"})
    f = frame("55667788", 10, radio="sigfox")
    assert pipe.ingest("sigfox", f, {"device": "55667788", "seq": 10, "ack": False}, "sigfox").downlink is None
    f = frame("55667788", 11, radio="sigfox")
    out = pipe.ingest("sigfox", f, {"device": "55667788", "seq": 11, "ack": True}, "sigfox")
    assert out.downlink is not None and len(out.downlink) <= 8


def test_ingest_is_thread_safe(pipe):
    def worker(device):
        for c in range(1, 101):
            assert pipe.ingest("lora", frame(device, c), {}, device).accepted

    threads = [threading.Thread(target=worker, args=(d,)) for d in ("0a1b2c3d", "99aabbcc")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    got = uplinks(pipe)
    assert len(got) == 200
    for dev in ("0a1b2c3d", "99aabbcc"):
        assert [m["counter"] for m in got if m["device"] == dev] == list(range(1, 101))


def test_storage_failure_is_a_rejection_not_a_crash(pipe):
    pipe.queue.db.execute("DROP TABLE outbox")
    out = pipe.ingest("lora", frame("0a1b2c3d", 1), {}, "udp")
    assert (out.accepted, out.reason) == (False, "store-error")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(st.binary(max_size=80),
                      st.tuples(st.integers(0, 22), st.integers(0, 255)).map(
                          lambda t: bytes(frame("0a1b2c3d", 1000)[:t[0]]) + bytes([t[1]]) +
                          bytes(frame("0a1b2c3d", 1000)[t[0] + 1:]))),
       radio=st.sampled_from(["lora", "wisun", "sigfox"]))
def test_fuzzed_frames_never_crash_and_are_counted(pipe, data, radio):
    before = sum(pipe.sources["fuzz"].values())
    out = pipe.ingest(radio, data, {"device": "55667788", "seq": 1} if radio == "sigfox" else {}, "fuzz")
    assert isinstance(out, Outcome)
    assert out.accepted or out.reason
    assert sum(pipe.sources["fuzz"].values()) > before


def test_consent_file_errors_name_the_problem(tmp_path):
    from lpwa.gateway.config import ConfigError

    f = tmp_path / "c.toml"
    f.write_text('devices = { "xyz" = true }\n')
    with pytest.raises(ConfigError, match="consent.file"):
        Consent([], str(f))


def test_downlinks_respect_the_gateway_duty_cycle_budget(pipe):
    """A downlink is charged to the gateway's ARIB budget: while the pause after the previous
    transmission runs it stays queued (counted), the next receive window carries it; one too long
    for a single transmission at the uplink's data rate also waits for a faster uplink."""
    pipe.queue_downlink("0a1b2c3d", {"cmd": "reboot"})
    verdict = pipe.downlinks._budget("lora", {"datr": "SF12BW125"}, 200)
    assert verdict == "never"
    assert pipe.downlinks._budget("lora", {"datr": "SF7BW125"}, 8) == "ok"  # charged: its airtime + a 50 ms pause follow
    out = pipe.ingest("lora", frame("0a1b2c3d", 1), {"datr": "SF10BW125"}, "udp")
    assert out.downlink is None and pipe.rejections["downlink-deferred-duty-cycle"] == 1
    time.sleep(0.15)  # airtime of the first downlink + the 50 ms pause
    out = pipe.ingest("lora", frame("0a1b2c3d", 2), {"datr": "SF10BW125"}, "udp")
    assert out.downlink is not None


def test_a_failed_commit_leaves_the_queue_usable(pipe, monkeypatch):
    """Disk full at COMMIT: the frame is refused (store-error, not acknowledged), the transaction is
    rolled back, and the next frame is stored normally."""
    import sqlite3

    real = pipe.queue.db
    calls = {"n": 0}

    class FailingCommit:
        in_transaction = property(lambda self: real.in_transaction)

        def execute(self, sql, *args):
            if sql == "COMMIT" and calls["n"] == 0:
                calls["n"] += 1
                raise sqlite3.OperationalError("database or disk is full")
            return real.execute(sql, *args)

        def executemany(self, sql, rows):
            return real.executemany(sql, rows)

    pipe.queue.db = FailingCommit()
    out = pipe.ingest("lora", frame("0a1b2c3d", 1), {}, "udp")
    assert (out.accepted, out.reason) == (False, "store-error")
    pipe.queue.db = real
    assert pipe.ingest("lora", frame("0a1b2c3d", 1), {}, "udp").accepted  # the retry: counter not consumed
    assert [m["counter"] for m in uplinks(pipe)] == [1]


VITALS = {"heart_rate_bpm": 72, "spo2_pct": 98, "body_temp_c": 36.6, "lat_deg": 35.681236,
          "lon_deg": 139.767125, "triage": 2, "battery_v": 3.71}


def test_acknowledged_fragments_survive_a_restart(tmp_path):
    """The first fragments were acknowledged, then the gateway died: the message still completes."""
    cfg = make_config(tmp_path)
    parts = frames("11223344", 1, readings=VITALS)
    assert len(parts) >= 2
    p = Pipeline(cfg)
    for f in parts[:-1]:
        out = p.ingest("lora", f, {"rssi": -80, "time": "2026-11-25T08:00:00Z"}, "udp")  # forwarder ISO time
        assert out.accepted and out.messages == 0
    p.queue.close()  # "crash": the decoder's memory is gone
    p2 = Pipeline(cfg)
    out = p2.ingest("lora", parts[-1], {"rssi": -80}, "udp")
    assert out.accepted and out.messages == 1
    (msg,) = uplinks(p2)
    assert msg["readings"]["triage"]["value"] == 2
    p2.queue.close()
    p3 = Pipeline(cfg)  # restored fragments that were already completed do not publish again
    assert len(uplinks(p3)) == 1
    assert p3.ingest("lora", frame("11223344", 2), {}, "udp").accepted
    p3.queue.close()


def test_sigfox_seq_outside_12_bits_is_rejected_without_failing_the_batch(pipe):
    """A recorded or forged Sigfox meta with a sequence number the network cannot send (it is 12
    bits) is counted as out-of-range; it used to overflow SQLite's INTEGER and turn every frame of
    its batch into store-error."""
    good = ("lora", frame("0a1b2c3d", 1), {}, "replay")
    bad = ("sigfox", frame("55667788", 7, radio="sigfox"), {"device": "55667788", "seq": 10 ** 30}, "replay")
    outs = pipe.ingest_batch([good, bad])
    assert outs[0].accepted and (outs[1].accepted, outs[1].reason) == (False, "out-of-range")
    assert pipe.ingest("sigfox", bad[1], {"device": "55667788", "seq": 4096}, "replay").reason == "out-of-range"
    assert pipe.rejections["store-error"] == 0 and len(uplinks(pipe)) == 1
    ok = pipe.ingest("sigfox", bad[1], {"device": "55667788", "seq": 7}, "replay")
    assert ok.accepted and [m["counter"] for m in uplinks(pipe)] == [1, 7]


def test_a_garbled_datr_keeps_the_downlink_queued_instead_of_skipping_the_budget(pipe, caplog):
    """'SFxBW125' or 'SF99BW125' from a forwarder raised inside the budget check, which logged a
    traceback and answered "ok": the downlink went out uncharged to the ARIB duty cycle."""
    assert pipe.downlinks._budget("lora", {"datr": "SFxBW125"}, 8) == "never"
    assert pipe.downlinks._budget("lora", {"datr": "SF99BW125"}, 8) == "never"
    pipe.queue_downlink("0a1b2c3d", {"cmd": "reboot"})
    with caplog.at_level(logging.DEBUG, logger="lpwa.gateway.pipeline"):
        out = pipe.ingest("lora", frame("0a1b2c3d", 1), {"datr": "SFxBW125"}, "udp")
    assert out.accepted and out.downlink is None
    assert pipe.rejections["downlink-deferred-too-long"] == 1
    assert "Traceback" not in caplog.text and not [r for r in caplog.records if r.levelno >= logging.ERROR]
    out = pipe.ingest("lora", frame("0a1b2c3d", 2), {"datr": "SF7BW125"}, "udp")
    assert out.downlink is not None  # still queued: the next sane uplink carries it


def test_a_command_with_an_infinite_number_is_a_bad_command(pipe):
    """JSON reads 1e400 as inf; encoding it raised OverflowError out of queue_downlink (a traceback
    in the MQTT thread's log) and left the downlink counter advanced."""
    before = pipe.state.get("0a1b2c3d").get("down_counter")
    assert pipe.queue_downlink("0a1b2c3d", json.loads('{"cmd": "set-interval", "seconds": 1e400}')) == "bad-command"
    assert pipe.state.get("0a1b2c3d").get("down_counter") == before
    assert pipe.queue_downlink("0a1b2c3d", {"cmd": "set-interval", "seconds": 600}) is None


def test_a_rejected_frame_with_a_non_text_meta_device_does_not_fail_its_batch(pipe):
    """The rejection path keyed its counters and log limiter by meta["device"]: a list or object
    there (a replay file's meta) raised TypeError inside the transaction, so every frame of the
    batch became store-error."""
    good = ("lora", frame("0a1b2c3d", 1), {}, "replay")
    bad = ("lora", b"\x00\x01\x02", {"device": {"a": 1}}, "replay")
    worse = ("lora", b"\x00\x01\x02", {"device": ["x"]}, "replay")
    outs = pipe.ingest_batch([good, bad, worse])
    assert outs[0].accepted and not outs[1].accepted and not outs[2].accepted
    assert "store-error" not in (outs[1].reason, outs[2].reason) and pipe.rejections["store-error"] == 0
    assert len(uplinks(pipe)) == 1


def test_published_json_stays_strict_when_the_forwarder_sends_nan(pipe):
    """Semtech rxpk JSON may carry NaN (Python's json reads it); it went into the published body as
    the bare token NaN, which JavaScript's JSON.parse and other strict parsers refuse."""
    def strict(text):
        def refuse(token):
            raise AssertionError("non-standard JSON token %s" % token)
        return json.loads(text, parse_constant=refuse)

    meta = {"rssi": float("nan"), "snr": 7.5, "extra": [float("inf"), {"x": float("-inf")}]}
    assert pipe.ingest("lora", frame("0a1b2c3d", 1), meta, "udp").accepted
    (row,) = rows(pipe)
    msg = strict(row[4])
    assert msg["rx"] == {"rssi": None, "snr": 7.5, "extra": [None, {"x": None}]}
    assert msg["readings"]["water_temp_c"]["value"] == 18.25

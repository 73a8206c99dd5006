"""Issue #13 point 1: acknowledged fragmented messages survive colliding tags, a forged fragment
with a sniffed tag and a flood of forged first fragments; what is lost is counted."""

import os

from lpwa.codecs.frame import FrameEncoder
from lpwa.gateway.frames import FrameDecoder

SAMPLE = {"water_temp_c": 18.25, "wave_height_m": 1.25, "lat_deg": 35.123456, "lon_deg": 139.654321,
          "battery_v": 3.7, "fault_flags": 0, "salinity_psu": 34.5}
KEYS = {"b0000001": bytes(range(16)), "b0000002": bytes(range(1, 17))}


def decoder():
    return FrameDecoder(KEYS.get)


def frames_of(device_hex, counter):
    enc = FrameEncoder("buoy", int(device_hex, 16), KEYS[device_hex], radio="lora", sf=10)
    frames = enc.encode(counter, dict(SAMPLE))
    assert len(frames) > 1, "the sample must need fragments at SF10"
    return frames


def feed(dec, raw):
    return [(m["device"], m["counter"]) for m in dec.feed(raw, "lora", {"sender": "gw1"})]


def test_colliding_tags_of_two_real_devices_both_arrive():
    a, b = frames_of("b0000001", 10), frames_of("b0000002", 9)
    assert a[0][2] == b[0][2] and len(a) == len(b), "the issue's pair collides"
    dec, got = decoder(), []
    for fa, fb in zip(a, b):  # interleaved on the air
        got += feed(dec, fa) + feed(dec, fb)
    assert sorted(got) == [("b0000001", 10), ("b0000002", 9)]


def test_forged_fragment_with_a_sniffed_tag_does_not_kill_the_real_message():
    real = frames_of("b0000001", 10)
    dec, got = decoder(), []
    for i, f in enumerate(real):
        forged = bytes(f[:3]) + os.urandom(len(f) - 3)  # same header, index and tag, junk chunk
        if i:
            got += feed(dec, forged)
        got += feed(dec, f)
    assert got == [("b0000001", 10)]


def test_sixty_four_forged_first_fragments_do_not_evict_a_pending_group():
    real = frames_of("b0000001", 10)
    dec, got = decoder(), []
    got += feed(dec, real[0])
    for tag in range(256):
        if tag == real[0][2]:
            continue
        f = bytearray(real[1])
        f[2] = tag
        got += feed(dec, bytes(f))  # a fragment 1 of a group that will never complete
        if tag > 64 * 2:
            break
    for f in real[1:]:
        got += feed(dec, f)
    assert got == [("b0000001", 10)]
    assert dec.reassembler.lost["evicted"] > 0, "the forged groups that went are counted"


def test_forged_fragments_are_held_not_accepted_and_the_store_stays_bounded(tmp_path):
    """Issue #13 point 2: 200,000 forged fragments made 183,392 rows. Now the rows are capped at
    what the reassembler can hold, a fragment counts as held (not accepted), and a real
    fragmented message after the flood still arrives."""
    from lpwa.gateway.pipeline import Pipeline
    from lpwa.gateway.store import FRAGMENT_ROWS
    from support.gateway import frames as real_frames, make_config

    vitals = {"heart_rate_bpm": 72, "spo2_pct": 98, "body_temp_c": 36.6, "lat_deg": 35.681236,
              "lon_deg": 139.767125, "triage": 2, "battery_v": 3.71}
    hdr = real_frames("11223344", 1, readings=vitals)[0][0]

    p = Pipeline(make_config(tmp_path))
    try:
        n = FRAGMENT_ROWS + 2000
        batch = []
        for i in range(n):
            raw = bytes([hdr, 0x11, i & 0xFF]) + i.to_bytes(4, "big") + os.urandom(20)  # type 2, kind 2
            batch.append(("lora", raw, {"sender": "gw%d" % (i % 7)}, "udp"))
            if len(batch) == 500:
                p.ingest_batch(batch)
                batch = []
        p.ingest_batch(batch)
        st = p.status()
        assert st["fragments"]["stored"] <= FRAGMENT_ROWS
        assert st["accepted"] == 0 and st["messages"] == 0
        assert st["fragments"]["held"] + sum(st["rejections"].values()) == n
        outs = [p.ingest("lora", f, {"sender": "gw0"}, "udp") for f in real_frames("11223344", 1, readings=vitals)]
        assert outs[-1].messages == 1 and p.status()["accepted"] == 1
    finally:
        p.queue.close()


def test_fragments_of_a_version_2_type_3_frame_reassemble_and_decode():
    """A pedometer full frame past its short codes (26 bytes) on a channel without the 4 s rule."""
    r = {"steps": 5000, "steps_total": 20000000, "interval_start": 1767225600, "battery_v": 3.8, "interval_s": 5000}
    frames = FrameEncoder("pedometer", 0xB0000001, KEYS["b0000001"], radio="lora", sf=10, version=2).encode(3, r)
    assert len(frames) == 2 and frames[0][3] >> 3 & 7 == 3  # the first chunk starts with the type 3 header
    dec = decoder()
    assert dec.feed(frames[0], "lora", {}) == []
    got = dec.feed(frames[1], "lora", {})[0]
    assert got["ref"] == "full" and {k: v["value"] for k, v in got["readings"].items()} == r

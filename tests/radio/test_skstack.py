"""SKSTACK-IP (ROHM Wi-SUN modules): corpus, binary ERXUDP split at every byte, round trips, fuzz;
same events under MicroPython."""

import json
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.radio import corpus
from support.waits import no_hang

from lpwa.radio import skstack as sk

CORPUS = corpus("skstack.jsonl")
A = "FE80:0000:0000:0000:021D:1290:1234:5678"
M = "FE80:0000:0000:0000:021C:6400:030C:12A4"

SUMMARY = r'''
import binascii as _ba


def summarize(mod, chunks, ascii_data):
    p = mod.StreamParser(ascii_data)
    out = []
    for c in chunks:
        for ev in p.feed(_ba.unhexlify(c)):
            row = {}
            for k in ev:
                v = ev[k]
                if isinstance(v, bytes):
                    v = _ba.hexlify(v).decode()
                elif isinstance(v, dict):
                    v = "partial"
                row[k] = v
            out.append(row)
    return out
'''
_ns = {}
exec(SUMMARY, _ns)
summarize = _ns["summarize"]


def feed_all(raw, ascii_data=False, step=None):
    p = sk.StreamParser(ascii_data)
    if step is None:
        return p.feed(raw)
    out = []
    for i in range(0, len(raw), step):
        out += p.feed(raw[i:i + step])
    return out


@pytest.mark.parametrize("case", CORPUS, ids=[c["name"] for c in CORPUS])
def test_corpus_whole_and_byte_by_byte(case):
    raw = bytes.fromhex(case["hex"])
    for step in (None, 1, 3, 7):
        events = feed_all(raw, case["ascii_data"], step)
        assert [e["event"] for e in events] == case["events"], step
        rx = [e for e in events if e["event"] == "ERXUDP"]
        if "data" in case:
            assert rx[0]["data"].hex() == case["data"]
        if "rssi" in case:
            assert rx[0]["rssi"] == case["rssi"]
        if "layout" in case:
            assert rx[0]["layout"] == case["layout"]


def test_corpus_details():
    ev = feed_all(bytes.fromhex(next(c for c in CORPUS if c["name"] == "scan")["hex"]))
    pan = ev[1]
    assert pan == {"event": "EPANDESC", "channel": 0x21, "channel_page": 9, "pan_id": 0x8888,
                   "addr": "001C6400030C12A4", "lqi": 0xE1, "pair_id": "00AABBCC"}
    a1 = feed_all(("EVENT 21 %s 01\r\n" % A).encode())[0]
    c2 = feed_all(("EVENT 21 %s 1 00\r\n" % A).encode())[0]
    assert (a1["code"], a1["ok"], a1["side"], a1["name"]) == (0x21, False, None, "udp-sent")
    assert (c2["ok"], c2["side"]) == (True, 1)
    hexmode = feed_all(bytes.fromhex(next(c for c in CORPUS if c["name"] == "erxudp_hex_a1")["hex"]), True)[0]
    assert (hexmode["sender"], hexmode["dest"], hexmode["rport"], hexmode["secured"], hexmode["lqi"]) == (M, A, 0x0E1A, True, None)


def _case(name):
    return bytes.fromhex(next(c for c in CORPUS if c["name"] == name)["hex"])


def test_bp35c2_default_layout_has_side_and_no_lqi():
    """ROHM BP35C0/C2 reference, SA2 = 0: SECURED then SIDE then DATALEN; SIDE is not a length."""
    ev = feed_all(_case("erxudp_binary_c2_sa2_0"))[0]
    assert (ev["layout"], ev["secured"], ev["side"], ev["lqi"], len(ev["data"])) == ("c2", True, 0, None, 18)
    assert "rssi" not in ev
    hexmode = feed_all(_case("erxudp_hex_c2_sa2_0"), True)[0]
    assert hexmode["data"] == ev["data"] and hexmode["layout"] == "c2"
    lqi = feed_all(_case("erxudp_hex_c2_sa2_1"), True)[0]
    assert (lqi["layout"], lqi["lqi"], lqi["side"], lqi["data"]) == ("c2-lqi", 0x50, 0, ev["data"])


def test_a_pinned_layout_rejects_the_others_and_auto_takes_all():
    line = _case("erxudp_binary_c2_sa2_0") + b"OK\r\n"
    assert [e["event"] for e in sk.StreamParser(False, "c2").feed(line)] == ["ERXUDP", "OK"]
    wrong = sk.StreamParser(False, "a1").feed(line)
    assert [e["event"] for e in wrong] == ["ERROR", "OK"] and "layout c2" in wrong[0]["reason"]
    with pytest.raises(sk.SkStackError):
        sk.StreamParser(False, "bp35")


def test_auto_data_format_reads_binary_and_hex_lines_in_one_stream():
    binary = _case("erxudp_binary_c2_sa2_0")
    hexline = _case("erxudp_hex_c2_sa2_0")
    for step in (None, 1, 5):
        events = feed_all(binary + hexline + binary, None, step)
        assert [e["event"] for e in events] == ["ERXUDP"] * 3, step
        assert len({e["data"] for e in events}) == 1


def test_c2_scan_keeps_side_and_pair_id():
    ev = feed_all(_case("scan_c2_side"))
    assert ev[1] == {"event": "EPANDESC", "channel": 0x21, "channel_page": 9, "pan_id": 0x8888,
                     "addr": "001C6400030C12A4", "lqi": 0xE1, "side": 0, "pair_id": "00AABBCC"}
    assert ev[0]["side"] == 0 and ev[2]["side"] == 0


def test_skll64_answer_and_cr_only_ropt_answer():
    ev = feed_all(_case("skll64_reply"))
    assert ev[1] == {"event": "IPADDR", "addr": M}
    ev = feed_all(_case("ropt_cr_only_then_erxudp"), True)
    assert ev[0] == {"event": "OK", "args": ["01"]} and ev[1]["event"] == "ERXUDP"
    assert sk.build_ropt() == b"ROPT\r"
    assert sk.build_skjoin(M.lower()) == ("SKJOIN %s\r\n" % M).encode()


def test_session_events_are_named_and_listed_as_lost():
    events = feed_all(_case("session_events_c2"))
    assert [e["name"] for e in events] == ["pana-failed", "pana-established", "session-termination-request",
                                           "session-terminated", "session-termination-timeout",
                                           "session-expired"]
    assert [e["code"] in sk.SESSION_LOST for e in events] == [True, False, True, True, True, True]


def test_sksendto_exact_bytes():
    assert sk.build_sksendto(1, "fe80::1:2:3:4:5:6".replace("::", ":0:"), 0x0E1A, b"\x00\r\n", sec=1) == \
        b"SKSENDTO 1 FE80:0000:0001:0002:0003:0004:0005:0006 0E1A 1 0003 \x00\r\n"
    assert sk.build_sksendto(2, A, 3610, b"hi", sec=2, side=0) == ("SKSENDTO 2 %s 0E1A 2 0 0002 hi" % A).encode()


@pytest.mark.parametrize("args", [
    (0, A, 3610, b"x"), (7, A, 3610, b"x"), (1, "FE80::1", 3610, b"x"), (1, A, 0, b"x"), (1, A, 3610, b""),
    (1, A, 3610, b"x" * 1233), (1, A, 3610, b"x", 3), (1, A, 3610, b"x", 1, 2)])
def test_sksendto_rejects_bad_arguments(args):
    with pytest.raises(sk.SkStackError):
        sk.build_sksendto(*args)


ipv6 = st.lists(st.integers(0, 0xFFFF), min_size=8, max_size=8).map(lambda g: ":".join("%04X" % x for x in g))
lla = st.binary(min_size=8, max_size=8).map(lambda b: b.hex().upper())


@settings(max_examples=200, deadline=None)
@given(ipv6, ipv6, st.integers(1, 0xFFFF), st.integers(1, 0xFFFF), lla, st.booleans(), st.binary(max_size=1232),
       st.one_of(st.none(), st.integers(0, 255)), st.integers(0, 1), st.sampled_from([None, 1, 5, 64]),
       st.sampled_from([(False, False), (True, True), (False, None), (True, None)]))
def test_erxudp_round_trip_any_payload_any_split(sender, dest, rport, lport, lla_, secured, payload, lqi, side, step,
                                                 mode):
    hex_data, ascii_data = mode
    line = sk.build_erxudp(sender, dest, rport, lport, lla_, secured, payload, lqi=lqi, side=side if lqi is not None else None,
                           hex_data=hex_data)
    events = feed_all(b"OK\r\n" + line + ("EVENT 21 %s 00\r\n" % sender).encode(), ascii_data, step=step)
    assert [e["event"] for e in events] == ["OK", "ERXUDP", "EVENT"]
    ev = events[1]
    assert (ev["sender"], ev["dest"], ev["rport"], ev["lport"], ev["sender_lla"], ev["secured"], ev["data"]) == \
        (sender, dest, rport, lport, lla_, secured, payload)
    assert ev["lqi"] == lqi and (lqi is None or ev["side"] == side)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300), st.sampled_from(sk.LAYOUTS), st.booleans(), st.sampled_from([None, 1, 7]))
def test_every_layout_round_trips_in_both_data_formats(payload, layout, hex_data, step):
    line = sk.build_erxudp(M, A, 3610, 3610, "001C6400030C12A4", True, payload, lqi=0x80, side=1, layout=layout,
                           hex_data=hex_data)
    for ascii_data in (hex_data, None):
        ev = feed_all(line + b"OK\r\n", ascii_data, step)
        assert [e["event"] for e in ev] == ["ERXUDP", "OK"]
        assert (ev[0]["layout"], ev[0]["data"], ev[0]["side"]) == (layout, payload, None if layout == "a1" else 1)


def _events_or_errors(raw, ascii_data=False, step=None):
    events = feed_all(raw, ascii_data, step)
    for e in events:
        assert isinstance(e, dict) and isinstance(e["event"], str)
    return events


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=400), st.sampled_from([False, True, None]), st.sampled_from([None, 1, 13]))
def test_fuzzed_streams_never_raise(raw, ascii_data, step):
    with no_hang():
        _events_or_errors(raw, ascii_data, step)


def test_truncated_and_mutated_corpus_never_raise_and_recover():
    rng = random.Random(3)
    with no_hang(60):
        for case in CORPUS:
            raw = bytes.fromhex(case["hex"])
            for i in range(len(raw)):
                _events_or_errors(raw[:i], case["ascii_data"])
            for _ in range(80):
                b = bytearray(raw)
                for _ in range(rng.randrange(1, 4)):
                    b[rng.randrange(len(b))] = rng.randrange(256)
                # after any damage the parser resynchronises: a clean OK line still comes through
                events = _events_or_errors(bytes(b) + b"\r\nOK\r\n", case["ascii_data"])
                assert events and events[-1]["event"] in ("OK", "ERXUDP", "ERROR")


def test_a_huge_line_is_dropped_not_buffered_forever():
    p = sk.StreamParser()
    out = []
    for _ in range(100):
        out += p.feed(b"A" * 1000)
    assert any(e["event"] == "ERROR" for e in out) and len(p._buf) < 5000
    assert p.feed(b"\r\nOK\r\n")[-1] == {"event": "OK", "args": []}


def test_parse_line_errors_are_skstack_errors():
    for line in (b"FAIL", b"EVENT zz " + A.encode(), b"EVENT 21 nothex", b"\xff\xfe", b"what is this",
                 b"ERXUDP " + A.encode()):
        with pytest.raises(sk.SkStackError):
            sk.parse_line(line)


def test_micropython_gives_the_same_events(mpy):
    rng = random.Random(11)
    cases = []
    for case in CORPUS:
        raw = bytes.fromhex(case["hex"])
        chunks = [raw[i:i + 5].hex() for i in range(0, len(raw), 5)]
        cases.append((chunks, case["ascii_data"]))
        b = bytearray(raw)
        b[rng.randrange(len(b))] = rng.randrange(256)
        cases.append(([bytes(b).hex(), b"\r\nOK\r\n".hex()], case["ascii_data"]))
    line = sk.build_erxudp(M, A, 3610, 3610, "001C6400030C12A4", True, bytes(range(256)) * 4, lqi=0x80, side=1)
    cases.append(([line[i:i + 17].hex() for i in range(0, len(line), 17)], False))
    for layout in sk.LAYOUTS:
        for hex_data in (False, True):
            line = sk.build_erxudp(M, A, 3610, 3610, "001C6400030C12A4", True, b"\r\n" + bytes(range(40)),
                                   lqi=0x80, side=1, layout=layout, hex_data=hex_data)
            cases.append(([line[i:i + 9].hex() for i in range(0, len(line), 9)], None))
    host = [summarize(sk, c, a) for c, a in cases]
    board = mpy.eval_json("from lpwa.radio import skstack as _sk\n" + SUMMARY +
                          "\n_r = [summarize(_sk, c, a) for c, a in %r]" % (cases,), "_r")
    assert board == json.loads(json.dumps(host))
    sent = mpy.eval_json("from lpwa.radio import skstack as _sk\nimport binascii",
                         "binascii.hexlify(_sk.build_sksendto(1, %r, 3610, b'\\x00\\r\\nabc', side=0)).decode()" % A)
    assert bytes.fromhex(sent) == sk.build_sksendto(1, A, 3610, b"\x00\r\nabc", side=0)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(st.binary(max_size=40), st.sampled_from([
    b"OK\r\n", b"FAIL ER04\r\n", b"ERXUDP ", ("EVENT 21 %s 00\r\n" % A).encode(), b"\r\n", b"EPANDESC\r\n",
    b"  Channel:21\r\n", ("ERXUDP %s %s 0E1A 0E1A 001C6400030C12A4 1 0003 " % (M, A)).encode(),
    ("ERXUDP %s %s 0E1A 0E1A 001C6400030C12A4 1 0 0003 " % (M, A)).encode(), b"OK 01\r", b"616263",
    b"\r"])), max_size=30),
       st.sampled_from([False, True, None]))
def test_micropython_agrees_on_fuzzed_streams(mpy, chunks, ascii_data):
    hexes = [c.hex() for c in chunks]
    host = summarize(sk, hexes, ascii_data)
    board = mpy.eval_json("from lpwa.radio import skstack as _sk\n" + SUMMARY +
                          "\n_r = summarize(_sk, %r, %r)" % (hexes, ascii_data), "_r")
    assert board == json.loads(json.dumps(host))

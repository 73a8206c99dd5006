"""Sigfox AT replies and cloud callbacks: corpus, round trips, fuzz; same answers under MicroPython."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.radio import corpus

from lpwa.radio import sigfox

CORPUS = corpus("sigfox.jsonl")

SUMMARY = r'''
import binascii as _ba


def summarize(mod, replies, bodies):
    out = []
    for line in replies:
        try:
            r = mod.parse_reply(line)
            if "data" in r:
                r["data"] = _ba.hexlify(r["data"]).decode()
            out.append(r)
        except mod.SigfoxError:
            out.append("error")
    for body in bodies:
        try:
            r = mod.parse_callback(body)
            r["data"] = _ba.hexlify(r["data"]).decode()
            out.append(r)
        except mod.SigfoxError:
            out.append("error")
    return out
'''
_ns = {}
exec(SUMMARY, _ns)
summarize = _ns["summarize"]


def _norm(r):
    if isinstance(r, dict) and isinstance(r.get("data"), bytes):
        r = dict(r, data=r["data"].hex())
    return r


@pytest.mark.parametrize("case", CORPUS, ids=["%s-%d" % (c["kind"], i) for i, c in enumerate(CORPUS)])
def test_corpus(case):
    parse = sigfox.parse_reply if case["kind"] == "reply" else sigfox.parse_callback
    arg = case["line"] if case["kind"] == "reply" else case["body"]
    if case["expect"] is None:
        with pytest.raises(sigfox.SigfoxError):
            parse(arg)
    else:
        assert _norm(parse(arg)) == case["expect"]
        if "downlink" in case:  # the answer is keyed by the id as the callback spelled it
            got = parse(arg)
            assert sigfox.build_downlink_response(got["device_id"], bytes(range(8))) == case["downlink"]
        if case["kind"] == "reply":
            assert _norm(parse(arg.encode())) == case["expect"]


def test_send_commands():
    assert sigfox.build_send(b"\x01\x02\xab") == b"AT$SF=0102AB\r"
    assert sigfox.build_send(bytes(12), downlink=True) == b"AT$SF=" + b"00" * 12 + b",1\r"
    assert sigfox.build_send(b"") == b"AT$SF=\r"
    assert sigfox.build_reset_channel() == b"AT$RC\r" and sigfox.build_query_id() == b"AT$I=10\r"
    with pytest.raises(sigfox.SigfoxError):
        sigfox.build_send(bytes(13))


def test_downlink_response_is_exactly_8_bytes():
    assert sigfox.build_downlink_response("0a1b2c3d", bytes(range(8))) == {"0a1b2c3d": {"downlinkData": "0001020304050607"}}
    for bad in (bytes(7), bytes(9)):
        with pytest.raises(sigfox.SigfoxError):
            sigfox.build_downlink_response("0a1b2c3d", bad)
    with pytest.raises(sigfox.SigfoxError):
        sigfox.build_downlink_response("not-hex", bytes(8))


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 0xFFFFFFFF), st.binary(max_size=12), st.integers(0, 4095), st.integers(0, 2**31),
       st.booleans(), st.booleans())
def test_callback_round_trip(dev, data, seq, t, ack, quoted):
    body = {"device": "%X" % dev, "data": data.hex(), "seqNumber": seq, "time": t, "ack": ack, "rssi": -120.5}
    if quoted:
        body = {k: (json.dumps(v) if isinstance(v, bool) else str(v)) for k, v in body.items()}
    r = sigfox.parse_callback(body)
    assert (r["device"], r["data"], r["seq"], r["time"], r["ack"], r["rssi"]) == ("%08x" % dev, data, seq, t, ack, -120.5)


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=8, max_size=8), st.sampled_from([" ", ""]))
def test_rx_reply_round_trip(data, sep):
    line = "RX=" + sep.join("%02X" % b for b in data) + "\r\n"
    assert sigfox.parse_reply(line) == {"reply": "RX", "data": data}


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
                           lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c, max_size=3),
                           max_leaves=8)


@settings(max_examples=300, deadline=None)
@given(st.one_of(json_values, st.dictionaries(st.sampled_from(
    ["device", "data", "seqNumber", "seq", "time", "ack", "rssi", "snr", "station"]), json_values, max_size=9)))
def test_fuzzed_callbacks_raise_only_sigfox_error(body):
    try:
        sigfox.parse_callback(body)
    except sigfox.SigfoxError:
        pass


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=100), st.text(max_size=100)))
def test_fuzzed_replies_raise_only_sigfox_error(line):
    try:
        sigfox.parse_reply(line)
    except sigfox.SigfoxError:
        pass


def test_micropython_gives_the_same_answers(mpy):
    replies = [c["line"] for c in CORPUS if c["kind"] == "reply"] + ["RX=0102030405060708", "  OK  ", "\x01"]
    bodies = [c["body"] for c in CORPUS if c["kind"] == "callback"]
    host = summarize(sigfox, replies, bodies)
    board = mpy.eval_json("from lpwa.radio import sigfox as _sf\nimport json\n" + SUMMARY +
                          "\n_r = summarize(_sf, json.loads(%r), json.loads(%r))" % (json.dumps(replies), json.dumps(bodies)),
                          "_r")
    assert board == json.loads(json.dumps(host))
    sent = mpy.eval_json("from lpwa.radio import sigfox as _sf", "_sf.build_send(b'\\x01\\xab', True).decode()")
    assert sent == "AT$SF=01AB,1\r"


def test_numbers_in_callbacks_are_ascii_only():
    body = {"device": "1A2B3C", "time": 1, "data": "", "seqNumber": "\u0661\u0662"}  # Arabic-Indic digits
    with pytest.raises(sigfox.SigfoxError):
        sigfox.parse_callback(body)
    with pytest.raises(sigfox.SigfoxError):
        sigfox.parse_callback(dict(body, seqNumber=" 12"))
    with pytest.raises(sigfox.SigfoxError):
        sigfox.parse_callback(dict(body, seqNumber=1, rssi="nan"))
    for bad in ("1e400", float("inf"), float("nan")):
        with pytest.raises(sigfox.SigfoxError):
            sigfox.parse_callback(dict(body, seqNumber=1, snr=bad))

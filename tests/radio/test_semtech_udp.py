"""Semtech UDP packet-forwarder protocol: corpus, round trips, fuzz; same answers under MicroPython."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.radio import corpus
from support.waits import no_hang

from lpwa.radio import semtech_udp as su

CORPUS = corpus("semtech_udp.jsonl")
EUI = "aa555a0000000101"

# One summary function, run by CPython and MicroPython, so both must agree to the byte.
SUMMARY = r'''
import binascii as _ba


def summarize(mod, hexes):
    out = []
    for h in hexes:
        try:
            m = mod.parse(_ba.unhexlify(h))
        except mod.ProtocolError as e:
            out.append(["error", e.reason])
            continue
        row = ["ok", m["version"], m["token"], m["type"], m["eui"]]
        ack = mod.ack_for(m)
        row.append(None if ack is None else _ba.hexlify(ack).decode())
        try:
            fr = mod.rxpk_frames(m)
            row.append([[_ba.hexlify(p).decode(), meta["crc_ok"], meta["rssi"], meta["datr"]] for p, meta in fr])
        except mod.ProtocolError as e:
            row.append(["frames-error", e.reason])
        row.append(mod.tx_ack_error(m) if m["type"] == mod.TX_ACK else None)
        row.append([r if p is None else _ba.hexlify(p).decode() for p, meta, r in mod.rxpk_entries(m)])
        out.append(row)
    return out
'''
_ns = {}
exec(SUMMARY, _ns)
summarize = _ns["summarize"]


@pytest.mark.parametrize("case", CORPUS, ids=[c["name"] for c in CORPUS])
def test_corpus(case):
    raw = bytes.fromhex(case["hex"])
    if case["expect"] != "ok":
        with pytest.raises(su.ProtocolError) as e:
            su.parse(raw)
        assert e.value.reason == case["expect"]
        return
    msg = su.parse(raw)
    assert msg["type"] == raw[3] and msg["token"] == int.from_bytes(raw[1:3], "big")
    if "frames_expect" in case:
        with pytest.raises(su.ProtocolError) as e:
            su.rxpk_frames(msg)
        assert e.value.reason == case["frames_expect"]
    if "frames" in case:
        frames = su.rxpk_frames(msg)
        assert [p.hex() for p, _ in frames] == case["frames"]
        if "crc_ok" in case:
            assert [m["crc_ok"] for _, m in frames] == case["crc_ok"]
    if "tx_error" in case:
        assert su.tx_ack_error(msg) == case["tx_error"]
    if "ack" in case:  # answered in the version the forwarder used (lora_pkt_fwd.c drops any other)
        assert su.ack_for(msg).hex() == case["ack"]
    if "entries" in case:  # each rxpk on its own: the bad ones by reason, the good ones by payload
        assert [r if p is None else p.hex() for p, _, r in su.rxpk_entries(msg)] == case["entries"]
    if msg["type"] == su.PULL_RESP:
        data, pk = su.txpk_frame(msg)
        assert len(data) == pk["size"] == 32


def test_acks_answer_push_and_pull_only():
    push = su.parse(su.build_push_data(0xBEEF, EUI, [su.make_rxpk(b"x")]))
    pull = su.parse(su.build_pull_data(7, EUI))
    assert su.ack_for(push) == bytes([2, 0xBE, 0xEF, su.PUSH_ACK])
    assert su.ack_for(pull) == bytes([2, 0, 7, su.PULL_ACK])
    assert su.ack_for(su.parse(su.build_tx_ack(1, EUI))) is None
    assert su.parse(su.ack_for(push))["type"] == su.PUSH_ACK


payloads = st.binary(min_size=0, max_size=255)
tokens = st.integers(0, 0xFFFF)
euis = st.binary(min_size=8, max_size=8).map(lambda b: b.hex())


@settings(max_examples=200, deadline=None)
@given(tokens, euis, st.lists(st.tuples(payloads, st.sampled_from(["SF7BW125", "SF10BW125", "SF12BW125"]),
                                        st.integers(-140, 0), st.floats(-20, 15).map(lambda x: round(x, 1)),
                                        st.integers(0, 2**32 - 1)), max_size=4))
def test_push_data_round_trip(token, eui, pks):
    rxpks = [su.make_rxpk(p, datr=d, rssi=r, snr=s, tmst=t) for p, d, r, s, t in pks]
    msg = su.parse(su.build_push_data(token, eui, rxpks))
    assert (msg["token"], msg["eui"], msg["type"]) == (token, eui, su.PUSH_DATA)
    frames = su.rxpk_frames(msg)
    assert [f[0] for f in frames] == [p for p, *_ in pks]
    assert [(m["datr"], m["rssi"], m["snr"], m["tmst"], m["crc_ok"]) for _, m in frames] == \
        [(d, r, s, t, True) for _, d, r, s, t in pks]


@settings(max_examples=100, deadline=None)
@given(tokens, payloads, st.booleans(), st.integers(0, 2**32 - 1))
def test_pull_resp_round_trip(token, payload, imme, tmst):
    txpk = su.make_txpk(payload, 923.2, "SF10BW125", tmst=None if imme else tmst, imme=imme)
    msg = su.parse(su.build_pull_resp(token, txpk))
    data, pk = su.txpk_frame(msg)
    assert data == payload and pk["imme"] is imme and (imme or pk["tmst"] == tmst)


@pytest.mark.parametrize("error", su.TX_ERRORS)
def test_tx_ack_round_trip(error):
    assert su.tx_ack_error(su.parse(su.build_tx_ack(3, EUI, error))) == error


def test_builders_reject_bad_arguments():
    for bad in (lambda: su.build_pull_data(1, "xyz"), lambda: su.build_pull_data(70000, EUI),
                lambda: su.build_tx_ack(1, EUI, "WHATEVER"), lambda: su.make_txpk(b"", 923.2, "SF7BW125")):
        with pytest.raises(su.ProtocolError):
            bad()


def _only_protocol_errors(raw):
    try:
        msg = su.parse(raw)
    except su.ProtocolError:
        return
    try:
        su.rxpk_frames(msg)
        su.ack_for(msg)
        su.tx_ack_error(msg)
    except su.ProtocolError:
        pass


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=300))
def test_fuzzed_datagrams_raise_only_protocol_error(raw):
    with no_hang():
        _only_protocol_errors(raw)


def _mutants(raw, rng):
    out = [raw[:i] for i in range(len(raw))]  # every truncation
    for _ in range(60):
        b = bytearray(raw)
        for _ in range(rng.randrange(1, 4)):
            i = rng.randrange(len(b))
            b[i] = rng.randrange(256)
        out.append(bytes(b))
    return out


def test_truncated_and_mutated_corpus_raise_only_protocol_error():
    import random

    rng = random.Random(5)
    with no_hang(30):
        for case in CORPUS:
            for raw in _mutants(bytes.fromhex(case["hex"]), rng):
                _only_protocol_errors(raw)


@settings(max_examples=150, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
                    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.sampled_from(
                        ["rxpk", "stat", "data", "size", "rssi", "freq", "datr", "stat", "time", "rsig"]), c, max_size=4),
                    max_leaves=12))
def test_fuzzed_json_bodies_raise_only_protocol_error(body):
    raw = bytes([2, 0, 1, 0]) + bytes.fromhex(EUI) + json.dumps(body).encode()
    _only_protocol_errors(raw)
    _only_protocol_errors(bytes([2, 0, 1, 0]) + bytes.fromhex(EUI) + json.dumps({"rxpk": [body]}).encode())


def test_deeply_nested_json_is_a_protocol_error():
    with pytest.raises(su.ProtocolError):
        su.parse(bytes([2, 0, 1, 0]) + bytes.fromhex(EUI) + b"[" * 100000)


def test_micropython_gives_the_same_answers(mpy):
    import random

    rng = random.Random(9)
    hexes = [c["hex"] for c in CORPUS]
    for case in CORPUS[:6]:
        hexes += [m.hex() for m in _mutants(bytes.fromhex(case["hex"]), rng)[::7]]
    host = summarize(su, hexes)
    board = mpy.eval_json("from lpwa.radio import semtech_udp as _su\n" + SUMMARY + "\n_r = summarize(_su, %r)" % hexes, "_r")
    assert board == json.loads(json.dumps(host))


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(st.binary(max_size=80), st.builds(
    lambda body: bytes([2, 0, 1, 0]) + bytes.fromhex(EUI) + body,
    st.one_of(st.binary(max_size=60), st.sampled_from([b'{"rxpk":[{"data":"AAE=","size":2}]}', b'{"rxpk":[{}]}',
                                                        b'{"stat":{}} ', b'{"rxpk":[{"data":"A","size":1}]}'])))),
    min_size=1, max_size=40))
def test_micropython_agrees_on_fuzzed_datagrams(mpy, datagrams):
    hexes = [d.hex() for d in datagrams]
    host = summarize(su, hexes)
    board = mpy.eval_json("from lpwa.radio import semtech_udp as _su\n" + SUMMARY + "\n_r = summarize(_su, %r)" % hexes, "_r")
    assert board == json.loads(json.dumps(host))

"""radio/skstack_node.py, the node's part of SKSTACK-IP: the same events as the gateway's parser for
every line a node reads (OK, FAIL, EVENT, binary ERXUDP), ERROR for any other; same under MicroPython;
a node's Wi-SUN driver loads it without the gateway's module."""

import json
import subprocess
import sys

from hypothesis import given, settings
from hypothesis import strategies as st
from support.radio import corpus

from lpwa.radio import skstack as gw
from lpwa.radio import skstack_node as node

A = "FE80:0000:0000:0000:021D:1290:1234:5678"
M = "FE80:0000:0000:0000:021C:6400:030C:12A4"
CORPUS = [c for c in corpus("skstack.jsonl") if c["ascii_data"] is False]


def _feed(parser, raw, step):
    out = []
    for i in range(0, len(raw), step or len(raw) or 1):
        out += parser.feed(raw[i:i + (step or len(raw))])
    return out


def _as_node_sees(ev):
    ev = dict(ev)
    ev.pop("name", None)  # the event's name: the gateway's table
    if ev["event"] == "ERROR":
        ev.pop("reason")  # worded by each parser
    return ev


node_line = st.one_of(
    st.just(b"OK\r\n"), st.just(b"OK 01\r"), st.just(b"FAIL ER04\r\n"),
    st.tuples(st.sampled_from([0x21, 0x32, 0x25, 0x99]), st.sampled_from([None, 0, 1]), st.sampled_from([None, 0, 1]))
    .map(lambda t: gw.build_event(t[0], A, param=t[1], side=t[2])),
    st.tuples(st.binary(max_size=80), st.sampled_from(gw.LAYOUTS), st.booleans())
    .map(lambda t: gw.build_erxudp(M, A, 3610, 3610, "001C6400030C12A4", t[2], t[0], lqi=0x80, side=1, layout=t[1])))


@settings(max_examples=150, deadline=None)
@given(st.lists(node_line, max_size=8), st.sampled_from([None, 1, 6, 17]))
def test_node_lines_read_as_the_gateway_reads_them(lines, step):
    raw = b"".join(lines)
    got = _feed(node.StreamParser(), raw, step)
    want = [_as_node_sees(e) for e in _feed(gw.StreamParser(), raw, step)]
    assert got == want and len(got) == len(lines)


def test_other_lines_are_errors_and_reading_goes_on():
    for case in CORPUS:
        raw = bytes.fromhex(case["hex"])
        got = node.StreamParser().feed(raw)
        want = gw.StreamParser().feed(raw)
        kinds = [e["event"] for e in got]
        if all(e["event"] in ("OK", "FAIL", "EVENT", "ERXUDP", "ERROR") for e in want):
            assert [_as_node_sees(e) for e in got] == [_as_node_sees(e) for e in want], case["name"]
        else:
            assert "ERROR" in kinds and set(kinds) <= {"OK", "FAIL", "EVENT", "ERXUDP", "ERROR"}, case["name"]
    p = node.StreamParser()
    assert [e["event"] for e in p.feed(b"EVER 1.2.10\r\n\xff\xfe\r\nOK\r\n")] == ["ERROR", "ERROR", "OK"]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300), st.sampled_from([None, 1, 13]))
def test_fuzzed_streams_never_raise(raw, step):
    for ev in _feed(node.StreamParser(), raw, step):
        assert isinstance(ev["event"], str)


def test_micropython_gives_the_same_events(mpy):
    chunks = [bytes.fromhex(c["hex"]).hex() for c in CORPUS]
    chunks.append(gw.build_erxudp(M, A, 3610, 3610, "001C6400030C12A4", True, b"\r\n" + bytes(range(200)), lqi=0x80,
                                  side=1).hex())
    code = ("from lpwa.radio import skstack_node as _n\nimport binascii as _ba\n"
            "def _row(ev):\n    return dict((k, _ba.hexlify(v).decode() if isinstance(v, bytes) else v) for k, v in ev.items()"
            " if not isinstance(v, dict))\n")
    board = mpy.eval_json(code, "[[_row(e) for e in _n.StreamParser().feed(_ba.unhexlify(c))] for c in %r]" % (chunks,))
    host = [[dict((k, v.hex() if isinstance(v, bytes) else v) for k, v in e.items() if not isinstance(v, dict))
             for e in node.StreamParser().feed(bytes.fromhex(c))] for c in chunks]
    assert board == json.loads(json.dumps(host))


def test_the_wisun_driver_loads_the_node_part_only():
    code = ("import sys; import lpwa.firmware.drivers.radio_wisun; "
            "print(sorted(m for m in sys.modules if m.startswith('lpwa.radio')))")
    got = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "lpwa.radio.skstack_node" in got and "'lpwa.radio.skstack'" not in got


def test_the_node_limits_are_the_gateway_limits():
    assert (node._SKSENDTO_MAX, node._MAX_DATALEN) == (gw.SKSENDTO_MAX, gw.MAX_DATALEN)
    assert node._TOO_LONG == gw.MAX_LINE + 2 * gw.SKSENDTO_MAX + 200

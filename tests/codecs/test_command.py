"""Downlink commands: the gateway (CPython) encodes, the node (MicroPython) decodes; <= 8 bytes."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lpwa.codecs import command
from lpwa.codecs.frame import FrameError

KEY = bytes(range(16))
DEV = "0a1b2c3d"
COMMANDS = [
    {"cmd": "set-interval", "seconds": 600},
    {"cmd": "set-interval", "seconds": 65535},
    {"cmd": "set-radio", "radio": "lora", "sf": 9},
    {"cmd": "set-radio", "radio": "wisun"},
    {"cmd": "reboot"},
    {"cmd": "reset-fault", "mask": 4},
    {"cmd": "consent", "granted": True},
    {"cmd": "consent", "granted": False},
    {"cmd": "request-status"},
    {"cmd": "set-spo2-cal", "coef": "a", "value": 94.85},
    {"cmd": "set-spo2-cal", "coef": "b", "value": -81.92},
    {"cmd": "set-spo2-cal", "coef": "c", "value": 81.91},
    {"cmd": "set-spo2-cal", "coef": "apply", "value": 70.0},
    {"cmd": "set-spo2-cal", "coef": "apply", "value": 0.0},
]


def expected(cmd, counter):
    out = dict(cmd, counter=counter)
    if cmd["cmd"] == "reset-fault":
        out.setdefault("mask", 255)
    return out


@pytest.mark.parametrize("cmd", COMMANDS, ids=lambda c: c["cmd"])
def test_roundtrip_and_sigfox_size(cmd):
    raw = command.encode_command(DEV, KEY, 300, cmd)
    assert len(raw) <= 8  # one Sigfox downlink
    assert command.decode_command(raw, 0x0A1B2C3D, KEY, last_counter=299) == expected(cmd, 300)
    assert command.decode_command(raw, DEV, KEY, last_counter=290) == expected(cmd, 300)
    padded = command.pad_downlink(raw)  # a Sigfox downlink is exactly 8 bytes
    assert len(padded) == 8
    assert command.decode_command(padded, DEV, KEY, last_counter=299) == expected(cmd, 300)


def test_a_node_may_pass_the_key_schedule_it_already_holds():
    """The node's encoder holds Keys(device key): decoding with it verifies exactly as with the raw key,
    and a Keys of another key fails the MIC (firmware/downlink.py passes its encoder's)."""
    from lpwa.codecs.keys import Keys

    raw = command.encode_command(DEV, KEY, 300, COMMANDS[0])
    assert command.decode_command(raw, DEV, Keys(KEY), last_counter=299) == command.decode_command(raw, DEV, KEY, 299)
    with pytest.raises(FrameError, match="bad-mic"):
        command.decode_command(raw, DEV, Keys(bytes(16)), last_counter=299)


def test_padding_must_be_zeros():
    raw = command.pad_downlink(command.encode_command(DEV, KEY, 7, {"cmd": "reboot"}))
    with pytest.raises(FrameError) as e:
        command.decode_command(raw[:-1] + b"\x01", DEV, KEY, last_counter=6)
    assert e.value.reason == "bad-schema"


def test_replay_tamper_wrong_device_or_key_fail_the_mic():
    raw = command.encode_command(DEV, KEY, 5, {"cmd": "reboot"})
    assert command.decode_command(raw, DEV, KEY, last_counter=4)["counter"] == 5
    for data, dev, key, last in [(raw, DEV, KEY, 5),  # replay: counter 5 already used
                                 (raw[:-1] + bytes([raw[-1] ^ 1]), DEV, KEY, 4),
                                 (raw, "0a1b2c3e", KEY, 4),
                                 (raw, DEV, bytes(16), 4)]:
        with pytest.raises(FrameError) as e:
            command.decode_command(data, dev, key, last_counter=last)
        assert e.value.reason == "bad-mic"


@pytest.mark.parametrize("raw,reason", [
    (b"", "truncated"), (bytes.fromhex("4301020304"), "truncated"), (bytes(9), "too-large"),
    (bytes.fromhex("0301020304ff"), "bad-version"), (bytes.fromhex("7f0102030405"), "unknown-kind"),
    (bytes.fromhex("4101020304ff"), "truncated"),  # set-interval without its 2 argument bytes
])
def test_bad_downlinks(raw, reason):
    with pytest.raises(FrameError) as e:
        command.decode_command(raw, DEV, KEY)
    assert e.value.reason == reason


@pytest.mark.parametrize("cmd,reason", [
    ({"cmd": "self-destruct"}, "unknown-kind"), ({"cmd": "set-interval", "seconds": 0}, "out-of-range"),
    ({"cmd": "set-interval", "seconds": 70000}, "out-of-range"), ({"cmd": "set-interval"}, "bad-schema"),
    ({"cmd": "set-radio", "radio": "wifi"}, "out-of-range"), ({"cmd": "set-radio", "radio": "lora", "sf": 13}, "out-of-range"),
    ({"cmd": "set-spo2-cal", "coef": "a", "value": 49.99}, "out-of-range"),
    ({"cmd": "set-spo2-cal", "coef": "b", "value": 82}, "out-of-range"),
    ({"cmd": "set-spo2-cal", "coef": "apply", "value": 45}, "out-of-range"),
    ({"cmd": "set-spo2-cal", "coef": "d", "value": 1}, "out-of-range"),
    ({"cmd": "set-spo2-cal", "coef": "a", "value": float("nan")}, "out-of-range"),
    ({"cmd": "set-spo2-cal", "coef": "a"}, "bad-schema"),
])
def test_bad_commands_on_encode(cmd, reason):
    with pytest.raises(FrameError) as e:
        command.encode_command(DEV, KEY, 1, cmd)
    assert e.value.reason == reason


def test_next_counter_window():
    assert command.next_counter(5, None) == 5
    assert command.next_counter(0x01, 0xFF) == 0x101
    assert command.next_counter(0x10, 0x10) == 0x110  # equal low byte: the next window, never a replay
    assert command.next_counter(0x11, 0x10) == 0x11


def test_gateway_encodes_node_decodes_under_micropython(mpy):
    raws = [command.encode_command(DEV, KEY, 1000 + i, c).hex() for i, c in enumerate(COMMANDS)]
    got = mpy.eval_json(
        "from lpwa.codecs import command_node as command\nimport binascii\nres = []\nlast = 999\n"
        "for h in %r:\n"
        "    d = command.decode_command(binascii.unhexlify(h), 0x0a1b2c3d, bytes(range(16)), last)\n"
        "    last = d['counter']\n"
        "    res.append(d)\n"
        "try:\n"
        "    command.decode_command(binascii.unhexlify(%r), 0x0a1b2c3d, bytes(range(16)), last)\n"
        "    res.append('accepted replay')\n"
        "except command.FrameError as e:\n"
        "    res.append(e.reason)\n" % (raws, raws[0]), "res")
    assert got[:-1] == [expected(c, 1000 + i) for i, c in enumerate(COMMANDS)]
    assert got[-1] == "bad-mic"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=12), st.one_of(st.none(), st.integers(0, 2 ** 32 - 1)))
def test_fuzzed_downlinks_only_raise_frame_error(raw, last):
    try:
        command.decode_command(raw, DEV, KEY, last_counter=last)
    except FrameError as e:
        assert e.reason in ("truncated", "too-large", "bad-version", "unknown-kind", "bad-mic", "bad-schema")


def test_a_node_decodes_without_loading_the_encoder():
    """command_node is what a node loads (firmware/downlink.py); the encoder is the gateway's."""
    import subprocess
    import sys

    code = "import sys; import lpwa.codecs.command_node; print('lpwa.codecs.command' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split() == ["False"]
    from lpwa.codecs import command_node

    assert command.decode_command is command_node.decode_command and not hasattr(command_node, "encode_command")
    assert command_node._MAX_LEN == command.MAX_LEN

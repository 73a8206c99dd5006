"""The specification cannot drift from the code: frame.cddl and FRAMES.md's generated sections
are regenerated here and compared; the worked examples decode to what they say."""

import os
import re

import cbor2
import pycddl
import pytest

from lpwa.tools.cli.frame import EXAMPLE_READINGS, render_cddl, rewrite_docs
from lpwa.gateway.frames import FrameDecoder

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CDDL_PATH = os.path.join(ROOT, "codecs", "frame.cddl")
FRAMES_MD = os.path.join(ROOT, "codecs", "FRAMES.md")
KEY = bytes(range(16))


def test_cddl_file_matches_the_schemas():
    with open(CDDL_PATH) as f:
        assert f.read() == render_cddl(), "run `lpwa frame cddl > codecs/frame.cddl`"


def test_frames_md_generated_sections_are_current():
    with open(FRAMES_MD, encoding="utf-8") as f:
        assert f.read() == rewrite_docs(FRAMES_MD), "run `lpwa frame docs`"


def test_cddl_accepts_good_bodies_and_rejects_bad_ones():
    with open(CDDL_PATH) as f:
        text = f.read()
    buoy = pycddl.Schema("root = buoy-body\n" + text)
    for good in ([], [1825], [1825, None, -90000000], [-500, 3000, 0, 180000000, 10000, 255, 4500, 10000]):
        buoy.validate_cbor(cbor2.dumps(good))
    for bad in ([4501], [-501], [1, 2, 90000001], ["x"], [1.5], [True], [0] * 9, {1: 2}):
        with pytest.raises(pycddl.ValidationError):  # the validator's verdict, not any exception
            buoy.validate_cbor(cbor2.dumps(bad))


def test_worked_examples_decode_to_their_readings():
    with open(FRAMES_MD, encoding="utf-8") as f:
        text = f.read()
    blocks = re.findall(r"```\n(.*?)```", text, re.S)
    hexes = [line for b in blocks for line in b.split()]
    assert len(hexes) >= 7
    dec = FrameDecoder(lambda dev: KEY)
    buoy = dec.feed(bytes.fromhex(hexes[0]), "wisun", {})[0]
    assert {k: v["value"] for k, v in buoy["readings"].items()} == EXAMPLE_READINGS["buoy"]
    vital = dec.feed(bytes.fromhex(hexes[1]), "wisun", {})[0]
    assert vital["type"] == "alarm"
    assert {k: v["value"] for k, v in vital["readings"].items()} == EXAMPLE_READINGS["drone-vital"]
    dec = FrameDecoder(lambda dev: KEY)  # a fresh gateway: the fragments reuse counter 17
    assert dec.feed(bytes.fromhex(hexes[2]), "lora", {}) == []
    assert dec.feed(bytes.fromhex(hexes[3]), "lora", {})[0]["readings"] == buoy["readings"]
    compact = dec.feed(bytes.fromhex(hexes[4]), "sigfox", {"device": "0a1b2c3d", "seq": 1})[0]
    assert compact["readings"]["water_temp_c"]["value"] == 18.25


def test_the_pedometer_version_2_example_is_one_24_byte_frame_of_its_readings():
    with open(FRAMES_MD, encoding="utf-8") as f:
        text = f.read()
    hexes = [line for b in re.findall(r"```\n(.*?)```", text, re.S) for line in b.split()]
    raw = bytes.fromhex(hexes[-3])  # before the two buoy version 2 examples
    d = FrameDecoder(lambda dev: KEY).feed(raw, "lora", {})[0]
    assert len(raw) == 24 and d["kind"] == "pedometer" and d["ref"] == "full"
    assert {k: v["value"] for k, v in d["readings"].items()} == EXAMPLE_READINGS["pedometer"]

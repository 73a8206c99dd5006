"""A node imports only the codec its radio needs (no-PSRAM ESP32: ~110 KiB of heap)."""

import pytest

from lpwa.codecs.compact import CompactEncoder
from lpwa.codecs.encoder import new_encoder
from lpwa.codecs.full import FullEncoder

KEY = bytes(range(16))
LOADED = """
import sys
from lpwa.codecs.encoder import new_encoder
enc = new_encoder(%r, 0x0a1b2c3d, bytes(range(16)), radio=%r, sf=7)
frames = enc.encode(5, %r)
res = [len(frames), sorted(m for m in sys.modules if m.startswith('lpwa.codecs.'))]
"""
READING = {"water_temp_c": 18.25, "battery_v": 3.7}


def test_factory_picks_the_radios_codec():
    assert isinstance(new_encoder("buoy", 1, KEY, radio="sigfox"), CompactEncoder)
    assert isinstance(new_encoder("buoy", 1, KEY, radio="lora"), FullEncoder)
    assert isinstance(new_encoder("buoy", 1, KEY, radio="wisun"), FullEncoder)


@pytest.mark.parametrize("radio,absent", [("lora", {"lpwa.codecs.compact", "lpwa.codecs.fragment"}),
                                          ("wisun", {"lpwa.codecs.compact", "lpwa.codecs.fragment"}),
                                          ("sigfox", {"lpwa.codecs.full", "lpwa.codecs.fragment",
                                                      "lpwa.codecs.cbor", "lpwa.codecs.keys",
                                                      "lpwa.codecs.crypto"})])
def test_a_node_loads_only_its_radios_codec(mpy, radio, absent):
    """A fresh MicroPython: encode one reading, then list the codec modules it imported."""
    mpy.load_board_files()  # forgets every lpwa module loaded before
    n, loaded = mpy.eval_json(LOADED % ("buoy", radio, READING), "res")
    assert n == 1
    assert not absent & set(loaded), "%s node loaded %s" % (radio, sorted(absent & set(loaded)))
    assert ("lpwa.codecs.compact" if radio == "sigfox" else "lpwa.codecs.full") in loaded


def test_fragmentation_is_loaded_when_a_frame_does_not_fit(mpy):
    mpy.load_board_files()
    big = dict(READING, lat_deg=35.1, lon_deg=139.7, wave_height_m=1.2, salinity_psu=34.0)
    n, loaded = mpy.eval_json(LOADED.replace("sf=7", "sf=10") % ("buoy", "lora", big), "res")
    assert n > 1 and "lpwa.codecs.fragment" in loaded

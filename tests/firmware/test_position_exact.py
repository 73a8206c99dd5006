"""Positions stay exact to 1e-6 degree on boards with 32-bit floats (ESP32).

The wasm MicroPython of the test suite has 64-bit floats, so a float path would pass here and
fail on a board; these tests pin the integer path instead, and show what float32 would lose.
"""

import struct

import pytest

from lpwa.codecs import schema
from lpwa.codecs.frame import FrameEncoder
from lpwa.firmware.drivers import gps
from lpwa.gateway.frames import FrameDecoder

KEY = bytes(range(16))


def float32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


@pytest.mark.parametrize("value,hemi,e6", [
    ("13947.31814", "E", 139788636),   # 47.31814 min = 0.78863566... deg
    ("3515.29526", "N", 35254921),
    ("3515.29526", "S", -35254921),
    ("00000.00000", "W", 0),
    ("17959.99999", "W", -180000000),  # 179.99999983 rounds up
    ("4807.038", "N", 48117300),
])
def test_nmea_to_integer_micro_degrees(value, hemi, e6):
    assert gps._coord_e6(value, hemi) == e6
    assert abs(gps._coord(value, hemi) * 1e6 - e6) <= 0.5  # same position as the float path


def test_decimal_text_is_stored_exactly_where_float32_is_not():
    lon = ("lon_deg", "deg", 1000000, 0, -180000000, 180000000)
    assert schema.to_stored(lon, gps.e6_text(139788636)) == 139788636
    assert schema.to_stored(lon, "-0.000001") == -1
    assert schema.to_stored(lon, "12.3456785") == 12345679  # half up past the scale
    # what a 32-bit float board would have sent through the float path
    assert schema.to_stored(lon, float32(139.788636)) != 139788636
    for bad in ("", "-", "1.2.3", "abc", "1e5", " . "):
        with pytest.raises(ValueError):
            schema.to_stored(lon, bad)


def test_gga_through_the_codec_to_the_gateway_is_exact():
    line = "$GPGGA,123519.00,3515.29526,N,13947.31814,E,1,08,0.9,2.0,M,39.0,M,,"
    body = line[1:]
    cs = 0
    for ch in body:
        cs ^= ord(ch)
    msg = gps.parse("%s*%02X" % (line, cs))
    readings = {"lat_deg": gps.e6_text(msg["lat_e6"]), "lon_deg": gps.e6_text(msg["lon_e6"]),
                "water_temp_c": 18.25}
    raw = bytes(FrameEncoder("buoy", 0x0A1B2C3D, KEY, radio="wisun").encode(1, readings)[0])
    out = FrameDecoder(lambda d: KEY).feed(raw, "wisun", {})[0]["readings"]
    assert out["lat_deg"]["value"] == 35.254921 and out["lon_deg"]["value"] == 139.788636


def test_micropython_takes_the_same_integer_path(mpy):
    got = mpy.eval_json(
        "from lpwa.firmware.drivers import gps\nfrom lpwa.codecs import schema\n"
        "e6 = gps._coord_e6('13947.31814', 'E')\n"
        "st = schema.to_stored(('lon_deg', 'deg', 1000000, 0, -180000000, 180000000), gps.e6_text(e6))\n",
        "[e6, st]")
    assert got == [139788636, 139788636]

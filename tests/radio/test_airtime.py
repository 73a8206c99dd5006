"""Time on air against the datasheets' worked values, and the limits derived from it."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lpwa.radio import airtime, limits


# SX1276 datasheet 4.1.1.7 formula, 8-symbol preamble, explicit header, CRC on, CR 4/5, 125 kHz
# (values from the formula and LoRaMac-node).
@pytest.mark.parametrize("kwargs, expected", [
    (dict(payload_len=20, sf=7), 56576),
    (dict(payload_len=20, sf=7, cr=4), 78080),
    (dict(payload_len=20, sf=7, explicit_header=False), 51456),
    (dict(payload_len=11, sf=10), 288768),
    (dict(payload_len=51, sf=12), 2465792),  # LDRO on: 32.768 ms symbols
])
def test_lora_worked_examples(kwargs, expected):
    assert airtime.lora_airtime_us(**kwargs) == expected


def reference_ms(pl, sf, bw_khz=125, cr=1, preamble=8, ih=False, crc=True, de=None):
    """The datasheet formula in floating point, written independently of the module."""
    import math

    t_sym = (2 ** sf) / (bw_khz * 1000) * 1000
    if de is None:
        de = t_sym >= 16
    n = 8 + max(math.ceil((8 * pl - 4 * sf + 28 + 16 * crc - 20 * ih) / (4 * (sf - 2 * de))) * (cr + 4), 0)
    return (preamble + 4.25 + n) * t_sym


@settings(max_examples=500, deadline=None)
@given(st.integers(0, 255), st.integers(6, 12), st.sampled_from([125, 250, 500]), st.integers(1, 4),
       st.integers(6, 20), st.booleans(), st.booleans())
def test_lora_matches_the_datasheet_formula(pl, sf, bw, cr, pre, ih, crc):
    us = airtime.lora_airtime_us(pl, sf, bw, cr, pre, not ih, crc)
    assert us == pytest.approx(reference_ms(pl, sf, bw, cr, pre, ih, crc) * 1000, abs=1)
    assert airtime.lora_airtime_us(min(pl + 1, 255), sf, bw, cr, pre, not ih, crc) >= us  # monotone


def test_ldro_follows_the_16ms_rule():
    assert [airtime.lora_ldro(sf, 125) for sf in range(7, 13)] == [False] * 4 + [True, True]
    assert [airtime.lora_ldro(sf, 250) for sf in (11, 12)] == [False, True]
    assert not airtime.lora_ldro(12, 500)
    # forcing LDRO off at SF12 gives the shorter (non-compliant) figure
    assert airtime.lora_airtime_us(51, 12, ldro=False) < airtime.lora_airtime_us(51, 12)


def test_sx126x_variant():
    # identical from SF7 up (LoRaMac-node sx126x RadioGetLoRaTimeOnAirNumerator)
    for sf in range(7, 13):
        assert airtime.lora_airtime_us(30, sf, sx126x=True) == airtime.lora_airtime_us(30, sf)


# Semtech "SX1261 LoRa Calculator" outputs (SX1262 rows) and the SX1276 datasheet formula (SX1276
# SF5 rows), as recorded in micropython-lib micropython/lora/tests/test_time_on_air.py:
# (chip, sf, bw_khz, cr 4/x, preamble, payload, explicit header, crc, time on air ms)
SEMTECH_CALCULATOR = [
    ("sx1262", 12, 500, 5, 8, 1, True, True, 206.848),
    ("sx1262", 12, 500, 5, 12, 64, True, True, 649.216),
    ("sx1262", 12, 500, 5, 8, 1, True, False, 165.888),
    ("sx1262", 12, 500, 5, 8, 192, True, True, 1476.608),
    ("sx1262", 12, 500, 5, 12, 16, False, False, 280.576),
    ("sx1262", 8, 125, 6, 8, 1, True, True, 53.760),
    ("sx1262", 8, 125, 6, 8, 3, True, True, 66.048),
    ("sx1262", 8, 125, 6, 8, 3, True, False, 53.760),
    ("sx1262", 8, 125, 6, 8, 253, True, True, 827.904),
    ("sx1262", 8, 125, 6, 12, 5, False, True, 61.952),
    ("sx1262", 8, 125, 6, 12, 10, False, True, 86.528),
    ("sx1262", 8, 125, 6, 12, 253, False, True, 823.808),
    ("sx1276", 8, 125, 6, 8, 1, True, True, 53.760),
    ("sx1276", 8, 125, 6, 12, 5, False, False, 61.952),
    ("sx1262", 5, 500, 5, 2, 1, True, False, 1.360),
    ("sx1262", 5, 500, 5, 2, 1, True, True, 1.680),
    ("sx1262", 5, 500, 5, 12, 1, False, False, 1.680),
    ("sx1262", 5, 500, 5, 12, 253, False, True, 34.000),
    ("sx1262", 5, 125, 8, 12, 253, False, True, 213.568),
    ("sx1276", 5, 500, 5, 2, 1, True, False, 1.232),
    ("sx1276", 5, 500, 5, 12, 253, False, True, 34.192),
    ("sx1276", 5, 125, 8, 12, 253, False, True, 215.104),
    ("sx1262", 12, 7.81, 8, 128, 253, True, True, 287532.907),
    ("sx1262", 11, 10.42, 7, 25, 16, True, True, 12824.568),
    ("sx1262", 11, 10.42, 7, 25, 16, False, False, 11448.752),
]


@pytest.mark.parametrize("chip, sf, bw, cr, pre, pl, explicit, crc, ms", SEMTECH_CALCULATOR)
def test_semtech_calculator_values(chip, sf, bw, cr, pre, pl, explicit, crc, ms):
    us = airtime.lora_airtime_us(pl, sf, bw, cr - 4, pre, explicit, crc, sx126x=chip == "sx1262")
    assert abs(us - round(ms * 1000)) <= 1


def test_lora_rejects_nonsense():
    for bad in (dict(payload_len=256, sf=7), dict(payload_len=-1, sf=7), dict(payload_len=1, sf=13),
                dict(payload_len=1, sf=7, cr=5), dict(payload_len=1, sf=7, bw_khz=0)):
        with pytest.raises(ValueError):
            airtime.lora_airtime_us(**bad)


def test_sigfox_frames_and_airtime():
    # sigfox-ep-lib: 14, 15, 18, 22, 26 bytes for 0, 1, 2-4, 5-8, 9-12 payload bytes
    assert [airtime.sigfox_frame_bytes(n) for n in range(13)] == [14, 15, 18, 18, 18, 22, 22, 22, 22, 26, 26, 26, 26]
    assert airtime.sigfox_airtime_us(12) == 2080000  # 26 * 8 / 100 bps
    assert airtime.sigfox_total_airtime_us(12) == 3 * 2080000
    assert airtime.sigfox_airtime_us(12, bps=600) == 346667
    with pytest.raises(ValueError):
        airtime.sigfox_airtime_us(13)


def test_wisun_fsk():
    # bare MAC frame: 8 preamble + 2 SFD + 2 PHR + 100 + 4 FCS = 116 octets at 100 kbps
    assert airtime.wisun_airtime_us(100, overhead=0) == 9280
    assert airtime.wisun_airtime_us(100, kbps=50, overhead=0) == 18560
    assert airtime.wisun_airtime_us(100, kbps=200, overhead=0) == 4640
    assert airtime.wisun_airtime_us(0, kbps=150, preamble_bytes=4, fcs_bytes=2, overhead=0) == -(-10 * 8 * 10**6 // 150000)
    # a UDP payload (what SKSENDTO carries) also pays the stack's headers, estimated high
    assert airtime.wisun_airtime_us(100) == (116 + airtime.WISUN_UDP_OVERHEAD) * 80
    with pytest.raises(ValueError):
        airtime.wisun_airtime_us(2044, overhead=0)
    with pytest.raises(ValueError):
        airtime.wisun_airtime_us(2047 - 4 - airtime.WISUN_UDP_OVERHEAD + 1)


def test_as923_dwell_table_agrees_with_our_airtime():
    """Independent cross-check: LoRaWAN's AS923 N (400 ms dwell) + 13 bytes of MAC is the largest
    PHY payload within 400 ms, exactly what max_payload finds."""
    for dr, sf, bw, n_free, n_dwell in limits.AS923_DATARATES:
        if not n_dwell:
            assert limits.max_payload("lora", sf, bw) < limits.LORAWAN_OVERHEAD + 1
            continue
        phy = n_dwell + limits.LORAWAN_OVERHEAD
        if phy < 255:
            assert limits.max_payload("lora", sf, bw) == phy, dr
        else:
            assert limits.max_payload("lora", sf, bw) == 255


def test_max_payload():
    assert [limits.max_payload("lora", sf) for sf in range(7, 13)] == [255, 138, 66, 24, 0, 0]
    assert [limits.max_payload("lora", sf, dwell_ms=4000) for sf in range(7, 13)] == [255, 255, 255, 255, 198, 100]
    for sf in range(7, 13):
        for dwell in (400, 4000):
            n = limits.max_payload("lora", sf, dwell_ms=dwell)
            if n:
                assert airtime.lora_airtime_us(n, sf) <= dwell * 1000
            if 0 < n < 255:
                assert airtime.lora_airtime_us(n + 1, sf) > dwell * 1000
    assert limits.max_payload("sigfox") == 12 and limits.max_payload("wisun") == 1232
    with pytest.raises(ValueError):
        limits.max_payload("zigbee")


def test_arib_channel_grid():
    assert limits.arib_channel_mhz(24) == 920.6 and limits.arib_channel_mhz(38) == 923.4
    assert limits.arib_channel_mhz(61) == 928.0
    assert limits.arib_channel_for(923.2) == 37 and limits.arib_channel_for(923.3) is None
    assert limits.arib_channel_for(915.0) is None
    assert [ch for ch in range(24, 62) if limits.long_emission_allowed(ch)] == list(range(24, 39))
    with pytest.raises(ValueError):
        limits.arib_channel_mhz(23)


def test_the_same_numbers_under_micropython(mpy):
    cases = [(pl, sf, bw, cr) for pl in (0, 1, 11, 20, 51, 115, 242, 255) for sf in range(7, 13)
             for bw in (125, 250, 500) for cr in (1, 4)]
    host = [airtime.lora_airtime_us(pl, sf, bw, cr) for pl, sf, bw, cr in cases]
    host += [airtime.lora_airtime_us(10, sf, sx126x=True) for sf in (5, 6)]
    host += [airtime.sigfox_airtime_us(n) for n in range(13)] + [airtime.wisun_airtime_us(n, k) for n in (0, 100, 1232)
                                                                 for k in (50, 100, 150, 200, 300)]
    host += [limits.max_payload("lora", sf, bw, d) for sf in range(7, 13) for bw in (125, 250) for d in (400, 4000)]
    board = mpy.eval_json(
        "from lpwa.radio import airtime as a, limits as l\n"
        "_r = [a.lora_airtime_us(pl, sf, bw, cr) for pl, sf, bw, cr in %r]\n"
        "_r += [a.lora_airtime_us(10, sf, sx126x=True) for sf in (5, 6)]\n"
        "_r += [a.sigfox_airtime_us(n) for n in range(13)] + [a.wisun_airtime_us(n, k) for n in (0, 100, 1232)"
        " for k in (50, 100, 150, 200, 300)]\n"
        "_r += [l.max_payload('lora', sf, bw, d) for sf in range(7, 13) for bw in (125, 250) for d in (400, 4000)]" % (cases,),
        "_r")
    assert board == host

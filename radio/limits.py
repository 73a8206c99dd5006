"""Regional limits for Japan's 920 MHz band, as data, each with its source.

Where sources disagree the stricter reading is encoded and the disagreement is written down in
radio/LIMITS.md. Durations: *_us microseconds, *_ms milliseconds (integers throughout).
"""

try:
    from micropython import const
except ImportError:  # CPython (lpwa.radio.const)
    from lpwa.radio.const import const  # type: ignore[assignment]

# A node imports this module for RADIOS, max_payload and the channel checks. Names with a leading
# underscore are const(): mpy-cross folds them into the code, so they cost the node no heap and no
# interned name; the public ones are what the budget, the gateway and the tools read.

# --- ARIB STD-T108 (20 mW specified low-power station) and MIC Notice No. 123 of 2019 ---------
# Unit channels are 200 kHz wide; channel n is centred at 920.6 + 0.2 (n - 24) MHz.
# Source: ARIB STD-T108 part 2 channel plan; LoRaMac-node RegionAS923 comments.
_ARIB_FIRST_CHANNEL = const(24)
_ARIB_LAST_CHANNEL = const(61)
# Carrier sense: level -80 dBm over 200 kHz. Source: ARIB STD-T108; LoRaMac-node RegionAS923.h
# AS923_RSSI_FREE_TH = -80, AS923_CARRIER_SENSE_TIME = 5 ms; sigfox-ep-lib RC3 LBT.
_ARIB_CS_THRESHOLD_DBM = const(-80)
# The two transmit-time rows of MIC Notice No. 123 (2019) table (tele.soumu.go.jp, 72ab6860):
#   carrier sense >= 128 us: one emission <= 0.4 s, pause >= 2 ms, note 1: <= 360 s per hour.
#   carrier sense >= 5 ms:   one emission <= 4 s,   pause >= 50 ms.
_ARIB_SHORT_CS_US = const(128)
ARIB_SHORT_MAX_TX_US = const(400000)
_ARIB_SHORT_PAUSE_MS = const(2)
ARIB_LONG_CS_US = const(5000)
ARIB_LONG_MAX_TX_US = const(4000000)
ARIB_LONG_PAUSE_MS = const(50)
# 360 s of transmission in any hour (10 %). Source: MIC Notice 123 note 1 (short carrier sense);
# LoRaMac-node plan JP_CH37_CH61_LBT_DC. Channels 24-38 with 5 ms carrier sense have no hourly cap
# in LoRaMac-node (JP_CH24_CH38_LBT) but one source puts the cap from channel 33 up; we apply it
# everywhere (see LIMITS.md): at sensor traffic rates it never binds before the daily caps do.
ARIB_HOUR_BUDGET_MS = const(360000)
# 4 s emissions only on channels 24..38. Source: LoRaMac-node JP_CH24_CH38_LBT
_ARIB_LONG_CS_FIRST = const(24)
_ARIB_LONG_CS_LAST = const(38)
_ARIB_MAX_POWER_DBM = const(13)  # 20 mW conducted; 16 dBm EIRP with <= 3 dBi antenna

# --- LoRaWAN AS923-1 (RP002-1.0.4; The Things Stack as_923_rp2_v1_0_4.go; LoRaMac-node) -------
# (DR, SF, BW kHz, N without dwell limit, N with 400 ms dwell (0 = not allowed)). DR7 is FSK 50 kbps.
AS923_DATARATES = (
    (0, 12, 125, 51, 0),
    (1, 11, 125, 51, 0),
    (2, 10, 125, 115, 11),  # RP001-1.0.3revA: N = 51 without dwell
    (3, 9, 125, 115, 53),
    (4, 8, 125, 242, 125),
    (5, 7, 125, 242, 242),
    (6, 7, 250, 242, 242),
)
LORAWAN_OVERHEAD = const(13)  # MHDR 1 + FHDR 7 + FPort 1 + MIC 4: PHY payload = N + 13
_AS923_DWELL_MS = const(400)
_AS923_DEFAULT_FREQ_KHZ = const(923200)  # and 923400

# --- LoRa chips ---------------------------------------------------------------------------------
SX127X_FIFO_BYTES = const(255)  # SX1276 datasheet 4.1.2.3: payload length register, 255 max

# --- Sigfox RC3 (Japan) ---------------------------------------------------------------------------
# Source: sigfox-ep-lib inc/sigfox_types.h and src/sigfox_rc.c (RC3c: 923.2 MHz up, 922.2 MHz down,
# LBT -80 dBm >= 5 ms); 140 up / 4 down a day is the Sigfox Platinum subscription (Sigfox
# "Message rate" docs), not a radio rule.
SIGFOX_UL_MAX = const(12)
_SIGFOX_DL_BYTES = const(8)
SIGFOX_UPLINKS_PER_DAY = const(140)
SIGFOX_DOWNLINKS_PER_DAY = const(4)
SIGFOX_T_IFU_MAX_MS = const(2000)  # longest gap between the repeats of one uplink (sigfox_types.h)
_SIGFOX_UL_FREQ_KHZ = const(923200)
_SIGFOX_DL_FREQ_KHZ = const(922200)

# --- Wi-SUN / SKSTACK-IP -------------------------------------------------------------------------
# SKSENDTO accepts 1..0x04D0 bytes (ROHM SKSTACK-IP command reference; Smdn.Net.SkStackIP).
WISUN_UDP_MAX = const(1232)
_WISUN_PSDU_MAX = const(2047)  # IEEE 802.15.4g aMaxPhyPacketSize

RADIOS = ("lora", "sigfox", "wisun")


def arib_channel_mhz(channel):
    """Centre frequency of ARIB unit channel `channel` (24..61)."""
    if not _ARIB_FIRST_CHANNEL <= channel <= _ARIB_LAST_CHANNEL:
        raise ValueError("ARIB channel must be 24..61")
    return (9206 + 2 * (channel - 24)) / 10


def arib_channel_for(freq_mhz):
    """ARIB unit channel centred on `freq_mhz`, or None when off the grid."""
    tenths = int(freq_mhz * 10 + 0.5)
    if (tenths - 9206) % 2:
        return None
    ch = 24 + (tenths - 9206) // 2
    return ch if _ARIB_FIRST_CHANNEL <= ch <= _ARIB_LAST_CHANNEL else None


def long_emission_allowed(channel):
    """4 s emissions (with 5 ms carrier sense) are only for channels 24-38."""
    return channel is not None and _ARIB_LONG_CS_FIRST <= channel <= _ARIB_LONG_CS_LAST


def max_payload(radio, sf=10, bw_khz=125, dwell_ms=400):
    """Largest frame (bytes our node hands the radio) that fits one legal emission.

    lora: the largest PHY payload whose time on air (CR 4/5, 8-symbol preamble, explicit header,
    CRC on) is within `dwell_ms` (400: short carrier sense; 4000: 5 ms carrier sense, channels
    24-38), capped by the SX127x FIFO; 0 when not even a 1-byte frame fits.
    sigfox: 12. wisun: 1232 (the SKSENDTO limit).
    """
    if radio == "sigfox":
        return SIGFOX_UL_MAX
    if radio == "wisun":
        return WISUN_UDP_MAX
    if radio != "lora":
        raise ValueError("unknown radio %r" % (radio,))
    from lpwa.radio.airtime import lora_airtime_us  # LoRa only: a Sigfox or Wi-SUN node never needs it

    limit_us = int(dwell_ms) * 1000
    lo, hi = 0, SX127X_FIFO_BYTES  # binary search: airtime grows with length
    if lora_airtime_us(1, sf, bw_khz) > limit_us:
        return 0
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if lora_airtime_us(mid, sf, bw_khz) <= limit_us:
            lo = mid
        else:
            hi = mid - 1
    return lo

"""Time on air in integer microseconds for LoRa, Sigfox and Wi-SUN FSK.

Integer arithmetic only, so the board and the gateway agree to the microsecond and the duty-cycle
budget never drifts by float rounding. Results round up: the budget must never under-count.

LoRa: Semtech SX1276/77/78/79 datasheet rev. 7, section 4.1.1.6 (symbol rate) and 4.1.1.7 (time
on air); the same formula as LoRaMac-node src/radio/sx1276/sx1276.c
(SX1276GetLoRaTimeOnAirNumerator). With `sx126x=True` the SX1261/2 variant of LoRaMac-node
src/radio/sx126x/radio.c (RadioGetLoRaTimeOnAirNumerator) and the Semtech SX1261 LoRa Calculator:
at SF5/SF6 two more symbols and no 8-symbol term in the ceiling; identical to SX127x from SF7 up.
The preamble is taken as given (LoRaMac-node raises it to 12 symbols at SF5/SF6 before calling;
micropython-lib's driver and the calculator do not).
Worked examples (datasheet formula, 8-symbol preamble, explicit header, CRC on, CR 4/5,
125 kHz): SF7 20 B = 56576 us; CR 4/8 = 78080 us; implicit header = 51456 us; SF10 11 B =
288768 us; SF12 51 B = 2465792 us (tests/radio/test_airtime.py).
"""

try:
    from micropython import const
except ImportError:  # CPython (lpwa.radio.const)
    from lpwa.radio.const import const  # type: ignore[assignment]

# Names with a leading underscore are const(): folded by mpy-cross, no heap and no interned name on
# the node; the public ones are read by the tools and tests.

# Sigfox uplink frame length on air for each payload size: preamble, frame type, header (with
# the sequence number and device id), payload, MAC and CRC. Source: sigfox-ep-lib
# inc/sigfox_types.h (SIGFOX_UL_FRAME_SIZE_BYTES): 0 B -> 14 (bit frame), 1 -> 15, 2..4 -> 18,
# 5..8 -> 22, 9..12 -> 26 bytes.
_SIGFOX_FRAME_BYTES = b"\x0e\x0f\x12\x12\x12\x16\x16\x16\x16\x1a\x1a\x1a\x1a"  # 14, 15, 18 x3, 22 x4, 26 x4
_SIGFOX_UL_BPS = const(100)  # RC3 uplink, DBPSK (sigfox-ep-lib src/sigfox_rc.c, RC3 100 bps)
SIGFOX_REPEATS = const(3)  # one frame, sent on three frequencies
_SIGFOX_MAX_PAYLOAD = const(12)

# 802.15.4g SUN-FSK PPDU: preamble (phyFSKPreambleLength, default 4 octets in the standard; Wi-SUN
# HAN/ECHONET modules use 8 octets for robust sync), SFD 2 octets, PHR 2 octets
# (IEEE802154_PHY_MR_FSK_PHR_LEN / _2FSK_SFD_LEN in RIOT), PSDU = MAC frame + FCS (4 octets for
# Wi-SUN FAN, 2 for HAN).
_WISUN_PREAMBLE_BYTES = const(8)
_WISUN_SFD_BYTES = const(2)
_WISUN_PHR_BYTES = const(2)
_WISUN_FCS_BYTES = const(4)
# SUN-FSK rates 50, 100, 150, 200 or 300 kbps (the module is set to one; 100 is the usual).
# What the module's stack adds around a UDP payload, estimated high so airtime is never
# under-counted: 802.15.4 MAC header with PAN id and two 64-bit addresses (21), auxiliary
# security header (6), MIC (8), 6LoWPAN IPHC for link-local addresses (up to 10), UDP next-header
# compression with full ports and checksum (up to 8) = 53, rounded up to 64.
WISUN_UDP_OVERHEAD = const(64)


def _ceil_div(a, b):
    return -((-a) // b)


def lora_ldro(sf, bw_khz=125):
    """Low data rate optimisation is mandated when a symbol lasts 16 ms or more (SX1276 4.1.1.6)."""
    return (1 << sf) * 1000000 >= 16000 * int(bw_khz * 1000)


def lora_symbol_us(sf, bw_khz=125):
    """One LoRa symbol, 2^SF / BW, in microseconds (rounded up)."""
    return _ceil_div((1 << sf) * 1000000, int(bw_khz * 1000))


def lora_symbols(payload_len, sf, cr=1, preamble=8, explicit_header=True, crc=True, ldro=False,
                 sx126x=False):
    """Symbols on air times four (the preamble adds 4.25 symbols, so quarters stay integral)."""
    if not 5 <= sf <= 12:
        raise ValueError("sf must be 5..12")
    if not 1 <= cr <= 4:
        raise ValueError("cr must be 1..4 (4/5..4/8)")
    if payload_len < 0 or payload_len > 255:
        raise ValueError("payload_len must be 0..255")
    num = 8 * payload_len - 4 * sf + (16 if crc else 0) + (20 if explicit_header else 0)
    if sf >= 7 or not sx126x:
        num += 8
    den = 4 * (sf - 2 if ldro else sf)
    n_payload = 8 + max(_ceil_div(num, den), 0) * (cr + 4)
    if sx126x and sf <= 6:
        n_payload += 2
    return 4 * (preamble + n_payload) + 17


def lora_airtime_us(payload_len, sf, bw_khz=125, cr=1, preamble=8, explicit_header=True, crc=True,
                    ldro=None, sx126x=False):
    """Time on air of one LoRa frame of `payload_len` PHY payload bytes, in microseconds.

    cr is the coding-rate index (1 = 4/5 .. 4 = 4/8); ldro None means "as the datasheet
    mandates" (symbol time >= 16 ms: SF11/SF12 at 125 kHz, SF12 at 250 kHz).
    """
    bw_hz = int(bw_khz * 1000)
    if bw_hz <= 0:
        raise ValueError("bw_khz must be positive")
    if ldro is None:
        ldro = lora_ldro(sf, bw_khz)
    quarters = lora_symbols(payload_len, sf, cr, preamble, explicit_header, crc, ldro, sx126x)
    return _ceil_div(quarters * (1 << sf) * 1000000, 4 * bw_hz)


def sigfox_frame_bytes(payload_len):
    if not 0 <= payload_len <= _SIGFOX_MAX_PAYLOAD:
        raise ValueError("sigfox payload must be 0..12 bytes")
    return _SIGFOX_FRAME_BYTES[payload_len]


def sigfox_airtime_us(payload_len, bps=_SIGFOX_UL_BPS):
    """One repeat of a Sigfox uplink (the module sends SIGFOX_REPEATS of them)."""
    return _ceil_div(sigfox_frame_bytes(payload_len) * 8 * 1000000, bps)


def sigfox_total_airtime_us(payload_len, bps=_SIGFOX_UL_BPS, repeats=SIGFOX_REPEATS):
    """All repeats of one uplink: what the hourly budget must count."""
    return repeats * sigfox_airtime_us(payload_len, bps)


def wisun_airtime_us(payload_len, kbps=100, preamble_bytes=_WISUN_PREAMBLE_BYTES, fcs_bytes=_WISUN_FCS_BYTES,
                     overhead=WISUN_UDP_OVERHEAD):
    """One 802.15.4g SUN-FSK PPDU carrying a `payload_len`-byte UDP payload (what SKSENDTO is
    given): preamble, SFD, PHR, the stack's headers (`overhead`; 0 for a bare MAC frame), FCS."""
    if payload_len < 0 or payload_len + overhead + fcs_bytes > 2047:
        raise ValueError("wisun PSDU must be at most 2047 bytes")
    bps = int(kbps * 1000)
    if bps <= 0:
        raise ValueError("kbps must be positive")
    octets = preamble_bytes + _WISUN_SFD_BYTES + _WISUN_PHR_BYTES + overhead + payload_len + fcs_bytes
    return _ceil_div(octets * 8 * 1000000, bps)

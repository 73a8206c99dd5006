"""Full frames (LoRa, Wi-SUN), the receiving side: the 32-bit counter rebuilt from its low 16 bits,
the MIC checked, the body decrypted (open_frame, also version 2's), the CBOR body decoded
(decode_full). The gateway's half of full.py: a node only encodes, and never loads this.
"""

from lpwa.codecs import cbor
from lpwa.codecs import schema_base as _schema
from lpwa.codecs.errors import FrameError
from lpwa.codecs.header import (DIR_UP, F_ALARM, F_ENCRYPTED, F_HMAC, HEADER_LEN, MIC_LEN, PREFIX_LEN, T_STATUS,
                                device_hex, is_full_type, mic_equal, parse_header, write_b0)
from lpwa.codecs.keys import keys_of
from lpwa.codecs.readings import readings_from_body, result


def counter_candidates(low16, last=None):
    """Full 32-bit counters whose low 16 bits are low16, as LoRaWAN rebuilds FCnt: the first at
    or after `last` (the same counter again is a duplicate for the gateway to drop), then the
    one 65536 later; with no history, every epoch 0..255 (counters below 2**24) in turn. The MIC
    decides which one the node used, so a frame older than `last` fails with "bad-mic"."""
    if last is None:
        return [(e << 16) | low16 for e in range(256)]
    c = (last & 0xFFFF0000) | low16
    if c < last:
        c += 0x10000
    return [x for x in (c, c + 0x10000) if x <= 0xFFFFFFFF]


def _device_keys(raw, key_for):
    device = int.from_bytes(bytes(raw[2:6]), "big")
    dhex = device_hex(device)
    key = key_for(dhex)
    if key is None:
        raise FrameError("unknown-device", dhex)
    try:
        return device, dhex, keys_of(key)
    except ValueError:
        raise FrameError("unknown-device", "%s has no valid 16-byte key" % dhex)


def open_frame(raw, key_for, last_counter=None, version=1):
    """Verify the MIC and decrypt a full frame. -> (ftype, kind, flags, device, counter, body bytes).

    key_for(device_hex) -> 16-byte key or None; last_counter(device_hex) -> int or None.
    Version 2 (packed.py) has the same header and MIC; its flags use every bit.
    """
    ftype, kind = parse_header(raw, version)
    if not is_full_type(raw[0]):
        raise FrameError("bad-version", "not a full frame (type %d)" % ftype)
    if len(raw) < HEADER_LEN + 1 + MIC_LEN:
        raise FrameError("truncated", "%d bytes, a full frame has at least %d" % (len(raw), HEADER_LEN + 1 + MIC_LEN))
    flags = raw[1]
    if version == 1 and flags & 0xF8:
        raise FrameError("bad-version", "reserved flag bits set")
    device, dhex, keys = _device_keys(raw, key_for)
    low = (raw[6] << 8) | raw[7]
    n = len(raw) - MIC_LEN
    work = bytearray(PREFIX_LEN + n + MIC_LEN)
    work[PREFIX_LEN:PREFIX_LEN + n] = raw[:n]
    hm = bool(flags & F_HMAC)
    last = last_counter(dhex) if last_counter is not None else None
    for counter in counter_candidates(low, last):
        write_b0(work, 0, DIR_UP, device, counter)
        keys.mic_into(work, 0, PREFIX_LEN + n, PREFIX_LEN + n, hm)
        if mic_equal(work, PREFIX_LEN + n, raw, n):
            break
    else:
        raise FrameError("bad-mic", "device %s" % dhex)
    body = work[PREFIX_LEN + HEADER_LEN:PREFIX_LEN + n]
    if flags & F_ENCRYPTED:
        keys.crypt(DIR_UP, device, counter, body, 0, len(body))
    return ftype, kind, flags, device, counter, bytes(body)


def loads_strict(body):
    try:
        return cbor.loads(body)
    except cbor.CBORError as e:
        raise FrameError("bad-cbor", str(e))


def decode_full(raw, radio, meta, key_for, last_counter=None, loads=None, compact_needs_key=True):
    """A full frame -> the decoded dict; loads(body) decodes CBOR (default: the portable one)."""
    ftype, kind, flags, device, counter, body = open_frame(raw, key_for, last_counter)
    items = (loads or loads_strict)(body)
    status = ftype == T_STATUS
    fields = _schema.STATUS_FIELDS if status else _schema.kind_schema(kind)["fields"]
    readings = readings_from_body(items, fields)
    return result(kind, status, bool(flags & F_ALARM), device_hex(device), counter, readings, raw)

"""The byte layout shared by every frame type: header byte, big-endian ids, the MIC's B0 prefix.

    hdr = version (bits 7-6) | type (bits 5-3) | kind (bits 2-0)
"""

from lpwa.codecs import schema_base as _schema
from lpwa.codecs.errors import FrameError

VERSION = 1
T_READING = 0
T_STATUS = 1
T_FRAGMENT = 2
T_READING_R2 = 3  # version 2 only: a reading in layout revision 2 (codecs/layout2.py REVISION_1)
T_COMPACT = 3
T_COMPACT_STATUS = 4
T_SEALED = 5  # compact reading, AES-CTR encrypted (personal kinds over Sigfox)
T_SEALED_STATUS = 6
F_ALARM = 0x01
F_ENCRYPTED = 0x02
F_HMAC = 0x04
HEADER_LEN = 8
MIC_LEN = 4
FRAG_HEADER_LEN = 3
MAX_FRAGMENTS = 16
PREFIX_LEN = 9  # B0: dir, device, counter
MAX_BODY = 96
DIR_UP = 0
DIR_DOWN = 1
DIR_SIGFOX_UP = 2  # the CTR block's direction byte for sealed compact frames: own nonce space
SEQ_BITS = 12  # the Sigfox sequence number wraps at 4096


def kind_schema(kind):
    s = _schema.kind_schema(kind)
    if s is None:
        raise FrameError("unknown-kind", str(kind))
    return s


def u32_into(buf, off, n):
    buf[off] = (n >> 24) & 0xFF
    buf[off + 1] = (n >> 16) & 0xFF
    buf[off + 2] = (n >> 8) & 0xFF
    buf[off + 3] = n & 0xFF


def device_hex(device_id):
    return "%08x" % device_id


def write_b0(buf, off, direction, device_id, counter):
    buf[off] = direction
    u32_into(buf, off + 1, device_id)
    u32_into(buf, off + 5, counter)


def header_byte(ftype, kind_id, version=VERSION):
    return (version << 6) | (ftype << 3) | kind_id


def split_header(raw):
    """-> (version, type, kind name) of any frame; checks only that the kind exists."""
    if len(raw) < 1:
        raise FrameError("truncated", "empty frame")
    hdr = raw[0]
    kind = _schema.KIND_BY_ID.get(hdr & 0x07)
    if kind is None:
        raise FrameError("unknown-kind", "kind id %d" % (hdr & 0x07))
    return hdr >> 6, (hdr >> 3) & 0x07, kind


def parse_header(raw, version=None):
    """-> (type, kind name) of a version 1 or 2 frame (or only `version`); checks version, type
    and kind. Version 2 (LoRa, codecs/packed.py) has types 0-3 only."""
    if len(raw) < 1:
        raise FrameError("truncated", "empty frame")
    hdr = raw[0]
    v = hdr >> 6
    if v != (version or v) or v not in (VERSION, 2):
        raise FrameError("bad-version", "version %d" % v)
    ftype = (hdr >> 3) & 0x07
    if ftype > (T_SEALED_STATUS if v == VERSION else T_READING_R2):
        raise FrameError("bad-version", "frame type %d" % ftype)
    kind = _schema.KIND_BY_ID.get(hdr & 0x07)
    if kind is None:
        raise FrameError("unknown-kind", "kind id %d" % (hdr & 0x07))
    return ftype, kind


def is_full_type(hdr):
    """Does this header byte start a full frame (a reading or status with a MIC, what fragments carry)?"""
    ftype = (hdr >> 3) & 0x07
    return ftype in (T_READING, T_STATUS) or (hdr >> 6 == 2 and ftype == T_READING_R2)


def mic_equal(buf, off, raw, start):
    """Compare the MICs at buf[off:] and raw[start:] without an early exit (no timing hint about
    which byte differs)."""
    diff = 0
    for i in range(MIC_LEN):
        diff |= buf[off + i] ^ raw[start + i]
    return diff == 0

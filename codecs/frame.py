"""Frames: header, CBOR body, MIC; fragments; the compact Sigfox frame. Portable (board + host).

Full frame (LoRa, Wi-SUN), see FRAMES.md and frame.cddl:

    0      hdr      version (bits 7-6) | type (bits 5-3) | kind (bits 2-0)
    1      flags    bit 0 alarm, bit 1 encrypted (AES-128-CTR), bit 2 MIC is HMAC-SHA256 (else
                    AES-CMAC); bits 3-7 zero
    2..5   device   32-bit id, big-endian
    6..7   counter  low 16 bits of the 32-bit frame counter, big-endian
    8..    body     CBOR array of scaled integers (ciphertext when encrypted)
    last 4 MIC      first 4 bytes of AES-CMAC / HMAC-SHA256 over B0 || frame-without-MIC

B0 = dir (0 up, 1 down) || device (4) || counter (4, full 32 bits): the MIC covers the counter's
high bits, which are not sent (as LoRaWAN does with FCnt); the receiver reconstructs them.

Fragment: hdr (type 2, same kind) || index << 4 | (count - 1) || tag || chunk, tag = XOR of the
device id's 4 bytes and the counter's low byte (groups fragments; devices with equal counters
do not collide); the chunks, in order, concatenated, are the full frame.
Compact (Sigfox): hdr (type 3 reading, 4 status) || packed fields of schema.*_COMPACT; no device,
counter or MIC: Sigfox carries the device id and sequence number and authenticates the frame.

The hot path (`FrameEncoder.encode_into`) takes stored integers in a reused list and writes into
a preallocated buffer: no heap allocation in steady state on MicroPython.
"""

import binascii

from lpwa.codecs import cbor
from lpwa.codecs import crypto
from lpwa.codecs import schema as _schema
from lpwa.radio.limits import max_payload

VERSION = 1
T_READING = 0
T_STATUS = 1
T_FRAGMENT = 2
T_COMPACT = 3
T_COMPACT_STATUS = 4
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

REASONS = ("truncated", "bad-version", "unknown-kind", "bad-mic", "bad-cbor", "bad-schema",
           "out-of-range", "too-large", "unknown-device", "fragment")

class FrameError(ValueError):
    """A frame that cannot be encoded or decoded; `.reason` is one of REASONS."""

    def __init__(self, reason, detail=""):
        self.reason = reason
        self.detail = detail
        super().__init__(reason + (": " + detail if detail else ""))


def _kind_schema(kind):
    s = _schema.KINDS.get(kind)
    if s is None:
        raise FrameError("unknown-kind", str(kind))
    return s


def _u32(buf, off, n):
    buf[off] = (n >> 24) & 0xFF
    buf[off + 1] = (n >> 16) & 0xFF
    buf[off + 2] = (n >> 8) & 0xFF
    buf[off + 3] = n & 0xFF


def device_hex(device_id):
    return "%08x" % device_id


def write_b0(buf, off, direction, device_id, counter):
    buf[off] = direction
    _u32(buf, off + 1, device_id)
    _u32(buf, off + 5, counter)


def write_ctr_block(block, direction, device_id, counter):
    """A_1: 0x01 || dir || device || counter || 0^5 || 0x01 (last bytes count the blocks)."""
    block[0] = 1
    block[1] = direction
    _u32(block, 2, device_id)
    _u32(block, 6, counter)
    for i in range(10, 15):
        block[i] = 0
    block[15] = 1


class Keys:
    """A device key's derived MIC and encryption engines, built once per device."""

    def __init__(self, key):
        if key is None or len(key) != 16:
            raise ValueError("device key must be 16 bytes")
        self.mic_key, enc_key = crypto.derive_keys(key)
        self.cmac = crypto.CMAC(self.mic_key)
        self.ctr = crypto.CTR(enc_key)
        self.block = bytearray(16)

    def mic_into(self, buf, start, end, out_off, hmac=False):
        if hmac:
            d = crypto.hmac_sha256(self.mic_key, bytes(buf[start:end]))
            for i in range(MIC_LEN):
                buf[out_off + i] = d[i]
        else:
            self.cmac.mac_into(buf, start, end, buf, out_off, MIC_LEN)

    def crypt(self, direction, device_id, counter, buf, start, end):
        write_ctr_block(self.block, direction, device_id, counter)
        self.ctr.xor_into(self.block, buf, start, end)


class FrameEncoder:
    """Encodes one node's frames for one radio. Reuse it: buffers and key schedules are built once.

    readings are natural units ({"water_temp_c": 18.25, ...}); `encode_into` is the
    allocation-free path that takes stored integers (schema order) in a reused list.
    overflow: "fragment" (split, gateway reassembles) or "drop" (drop lowest-priority fields).
    """

    def __init__(self, kind, device_id, key, radio="lora", sf=10, bw_khz=125, encrypt=None,
                 mic="cmac", overflow="fragment", dwell_ms=400):
        self.schema = _kind_schema(kind)
        self.kind = kind
        self.kind_id = self.schema["id"]
        if isinstance(device_id, str):
            device_id = int(device_id, 16)
        if not 0 <= device_id <= 0xFFFFFFFF:
            raise ValueError("device id must be 32-bit unsigned")
        self.device_id = device_id
        self.radio = radio
        self.limit = max_payload(radio, sf, bw_khz, dwell_ms)
        self.compact = radio == "sigfox"
        if encrypt is None:
            encrypt = kind in _schema.PERSONAL_KINDS and not self.compact
        if encrypt and self.compact:
            raise ValueError("compact Sigfox frames are not encrypted by the codec (see FRAMES.md)")
        self.encrypt = encrypt
        if mic not in ("cmac", "hmac"):
            raise ValueError("mic must be 'cmac' or 'hmac'")
        self.hmac = mic == "hmac"
        if overflow not in ("fragment", "drop"):
            raise ValueError("overflow must be 'fragment' or 'drop'")
        self.overflow = overflow
        self.keys = Keys(key) if not self.compact else None
        self.buf = bytearray(PREFIX_LEN + HEADER_LEN + MAX_BODY + MIC_LEN)
        self.start = PREFIX_LEN  # the frame is buf[start:start + n]
        self._cbor = cbor.Encoder(self.buf)
        self.values = [None] * len(self.schema["fields"])
        self.status_values = [None] * len(_schema.STATUS_FIELDS)
        self.dropped = 0  # fields dropped from the last frame by the "drop" rule

    # -- natural units -> stored integers --------------------------------------------------
    def scale_into(self, readings, fields, values):
        """Fill `values` with stored integers from natural-unit readings; unknown names refused."""
        for i in range(len(values)):
            values[i] = None
        for name in readings:
            i = _schema.field_index(fields, name)
            if i < 0:
                raise FrameError("bad-schema", "unknown field %s" % name)
            v = readings[name]
            if v is None:
                continue
            try:
                values[i] = _schema.to_stored(fields[i], v)
            except (TypeError, ValueError, OverflowError) as e:  # not a number, NaN, infinity
                raise FrameError("out-of-range", "%s: %s" % (name, e))

    # -- the hot path ---------------------------------------------------------------------
    def encode_into(self, counter, values, alarm=False, status=False, count=-1):
        """Write one full (or compact) frame into self.buf at self.start; return its length.

        values: stored integers (or None) in schema order; count: array items to send
        (-1: up to the last present value). No heap allocation on success.
        """
        fields = _schema.STATUS_FIELDS if status else self.schema["fields"]
        if self.compact:
            return self._compact_into(values, alarm, status)
        if not 0 <= counter <= 0xFFFFFFFF:
            raise FrameError("out-of-range", "counter")
        buf = self.buf
        s = self.start
        dev = self.device_id
        write_b0(buf, 0, DIR_UP, dev, counter)
        buf[s] = (VERSION << 6) | ((T_STATUS if status else T_READING) << 3) | self.kind_id
        flags = 0
        if alarm:
            flags |= F_ALARM
        if self.encrypt:
            flags |= F_ENCRYPTED
        if self.hmac:
            flags |= F_HMAC
        buf[s + 1] = flags
        _u32(buf, s + 2, dev)
        buf[s + 6] = (counter >> 8) & 0xFF
        buf[s + 7] = counter & 0xFF
        if count < 0:
            count = len(fields)
            while count and values[count - 1] is None:
                count -= 1
        enc = self._cbor
        body = s + HEADER_LEN
        enc.pos = body
        try:
            enc.array(count)
            for i in range(count):
                v = values[i]
                if v is None:
                    enc.head(7, 22)
                else:
                    f = fields[i]
                    if not isinstance(v, int) or v < f[4] or v > f[5]:
                        raise FrameError("out-of-range", "%s stored %r not in %d..%d" % (f[0], v, f[4], f[5]))
                    enc.int(v)
        except cbor.CBOREncodeError:
            raise FrameError("too-large", "body over %d bytes" % MAX_BODY)
        end = enc.pos
        if self.encrypt:
            self.keys.crypt(DIR_UP, dev, counter, buf, body, end)
        self.keys.mic_into(buf, 0, end, end, self.hmac)
        return end + MIC_LEN - s

    def _compact_into(self, values, alarm, status):
        layout = _schema.STATUS_COMPACT if status else self.schema["compact"]
        fields = _schema.STATUS_FIELDS if status else self.schema["fields"]
        buf = self.buf
        p = self.start
        buf[p] = (VERSION << 6) | ((T_COMPACT_STATUS if status else T_COMPACT) << 3) | self.kind_id
        p += 1
        for j in range(len(layout)):
            entry = layout[j]
            name = entry[0]
            nbytes = entry[1]
            i = _schema.field_index(fields, name)
            v = values[i]
            f = fields[i]
            if v is not None and (not isinstance(v, int) or v < f[4] or v > f[5]):
                raise FrameError("out-of-range", "%s stored %r not in %d..%d" % (f[0], v, f[4], f[5]))
            if name == "battery_v":
                code = 127 if v is None else _requantise(v, entry[3], entry[4], 0, 126)
                buf[p] = code | (0x80 if alarm else 0)
                p += 1
                continue
            if v is None:  # the sentinel: 0x80 00.. signed, 0xff.. unsigned
                for k in range(nbytes):
                    buf[p + k] = 0xFF if not entry[2] else (0x80 if k == 0 else 0)
                p += nbytes
                continue
            if entry[2]:
                hi = (1 << (8 * nbytes - 1)) - 1  # signed fields are at most 3 bytes
                code = _requantise(v, entry[3], entry[4], -hi, hi)
            else:
                hi = (1 << (8 * nbytes)) - 2 if nbytes < 4 else 0x3FFFFFFF  # small ints only
                code = _requantise(v, entry[3], entry[4], 0, hi)
            for k in range(nbytes - 1, -1, -1):
                buf[p + k] = code & 0xFF
                code >>= 8
            p += nbytes
        return p - self.start

    # -- the contract API ---------------------------------------------------------------------
    def encode(self, counter, readings, alarm=False):
        """Readings in natural units -> list of frames (bytes) that each fit the radio."""
        self.scale_into(readings, self.schema["fields"], self.values)
        return self._frames(counter, self.values, alarm, False)

    def encode_status(self, counter, status):
        """Status/health frame: battery_v, firmware ("1.2.3"), reset_reason, uptime_s, fault_flags."""
        status = dict(status)
        rr = status.get("reset_reason")
        if isinstance(rr, str):
            if rr not in _schema.RESET_REASONS:
                raise FrameError("out-of-range", "reset_reason %s" % rr)
            status["reset_reason"] = _schema.RESET_REASONS.index(rr)
        alarm = bool(status.pop("alarm", False))
        self.scale_into(status, _schema.STATUS_FIELDS, self.status_values)
        return self._frames(counter, self.status_values, alarm, True)

    def _frames(self, counter, values, alarm, status):
        n = self.encode_into(counter, values, alarm, status)
        self.dropped = 0
        if n <= self.limit:
            return [bytes(self.buf[self.start:self.start + n])]
        if self.compact:
            raise FrameError("too-large", "compact frame %d > %d" % (n, self.limit))
        if self.overflow == "drop":
            count = len(values)
            while count and values[count - 1] is None:
                count -= 1
            while n > self.limit and count > 1:
                count -= 1
                self.dropped += 1
                n = self.encode_into(counter, values, alarm, status, count)
            if n > self.limit:
                raise FrameError("too-large", "%d bytes > %d even with one field" % (n, self.limit))
            return [bytes(self.buf[self.start:self.start + n])]
        return fragment(self.buf[self.start:self.start + n], self.limit)


def _requantise(v, step, offset, lo, hi):
    """A stored full-resolution integer -> a compact code, rounded half up and saturated to lo..hi."""
    code = (v + step // 2) // step - offset if step > 1 else v - offset
    if code < lo:
        return lo
    if code > hi:
        return hi
    return code


def fragment(frame, limit):
    """Split a full frame into fragments of at most `limit` bytes."""
    chunk = limit - FRAG_HEADER_LEN
    if chunk < 1:
        raise FrameError("too-large", "radio limit %d leaves no room for a fragment" % limit)
    count = (len(frame) + chunk - 1) // chunk
    if count > MAX_FRAGMENTS:
        raise FrameError("too-large", "%d bytes need %d fragments of %d (max %d)" % (len(frame), count, limit, MAX_FRAGMENTS))
    hdr = (frame[0] & 0xC7) | (T_FRAGMENT << 3)
    tag = frame[2] ^ frame[3] ^ frame[4] ^ frame[5] ^ frame[7]
    out = []
    for i in range(count):
        piece = bytearray(FRAG_HEADER_LEN)
        piece[0] = hdr
        piece[1] = (i << 4) | (count - 1)
        piece[2] = tag
        out.append(bytes(piece) + bytes(frame[i * chunk:(i + 1) * chunk]))
    return out


# -- decoding (portable; the gateway plugs cbor2 in as `loads`) -----------------------------

def parse_header(raw):
    """-> (type, kind name, flags); checks version and kind."""
    if len(raw) < 1:
        raise FrameError("truncated", "empty frame")
    hdr = raw[0]
    if hdr >> 6 != VERSION:
        raise FrameError("bad-version", "version %d" % (hdr >> 6))
    ftype = (hdr >> 3) & 0x07
    if ftype > T_COMPACT_STATUS:
        raise FrameError("bad-version", "frame type %d" % ftype)
    kind = _schema.KIND_BY_ID.get(hdr & 0x07)
    if kind is None:
        raise FrameError("unknown-kind", "kind id %d" % (hdr & 0x07))
    return ftype, kind


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


def mic_equal(a, a_off, b, b_off):
    """Compare two MICs without an early exit (no timing hint about which byte differs)."""
    diff = 0
    for i in range(MIC_LEN):
        diff |= a[a_off + i] ^ b[b_off + i]
    return diff == 0


def open_frame(raw, key_for, last_counter=None):
    """Verify the MIC and decrypt a full frame. -> (ftype, kind, flags, device, counter, body bytes).

    key_for(device_hex) -> 16-byte key or None; last_counter(device_hex) -> int or None.
    """
    ftype, kind = parse_header(raw)
    if ftype not in (T_READING, T_STATUS):
        raise FrameError("bad-version", "not a full frame (type %d)" % ftype)
    if len(raw) < HEADER_LEN + 1 + MIC_LEN:
        raise FrameError("truncated", "%d bytes, a full frame has at least %d" % (len(raw), HEADER_LEN + 1 + MIC_LEN))
    flags = raw[1]
    if flags & 0xF8:
        raise FrameError("bad-version", "reserved flag bits set")
    device = int.from_bytes(bytes(raw[2:6]), "big")
    dhex = device_hex(device)
    key = key_for(dhex)
    if key is None:
        raise FrameError("unknown-device", dhex)
    try:
        keys = key if isinstance(key, Keys) else Keys(key)
    except ValueError:
        raise FrameError("unknown-device", "%s has no valid 16-byte key" % dhex)
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


def readings_from_body(items, fields):
    """A decoded CBOR array -> {"name": {"value": v, "unit": u}}; checks types and ranges."""
    if not isinstance(items, list):
        raise FrameError("bad-schema", "body is not an array")
    if len(items) > len(fields):
        raise FrameError("bad-schema", "%d items for %d fields" % (len(items), len(fields)))
    out = {}
    for i in range(len(items)):
        v = items[i]
        if v is None:
            continue
        f = fields[i]
        if type(v) is not int:
            raise FrameError("bad-schema", "%s is not an integer" % f[0])
        if v < f[4] or v > f[5]:
            raise FrameError("bad-schema", "%s stored %d not in %d..%d" % (f[0], v, f[4], f[5]))
        out[f[0]] = {"value": _schema.to_natural(f, v), "unit": f[1]}
    return out


def _loads_strict(body):
    try:
        return cbor.loads(body)
    except cbor.CBORError as e:
        raise FrameError("bad-cbor", str(e))


def decode_compact(raw, device, seq):
    """A compact Sigfox frame; device (8 hex) and seq come from the Sigfox network."""
    ftype, kind = parse_header(raw)
    status = ftype == T_COMPACT_STATUS
    layout = _schema.STATUS_COMPACT if status else _schema.KINDS[kind]["compact"]
    fields = _schema.STATUS_FIELDS if status else _schema.KINDS[kind]["fields"]
    size = 1
    for entry in layout:
        size += entry[1]
    if len(raw) != size:
        raise FrameError("truncated" if len(raw) < size else "bad-schema",
                         "compact %s frame is %d bytes, not %d" % (kind, len(raw), size))
    p = 1
    readings = {}
    alarm = False
    for name, nbytes, signed, step, offset in layout:
        code = 0
        for k in range(nbytes):
            code = (code << 8) | raw[p + k]
        p += nbytes
        f = fields[_schema.field_index(fields, name)]
        if name == "battery_v":
            alarm = bool(code & 0x80)
            code &= 0x7F
            if code == 127:
                continue
        elif signed:
            if code == 1 << (8 * nbytes - 1):
                continue
            if code >> (8 * nbytes - 1):
                code -= 1 << (8 * nbytes)
        elif code == (1 << (8 * nbytes)) - 1:
            continue
        readings[name] = {"value": _schema.to_natural(f, (code + offset) * step), "unit": f[1]}
    return _result(kind, status, alarm, device, seq, readings, raw)


def _result(kind, status, alarm, device, counter, readings, raw):
    return {"kind": kind, "type": "status" if status else ("alarm" if alarm else "reading"),
            "device": device, "counter": counter, "alarm": alarm, "readings": readings,
            "raw_hex": binascii.hexlify(bytes(raw)).decode()}


def _is_hex(text):
    for c in text:
        if c not in "0123456789abcdef":
            return False
    return True


def decode(raw, radio, meta, key_for, last_counter=None, loads=None, compact_needs_key=True):
    """One complete (not fragmented) frame -> the decoded dict of the contract.

    loads(body) -> object decodes CBOR (default: the portable decoder; the gateway uses cbor2)
    and raises FrameError("bad-cbor") on malformed input.
    """
    ftype, kind = parse_header(raw)
    if ftype in (T_COMPACT, T_COMPACT_STATUS):
        meta = meta or {}
        dev = meta.get("device")
        seq = meta.get("seq")
        if dev is None or seq is None:
            raise FrameError("unknown-device", "compact frame without network device/seq")
        dev = str(dev).lower()
        if len(dev) != 8 or not _is_hex(dev):
            raise FrameError("unknown-device", "network device id %r is not 8 hex digits" % dev[:16])
        if type(seq) is not int or seq < 0:
            raise FrameError("unknown-device", "network seq %r is not a non-negative integer" % (seq,))
        if compact_needs_key and key_for(dev) is None:
            raise FrameError("unknown-device", dev)
        return decode_compact(raw, dev, seq)
    if ftype == T_FRAGMENT:
        raise FrameError("fragment", "fragment given to decode(); reassemble first")
    ftype, kind, flags, device, counter, body = open_frame(raw, key_for, last_counter)
    items = (loads or _loads_strict)(body)
    status = ftype == T_STATUS
    fields = _schema.STATUS_FIELDS if status else _schema.KINDS[kind]["fields"]
    readings = readings_from_body(items, fields)
    return _result(kind, status, bool(flags & F_ALARM), device_hex(device), counter, readings, raw)


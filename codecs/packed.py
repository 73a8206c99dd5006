"""Frame version 2 (LoRa): version 1's header and MIC around a bit-packed body (layout2.py).

    0      hdr      version 2 | type (0 reading, 1 status, 2 fragment, 3 reading in layout
                    revision 2: layout2.REVISION_1 kinds' type 0 is the older layout) | kind
    1      flags    bit 0 alarm, bit 1 encrypted, bit 2 HMAC MIC, bit 3 full frame (carries
                    every reference field: the device's next reference), bits 4-7 age: a
                    relative frame refers to the full frame sent `age` counter values earlier
                    (1..12); status frames: bits 3-7 zero
    2..5   device, 6..7 counter (low 16 bits), as version 1
    8..    body     presence mask (one bit per layout field, MSB first), then each present
                    field's code, bits packed MSB first, zero-padded to a byte (AES-CTR when
                    encrypted)
    last 4 MIC      as version 1 (B0 || frame)

Why: at SF10 the 400 ms dwell leaves 24 bytes; a version 1 buoy reading was 35 (two fragments).
A position is sent as an offset from the device's last full frame, which goes out on a schedule
(every FULL_EVERY counter values), on alarms, after a reset and when an offset does not fit; a
pedometer's interval length is implied by it while it does not change (layout2.REF_FIELDS).
Encoding is allocation-free in steady state (small ints, the reused buffer).
"""

from lpwa.codecs import layout2 as _l2
from lpwa.codecs import schema_base as _schema
from lpwa.codecs.errors import FrameError
from lpwa.codecs.encoding import EncoderBase
from lpwa.codecs.header import (DIR_UP, F_ALARM, F_ENCRYPTED, F_HMAC, HEADER_LEN, MIC_LEN, T_READING,
                                T_READING_R2, T_STATUS, header_byte, u32_into, write_b0)

VERSION = 2
F_FULL = 0x08  # a full frame: every reference field, absolute (the next reference)


def put_bits(buf, pos, value, nbits):
    """Write the low nbits of value (>= 0) at bit pos, MSB first, into zeroed bytes; -> new pos."""
    while nbits > 0:
        room = 8 - (pos & 7)
        take = room if room < nbits else nbits
        nbits -= take
        buf[pos >> 3] |= ((value >> nbits) & ((1 << take) - 1)) << (room - take)
        pos += take
    return pos


def get_bits(raw, pos, nbits):
    """-> (value, new pos): nbits read at bit pos, MSB first."""
    v = 0
    while nbits > 0:
        room = 8 - (pos & 7)
        take = room if room < nbits else nbits
        nbits -= take
        v = (v << take) | ((raw[pos >> 3] >> (room - take)) & ((1 << take) - 1))
        pos += take
    return v, pos


def put_code(buf, pos, entry, code, bits):
    """Write one absolute code; an entry with a short width says which width with a leading bit."""
    short = _l2.short_bits(entry)
    if short:
        if code < (1 << short):
            return put_bits(buf, pos + 1, code, short)
        pos = put_bits(buf, pos, 1, 1)
    return put_bits(buf, pos, code, bits)


def code_width(raw, pos, entry, bits):
    """-> (width, new pos) of the absolute code at pos: `bits`, or the short width's choice."""
    short = _l2.short_bits(entry)
    if not short:
        return bits, pos
    if pos + 1 > len(raw) * 8:
        raise FrameError("truncated", "body ends inside %s" % entry[0])
    long_, pos = get_bits(raw, pos, 1)
    return (bits if long_ else short), pos


def code_of(entry, v, bits):
    """A stored value -> its code on `bits` bits; step-1 fields are exact (else out-of-range)."""
    step = entry[2]
    d = v - entry[3]
    code = (d + step // 2) // step if step > 1 else d
    if entry[4]:
        hi = (1 << (bits - 1)) - 1
        if code < -hi or code > hi:
            return None
        return code + (1 << bits) if code < 0 else code
    hi = ((1 << (bits - 1)) - 1) * 2 + 1  # 2**bits - 1 without 2**30, which is no small int
    if step == 1 and (code < 0 or code > hi):
        raise FrameError("out-of-range", "%s stored %d does not fit %d bits" % (entry[0], v, bits))
    return 0 if code < 0 else (hi if code > hi else code)


class PackedEncoder(EncoderBase):
    """Version 2 frames of one LoRa node. Before encode: `reference` = the stored values of the
    kind's reference fields (layout2.REF_FIELDS) in the last full frame the node sent, then its
    counter; or None. After: `is_ref` says whether this frame is a full frame carrying every
    reference field (the app adopts it as the reference once it is sent: ref_values())."""

    def __init__(self, kind, device_id, key, radio="lora", sf=10, bw_khz=125, encrypt=None,
                 mic="cmac", overflow="fragment", dwell_ms=400, long_ok=False):
        EncoderBase.__init__(self, kind, device_id, radio, sf, bw_khz, dwell_ms)
        # not FullEncoder's subclass: a LoRa node needs neither the CBOR encoder nor its buffers
        from lpwa.codecs.keys import Keys

        self.compact = False
        self.encrypt = kind in _schema.PERSONAL_KINDS if encrypt is None else bool(encrypt)
        if mic not in ("cmac", "hmac"):
            raise ValueError("mic must be 'cmac' or 'hmac'")
        if overflow != "fragment":
            raise ValueError("version 2 frames overflow into fragments only")
        self.hmac = mic == "hmac"
        self.overflow = overflow
        self.keys = Keys(key)
        self.layout = _l2.LAYOUTS[kind]
        self.reading_type = T_READING_R2 if kind in _l2.REVISION_1 else T_READING
        self.ref_js = _l2.ref_indexes(self.layout)  # layout indexes of the reference fields
        self.sf = sf
        self.bw_khz = bw_khz
        self.reference = None
        self.is_ref = False
        self.full = False  # the app asks for a full frame (alarm)
        self.long = False  # the last frame goes out as one 4 s-rule emission
        self.long_limit = 0
        if long_ok and radio == "lora":
            from lpwa.radio.limits import max_payload

            self.long_limit = max_payload(radio, sf, bw_khz, 4000)

    def _relative(self, counter, values, fields):
        """-> the reference's age when this frame can refer to it, else 0 (a full frame)."""
        ref = self.reference
        js = self.ref_js
        if self.full or ref is None or len(ref) != len(js) + 1:
            return 0
        age = counter - ref[-1]
        if age < 1 or age > _l2.FULL_EVERY:
            return 0
        for k in range(len(js)):
            e = self.layout[js[k]]
            v = values[_schema.field_index(fields, e[0])]
            if v is None:
                continue
            if e[5] < 0 and v != ref[k]:  # an implied field that changed: a full frame says so
                return 0
            if e[5] > 0 and code_of(e, v - ref[k], e[5]) is None:
                return 0
        return age

    def ref_values(self):
        """The new reference after sending a full frame: [reference field values..., counter]."""
        fields = self.schema["fields"]
        out = [self.values[_schema.field_index(fields, self.layout[j][0])] for j in self.ref_js]
        return out

    def _skip(self, e, v, age):
        """Left out of the body: not measured, or implied by the reference in a relative frame."""
        return v is None or (age and e[5] < 0)

    def encode_into(self, counter, values, alarm=False, status=False, count=-1):
        """Write one version 2 frame into self.buf at self.start; return its length (no heap)."""
        layout = _l2.STATUS if status else self.layout
        fields = _schema.STATUS_FIELDS if status else self.schema["fields"]
        if not 0 <= counter <= 0xFFFFFFFF:
            raise FrameError("out-of-range", "counter")
        age = 0 if status else self._relative(counter, values, fields)
        self._header2(counter, alarm, status, age)
        buf = self.buf
        body = self.start + HEADER_LEN
        n = len(layout)
        for k in range(body, len(buf)):
            buf[k] = 0
        pos = body * 8
        for j in range(n):
            if not self._skip(layout[j], values[_schema.field_index(fields, layout[j][0])], age):
                buf[(pos + j) >> 3] |= 0x80 >> ((pos + j) & 7)
        pos += n
        ref = self.reference
        for j in range(n):
            e = layout[j]
            i = _schema.field_index(fields, e[0])
            v = values[i]
            if self._skip(e, v, age):
                continue
            f = fields[i]
            if not isinstance(v, int) or v < f[4] or v > f[5]:
                raise FrameError("out-of-range", "%s stored %r not in %d..%d" % (f[0], v, f[4], f[5]))
            if e[5] > 0 and age:
                pos = put_bits(buf, pos, code_of(e, v - ref[self.ref_js.index(j)], e[5]), e[5])
            else:
                pos = put_code(buf, pos, e, code_of(e, v, e[1]), e[1])
        end = (pos + 7) >> 3
        self.is_ref = False
        if not status and age == 0 and self.ref_js:
            self.is_ref = True
            for j in self.ref_js:
                if values[_schema.field_index(fields, layout[j][0])] is None:
                    self.is_ref = False
        if self.is_ref:
            buf[self.start + 1] |= F_FULL
        if self.encrypt:
            self.keys.crypt(DIR_UP, self.device_id, counter, buf, body, end)
        self.keys.mic_into(buf, 0, end, end, self.hmac)
        return end + MIC_LEN - self.start

    def _header2(self, counter, alarm, status, age):
        buf = self.buf
        s = self.start
        write_b0(buf, 0, DIR_UP, self.device_id, counter)
        buf[s] = header_byte(T_STATUS if status else self.reading_type, self.kind_id, VERSION)
        buf[s + 1] = (F_ALARM if alarm else 0) | (F_ENCRYPTED if self.encrypt else 0) | \
            (F_HMAC if self.hmac else 0) | (age << 4)
        u32_into(buf, s + 2, self.device_id)
        buf[s + 6] = (counter >> 8) & 0xFF
        buf[s + 7] = counter & 0xFF

    def _frames(self, counter, values, alarm, status):
        n = self.encode_into(counter, values, alarm, status)
        self.dropped = 0
        self.long = False
        if n <= self.limit:
            return [self.frame_bytes(n)]
        if n <= self.long_limit and _one_beats_fragments(n, self.limit, self.sf, self.bw_khz):
            self.long = True
            return [self.frame_bytes(n)]
        from lpwa.codecs.fragment import fragment

        return fragment(self.buf[self.start:self.start + n], self.limit)


def _one_beats_fragments(n, limit, sf, bw_khz):
    """Does one n-byte emission cost less airtime than its fragments of at most `limit` bytes?"""
    from lpwa.radio.airtime import lora_airtime_us
    from lpwa.codecs.header import FRAG_HEADER_LEN

    chunk = limit - FRAG_HEADER_LEN
    total = 0
    left = n
    while left > 0:
        take = chunk if left > chunk else left
        total += lora_airtime_us(take + FRAG_HEADER_LEN, sf, bw_khz)
        left -= take
    return lora_airtime_us(n, sf, bw_khz) < total


def _stored_of(entry, code, bits, relative):
    if entry[4] and code >> (bits - 1):
        code -= 1 << bits
    return code * entry[2] + (0 if relative else entry[3])


def _fields_from(body, layout, fields, age):
    """The packed body -> ({name: stored}, {name: offset} of a relative frame's offset fields)."""
    n = len(layout)
    if len(body) * 8 < n:
        raise FrameError("truncated", "body shorter than its presence mask")
    pos = n
    stored = {}
    offsets = {}
    for j in range(n):
        if not (body[j >> 3] >> (7 - (j & 7))) & 1:
            continue
        e = layout[j]
        if age and e[5] < 0:
            raise FrameError("bad-schema", "%s is implied by the reference in a relative frame" % e[0])
        rel = bool(e[5] > 0 and age)
        bits = e[5] if rel else e[1]
        if not rel:
            bits, pos = code_width(body, pos, e, bits)
        if pos + bits > len(body) * 8:
            raise FrameError("truncated", "body ends inside %s" % e[0])
        code, pos = get_bits(body, pos, bits)
        v = _stored_of(e, code, bits, rel)
        if rel:
            offsets[e[0]] = v
            continue
        f = fields[_schema.field_index(fields, e[0])]
        if v < f[4] or v > f[5]:
            raise FrameError("bad-schema", "%s stored %d not in %d..%d" % (f[0], v, f[4], f[5]))
        stored[e[0]] = v
    if (len(body) * 8 - pos) >= 8 or (pos & 7 and body[-1] & ((1 << (8 - (pos & 7))) - 1)):
        raise FrameError("bad-schema", "padding after the last field is not zero bits")
    return stored, offsets


def decode_packed(raw, radio, meta, key_for, last_counter=None, loads=None, compact_needs_key=True):
    """A version 2 frame -> the decoded dict. A relative frame keeps "relative" (age, offsets)
    for resolve() against the device's reference; a full frame is marked "ref": "full" (the
    caller keeps its reference_of() as the device's new reference)."""
    from lpwa.codecs.full_decode import open_frame
    from lpwa.codecs.header import device_hex
    from lpwa.codecs.readings import result

    ftype, kind, flags, device, counter, body = open_frame(raw, key_for, last_counter, VERSION)
    status = ftype == T_STATUS
    if ftype == T_READING_R2 and kind not in _l2.REVISION_1:
        raise FrameError("bad-version", "frame type 3 is no %s layout" % kind)
    layout = _l2.STATUS if status else _l2.reading_layout(kind, ftype == T_READING_R2)
    fields = _schema.STATUS_FIELDS if status else _schema.kind_schema(kind)["fields"]
    age = flags >> 4
    if (flags & F_FULL and age) or (status and flags & 0xF8):
        raise FrameError("bad-version", "flags 0x%02x: a full frame has no age, a status neither" % flags)
    stored, offsets = _fields_from(body, layout, fields, age)
    readings = {}
    for f in fields:
        if f[0] in stored:
            readings[f[0]] = {"value": _schema.to_natural(f, stored[f[0]]), "unit": f[1]}
    out = result(kind, status, bool(flags & F_ALARM), device_hex(device), counter, readings, raw)
    out["version"] = VERSION
    if age:
        out["relative"] = {"age": age, "offsets": offsets}
    elif flags & F_FULL:
        out["ref"] = "full"
    return out


def reference_of(msg):
    """[reference field values..., counter] (stored integers) of a full version 2 frame, else None."""
    if msg.get("ref") != "full":
        return None
    fields = _schema.kind_schema(msg["kind"])["fields"]
    out = []
    for name in _l2.REF_FIELDS[msg["kind"]]:
        f = fields[_schema.field_index(fields, name)]
        out.append(_schema.to_stored(f, msg["readings"][name]["value"]))
    return out + [msg["counter"]]


def resolve(msg, ref):
    """Rebuild a relative frame's reference fields (positions from offsets, implied fields) in
    place: "ref" becomes "relative", or "missing" (those fields left out, the other readings
    kept) when the gateway has no reference or not the one sent `age` counter values earlier."""
    rel = msg.pop("relative", None)
    if rel is None:
        return msg
    names = _l2.REF_FIELDS[msg["kind"]]
    if ref is None or len(ref) != len(names) + 1 or (msg["counter"] - rel["age"]) & 0xFFF != ref[-1] & 0xFFF:
        msg["ref"] = "missing"
        return msg
    fields = _schema.kind_schema(msg["kind"])["fields"]
    layout = _l2.LAYOUTS[msg["kind"]]
    got = {}
    for k in range(len(names)):
        e = layout[_l2.ref_indexes(layout)[k]]
        if e[5] > 0 and names[k] not in rel["offsets"]:
            continue  # not measured (no GPS fix)
        v = ref[k] + rel["offsets"][names[k]] if e[5] > 0 else ref[k]
        f = fields[_schema.field_index(fields, names[k])]
        if v < f[4] or v > f[5]:
            msg["ref"] = "missing"
            return msg
        got[names[k]] = {"value": _schema.to_natural(f, v), "unit": f[1]}
    msg["readings"].update(got)
    msg["ref"] = "relative"
    return msg

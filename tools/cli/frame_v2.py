"""FRAMES.md's generated parts for frame version 2: the bit layout table and worked examples."""

import json


def render_v2_fields():
    """One table per kind (and status): bits, resolution, relative form."""
    from lpwa.codecs import layout2, schema

    out = []
    groups = [(k, layout2.LAYOUTS[k], schema.KINDS[k]["fields"]) for k in schema.KIND_NAMES]
    groups.append(("status (any kind)", layout2.STATUS, schema.STATUS_FIELDS))
    for name, layout, fields in groups:
        out.extend(["#### " + name, "", "| field | bits | resolution | range | in a relative frame |", "|---|---|---|---|---|"])
        for e in layout:
            f = fields[schema.field_index(fields, e[0])]
            step = e[2] / f[2]
            lo = schema.to_natural(f, max(f[4], e[3])) if f[1] != "version" else "0.0.0"
            if e[4]:
                rng = "%s .. %s" % (schema.to_natural(f, f[4]), schema.to_natural(f, f[5]))
            else:
                hi = (e[3] + ((1 << e[1]) - 1) * e[2])
                rng = "%s .. %s" % (lo, schema.to_natural(f, min(hi, f[5])) if f[1] != "version" else "255.255.254")
            rel = "offset, %d bits (+-%g)" % (e[5], ((1 << (e[5] - 1)) - 1) * step) if e[5] > 0 else \
                ("implied by the reference" if e[5] < 0 else "same")
            short = layout2.short_bits(e)
            bits = "1 + %d or 1 + %d" % (short, e[1]) if short else "%d" % e[1]
            out.append("| `%s` | %s | %g %s | %s | %s |" % (e[0], bits, step, f[1] or "", rng, rel))
        out.append("")
    return "\n".join(out)


def v2_examples(out, dev, key, block, readings):
    """A buoy full frame and a routine frame 44 m away, version 2 at SF10 (one 24-byte emission each)."""
    from lpwa.codecs.frame import FrameEncoder

    _pedometer(out, dev, key, block, readings["pedometer"])
    r = readings["buoy"]
    enc = FrameEncoder("buoy", dev, key, radio="lora", sf=10, version=2)
    full = enc.encode(24, r)[0]
    enc.reference = enc.ref_values() + [24]
    moved = dict(r, lat_deg=round(r["lat_deg"] + 0.0004, 6))
    rel = enc.encode(25, moved)[0]
    parts = [("hdr", full[0:1], "version 2, type 0 (reading), kind 1 (buoy)"),
             ("flags", full[1:2], "bit 3: full frame (absolute position; the next reference), age 0"),
             ("device", full[2:6], "0x%08x" % dev), ("counter", full[6:8], "24"),
             ("body", full[8:-4], "mask `11111110` (conductivity absent), then water 8 bits 0.2 degC from -5, "
                                  "wave 8 bits 0.1 m, lat 25 / lon 26 bits 1e-5 degree, battery 7 bits 20 mV from "
                                  "2.00 V, faults 6 bits, salinity 8 bits 0.2 PSU, zero padding"),
             ("MIC", full[-4:], "as version 1: AES-CMAC(mic key, B0 + hdr..body)")]
    block(out, "Buoy reading, frame version 2 on LoRa SF10: a full frame (24 bytes, one emission)",
          "FrameEncoder('buoy', dev, key, radio='lora', sf=10, version=2).encode(24, %s)" % json.dumps(r), [full], parts)
    parts = [("flags", rel[1:2], "age 1 (bits 4-7): relative to the full frame of counter 24"),
             ("body", rel[8:-4], "the same mask and fields, lat/lon as 12-bit offsets in 1e-5 degree (+40, 0)")]
    block(out, "The next buoy reading 44 m north: a routine frame (21 bytes)",
          "enc.reference = enc.ref_values() + [24]; enc.encode(25, {... \"lat_deg\": %s ...})" % moved["lat_deg"],
          [rel], parts, "The gateway adds the offsets to the reference it stored when it accepted counter 24.")


def _pedometer(out, dev, key, block, r):
    """A pedometer full frame in layout revision 2 (type 3): 24 bytes, encrypted (a personal kind)."""
    from lpwa.codecs.frame import FrameEncoder
    from lpwa.codecs.full_decode import open_frame

    raw = FrameEncoder("pedometer", dev, key, radio="lora", sf=10, version=2).encode(30, r)[0]
    plain = open_frame(raw, lambda d: key, None, 2)[5]
    parts = [("hdr", raw[0:1], "version 2, type 3 (reading, layout revision 2), kind 3 (pedometer)"),
             ("flags", raw[1:2], "encrypted, bit 3: full frame (carries interval_s; the next reference)"),
             ("device", raw[2:6], "0x%08x" % dev), ("counter", raw[6:8], "30"),
             ("body", raw[8:-4], "AES-CTR of `%s`: mask `11111`, steps `0` + 12 bits, steps_total `0` + 24 bits, "
                                 "interval_start 30 bits (s since 2020-01-01), battery 7 bits, interval_s `0` + 12 "
                                 "bits, zero padding" % plain.hex()),
             ("MIC", raw[-4:], "as version 1")]
    block(out, "Pedometer reading, frame version 2 on LoRa SF10: a full frame (24 bytes, one emission)",
          "FrameEncoder('pedometer', dev, key, radio='lora', sf=10, version=2).encode(30, %s)" % json.dumps(r),
          [raw], parts, "Its routine frames leave interval_s out (implied by this reference): 22 bytes.")

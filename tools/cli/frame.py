"""`lpwa frame`: encode and decode frames for bench work, and render the CDDL and examples.

    lpwa frame decode HEX [--key HEX | --keys keys.toml] [--radio lora] [--device 0a1b2c3d --seq N]
    lpwa frame decode -            (stdin: lines of hex, or replay JSONL lines)
    lpwa frame encode --kind buoy --json '{"water_temp_c": 18.25}' --radio sigfox
                      [--device 0a1b2c3d --key HEX --counter N --status --alarm --sf 10]
    lpwa frame cddl                (codecs/frame.cddl, generated from the schemas)
    lpwa frame examples            (the worked examples in codecs/FRAMES.md)
"""

import json
import sys

from lpwa.radio.limits import RADIOS

DEFAULT_DEVICE = "0a1b2c3d"
# A published test key for bench work only (never a real device's).
BENCH_KEY = "000102030405060708090a0b0c0d0e0f"


def register(sub):
    p = sub.add_parser("frame", help="encode and decode frames for bench work")
    fsub = p.add_subparsers(dest="frame_cmd", metavar="ACTION", required=True)

    d = fsub.add_parser("decode", help="decode hex frames (argument, or '-' for stdin lines / replay JSONL)")
    d.add_argument("hex", help="frame bytes as hex, or - to read lines from stdin")
    d.add_argument("--key", help="device key, 32 hex chars (any device)")
    d.add_argument("--keys", help="TOML file: [devices.<8 hex>] key = \"<32 hex>\" (or a flat table)")
    d.add_argument("--radio", default="lora", choices=RADIOS)
    d.add_argument("--device", help="Sigfox device id (8 hex) for compact frames given as bare hex")
    d.add_argument("--seq", type=int, default=0, help="Sigfox sequence number for bare compact frames")
    d.set_defaults(func=run_decode)

    e = fsub.add_parser("encode", help="encode readings (JSON, natural units) to hex frames")
    e.add_argument("--kind", required=True, help="buoy, drone-vital or pedometer")
    e.add_argument("--json", required=True, dest="readings", help="readings as a JSON object")
    e.add_argument("--radio", default="lora", choices=RADIOS)
    e.add_argument("--sf", type=int, default=10)
    e.add_argument("--bw", type=int, default=125, dest="bw_khz")
    e.add_argument("--device", default=DEFAULT_DEVICE)
    e.add_argument("--key", default=BENCH_KEY)
    e.add_argument("--counter", type=int, default=0)
    e.add_argument("--status", action="store_true", help="a status/health frame")
    e.add_argument("--alarm", action="store_true")
    e.add_argument("--encrypt", choices=("auto", "yes", "no"), default="auto")
    e.add_argument("--overflow", choices=("fragment", "drop"), default="fragment")
    e.set_defaults(func=run_encode)

    c = fsub.add_parser("cddl", help="print the CDDL of the frame bodies (generated from the schemas)")
    c.set_defaults(func=run_cddl)

    x = fsub.add_parser("examples", help="print the worked examples of FRAMES.md (generated from the code)")
    x.set_defaults(func=run_examples)

    w = fsub.add_parser("docs", help="rewrite the generated sections of codecs/FRAMES.md")
    w.set_defaults(func=run_docs)


def _hex_key(text, what="key"):
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) != 16:
        raise SystemExit("lpwa frame: %s must be 32 hex characters" % what)
    return key


def load_keys(path):
    """{device hex: key bytes} from TOML: [devices.<id>] key = "..." or <id> = "..."."""
    from lpwa.gateway import tomlfile

    try:
        doc = tomlfile.load(path)
    except tomlfile.TomlFileError as e:
        raise SystemExit("lpwa frame: --keys %s" % e)
    table = doc.get("devices", doc)
    if not isinstance(table, dict):
        raise SystemExit("lpwa frame: --keys %s: [devices] must be a table" % path)
    out = {}
    for dev, val in table.items():
        text = val.get("key") if isinstance(val, dict) else val
        if isinstance(text, str):
            out[str(dev).lower()] = _hex_key(text, "key of device %s" % dev)
    return out


def run_decode(args):
    from lpwa.codecs.frame import FrameError
    from lpwa.gateway.frames import FrameDecoder

    if args.key:
        key = _hex_key(args.key)
        key_for = lambda dev: key  # noqa: E731
    elif args.keys:
        keys = load_keys(args.keys)
        key_for = keys.get
    else:
        key_for = lambda dev: None  # noqa: E731  compact frames still decode
    decoder = FrameDecoder(key_for, unknown_compact=not (args.key or args.keys))
    if args.device is None and args.radio == "sigfox":
        args.device = DEFAULT_DEVICE
    lines = sys.stdin if args.hex == "-" else [args.hex]
    status = 0
    for lineno, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        radio, meta = args.radio, {}
        if args.device:
            meta = {"device": args.device.lower(), "seq": args.seq}
        try:
            if line.startswith("{"):
                rec = json.loads(line)
                radio = rec.get("radio", radio)
                meta = dict(rec.get("meta") or {})
                if "time" in rec:
                    meta.setdefault("time", rec["time"])
                line = rec["hex"]
            raw = bytes.fromhex(line)
        except (ValueError, KeyError, TypeError) as e:
            print(json.dumps({"line": lineno, "error": "bad-input", "detail": str(e)[:200]}))
            status = 1
            continue
        if radio == "sigfox" and "device" not in meta:
            meta.update({"device": (args.device or DEFAULT_DEVICE).lower(), "seq": args.seq})
        try:
            for decoded in decoder.feed(raw, radio, meta):
                print(json.dumps(decoded, sort_keys=True))
        except FrameError as e:
            print(json.dumps({"line": lineno, "error": e.reason, "detail": e.detail, "hex": line}))
            status = 1
    return status


def run_encode(args):
    from lpwa.codecs.frame import FrameEncoder, FrameError

    try:
        readings = json.loads(args.readings)
    except ValueError as e:
        raise SystemExit("lpwa frame encode: --json is not JSON: %s" % e)
    if not isinstance(readings, dict):
        raise SystemExit("lpwa frame encode: --json must be an object")
    encrypt = None if args.encrypt == "auto" else args.encrypt == "yes"
    try:
        enc = FrameEncoder(args.kind, int(args.device, 16), _hex_key(args.key), radio=args.radio, sf=args.sf,
                           bw_khz=args.bw_khz, encrypt=encrypt, overflow=args.overflow)
        if args.status:
            frames = enc.encode_status(args.counter, readings)
        else:
            frames = enc.encode(args.counter, readings, alarm=args.alarm)
    except FrameError as e:
        print("lpwa frame encode: %s" % e, file=sys.stderr)
        return 1
    except ValueError as e:
        print("lpwa frame encode: %s" % e, file=sys.stderr)
        return 2
    for f in frames:
        print(f.hex())
    return 0


def run_cddl(args):
    sys.stdout.write(render_cddl())
    return 0


# -- CDDL, generated from the schemas so the spec cannot drift from the code --------------------

def _rule_name(name):
    return name.replace("_", "-")


def _type_rules(prefix, fields):
    rules = []
    names = []
    for name, unit, scale, offset, lo, hi in fields:
        rn = "%s-%s" % (prefix, _rule_name(name))
        names.append(rn)
        note = "%s" % (unit or "code")
        if scale != 1:
            note += " x %d" % scale
        if offset:
            note += ", minus %d" % offset
        if lo >= 0:
            rules.append("%s = %d..%d / null  ; %s" % (rn, lo, hi, note))
        else:
            rules.append("%s = %s-v / null  ; %s" % (rn, rn, note))
            rules.append("%s-v = (int .ge %d) .and (int .le %d)" % (rn, lo, hi))
    return names, rules


def render_cddl():
    from lpwa.codecs import schema

    out = [
        "; lpwa-edge frame bodies (RFC 8610 CDDL), generated by `lpwa frame cddl` from",
        "; lpwa/codecs/schema.py; tests/codecs/test_docs.py checks this file matches.",
        ";",
        "; A full frame on LoRa and Wi-SUN is: hdr (1) flags (1) device (4) counter (2) body MIC (4),",
        "; all described in FRAMES.md; `body` below is the CBOR after decryption. Each reading is a",
        "; scaled integer (value x scale - offset) or null when not measured; the array lists fields",
        "; in priority order and may end early (lowest-priority fields dropped or absent).",
        "; Compact Sigfox frames are not CBOR: compact-frame below gives only their size.",
        ";",
        "; (Written as a choice of fixed-length arrays and with .ge/.and rather than optional",
        "; entries and negative ranges: both are plain RFC 8610, and pycddl validates them.)",
        "",
        "frame-body = buoy-body / drone-vital-body / pedometer-body / status-body",
        "",
    ]
    kinds = [("buoy", schema.BUOY_FIELDS), ("drone-vital", schema.DRONE_VITAL_FIELDS),
             ("pedometer", schema.PEDOMETER_FIELDS), ("status", schema.STATUS_FIELDS)]
    for prefix, fields in kinds:
        names, rules = _type_rules(prefix, fields)
        choices = ["[]"] + ["[%s]" % ", ".join(names[:n]) for n in range(1, len(names) + 1)]
        out.append("%s-body = %s" % (prefix, ("\n" + " " * (len(prefix) + 8) + "/ ").join(choices)))
        out.extend(rules)
        out.append("")
    out.append("compact-frame = bstr .size (1..12)  ; header byte + packed fields, FRAMES.md")
    out.append("v2-body = bstr .size (1..14)  ; frame version 2 (LoRa): bit-packed, not CBOR (FRAMES.md)")
    out.append("")
    return "\n".join(out)


# -- worked examples for FRAMES.md, generated so the document cannot drift ---------------------

EXAMPLE_READINGS = {
    "buoy": {"water_temp_c": 18.25, "wave_height_m": 1.25, "lat_deg": 35.123456, "lon_deg": 139.654321,
             "battery_v": 3.7, "fault_flags": 0, "salinity_psu": 34.5},
    "drone-vital": {"heart_rate_bpm": 112, "spo2_pct": 93, "body_temp_c": 38.4, "lat_deg": 35.681236,
                    "lon_deg": 139.767125, "triage": 3, "battery_v": 3.9},
    "pedometer": {"steps": 1234, "steps_total": 123456, "interval_start": 1767225600, "battery_v": 3.8,
                  "interval_s": 900},
    "status": {"battery_v": 3.61, "firmware": "1.4.2", "reset_reason": "watchdog", "uptime_s": 86400,
               "fault_flags": 2},
}


def _split_full(raw):
    return [("hdr", raw[0:1]), ("flags", raw[1:2]), ("device", raw[2:6]), ("counter", raw[6:8]),
            ("body", raw[8:-4]), ("MIC", raw[-4:])]


def render_examples():
    """The worked examples of codecs/FRAMES.md, made by the code they document."""
    key = bytes.fromhex(BENCH_KEY)
    dev = int(DEFAULT_DEVICE, 16)
    out = ["Device `%s`, key `%s` (a test key). Regenerate with `lpwa frame examples`;" % (DEFAULT_DEVICE, BENCH_KEY),
           "tests/codecs/test_docs.py fails when this section and the code disagree.", ""]
    for example in (_buoy_full, _vital_encrypted, _buoy_fragments, _buoy_compact, _status, _downlink):
        example(out, dev, key)
    from lpwa.tools.cli.frame_v2 import v2_examples

    v2_examples(out, dev, key, _block, EXAMPLE_READINGS)
    return "\n".join(out)


def _block(out, title, cmdline, frames, parts=None, note=None):
    """One example: heading, command, the frames in hex, a table of their parts, a note."""
    out.extend(["#### " + title, "", "`%s`" % cmdline, "", "```"])
    out.extend(f.hex() for f in frames)
    out.extend(["```", ""])
    if parts:
        out.extend(["| part | hex | meaning |", "|---|---|---|"])
        for name, data, meaning in parts:
            out.append("| %s | `%s` | %s |" % (name, data.hex(), meaning))
        out.append("")
    if note:
        out.extend([note, ""])


def _buoy_full(out, dev, key):
    import cbor2

    from lpwa.codecs.frame import FrameEncoder

    r = EXAMPLE_READINGS["buoy"]
    raw = FrameEncoder("buoy", dev, key, radio="wisun").encode(17, r)[0]
    body = cbor2.loads(raw[8:-4])
    meanings = {"hdr": "version 1, type 0 (reading), kind 1 (buoy)", "flags": "no alarm, plaintext, AES-CMAC MIC",
                "device": "0x%08x" % dev, "counter": "17 (low 16 bits)",
                "body": "CBOR `%s`" % json.dumps(body), "MIC": "first 4 bytes of AES-CMAC(mic key, B0 + hdr..body)"}
    _block(out, "Buoy reading, full frame (Wi-SUN, or LoRa SF7-SF9)",
           "lpwa frame encode --kind buoy --radio wisun --counter 17 --json '%s'" % json.dumps(r), [raw],
           [(n, d, meanings[n]) for n, d in _split_full(raw)],
           "Body items in schema order: water_temp_c 1825 (x0.01 degC), wave_height_m 125 (x0.01 m), "
           "lat/lon x1e-6 degree, battery_v 3700 mV, fault_flags 0, salinity_psu 3450 (x0.01).")


def _vital_encrypted(out, dev, key):
    import cbor2

    from lpwa.codecs.frame import FrameEncoder, open_frame

    r = EXAMPLE_READINGS["drone-vital"]
    raw = FrameEncoder("drone-vital", dev, key, radio="wisun").encode(18, r, alarm=True)[0]
    plain = open_frame(raw, lambda d: key)[5]
    meanings = {"hdr": "version 1, type 0, kind 2 (drone-vital)", "flags": "alarm, encrypted (AES-128-CTR)",
                "device": "0x%08x" % dev, "counter": "18",
                "body": "ciphertext of CBOR `%s` (`%s`)" % (json.dumps(cbor2.loads(plain)), plain.hex()),
                "MIC": "AES-CMAC over the ciphertext (encrypt-then-MAC)"}
    _block(out, "Drone-vital alarm, encrypted (personal kind)",
           "lpwa frame encode --kind drone-vital --radio wisun --counter 18 --alarm --json '%s'" % json.dumps(r),
           [raw], [(n, d, meanings[n]) for n, d in _split_full(raw)])


def _buoy_fragments(out, dev, key):
    from lpwa.codecs.frame import FrameEncoder

    frames = FrameEncoder("buoy", dev, key, radio="lora", sf=10).encode(17, EXAMPLE_READINGS["buoy"])
    _block(out, "The same buoy reading on LoRa SF10 (24-byte limit within 400 ms): fragments",
           "lpwa frame encode --kind buoy --radio lora --sf 10 --counter 17 --json '...'", frames,
           [("fragment %d" % i, f[:3], "hdr (type 2), index %d of %d, tag (device bytes XOR counter low byte)" % (i, len(frames)))
            for i, f in enumerate(frames)],
           "The chunks after each 3-byte fragment header, concatenated, are the full frame above.")


def _buoy_compact(out, dev, key):
    from lpwa.codecs.frame import FrameEncoder

    raw = FrameEncoder("buoy", dev, key, radio="sigfox").encode(17, EXAMPLE_READINGS["buoy"])[0]
    _block(out, "The same buoy reading as a compact Sigfox frame (12 bytes, no MIC)",
           "lpwa frame encode --kind buoy --radio sigfox --json '...'", [raw],
           [("hdr", raw[0:1], "version 1, type 3 (compact reading), kind 1"),
            ("water_temp_c", raw[1:3], "int16, 0.01 degC: 1825"),
            ("wave_height_m", raw[3:4], "uint8, 0.1 m: 13 (1.3 m)"),
            ("lat_deg", raw[4:7], "int24, 1e-4 degree: 351235"),
            ("lon_deg", raw[7:10], "int24, 1e-4 degree: 1396543"),
            ("battery_v", raw[10:11], "bit 7 alarm; bits 0-6 (V - 2.00) / 0.02: 85 (3.70 V)"),
            ("fault_flags", raw[11:12], "bit mask")])


def _status(out, dev, key):
    import cbor2

    from lpwa.codecs.frame import FrameEncoder

    s = EXAMPLE_READINGS["status"]
    raw = FrameEncoder("buoy", dev, key, radio="sigfox").encode_status(0, s)[0]
    full = FrameEncoder("buoy", dev, key, radio="wisun").encode_status(19, s)[0]
    _block(out, "Status frame: compact (Sigfox) and full",
           "lpwa frame encode --kind buoy --status --radio sigfox --json '%s'" % json.dumps(s), [raw, full],
           note="Compact: battery code %d (%.2f V), firmware 01 04 02, reset reason 1 (watchdog), uptime 86400 s, "
                "faults 2. Full: CBOR `%s`." % (raw[1] & 0x7F, 2 + 0.02 * (raw[1] & 0x7F),
                                              json.dumps(cbor2.loads(full[8:-4]))))


def _downlink(out, dev, key):
    from lpwa.codecs import command

    raw = command.encode_command(DEFAULT_DEVICE, key, 300, {"cmd": "set-interval", "seconds": 600})
    _block(out, "Downlink: set-interval 600 s, downlink counter 300 (8 bytes, fits Sigfox)",
           "encode_command('0a1b2c3d', key, 300, {\"cmd\": \"set-interval\", \"seconds\": 600})", [raw],
           [("cmd", raw[0:1], "version 1, command 1 (set-interval)"), ("seconds", raw[1:3], "600"),
            ("counter", raw[3:4], "300 & 0xff"), ("MIC", raw[4:], "first 4 bytes of AES-CMAC(mic key, B0 (dir 1) + cmd..counter)")])


def run_docs(args):
    import os

    from lpwa.tools.mpy.manifest import package_dir

    path = os.path.join(package_dir("codecs"), "FRAMES.md")
    text = rewrite_docs(path)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    print("wrote " + path)
    return 0


def run_examples(args):
    sys.stdout.write(render_examples() + "\n")
    return 0


def render_fields():
    """Markdown tables of every field: full-frame scale and range, compact resolution."""
    from lpwa.codecs import schema

    out = []
    groups = [("buoy", schema.BUOY_FIELDS, schema.BUOY_COMPACT),
              ("drone-vital", schema.DRONE_VITAL_FIELDS, schema.DRONE_VITAL_COMPACT),
              ("pedometer", schema.PEDOMETER_FIELDS, schema.PEDOMETER_COMPACT),
              ("status (any kind)", schema.STATUS_FIELDS, schema.STATUS_COMPACT)]
    for title, fields, compact in groups:
        layout = {e[0]: e for e in compact}
        pairs = {e[5]: e[0] for e in compact if len(e) > 5}
        out.append("#### " + title)
        out.append("")
        out.append("| # | field | unit | resolution | stored range | natural range | compact |")
        out.append("|---|---|---|---|---|---|---|")
        for i, f in enumerate(fields):
            name, unit, scale, offset, lo, hi = f
            res = "1" if scale == 1 else "%g" % (1.0 / scale)
            if unit == "version":
                nat = "0.0.0 .. 255.255.254"
            else:
                nat = "%s .. %s" % (schema.to_natural(f, lo), schema.to_natural(f, hi))
            c = layout.get(name)
            if name in pairs:
                ctext = "bits 5-3 of `%s`'s byte, when its bit 6 is set" % pairs[name]
            elif c is None:
                ctext = "-"
            elif len(c) > 5:
                ctext = "bits 2-0 of a byte (7: absent) shared with `%s`; 0xff: both absent" % c[5]
            elif name == "battery_v":
                ctext = "7 bits, 0.02 V from 2.00 (bit 7: alarm)"
            else:
                ctext = "%s%d, %s" % ("int" if c[2] else "uint", 8 * c[1],
                                      "x%g" % (c[3] / scale) if scale != 1 else ("x%d" % c[3]))
                if c[4]:
                    ctext += ", minus %d" % c[4]
            off = (", minus %d" % offset) if offset else ""
            out.append("| %d | `%s` | %s | %s%s | %d .. %d | %s | %s |" % (i, name, unit or "-", res, off, lo, hi, nat, ctext))
        out.append("")
    return "\n".join(out)


def render_errors():
    """The reason table of lpwa.codecs.reasons as Markdown."""
    from lpwa.codecs.reasons import REASONS

    rows = ["| reason | meaning |", "|---|---|"]
    rows += ["| `%s` | %s |" % (r, REASONS[r]) for r in REASONS]
    return "\n".join(rows) + "\n"


def rewrite_docs(path):
    """Replace the generated sections of FRAMES.md; returns the new text."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    from lpwa.tools.cli.frame_v2 import render_v2_fields

    for name, body in (("fields", render_fields()), ("errors", render_errors()), ("examples", render_examples()),
                       ("v2fields", render_v2_fields())):
        begin = "<!-- generated:%s -->" % name
        end = "<!-- /generated:%s -->" % name
        a = text.index(begin) + len(begin)
        b = text.index(end)
        text = text[:a] + "\n" + body.rstrip("\n") + "\n" + text[b:]
    return text

"""`lpwa frame`: encode and decode frames for bench work, and render the CDDL and examples.

    lpwa frame decode HEX [--key HEX | --keys keys.toml] [--radio lora] [--device 0a1b2c3d --seq N]
    lpwa frame decode -            (stdin: lines of hex, or replay JSONL lines)
    lpwa frame encode --kind buoy --json '{"water_temp_c": 18.25}' --radio sigfox
                      [--device 0a1b2c3d --key HEX --counter N --status --alarm --sf 10]
    lpwa frame cddl                (codecs/frame.cddl, generated from the schemas)
"""

import json
import sys

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
    d.add_argument("--radio", default="lora", choices=("lora", "sigfox", "wisun"))
    d.add_argument("--device", help="Sigfox device id (8 hex) for compact frames given as bare hex")
    d.add_argument("--seq", type=int, default=0, help="Sigfox sequence number for bare compact frames")
    d.set_defaults(func=run_decode)

    e = fsub.add_parser("encode", help="encode readings (JSON, natural units) to hex frames")
    e.add_argument("--kind", required=True, help="buoy, drone-vital or pedometer")
    e.add_argument("--json", required=True, dest="readings", help="readings as a JSON object")
    e.add_argument("--radio", default="lora", choices=("lora", "sigfox", "wisun"))
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
    try:
        import tomllib
    except ImportError:  # Python < 3.11
        import tomli as tomllib
    with open(path, "rb") as f:
        doc = tomllib.load(f)
    table = doc.get("devices", doc)
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
        "; lpwa/codecs/schema.py; tests/test_codec_docs.py checks this file matches.",
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
    out.append("")
    return "\n".join(out)

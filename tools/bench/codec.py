"""`lpwa bench codec`: frame bytes of ours vs Cayenne LPP, SenML-CBOR and JSON; encode/decode cost.

Sizes are for the same readings (LPP at its own published resolution, coarser for position and
temperature). "ours" is the whole frame our node sends on LoRa: frame version 2 (header, device
id, counter, packed body, 4-byte MIC), as a routine frame (position as an offset from the last
full frame, 44 m away here) and as the full frame sent every 12 counter values and on alarms;
"v1" is the version 1 CBOR frame (Wi-SUN). LPP carries no identity, counter or MIC, so it is
compared inside a LoRaWAN frame (+13 bytes: MHDR, FHDR, FPort, MIC). Emissions: how many LoRa
frames one reading takes at SF7..SF10/125 kHz (400 ms dwell; 4 s rule on channels 24-38 where
one frame is cheaper than fragments); airtime per day at SF10 for the default plan's readings. Times are CPython microseconds per frame, with cbor2.dumps/loads of the same
readings measured in the same run as the baseline. Heap is measured under the real MicroPython.
"""

import json
import sys
import time

LORAWAN_OVERHEAD = 13
KEY = bytes(range(16))
DEVICE = 0x0A1B2C3D
# what the firmware sends (firmware/sensing.py): a buoy's EC probe gives conductivity and salinity,
# a drone-vital reading carries its SpO2 flags (1: the default, uncalibrated curve)
READINGS = {
    "buoy": {"water_temp_c": 18.25, "wave_height_m": 1.25, "lat_deg": 35.123456, "lon_deg": 139.654321,
             "battery_v": 3.7, "fault_flags": 0, "salinity_psu": 34.5, "conductivity_ms_cm": 45.6},
    "drone-vital": {"heart_rate_bpm": 112, "spo2_pct": 93, "body_temp_c": 38.4, "lat_deg": 35.681236,
                    "lon_deg": 139.767125, "triage": 3, "battery_v": 3.9, "spo2_flags": 1},
    "pedometer": {"steps": 412, "steps_total": 123456, "interval_start": 1764000000, "battery_v": 3.8,
                  "interval_s": 300},
}
ALARM = {"buoy": False, "drone-vital": True, "pedometer": False}
# RFC 8428 units for SenML (Cel, m, lat, lon, V, beat/min, %EL, count, s); "/" for dimensionless.
SENML_UNITS = {"degC": "Cel", "m": "m", "V": "V", "bpm": "beat/min", "%": "%", "steps": "count", "s": "s",
               "PSU": "/", "": "/", "mS/cm": "S/m"}


def _positive_int(text):
    """argparse type: --repeat 0 divided by zero, a negative one printed negative times."""
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("not an integer: %r" % text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def add_arguments(parser):
    parser.add_argument("--repeat", type=_positive_int, default=2000, help="frames per timing loop (default 2000)")
    parser.add_argument("--no-mpy", action="store_true", help="skip the MicroPython heap measurement")


def lpp_available():
    """None when pycayennelpp is installed, else the one line that says why the LPP columns are empty."""
    try:
        import cayennelpp  # noqa: F401  (a dev extra: `pip install -e .` alone does not bring it)
    except ImportError:
        return "pycayennelpp is not installed (pip install pycayennelpp, or pip install -e .[dev])"
    return None


def lpp_bytes(kind, r):
    """Cayenne LPP via pycayennelpp (published layout: 1 channel + 1 type byte per value)."""
    from cayennelpp import LppFrame

    f = LppFrame()
    if kind == "buoy":
        f.add_temperature(1, r["water_temp_c"])
        f.add_analog_input(2, r["wave_height_m"])
        f.add_gps(3, r["lat_deg"], r["lon_deg"], 0.0)
        f.add_voltage(4, r["battery_v"])
        f.add_digital_input(5, r["fault_flags"])
        f.add_analog_input(6, r["salinity_psu"])
        f.add_analog_input(7, r["conductivity_ms_cm"])
    elif kind == "drone-vital":
        f.add_analog_input(1, r["heart_rate_bpm"])
        f.add_percentage(2, r["spo2_pct"])
        f.add_temperature(3, r["body_temp_c"])
        f.add_gps(4, r["lat_deg"], r["lon_deg"], 0.0)
        f.add_digital_input(5, r["triage"])
        f.add_digital_input(6, 1 if ALARM[kind] else 0)
        f.add_voltage(7, r["battery_v"])
        f.add_digital_input(8, r["spo2_flags"])
    else:
        f.add_generic(1, r["steps"])
        f.add_generic(2, r["steps_total"])
        f.add_unix_time(3, r["interval_start"])
        f.add_voltage(4, r["battery_v"])
        f.add_generic(5, r["interval_s"])
    return bytes(f)


def senml_cbor(kind, r):
    """RFC 8428 SenML-CBOR with integer labels (bn -2, n 0, u 1, v 2, vb 4), cbor2 canonical."""
    import cbor2

    from lpwa.codecs import schema

    fields = schema.KINDS[kind]["fields"]
    records = []
    for name, value in r.items():
        unit = fields[schema.field_index(fields, name)][1]
        rec = {0: name, 2: value}
        if SENML_UNITS.get(unit, "/") != "/":
            rec[1] = SENML_UNITS[unit]
        records.append(rec)
    records[0][-2] = "urn:dev:id:%08x:" % DEVICE
    if ALARM[kind]:
        records.append({0: "alarm", 4: True})
    return cbor2.dumps(records, canonical=True)


def json_bytes(kind, r):
    doc = {"device": "%08x" % DEVICE, "counter": 17, "kind": kind}
    doc.update(r)
    if ALARM[kind]:
        doc["alarm"] = True
    return json.dumps(doc, separators=(",", ":")).encode()


def _per_frame_us(fn, repeat):
    fn()
    t = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - t) * 1e6 / repeat


MPY_HEAP = """
from lpwa.codecs.frame import FrameEncoder
import gc, time
res = {}
for kind, radio in %r:
    v2 = radio == "lora"
    enc = FrameEncoder(kind, 0x0a1b2c3d, bytes(range(16)), radio=radio, **({"version": 2} if v2 else {}))
    fields = enc.schema["fields"]
    vals = enc.values
    for i in range(len(vals)):
        vals[i] = fields[i][5] - 1 if fields[i][4] >= 0 else fields[i][4] + 1
    if v2:  # routine frames (relative to a reference 1..12 counter values back) and every 12th full
        if kind == "buoy":
            vals[5] = 0x3F  # version 2 carries the six defined fault bits
        enc.reference = enc.ref_values() + [0]
    for c in range(50):
        if v2:
            enc.reference[-1] = c - 1 - c %% 13
        enc.encode_into(c, vals)
    gc.collect()
    gc.disable()
    before = gc.mem_alloc()
    t = time.ticks_us()
    for c in range(1000):
        if v2:
            enc.reference[-1] = c - 1 - c %% 13
        enc.encode_into(c, vals)
    us = time.ticks_diff(time.ticks_us(), t)
    after = gc.mem_alloc()
    gc.enable()
    res[kind + "/" + radio] = [after - before, us / 1000]
"""


def mpy_heap():
    """{kind/radio: [heap bytes over 1000 encodes, us per encode]} under the real MicroPython."""
    from lpwa.tools.mpy import MicroPython

    from lpwa.codecs import schema

    cases = [(k, r) for k in sorted(schema.KINDS) for r in ("lora", "wisun", "sigfox")]
    with MicroPython() as mp:
        mp.load_board_files()
        return mp.eval_json(MPY_HEAP % (cases,), "res")


DRIFT = 0.0004  # degrees of latitude between the full frame and the routine one (44 m)


def _v2_frames(kind, r):
    """(encoder, full frame, routine frame) of frame version 2 at SF10."""
    from lpwa.codecs.frame import FrameEncoder

    enc = FrameEncoder(kind, DEVICE, KEY, radio="lora", sf=10, version=2, long_ok=True)
    full = enc.encode(17, r, ALARM[kind])
    enc.reference = enc.ref_values() + [17]
    moved = dict(r)
    if "lat_deg" in moved:
        moved["lat_deg"] += DRIFT
    routine = enc.encode(18, moved, ALARM[kind])
    return enc, full, routine


def _emissions(kind, r):
    """{sf: (routine emissions, full emissions)} and the day's SF10 airtime (s) of ours, v1, LPP+LoRaWAN."""
    from lpwa.codecs.frame import FrameEncoder
    from lpwa.firmware.config import DEFAULT_PLANS
    from lpwa.radio.airtime import lora_airtime_us

    out = {}
    long_ = []  # the SFs at which a frame goes out whole under the 4 s rule (over 400 ms)
    for sf in (7, 8, 9, 10):
        enc = FrameEncoder(kind, DEVICE, KEY, radio="lora", sf=sf, version=2, long_ok=True)
        full = enc.encode(17, r)
        full_long = enc.long
        enc.reference = enc.ref_values() + [17]
        out[sf] = (len(enc.encode(18, r)), len(full))
        if full_long or enc.long:
            long_.append(sf)
    _enc, full, routine = _v2_frames(kind, r)
    v1 = FrameEncoder(kind, DEVICE, KEY, radio="lora", sf=10).encode(17, r, ALARM[kind])
    per_day = 86400 // DEFAULT_PLANS[kind]["interval_s"]

    def air(frames):
        return sum(lora_airtime_us(len(f), 10, 125) for f in frames)

    ours = per_day * (11 * air(routine) + air(full)) / 12 / 1e6
    day = {"ours": round(ours, 1), "v1": round(per_day * air(v1) / 1e6, 1), "readings": per_day, "long_sf": long_}
    if not lpp_available():
        day["lpp_lorawan"] = round(per_day * lora_airtime_us(len(lpp_bytes(kind, r)) + LORAWAN_OVERHEAD, 10, 125) / 1e6, 1)
    return out, day


def measure(repeat=2000, with_mpy=True):
    import cbor2

    from lpwa.codecs.frame import FrameEncoder
    from lpwa.gateway.frames import FrameDecoder

    out = {"kinds": {}, "lpp_unavailable": lpp_available()}
    for kind, r in READINGS.items():
        enc, full, routine = _v2_frames(kind, r)
        frame = routine[0]
        v1 = FrameEncoder(kind, DEVICE, KEY, radio="wisun").encode(17, r, ALARM[kind])[0]
        compact = FrameEncoder(kind, DEVICE, KEY, radio="sigfox").encode(17, r, ALARM[kind])[0]
        dec = FrameDecoder(lambda dev: KEY)
        dec.feed(full[0], "lora", {})
        emissions, day = _emissions(kind, r)
        row = {
            "ours_bytes": len(frame),
            "ours_full_bytes": len(full[0]),
            "v1_bytes": len(v1),
            "ours_body_bytes": len(frame) - 12,
            "ours_compact_bytes": len(compact),
            "emissions": emissions,
            "airtime_day_s": day,
            "senml_bytes": len(senml_cbor(kind, r)),
            "json_bytes": len(json_bytes(kind, r)),
            "encrypted": bool(enc.encrypt),
        }
        if not out.get("lpp_unavailable"):
            row.update(_lpp_columns(kind, r, row))
        blob = cbor2.dumps(r)
        row["encode_us"] = round(_per_frame_us(lambda: enc.encode(17, r, ALARM[kind]), repeat), 1)
        row["decode_us"] = round(_per_frame_us(lambda: dec.feed(frame, "lora", {}), repeat), 1)
        row["cbor2_dumps_us"] = round(_per_frame_us(lambda: cbor2.dumps(r), repeat), 2)
        row["cbor2_loads_us"] = round(_per_frame_us(lambda: cbor2.loads(blob), repeat), 2)
        out["kinds"][kind] = row
    out["mpy_heap_bytes_per_encode"] = None
    if with_mpy:
        _measure_heap(out)
    return out


def _lpp_columns(kind, r, row):
    """The LPP sizes of the same readings and ours against them."""
    lpp = len(lpp_bytes(kind, r))
    return {"lpp_bytes": lpp, "lpp_lorawan_bytes": lpp + LORAWAN_OVERHEAD,
            "ours_vs_lpp": round(row["ours_bytes"] / lpp, 3),
            "ours_body_vs_lpp": round(row["ours_body_bytes"] / lpp, 3),
            "ours_compact_vs_lpp": round(row["ours_compact_bytes"] / lpp, 3),
            "ours_vs_lpp_lorawan": round(row["ours_bytes"] / (lpp + LORAWAN_OVERHEAD), 3),
            "ours_full_vs_lpp_lorawan": round(row["ours_full_bytes"] / (lpp + LORAWAN_OVERHEAD), 3),
            "v1_vs_lpp_lorawan": round(row["v1_bytes"] / (lpp + LORAWAN_OVERHEAD), 3)}


def _measure_heap(out):
    """The MicroPython column, or why it is missing (no Node.js, no `npm ci`): the rest still prints."""
    from lpwa.tools.mpy import HarnessUnavailable

    try:
        heap = mpy_heap()
    except HarnessUnavailable as e:
        out["mpy_unavailable"] = str(e).strip().splitlines()[0] if str(e).strip() else "harness unavailable"
        return
    out["mpy"] = heap
    out["mpy_heap_bytes_per_encode"] = max(v[0] for v in heap.values()) / 1000.0


def _cell(row, key):
    return "-" if row.get(key) is None else "%d" % row[key]


def _pct(row, key):
    return "-" if row.get(key) is None else "%.0f%%" % (100 * row[key])


def render_table(res):
    lines = []
    hdr = ("kind", "ours", "ours full", "v1", "compact", "LPP", "LPP+LoRaWAN", "SenML", "JSON", "ours/LPP",
           "ours/(LPP+LoRaWAN)", "full/(LPP+LoRaWAN)", "v1/(LPP+LoRaWAN)")
    lines.append("| " + " | ".join(hdr) + " |")
    lines.append("|" + "---|" * len(hdr))
    for kind, r in res["kinds"].items():
        lines.append("| %s | %d | %d | %d | %d | %s | %s | %d | %d | %s | %s | %s | %s |" % (
            kind, r["ours_bytes"], r["ours_full_bytes"], r["v1_bytes"], r["ours_compact_bytes"], _cell(r, "lpp_bytes"),
            _cell(r, "lpp_lorawan_bytes"), r["senml_bytes"], r["json_bytes"], _pct(r, "ours_vs_lpp"),
            _pct(r, "ours_vs_lpp_lorawan"), _pct(r, "ours_full_vs_lpp_lorawan"), _pct(r, "v1_vs_lpp_lorawan")))
    lines.append("")
    lines.append("| kind | LoRa emissions per reading, routine / full: SF7 | SF8 | SF9 | SF10 | readings/day | "
                 "airtime s/day at SF10: ours | v1 | LPP+LoRaWAN |")
    lines.append("|---|---|---|---|---|---|---|---|---|")
    for kind, r in res["kinds"].items():
        e, d = r["emissions"], r["airtime_day_s"]
        cells = ["%d / %d%s" % (e[sf] + (" (4 s rule)" if sf in d["long_sf"] else "",)) for sf in sorted(e)]
        lines.append("| %s | %s | %d | %.1f | %.1f | %s |" % (kind, " | ".join(cells), d["readings"], d["ours"],
                                                             d["v1"], d.get("lpp_lorawan", "-")))
    lines.append("")
    lines.append("| kind (CPython, us/frame) | ours encode | cbor2.dumps | ratio | ours decode | cbor2.loads | ratio |")
    lines.append("|---|---|---|---|---|---|---|")
    for kind, r in res["kinds"].items():
        lines.append("| %s%s | %.1f | %.2f | x%.0f | %.1f | %.2f | x%.0f |" % (
            kind, " (AES-CTR)" if r["encrypted"] else "", r["encode_us"], r["cbor2_dumps_us"],
            r["encode_us"] / r["cbor2_dumps_us"], r["decode_us"], r["cbor2_loads_us"],
            r["decode_us"] / r["cbor2_loads_us"]))
    if res.get("mpy"):
        lines.append("")
        lines.append("| MicroPython (1000 encodes into the reused buffer) | heap bytes | per encode | us/encode |")
        lines.append("|---|---|---|---|")
        for case, (heap, us) in sorted(res["mpy"].items()):
            lines.append("| %s | %d | %g | %.0f |" % (case, heap, heap / 1000.0, us))
    lines.append("")
    lines.append("ours = frame version 2 on LoRa (header 8 + packed body + MIC 4), routine; ours full = with "
                 "the absolute position or the pedometer's interval (every 12th, alarms); v1 = CBOR frame (Wi-SUN); "
                 "compact = Sigfox; (4 s rule): one emission over 400 ms, legal on ARIB channels 24-38 after 5 ms carrier "
                 "sense (fragments elsewhere); goal ours and full/(LPP+LoRaWAN) <= 60%, one emission per reading at SF10, 0 heap bytes per steady-state encode.")
    return "\n".join(lines)


def main(args):
    res = measure(getattr(args, "repeat", 2000), not getattr(args, "no_mpy", False))
    for column, key in (("Cayenne LPP columns", "lpp_unavailable"), ("MicroPython heap", "mpy_unavailable")):
        if res.get(key):
            sys.stderr.write("lpwa bench codec: %s not measured: %s\n" % (column, res[key]))
    if getattr(args, "json", False):
        print(json.dumps(res, sort_keys=True))
    else:
        print(render_table(res))
    return 0

"""`lpwa airtime`: time on air, regional limits and hourly budget

    lpwa airtime --radio lora --sf 10 --bw 125 --len 20   one frame (CR 4/5, 8-symbol preamble,
                                                          explicit header, CRC on unless told)
    lpwa airtime --table                                  every data rate of the radio
    ... --json                                            the same as JSON ({"airtime_us": N, ...})
"""

from lpwa.radio.limits import RADIOS

CODING_RATES = ("4/5", "4/6", "4/7", "4/8")
DEFAULT_LEN = {"lora": 20, "sigfox": 12, "wisun": 100}


def register(sub):
    p = sub.add_parser("airtime", help="time on air, regional limits and hourly budget",
                       description="Time on air of one frame, the largest payload each 920 MHz limit allows, "
                                   "and how many such frames an hour the duty-cycle budget lets through.")
    p.add_argument("--radio", choices=RADIOS, default="lora")
    p.add_argument("--len", type=int, default=None, metavar="BYTES",
                   help="payload bytes (default: lora 20, sigfox 12, wisun 100)")
    p.add_argument("--sf", type=int, default=10, help="LoRa spreading factor 5..12 (default 10)")
    p.add_argument("--bw", type=float, default=125, help="LoRa bandwidth kHz: 125, 250 or 500 (default 125)")
    p.add_argument("--cr", choices=CODING_RATES, default="4/5", help="LoRa coding rate (default 4/5)")
    p.add_argument("--preamble", type=int, default=8, help="LoRa preamble symbols (default 8)")
    p.add_argument("--implicit-header", action="store_true", help="LoRa implicit header (default explicit)")
    p.add_argument("--no-crc", action="store_true", help="LoRa payload CRC off (default on)")
    p.add_argument("--sx126x", action="store_true", help="SX126x formula (differs at SF5/SF6 only)")
    p.add_argument("--kbps", type=float, default=100, help="Wi-SUN FSK rate: 50, 100, 150, 200 or 300 (default 100)")
    p.add_argument("--bps", type=int, default=100, choices=(100, 600), help="Sigfox uplink bit rate (RC3: 100)")
    p.add_argument("--table", action="store_true", help="print every data rate of the radio")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run, _parser=p)


def _fail(args, message):
    args._parser.error(message)


def _check(args):
    if args.radio == "lora":
        if not 5 <= args.sf <= 12:
            _fail(args, "--sf must be 5..12")
        if args.bw not in (125, 250, 500):
            _fail(args, "--bw must be 125, 250 or 500")
        if not 6 <= args.preamble <= 65535:
            _fail(args, "--preamble must be 6..65535")
        if args.sf == 5 and not args.sx126x:
            _fail(args, "SF5 needs --sx126x (the SX127x stops at SF6)")
    if args.radio == "wisun" and args.kbps not in (50, 100, 150, 200, 300):
        _fail(args, "--kbps must be 50, 100, 150, 200 or 300")
    n = args.len
    top = {"lora": 255, "sigfox": 12, "wisun": 1232}[args.radio]
    if n is not None and not 0 <= n <= top:
        _fail(args, "--len must be 0..%d for %s" % (top, args.radio))


def _budgets():
    from lpwa.radio import budget

    return {
        "lora": budget.Budget(budget.MemoryStore(), budget.profile_for("lora")),
        "lora-4s": budget.Budget(budget.MemoryStore(), budget.profile_for("lora", long_emissions=True)),
        "sigfox": budget.Budget(budget.MemoryStore(), budget.profile_for("sigfox")),
        "wisun": budget.Budget(budget.MemoryStore(), budget.profile_for("wisun")),
    }


def lora_row(length, sf, bw, cr=1, preamble=8, explicit=True, crc=True, sx126x=False, budgets=None):
    from lpwa.radio import airtime, limits

    budgets = budgets or _budgets()
    us = airtime.lora_airtime_us(length, sf, bw, cr, preamble, explicit, crc, None, sx126x)
    dr = [d for d in limits.AS923_DATARATES if d[1] == sf and d[2] == bw]
    as923 = None
    if dr:
        as923 = {"dr": dr[0][0], "n_no_dwell": dr[0][3], "n_dwell_400ms": dr[0][4] or None}
    return {
        "radio": "lora", "len": length, "sf": sf, "bw_khz": bw, "cr": CODING_RATES[cr - 1], "preamble": preamble,
        "explicit_header": explicit, "crc": crc, "chip": "sx126x" if sx126x else "sx127x",
        "airtime_us": us, "symbol_us": airtime.lora_symbol_us(sf, bw), "ldro": airtime.lora_ldro(sf, bw),
        "max_payload": {
            "arib_400ms": limits.max_payload("lora", sf, bw, 400),
            "arib_4s_ch24_38": limits.max_payload("lora", sf, bw, 4000),
            "sx127x_fifo": limits.SX127X_FIFO_BYTES,
        },
        "as923": as923,
        "legal": {"arib_400ms": us <= limits.ARIB_SHORT_MAX_TX_US, "arib_4s_ch24_38": us <= limits.ARIB_LONG_MAX_TX_US},
        "frames_per_hour": {"400ms": budgets["lora"].frames_per_hour(us),
                            "400ms_with_alarm_reserve": budgets["lora"].frames_per_hour(us, alarm=True),
                            "4s_ch24_38": budgets["lora-4s"].frames_per_hour(us)},
    }


def sigfox_row(length, bps=100, budgets=None):
    from lpwa.radio import airtime, limits

    budgets = budgets or _budgets()
    one = airtime.sigfox_airtime_us(length, bps)
    total = airtime.sigfox_total_airtime_us(length, bps)
    b = budgets["sigfox"]
    return {"radio": "sigfox", "len": length, "bps": bps, "frame_bytes": airtime.sigfox_frame_bytes(length),
            "airtime_us": one, "airtime_all_repeats_us": total, "repeats": airtime.SIGFOX_REPEATS,
            "max_payload": {"sigfox_rc3": limits.SIGFOX_UL_MAX},
            "legal": {"arib_4s": one <= limits.ARIB_LONG_MAX_TX_US},
            "frames_per_hour": {"routine": b.frames_per_hour(total), "with_alarm_reserve": b.frames_per_hour(total, True)},
            "frames_per_day": limits.SIGFOX_UPLINKS_PER_DAY - b.reserve_msgs,
            "day_cap": limits.SIGFOX_UPLINKS_PER_DAY}


def wisun_row(length, kbps=100, budgets=None):
    from lpwa.radio import airtime, limits

    budgets = budgets or _budgets()
    us = airtime.wisun_airtime_us(length, kbps)
    b = budgets["wisun"]
    return {"radio": "wisun", "len": length, "kbps": kbps, "airtime_us": us, "stack_overhead": airtime.WISUN_UDP_OVERHEAD,
            "max_payload": {"sksendto": limits.WISUN_UDP_MAX},
            "legal": {"arib_400ms": us <= limits.ARIB_SHORT_MAX_TX_US},
            "frames_per_hour": {"routine": b.frames_per_hour(us), "with_alarm_reserve": b.frames_per_hour(us, True)}}


def _ms(us):
    return "%.3f ms" % (us / 1000)


def run(args):
    import json

    _check(args)
    length = DEFAULT_LEN[args.radio] if args.len is None else args.len
    budgets = _budgets()
    cr = CODING_RATES.index(args.cr) + 1
    bw = int(args.bw)
    if args.table:
        if args.radio == "lora":
            from lpwa.radio import limits

            combos = [(d[1], d[2]) for d in limits.AS923_DATARATES] + [(sf, 250) for sf in range(8, 13)] + \
                [(sf, 500) for sf in range(7, 13)]
            rows = [lora_row(length, sf, b, cr, args.preamble, not args.implicit_header, not args.no_crc, args.sx126x,
                             budgets) for sf, b in combos]
        elif args.radio == "sigfox":
            rows = [sigfox_row(n, args.bps, budgets) for n in range(13)]
        else:
            rows = [wisun_row(length, k, budgets) for k in (50, 100, 150, 200, 300)]
        if args.json:
            print(json.dumps({"radio": args.radio, "len": length, "rows": rows}, indent=1))
        else:
            print(_table(args.radio, rows))
        return 0
    if args.radio == "lora":
        row = lora_row(length, args.sf, bw, cr, args.preamble, not args.implicit_header, not args.no_crc, args.sx126x,
                       budgets)
    elif args.radio == "sigfox":
        row = sigfox_row(length, args.bps, budgets)
    else:
        row = wisun_row(length, args.kbps, budgets)
    if args.json:
        print(json.dumps(row))
    else:
        print(_single(row))
    return 0


def _yes(ok):
    return "fits" if ok else "TOO LONG"


def _single(r):
    out = []
    if r["radio"] == "lora":
        out.append("LoRa SF%d / %d kHz, CR %s, %d-symbol preamble, %s header, CRC %s, %s: %d bytes" % (
            r["sf"], r["bw_khz"], r["cr"], r["preamble"], "explicit" if r["explicit_header"] else "implicit",
            "on" if r["crc"] else "off", r["chip"].upper(), r["len"]))
        out.append("  time on air      %s  (%d us; symbol %s, low data rate optimisation %s)" % (
            _ms(r["airtime_us"]), r["airtime_us"], _ms(r["symbol_us"]), "on" if r["ldro"] else "off"))
        mp = r["max_payload"]
        out.append("  largest payload  %3d B  ARIB 400 ms emission (carrier sense, ch 24-61)  -> this frame %s" % (
            mp["arib_400ms"], _yes(r["legal"]["arib_400ms"])))
        out.append("                   %3d B  ARIB 4 s emission (5 ms carrier sense, ch 24-38) -> this frame %s" % (
            mp["arib_4s_ch24_38"], _yes(r["legal"]["arib_4s_ch24_38"])))
        if r["as923"]:
            a = r["as923"]
            out.append("                   %3s B  LoRaWAN AS923 DR%d application payload, 400 ms dwell" % (
                a["n_dwell_400ms"] if a["n_dwell_400ms"] else "-", a["dr"]))
            out.append("                   %3d B  LoRaWAN AS923 DR%d application payload, no dwell limit" % (a["n_no_dwell"], a["dr"]))
        out.append("                   %3d B  SX127x FIFO" % mp["sx127x_fifo"])
        f = r["frames_per_hour"]
        out.append("  frames per hour  %d routine (360 s/h less the 36 s alarm reserve, 50 ms pause), %d counting"
                   " the reserve; %d with 4 s emissions on ch 24-38" % (f["400ms"], f["400ms_with_alarm_reserve"],
                                                                      f["4s_ch24_38"]))
    elif r["radio"] == "sigfox":
        out.append("Sigfox RC3 uplink, %d bps: %d payload bytes -> %d-byte frame, sent %d times" % (
            r["bps"], r["len"], r["frame_bytes"], r["repeats"]))
        out.append("  time on air      %s per repeat, %s all repeats (%d us)" % (
            _ms(r["airtime_us"]), _ms(r["airtime_all_repeats_us"]), r["airtime_us"]))
        out.append("  largest payload  12 B (Sigfox); each repeat is one ARIB 4 s emission -> %s" % _yes(r["legal"]["arib_4s"]))
        out.append("  frames per hour  %d routine, %d counting the alarm reserve; %d a day (140 less 10 for alarms)" % (
            r["frames_per_hour"]["routine"], r["frames_per_hour"]["with_alarm_reserve"], r["frames_per_day"]))
    else:
        out.append("Wi-SUN FSK %g kbps: %d UDP payload bytes (+8 preamble, 2 SFD, 2 PHR, %d stack headers, 4 FCS)" % (
            r["kbps"], r["len"], r["stack_overhead"]))
        out.append("  time on air      %s (%d us)" % (_ms(r["airtime_us"]), r["airtime_us"]))
        out.append("  largest payload  %d B (SKSENDTO); 400 ms emission -> %s" % (
            r["max_payload"]["sksendto"], _yes(r["legal"]["arib_400ms"])))
        out.append("  frames per hour  %d routine, %d counting the alarm reserve" % (
            r["frames_per_hour"]["routine"], r["frames_per_hour"]["with_alarm_reserve"]))
    return "\n".join(out)


def _table(radio, rows):
    if radio == "lora":
        head = "%-5s %-4s %-4s %12s  %7s %7s  %9s %9s  %7s %7s" % (
            "DR", "SF", "BW", "airtime", "max400", "max4s", "AS923dw", "AS923", "fr/h", "fr/h4s")
        lines = ["LoRa, %d-byte payload, CR %s, %d-symbol preamble:" % (rows[0]["len"], rows[0]["cr"], rows[0]["preamble"]),
                 head]
        for r in rows:
            a = r["as923"]
            lines.append("%-5s %-4d %-4d %12s  %7d %7d  %9s %9s  %7d %7d" % (
                "DR%d" % a["dr"] if a else "-", r["sf"], r["bw_khz"], _ms(r["airtime_us"]), r["max_payload"]["arib_400ms"],
                r["max_payload"]["arib_4s_ch24_38"], (a["n_dwell_400ms"] or "-") if a else "-", a["n_no_dwell"] if a else "-",
                r["frames_per_hour"]["400ms"], r["frames_per_hour"]["4s_ch24_38"]))
        lines.append("max400/max4s: largest PHY payload within one 400 ms / 4 s emission; AS923dw/AS923: LoRaWAN "
                     "application payload N with/without dwell; fr/h: routine frames an hour the budget allows")
        return "\n".join(lines)
    if radio == "sigfox":
        lines = ["Sigfox RC3 uplink, %d bps, 3 repeats:" % rows[0]["bps"],
                 "%-7s %-6s %12s %14s %7s %7s" % ("payload", "frame", "per repeat", "all repeats", "fr/h", "fr/day")]
        for r in rows:
            lines.append("%-7d %-6d %12s %14s %7d %7d" % (r["len"], r["frame_bytes"], _ms(r["airtime_us"]),
                                                         _ms(r["airtime_all_repeats_us"]), r["frames_per_hour"]["routine"],
                                                         r["frames_per_day"]))
        return "\n".join(lines)
    lines = ["Wi-SUN FSK, %d UDP payload bytes (+%d stack headers):" % (rows[0]["len"], rows[0]["stack_overhead"]), "%-6s %12s %9s" % ("kbps", "airtime", "fr/h")]
    for r in rows:
        lines.append("%-6g %12s %9d" % (r["kbps"], _ms(r["airtime_us"]), r["frames_per_hour"]["routine"]))
    return "\n".join(lines)

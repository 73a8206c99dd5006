"""GPS position, fix quality and time from NMEA 0183 over a UART (GGA and RMC sentences).

Sentences with a bad or missing checksum are dropped, never half-parsed. `Gps.fix()` reads lines
until it has a GGA with a fix (and the RMC date when one arrives) or the timeout passes.
"""

from lpwa.firmware.drivers.deadline import elapsed_ms


def checksum_ok(line):
    """True when `line` ($...*hh) carries the XOR checksum of the text between $ and *."""
    if len(line) < 4 or line[0] != "$":
        return False
    star = line.rfind("*")
    if star < 0 or len(line) < star + 3:
        return False
    total = 0
    for ch in line[1:star]:
        total ^= ord(ch)
    try:
        return total == int(line[star + 1 : star + 3], 16)
    except ValueError:
        return False


def _coord(value, hemi):
    """ddmm.mmmm / dddmm.mmmm and N/S/E/W to signed decimal degrees."""
    if not value:
        return None
    dot = value.find(".")
    if dot < 3:
        return None
    deg = int(value[: dot - 2])
    minutes = float(value[dot - 2 :])
    v = deg + minutes / 60.0
    return -v if hemi in ("S", "W") else v


def _coord_e6(value, hemi):
    """The same position as integer micro-degrees, computed without floats: ESP32 floats are
    32-bit and would cost the 1e-6 degree resolution (139.788636 is not a float32)."""
    if not value:
        return None
    dot = value.find(".")
    if dot < 3:
        return None
    frac = value[dot + 1:]
    if frac and not frac.isdigit():
        raise ValueError("bad coordinate")
    unit = 10 ** len(frac)  # minutes counted in units of 10^-len(frac) minute
    minutes = int(value[dot - 2:dot]) * unit + (int(frac) if frac else 0)
    e6 = int(value[:dot - 2]) * 1000000 + (minutes * 1000000 + 30 * unit) // (60 * unit)  # half up
    return -e6 if hemi in ("S", "W") else e6


def e6_text(e6):
    """Integer micro-degrees -> exact decimal text the codec stores without a float."""
    sign = "-" if e6 < 0 else ""
    e6 = -e6 if e6 < 0 else e6
    return "%s%d.%06d" % (sign, e6 // 1000000, e6 % 1000000)


def parse(line):
    """One NMEA line -> dict, or None for a bad checksum or a sentence we do not use."""
    line = line.strip()
    if not checksum_ok(line):
        return None
    fields = line[1 : line.rfind("*")].split(",")
    talker = fields[0]
    try:
        if talker.endswith("GGA") and len(fields) >= 10:
            return {
                "type": "GGA",
                "utc": fields[1],
                "lat": _coord(fields[2], fields[3]),
                "lon": _coord(fields[4], fields[5]),
                "lat_e6": _coord_e6(fields[2], fields[3]),
                "lon_e6": _coord_e6(fields[4], fields[5]),
                "quality": int(fields[6] or "0"),
                "sats": int(fields[7] or "0"),
                "hdop": float(fields[8]) if fields[8] else None,
                "alt_m": float(fields[9]) if fields[9] else None,
            }
        if talker.endswith("RMC") and len(fields) >= 10:
            return {
                "type": "RMC",
                "utc": fields[1],
                "valid": fields[2] == "A",
                "lat": _coord(fields[3], fields[4]),
                "lon": _coord(fields[5], fields[6]),
                "date": fields[9],
            }
    except ValueError:
        return None
    return None


def unix_time(date, utc):
    """ddmmyy + hhmmss(.ss) -> Unix seconds (years 2000-2099)."""
    d, mo, y = int(date[0:2]), int(date[2:4]), 2000 + int(date[4:6])
    h, mi, s = int(utc[0:2]), int(utc[2:4]), int(float(utc[4:]))
    # days from civil (Howard Hinnant), proleptic Gregorian
    yy = y - (mo <= 2)
    era = yy // 400
    yoe = yy - era * 400
    doy = (153 * (mo + (-3 if mo > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    days = era * 146097 + doe - 719468
    return days * 86400 + h * 3600 + mi * 60 + s


class Gps:
    def __init__(self, uart, clock):
        self.uart = uart
        self.clock = clock
        self.bad = 0  # lines dropped for a bad checksum

    def fix(self, timeout_ms=2000):
        """{"lat", "lon", "lat_e6", "lon_e6", "quality", "sats", "hdop", "time"} or None when no fix came
        in time; lat/lon are floats for distances, *_e6 exact integer micro-degrees for frames."""
        start = self.clock.ticks_ms()
        gga = None
        rmc = None
        while elapsed_ms(self.clock, start) < timeout_ms:
            raw = self.uart.readline()
            if not raw:
                self.clock.sleep_ms(50)
                continue
            try:
                text = raw.decode()
            except (UnicodeError, ValueError):
                self.bad += 1
                continue
            msg = parse(text)
            if msg is None:
                if text.startswith("$"):
                    self.bad += 1
                continue
            if msg["type"] == "GGA" and msg["quality"] > 0 and msg["lat"] is not None:
                gga = msg
            elif msg["type"] == "RMC" and msg["valid"]:
                rmc = msg
            if gga is not None and rmc is not None:
                break
        if gga is None:
            return None
        out = {"lat": gga["lat"], "lon": gga["lon"], "lat_e6": gga["lat_e6"], "lon_e6": gga["lon_e6"],
               "quality": gga["quality"], "sats": gga["sats"], "hdop": gga["hdop"], "time": None}
        if rmc is not None and rmc["date"]:
            out["time"] = unix_time(rmc["date"], rmc["utc"])
        return out

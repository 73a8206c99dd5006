"""A simulated GPS receiver's UART: GGA and RMC sentences, with checksums, once a second."""


def _nmea(body):
    total = 0
    for ch in body:
        total ^= ord(ch)
    return "$%s*%02X\r\n" % (body, total)


def _ddmm(e6, pos, neg, width):
    """Integer micro-degrees -> NMEA (d)ddmm.mmmm and hemisphere, in integers (exact under float32)."""
    hemi = pos if e6 >= 0 else neg
    deg, rem = divmod(abs(e6), 1000000)
    m_e4 = min((rem * 60 + 50) // 100, 599999)  # minutes x 10^4, rounded, never 60.0000
    return ("%0" + str(width) + "d%02d.%04d") % (deg, m_e4 // 10000, m_e4 % 10000), hemi


class SimGpsUart:
    """A GPS receiver's UART: a GGA and an RMC sentence per second of simulated time."""

    def __init__(self, board):
        self.board = board
        self.queue = []
        self.last_s = None

    def readline(self):
        if self.board.faulty("gps"):
            self.board.clock.sleep_ms(100)
            return None
        if not self.queue:
            t = self.board.now_s()
            if self.last_s == t:
                return None
            self.last_s = t
            lat, lon = self.board.world.position_e6(t)
            la, ns = _ddmm(lat, "N", "S", 2)
            lo, ew = _ddmm(lon, "E", "W", 3)
            tm = _utc(t)
            self.queue.append(_nmea("GPGGA,%s.00,%s,%s,%s,%s,1,08,0.9,2.0,M,39.0,M,," % (tm[1], la, ns, lo, ew)))
            self.queue.append(_nmea("GPRMC,%s.00,A,%s,%s,%s,%s,0.1,0.0,%s,,,A" % (tm[1], la, ns, lo, ew, tm[0])))
        return self.queue.pop(0).encode()


def _utc(t):
    days, rem = divmod(int(t), 86400)
    # civil from days (Howard Hinnant)
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    if m <= 2:
        y += 1
    return "%02d%02d%02d" % (d, m, y % 100), "%02d%02d%02d" % (rem // 3600, rem // 60 % 60, rem % 60)


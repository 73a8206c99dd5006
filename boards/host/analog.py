"""Simulated ADC inputs: the battery behind its 2:1 divider and the conductivity probe."""

from lpwa.boards.host.clock import START_S


class SimADC:
    """machine.ADC's read_u16/read_uv over a function giving the pin's voltage."""

    def __init__(self, volts_fn):
        self.volts_fn = volts_fn

    def read_u16(self):
        return max(0, min(65535, int(self.volts_fn() / 3.3 * 65535)))

    def read_uv(self):
        return int(self.volts_fn() * 1000000)


def battery_volts(board):
    """Half the cell voltage (a 2:1 divider): 3.95 V sagging 0.05 V a day."""
    return (3.95 - 0.05 * ((board.now_s() - START_S) / 86400.0)) / 2.0


def conductivity_volts(board, cal):
    """The probe's voltage for the EC that reads as the world's salinity, per calibration `cal`."""
    if board.faulty("cond"):
        return 0.0
    from lpwa.firmware.drivers.conductivity import salinity_pss78

    t = board.now_s()
    temp = board.world.water_temp_c(t)
    want = board.world.salinity_psu(t)
    lo, hi = 1.0, 80.0
    for _ in range(30):  # invert PSS-78 by bisection: the EC that reads as the true salinity
        mid = (lo + hi) / 2
        if salinity_pss78(mid, temp) < want:
            lo = mid
        else:
            hi = mid
    slope, offset = cal
    return (lo - offset) / slope

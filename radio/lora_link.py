"""Raw LoRa point-to-point link helpers for SX127x / SX126x boards (micropython-lib `lora`).

micropython-lib's drivers send and receive but offer no carrier sense, which ARIB STD-T108
requires before every emission (>= 5 ms at -80 dBm over 200 kHz, radio/LIMITS.md). `LbtModem`
wraps a driver object and adds `carrier_sense(duration_us)`: it puts the radio in continuous
receive, samples the instantaneous RSSI for the whole window and reports the channel free only
if every sample stayed below the threshold.

RSSI sources (read through the drivers' own register/command helpers):
  * SX127x (`_reg_read`): RegRssiValue 0x1B, dBm = -157 + value on the high-frequency port
    (SX1276 datasheet 5.5.5, 862-1020 MHz).
  * SX126x (`_cmd`): GetRssiInst opcode 0x15, dBm = -value / 2 (SX1261/2 datasheet 13.5.4;
    the value follows the status byte).
Not yet exercised on hardware in this repository: tests use fake modems with the same methods.
Portable (MicroPython and CPython): the clock is injectable, `time` is used on the board.
"""

SX127X_REG_RSSI_VALUE = 0x1B
SX127X_RSSI_OFFSET_HF = -157
SX126X_CMD_GET_RSSI_INST = 0x15
DEFAULT_THRESHOLD_DBM = -80  # ARIB STD-T108 / sigfox-ep-lib RC3 / LoRaMac-node AS923
SETTLE_US = 300  # RSSI is valid a few hundred microseconds after entering receive


class BoardClock:
    """MicroPython's microsecond ticks (the default clock on the board)."""

    def __init__(self):
        import time

        self._t = time

    def ticks_us(self):
        return self._t.ticks_us()  # type: ignore[attr-defined]

    def ticks_diff(self, a, b):
        return self._t.ticks_diff(a, b)  # type: ignore[attr-defined]

    def sleep_us(self, us):
        self._t.sleep_us(us)  # type: ignore[attr-defined]


def rssi_reader(modem):
    """A function returning the instantaneous RSSI in dBm for this driver, or None."""
    if hasattr(modem, "_cmd"):
        def sx126x():
            res = modem._cmd("BB", SX126X_CMD_GET_RSSI_INST, 0, n_read=2)
            return -res[len(res) - 1] / 2
        return sx126x
    if hasattr(modem, "_reg_read"):
        def sx127x():
            return SX127X_RSSI_OFFSET_HF + modem._reg_read(SX127X_REG_RSSI_VALUE)
        return sx127x
    if hasattr(modem, "rssi"):
        return modem.rssi
    return None


class LbtModem:
    """A micropython-lib modem with listen-before-talk; every other attribute is the modem's."""

    def __init__(self, modem, clock=None, threshold_dbm=DEFAULT_THRESHOLD_DBM, sample_us=100):
        self.modem = modem
        self.clock = clock or BoardClock()
        self.threshold_dbm = threshold_dbm
        self.sample_us = sample_us
        self._read = rssi_reader(modem)
        self.lbt_supported = self._read is not None
        self.last_rssi = None  # the loudest sample of the last carrier sense

    def __getattr__(self, name):
        return getattr(self.modem, name)

    def carrier_sense(self, duration_us):
        """True when the channel stayed below the threshold for `duration_us` (ARIB: >= 5000)."""
        if not self.lbt_supported:
            raise OSError("this modem offers no RSSI reading: cannot listen before talk")
        clk = self.clock
        modem = self.modem
        modem.start_recv(continuous=True)
        try:
            clk.sleep_us(SETTLE_US)
            start = clk.ticks_us()
            loudest = -200.0
            while True:
                rssi = self._read()
                if rssi > loudest:
                    loudest = rssi
                if rssi >= self.threshold_dbm:
                    self.last_rssi = loudest
                    return False
                if clk.ticks_diff(clk.ticks_us(), start) >= duration_us:
                    break
                clk.sleep_us(self.sample_us)
            self.last_rssi = loudest
            return True
        finally:
            if hasattr(modem, "standby"):
                modem.standby()

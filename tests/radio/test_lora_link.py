"""Listen before talk for micropython-lib LoRa drivers, against fake SX127x / SX126x modems."""

import pytest

from lpwa.radio import lora_link

FAKES = r'''
class FakeClock:
    def __init__(self):
        self.t = 0

    def ticks_us(self):
        return self.t

    def ticks_diff(self, a, b):
        return a - b

    def sleep_us(self, us):
        self.t += us


class Sx127x:
    """Answers RegRssiValue reads from a script of dBm values (as the chip would encode them)."""

    def __init__(self, dbm, clock):
        self.dbm = list(dbm)
        self.clock = clock
        self.reads = []
        self.modes = []

    def _reg_read(self, reg):
        self.reads.append(reg)
        self.clock.t += 20  # an SPI transaction takes time
        v = self.dbm.pop(0) if self.dbm else -120
        return v + 157

    def start_recv(self, continuous=False):
        self.modes.append("rx" if continuous else "rx1")

    def standby(self):
        self.modes.append("standby")

    def send(self, data):
        return len(data)


class Sx126x:
    def __init__(self, dbm, clock):
        self.dbm = list(dbm)
        self.clock = clock
        self.cmds = []
        self.modes = []

    def _cmd(self, fmt, *args, n_read=0):
        self.cmds.append(args[0])
        self.clock.t += 20
        v = self.dbm.pop(0) if self.dbm else -120
        return bytes([0xA2, int(-2 * v)])[:n_read]

    def _reg_read(self, addr):
        raise AssertionError("SX126x RSSI must come from GetRssiInst")

    def start_recv(self, continuous=False):
        self.modes.append("rx" if continuous else "rx1")

    def standby(self):
        self.modes.append("standby")


def run_case(kind, dbm, duration_us):
    from lpwa.radio import lora_link
    clk = FakeClock()
    modem = (Sx127x if kind == "sx127x" else Sx126x)(dbm, clk)
    m = lora_link.LbtModem(modem, clock=clk)
    free = m.carrier_sense(duration_us)
    return [free, m.last_rssi, modem.modes, clk.t]
'''
_ns = {}
exec(FAKES, _ns)
run_case = _ns["run_case"]

CASES = [
    ("sx127x", [], 5000), ("sx127x", [-95, -90, -79], 5000), ("sx127x", [-100] * 10 + [-80], 5000),
    ("sx127x", [-100] * 500 + [-60], 5000), ("sx126x", [], 5000), ("sx126x", [-90.5, -70], 5000),
    ("sx126x", [-100] * 40 + [-79.5], 128),
]


@pytest.mark.parametrize("kind, dbm, duration", CASES)
def test_carrier_sense(kind, dbm, duration):
    free, loudest, modes, elapsed = run_case(kind, dbm, duration)
    busy_at = next((i for i, v in enumerate(dbm) if v >= -80), None)
    samples_in_window = duration // 120 + 2
    expect_free = busy_at is None or busy_at >= samples_in_window
    assert free == expect_free
    assert modes == ["rx", "standby"]  # always back to standby, busy or not
    if free:
        assert elapsed >= duration + lora_link.SETTLE_US  # listened for the whole window
        assert loudest < -80
    else:
        assert loudest >= -80


def test_other_attributes_pass_through_and_no_rssi_means_no_lbt():
    clk = _ns["FakeClock"]()
    m = lora_link.LbtModem(_ns["Sx127x"]([], clk), clock=clk)
    assert m.send(b"abc") == 3 and m.lbt_supported

    class Bare:
        def start_recv(self, continuous=False):
            pass

    bare = lora_link.LbtModem(Bare(), clock=clk)
    assert not bare.lbt_supported
    with pytest.raises(OSError):
        bare.carrier_sense(5000)


def test_same_answers_under_micropython(mpy):
    host = [run_case(*c) for c in CASES]
    board = mpy.eval_json(FAKES + "\n_r = [run_case(*c) for c in %r]" % (CASES,), "_r")
    assert board == host

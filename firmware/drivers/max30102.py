"""MAX30102 pulse oximeter over I2C: red and IR samples from its FIFO (Maxim MAX30102 datasheet).

Registers: _FIFO_WR_PTR 0x04, _OVF_COUNTER 0x05, _FIFO_RD_PTR 0x06, _FIFO_DATA 0x07, MODE_CONFIG 0x09
(0x03 = SpO2 mode, 0x40 = reset), _SPO2_CONFIG 0x0A, _LED1_PA 0x0C (red), _LED2_PA 0x0D (IR),
_PART_ID 0xFF (0x15). Each FIFO sample is 6 bytes: 18-bit red then 18-bit IR, big-endian.
"""

from lpwa.firmware.drivers.errors import SensorError

try:
    from micropython import const
except ImportError:  # CPython (lpwa.radio.const)
    from lpwa.radio.const import const  # type: ignore[assignment]


ADDR = 0x57
_FIFO_WR_PTR = const(0x04)
_OVF_COUNTER = const(0x05)
_FIFO_RD_PTR = const(0x06)
_FIFO_DATA = const(0x07)
MODE_CONFIG = 0x09
_SPO2_CONFIG = const(0x0A)
_LED1_PA = const(0x0C)
_LED2_PA = const(0x0D)
_PART_ID = const(0xFF)
_FIFO_DEPTH = const(32)


class MAX30102:
    def __init__(self, i2c, addr=ADDR, led_current=0x24):
        self.i2c = i2c
        self.addr = addr
        self.buf = bytearray(6 * _FIFO_DEPTH)
        try:
            part = i2c.readfrom_mem(addr, _PART_ID, 1)[0]
        except OSError:
            raise SensorError("max30102", "no answer at 0x%02x" % addr)
        if part != 0x15:
            raise SensorError("max30102", "_PART_ID is 0x%02x, not 0x15" % part)
        w = i2c.writeto_mem
        w(addr, MODE_CONFIG, b"\x40")
        w(addr, _FIFO_WR_PTR, b"\x00")
        w(addr, _OVF_COUNTER, b"\x00")
        w(addr, _FIFO_RD_PTR, b"\x00")
        w(addr, _SPO2_CONFIG, b"\x23")  # ADC range 4096 nA, 50 samples/s, 411 us (18 bit)
        w(addr, _LED1_PA, bytes((led_current,)))
        w(addr, _LED2_PA, bytes((led_current,)))
        w(addr, MODE_CONFIG, b"\x03")

    def available(self):
        wr = self.i2c.readfrom_mem(self.addr, _FIFO_WR_PTR, 1)[0]
        rd = self.i2c.readfrom_mem(self.addr, _FIFO_RD_PTR, 1)[0]
        return (wr - rd) % _FIFO_DEPTH

    def read(self, out):
        """Append (red, ir) pairs waiting in the FIFO to list `out`; returns how many."""
        n = self.available()
        if n == 0:
            return 0
        view = memoryview(self.buf)[: 6 * n]
        try:
            self.i2c.readfrom_mem_into(self.addr, _FIFO_DATA, view)
        except OSError:
            raise SensorError("max30102", "FIFO read failed")
        b = self.buf
        for i in range(n):
            j = 6 * i
            red = ((b[j] << 16) | (b[j + 1] << 8) | b[j + 2]) & 0x3FFFF
            ir = ((b[j + 3] << 16) | (b[j + 4] << 8) | b[j + 5]) & 0x3FFFF
            out.append((red, ir))
        return n

    def shutdown(self):
        self.i2c.writeto_mem(self.addr, MODE_CONFIG, b"\x80")

"""DS18B20 water temperature over 1-Wire (Maxim DS18B20 datasheet: commands 0x44, 0xBE, 0xCC, 0x55).

The bus is MicroPython's `onewire.OneWire` (or the host simulation): reset(), writebyte(),
readinto(), select_rom(), scan(), crc8(). Reads are CRC-checked; a bad CRC or a missing sensor
raises SensorError instead of returning a wrong temperature.
"""

from lpwa.firmware.drivers.errors import SensorError

try:
    from micropython import const
except ImportError:  # CPython (lpwa.radio.const)
    from lpwa.radio.const import const  # type: ignore[assignment]


_CONVERT_T = const(0x44)
_READ_SCRATCHPAD = const(0xBE)
_SKIP_ROM = const(0xCC)
_CONVERSION_MS = const(750)  # 12-bit resolution, datasheet table 2
_POWER_ON_RESET_C = const(85.0)


def crc8(data):
    """Dallas/Maxim CRC-8 (polynomial x^8 + x^5 + x^4 + 1, reflected 0x8C)."""
    crc = 0
    for b in data:
        for _ in range(8):
            mix = (crc ^ b) & 1
            crc >>= 1
            if mix:
                crc ^= 0x8C
            b >>= 1
    return crc


class DS18B20:
    def __init__(self, bus, rom=None):
        self.bus = bus
        self.rom = rom
        self.buf = bytearray(9)

    def _select(self):
        if not self.bus.reset():
            raise SensorError("ds18b20", "no presence pulse")
        if self.rom is None:
            self.bus.writebyte(_SKIP_ROM)
        else:
            self.bus.select_rom(self.rom)

    def start(self):
        """Start a conversion; read after _CONVERSION_MS."""
        self._select()
        self.bus.writebyte(_CONVERT_T)

    def read_c(self):
        self._select()
        self.bus.writebyte(_READ_SCRATCHPAD)
        self.bus.readinto(self.buf)
        if crc8(self.buf[:8]) != self.buf[8]:
            raise SensorError("ds18b20", "scratchpad CRC mismatch")
        raw = self.buf[0] | (self.buf[1] << 8)
        if raw & 0x8000:
            raw -= 0x10000
        value = raw / 16.0
        if value == _POWER_ON_RESET_C:
            raise SensorError("ds18b20", "conversion did not run (power-on value)")
        return value

    def measure(self, clock):
        self.start()
        clock.sleep_ms(_CONVERSION_MS)
        return self.read_c()

"""machine.I2C's memory API over simulated I2C parts."""


class SimI2C:
    """machine.I2C's memory API over simulated devices; a missing device raises OSError (ENODEV)."""

    def __init__(self, devices):
        self.devices = devices

    def _dev(self, addr):
        dev = self.devices.get(addr)
        if dev is None:
            raise OSError(19)
        return dev

    def readfrom_mem(self, addr, reg, n):
        return self._dev(addr).read(reg, n)

    def readfrom_mem_into(self, addr, reg, buf):
        dev = self._dev(addr)
        if hasattr(dev, "read_into"):
            dev.read_into(reg, buf)
            return
        data = dev.read(reg, len(buf))
        for i in range(len(buf)):
            buf[i] = data[i]

    def writeto_mem(self, addr, reg, data):
        self._dev(addr).write(reg, data)

    def scan(self):
        return sorted(self.devices)


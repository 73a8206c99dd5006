"""MPU-6050 accelerometer over I2C, for waves (buoy) and steps (pedometer).

Register map (InvenSense RM-MPU-6000A): PWR_MGMT_1 0x6B (write 0 to wake), WHO_AM_I 0x75 (0x68),
ACCEL_XOUT_H 0x3B (six bytes, big-endian signed), +-2 g full scale = 16384 LSB/g.
"""

from lpwa.firmware.drivers.errors import SensorError

ADDR = 0x68
PWR_MGMT_1 = 0x6B
WHO_AM_I = 0x75
ACCEL_XOUT_H = 0x3B


class MPU6050:
    def __init__(self, i2c, addr=ADDR):
        self.i2c = i2c
        self.addr = addr
        self.buf = bytearray(6)
        try:
            who = i2c.readfrom_mem(addr, WHO_AM_I, 1)[0]
            i2c.writeto_mem(addr, PWR_MGMT_1, b"\x00")
        except OSError:
            raise SensorError("mpu6050", "no answer at 0x%02x" % addr)
        if who != 0x68:
            raise SensorError("mpu6050", "WHO_AM_I is 0x%02x, not 0x68" % who)

    def accel_mg(self):
        """(ax, ay, az) in milli-g."""
        try:
            self.i2c.readfrom_mem_into(self.addr, ACCEL_XOUT_H, self.buf)
        except OSError:
            raise SensorError("mpu6050", "read failed")
        b = self.buf
        out = []
        for i in (0, 2, 4):
            v = (b[i] << 8) | b[i + 1]
            if v & 0x8000:
                v -= 0x10000
            out.append(v * 1000 // 16384)
        return out[0], out[1], out[2]

    def sleep(self):
        self.i2c.writeto_mem(self.addr, PWR_MGMT_1, b"\x40")

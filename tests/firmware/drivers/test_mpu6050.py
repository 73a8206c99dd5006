"""The MPU-6050 driver's accel + gyro burst for the buoy's attitude, against a register file."""

import struct

from lpwa.boards.host.i2c import SimI2C
from lpwa.firmware.drivers import mpu6050


class Registers:
    """An MPU-6050 as a register file: what the driver writes, and a 14-byte sample at 0x3B."""

    def __init__(self, accel, gyro):
        self.regs = bytearray(128)
        self.regs[0x75] = 0x68
        self.regs[0x3B:0x49] = struct.pack(">hhhhhhh", *(tuple(accel) + (0,) + tuple(gyro)))

    def read(self, reg, n):
        return bytes(self.regs[reg:reg + n])

    def write(self, reg, data):
        if reg < 0x3B or reg > 0x48:     # writes never touch the sample
            self.regs[reg] = data[0]


def test_motion_reads_accel_in_mg_and_gyro_in_tenths_of_a_degree_per_second():
    # +-4 g: 8192 LSB/g; +-500 deg/s: 65.5 LSB per deg/s
    dev = Registers((8192, -4096, 2048), (655, -13100, 32767))
    imu = mpu6050.MPU6050(SimI2C({0x68: dev}))
    imu.start_motion(8, range_g=4)
    assert dev.regs[mpu6050.SMPLRT_DIV] == 124 and dev.regs[mpu6050.PWR_MGMT_2] == 0
    assert dev.regs[mpu6050.GYRO_CONFIG] == 0x08 and dev.regs[mpu6050.CONFIG] == mpu6050.DLPF_5HZ
    ax, ay, az, gx, gy, gz = imu.motion()
    assert (ax, ay, az) == (1000, -500, 250)
    assert (gx, gy, gz) == (100, -2000, 5002)     # 10, -200 and 500.2 deg/s

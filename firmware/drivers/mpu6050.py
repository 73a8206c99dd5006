"""MPU-6050 accelerometer and gyro over I2C, for waves (buoy) and steps (pedometer).

Register map (InvenSense RM-MPU-6000A rev 4.2): _PWR_MGMT_1 0x6B (write 0 to wake), _WHO_AM_I 0x75
(0x68), _ACCEL_XOUT_H 0x3B (six bytes, big-endian signed), _ACCEL_CONFIG 0x1C (AFS_SEL bits 4:3:
+-2/4/8/16 g = 16384 >> AFS_SEL LSB/g).

FIFO (pedometer, continuous counting): 1024 bytes; the sample rate is 1 kHz / (1 + SMPLRT_DIV)
with the DLPF on (CONFIG 0x1A DLPF_CFG 1-6; 5 = 10 Hz accelerometer bandwidth, the anti-alias
filter for 25 Hz); _FIFO_EN 0x23 bit 3 puts the accelerometer (6 bytes a sample) in it; _USER_CTRL
0x6A bit 6 enables it, bit 2 resets it; FIFO_COUNT 0x72 (big-endian), data read as a burst from
_FIFO_R_W 0x74. When it overflows the oldest bytes are lost (1024 is not a multiple of 6, so the
sample boundaries are too): INT_STATUS 0x3A bit 4 says so and the only safe thing is a reset.
Motion detection (_INT_ENABLE 0x38 bit 6, _MOT_THR 0x1F at 2 mg/LSB over the high-passed samples,
_MOT_DUR 0x20 in ms) latches INT_STATUS bit 6 until INT_STATUS is read: the pedometer reads it to
learn whether anything moved since the last look. Gyro off (PWR_MGMT_2 0x6C bits 2:0 standby):
accelerometer-only is 500 uA instead of 3.9 mA (datasheet PS-MPU-6000A 6.4).
Gyro (buoy: the attitude for an earth-frame vertical): GYRO_CONFIG 0x1B FS_SEL bits 4:3, +-500
deg/s = 65.5 LSB per deg/s; GYRO_XOUT_H 0x43, read with the accelerometer as one 14-byte burst
from 0x3B (accel x y z, temperature, gyro x y z).
"""

from lpwa.firmware.drivers.errors import SensorError

try:
    from micropython import const
except ImportError:  # CPython (lpwa.radio.const)
    from lpwa.radio.const import const  # type: ignore[assignment]


ADDR = 0x68
SMPLRT_DIV = 0x19
CONFIG = 0x1A
GYRO_CONFIG = 0x1B
_ACCEL_CONFIG = const(0x1C)
_MOT_THR = const(0x1F)
_MOT_DUR = const(0x20)
_FIFO_EN = const(0x23)
_INT_ENABLE = const(0x38)
INT_STATUS = 0x3A
_ACCEL_XOUT_H = const(0x3B)
_USER_CTRL = const(0x6A)
_PWR_MGMT_1 = const(0x6B)
PWR_MGMT_2 = 0x6C
_FIFO_COUNT_H = const(0x72)
_FIFO_R_W = const(0x74)
_WHO_AM_I = const(0x75)

FIFO_BYTES = 1024
_SAMPLE_BYTES = const(6)  # accelerometer x, y, z
INT_MOTION = 0x40
INT_FIFO_OFLOW = 0x10
_DLPF_10HZ = const(5)
DLPF_5HZ = 6  # the anti-alias filter for 8 Hz wave sampling
_GYRO_FS_500 = const(1)  # +-500 deg/s: a small hull rocks at up to ~350 deg/s
_MOTION_MG = const(40)  # _MOT_THR 20: well above the 12 mg noise, far below a step's 250+ mg swing


def _s16(b, i):
    """The big-endian signed 16-bit word at b[i]."""
    v = (b[i] << 8) | b[i + 1]
    return v - 0x10000 if v & 0x8000 else v


class MPU6050:
    def __init__(self, i2c, addr=ADDR):
        self.i2c = i2c
        self.addr = addr
        self.buf = bytearray(6)
        self.fifo_buf = None  # allocated once by start_fifo: FIFO_BYTES, whole samples only
        self.shift = 14  # log2(LSB per g): 16384 at +-2 g
        self.mbuf = bytearray(14)  # accel, temperature, gyro: one burst
        try:
            who = i2c.readfrom_mem(addr, _WHO_AM_I, 1)[0]
            i2c.writeto_mem(addr, _PWR_MGMT_1, b"\x00")
            self.shift = 14 - ((i2c.readfrom_mem(addr, _ACCEL_CONFIG, 1)[0] >> 3) & 3)
        except OSError:
            raise SensorError("mpu6050", "no answer at 0x%02x" % addr)
        if who != 0x68:
            raise SensorError("mpu6050", "_WHO_AM_I is 0x%02x, not 0x68" % who)

    def _write(self, reg, value):
        self.i2c.writeto_mem(self.addr, reg, bytes((value,)))

    def _read8(self, reg):
        return self.i2c.readfrom_mem(self.addr, reg, 1)[0]

    def _burst(self, buf):
        """buf filled from _ACCEL_XOUT_H on: accel x y z, then temperature and gyro x y z."""
        try:
            self.i2c.readfrom_mem_into(self.addr, _ACCEL_XOUT_H, buf)
        except OSError:
            raise SensorError("mpu6050", "read failed")
        return buf

    def accel_mg(self):
        """(ax, ay, az) in milli-g."""
        b = self._burst(self.buf)
        return _s16(b, 0) * 1000 >> self.shift, _s16(b, 2) * 1000 >> self.shift, _s16(b, 4) * 1000 >> self.shift

    def start_motion(self, rate_hz=8, range_g=4):
        """Accelerometer and gyro on (+-500 deg/s), DLPF 5 Hz, sampled at rate_hz, for motion()."""
        afs = {2: 0, 4: 1, 8: 2, 16: 3}[range_g]
        try:
            self._write(_PWR_MGMT_1, 0x01)  # awake, clocked from the gyro's PLL (datasheet: more stable)
            self._write(PWR_MGMT_2, 0x00)  # every axis on
            self._write(CONFIG, DLPF_5HZ)
            self._write(SMPLRT_DIV, 1000 // rate_hz - 1)
            self._write(GYRO_CONFIG, _GYRO_FS_500 << 3)
            self._write(_ACCEL_CONFIG, afs << 3)
        except OSError:
            raise SensorError("mpu6050", "motion setup failed")
        self.shift = 14 - afs

    def motion(self):
        """(ax, ay, az) in mg and (gx, gy, gz) in 0.1 deg/s, one burst: the same instant.
        Gyro: 65.5 LSB per deg/s, so 0.1 deg/s is v * 20 / 131 (floored, like the accel's shift)."""
        b = self._burst(self.mbuf)
        sh = self.shift
        return (_s16(b, 0) * 1000 >> sh, _s16(b, 2) * 1000 >> sh, _s16(b, 4) * 1000 >> sh,
                _s16(b, 8) * 20 // 131, _s16(b, 10) * 20 // 131, _s16(b, 12) * 20 // 131)

    # --- FIFO (continuous sampling while the MCU sleeps) ----------------------------------------
    def fifo_running(self, rate_hz):
        """Is the FIFO already collecting accelerometer samples at rate_hz (a wake, not a cold boot)?"""
        try:
            return (self._read8(_USER_CTRL) & 0x40 and self._read8(_FIFO_EN) == 0x08
                    and self._read8(SMPLRT_DIV) == 1000 // rate_hz - 1)
        except OSError:
            raise SensorError("mpu6050", "read failed")

    def start_fifo(self, rate_hz=25, range_g=8):
        """Accelerometer only, rate_hz into the FIFO, motion detection latched in INT_STATUS."""
        afs = {2: 0, 4: 1, 8: 2, 16: 3}[range_g]
        try:
            self._write(_PWR_MGMT_1, 0x00)
            self._write(PWR_MGMT_2, 0x07)  # gyro x, y, z standby
            self._write(CONFIG, _DLPF_10HZ)
            self._write(SMPLRT_DIV, 1000 // rate_hz - 1)
            self._write(_ACCEL_CONFIG, (afs << 3) | 0x01)  # high-pass 5 Hz for the motion detector
            self._write(_MOT_THR, _MOTION_MG // 2)
            self._write(_MOT_DUR, 1)
            self._write(_INT_ENABLE, INT_MOTION | INT_FIFO_OFLOW)
            self._write(_FIFO_EN, 0x08)
            self._write(_USER_CTRL, 0x04)  # FIFO reset
            self._write(_USER_CTRL, 0x40)  # FIFO on
            self._read8(INT_STATUS)  # clear what was latched before
        except OSError:
            raise SensorError("mpu6050", "FIFO setup failed")
        self.shift = 14 - afs
        if self.fifo_buf is None:
            self.fifo_buf = bytearray(FIFO_BYTES - FIFO_BYTES % _SAMPLE_BYTES)

    def status(self):
        """INT_STATUS (reading it clears the latched bits): INT_MOTION, INT_FIFO_OFLOW."""
        try:
            return self._read8(INT_STATUS)
        except OSError:
            raise SensorError("mpu6050", "read failed")

    def fifo_reset(self):
        try:
            self._write(_USER_CTRL, 0x44)  # reset, keep enabled
        except OSError:
            raise SensorError("mpu6050", "read failed")

    def read_fifo(self, counter):
        """Feed every whole sample in the FIFO to `counter.feed(ax, ay, az)` (mg); returns how many.

        One burst read into the preallocated buffer; no allocation per sample."""
        buf = self.fifo_buf
        if buf is None:  # a new driver object on a part whose FIFO kept running
            buf = self.fifo_buf = bytearray(FIFO_BYTES - FIFO_BYTES % _SAMPLE_BYTES)
        try:
            c = self.i2c.readfrom_mem(self.addr, _FIFO_COUNT_H, 2)
            n = ((c[0] << 8) | c[1]) // _SAMPLE_BYTES
            if n > len(buf) // _SAMPLE_BYTES:
                n = len(buf) // _SAMPLE_BYTES
            if n == 0:
                return 0
            self.i2c.readfrom_mem_into(self.addr, _FIFO_R_W, memoryview(buf)[: n * _SAMPLE_BYTES])
        except OSError:
            raise SensorError("mpu6050", "FIFO read failed")
        shift = self.shift
        feed = counter.feed
        for j in range(0, n * _SAMPLE_BYTES, _SAMPLE_BYTES):
            x = (buf[j] << 8) | buf[j + 1]
            y = (buf[j + 2] << 8) | buf[j + 3]
            z = (buf[j + 4] << 8) | buf[j + 5]
            if x & 0x8000:
                x -= 0x10000
            if y & 0x8000:
                y -= 0x10000
            if z & 0x8000:
                z -= 0x10000
            feed((x * 1000) >> shift, (y * 1000) >> shift, (z * 1000) >> shift)
        return n

    def sleep(self):
        self.i2c.writeto_mem(self.addr, _PWR_MGMT_1, b"\x40")

"""The simulated MPU-6050: register map, accelerometer and FIFO in simulated time."""


class SimMPU6050:
    """Register map, accelerometer and FIFO of an MPU-6050 (RM-MPU-6000A), in simulated time.

    The FIFO is a byte stream: sample k (6 bytes, big-endian x y z at the configured full scale)
    is written at fifo_t0 + (k + 1) sample periods, whatever the MCU does meanwhile; more than
    1024 unread bytes lose the oldest ones (misaligning samples) and latch FIFO_OFLOW. The motion
    bit latches when the board's motion scene says the wearer moved since INT_STATUS was last
    read. Buoys read heave from the world instead; their gyro (the 14-byte burst from 0x3B) reads 0:
    the simulated buoy does not tilt."""

    FIFO_BYTES = 1024

    def __init__(self, board):
        self.board = board
        self.regs = bytearray(128)
        self.regs[0x6B] = 0x40  # asleep after power-on
        self.fifo_t0 = None  # world ms when the FIFO started collecting
        self.rd = 0  # stream position of the oldest unread byte
        self.oflow = False
        self.status_ms = board.clock.ms
        self.sbuf = bytearray(6)
        self.sbuf_k = -1

    @property
    def awake(self):
        return self.regs[0x6B] & 0x40 == 0

    def _period_us(self):
        base = 1000 if 1 <= (self.regs[0x1A] & 7) <= 6 else 8000
        return (1 + self.regs[0x19]) * 1000000 // base

    def _written(self):
        if self.fifo_t0 is None:
            return 0
        produced = (self.board.clock.ms - self.fifo_t0) * 1000 // self._period_us()
        wr = 6 * produced
        if wr - self.rd > self.FIFO_BYTES:
            self.rd = wr - self.FIFO_BYTES
            self.oflow = True
        return wr

    def _mg(self, t_ms):
        if self.board.cfg_kind == "buoy":
            return 0, 0, int(self.board.world.heave_mg(self.board.world.rel_s(t_ms)))
        if self.board.motion is None:
            self.board.set_motion()
        return self.board.motion.sample(t_ms)

    def _encode(self, vals, out, j):
        lsb = 16384 >> ((self.regs[0x1C] >> 3) & 3)
        for i in range(3):
            v = vals[i] * lsb // 1000
            v = -32768 if v < -32768 else (32767 if v > 32767 else v)
            v &= 0xFFFF
            out[j + 2 * i] = v >> 8
            out[j + 2 * i + 1] = v & 0xFF

    def read(self, reg, n):
        if reg == 0x75:
            return bytes((0x68,))
        if reg == 0x3B:
            out = bytearray(n)
            self._encode(self._mg(self.board.clock.ms), out, 0)
            return bytes(out)
        if reg == 0x72:
            count = self._written() - self.rd
            return bytes((count >> 8, count & 0xFF))
        if reg == 0x3A:
            self._written()
            now = self.board.clock.ms
            bits = 0
            if self.oflow and self.regs[0x38] & 0x10:
                bits |= 0x10
            if self.board.motion is None:
                self.board.set_motion()
            if self.regs[0x38] & 0x40 and self.board.motion.moving(self.status_ms, now):
                bits |= 0x40
            self.oflow = False
            self.status_ms = now
            return bytes((bits,))
        return bytes(self.regs[reg : reg + n])

    def read_into(self, reg, buf):
        if reg != 0x74:
            data = self.read(reg, len(buf))
            for i in range(len(buf)):
                buf[i] = data[i]
            return
        wr = self._written()
        if self.fifo_t0 is None:
            raise OSError(5)
        period = self._period_us()
        sb = self.sbuf
        p = self.rd
        for i in range(len(buf)):
            if p >= wr:  # reading an empty FIFO returns the last byte again, as the part does
                buf[i] = sb[5]
                continue
            k = p // 6
            if k != self.sbuf_k:
                self._encode(self._mg(self.fifo_t0 + (k + 1) * period // 1000), sb, 0)
                self.sbuf_k = k
            buf[i] = sb[p - 6 * k]
            p += 1
        self.rd = p

    def write(self, reg, data):
        v = data[0]
        self.regs[reg] = v
        if reg == 0x6A:
            if v & 0x40 and self.fifo_t0 is None:
                self.fifo_t0 = self.board.clock.ms
                self.rd = 0
                self.sbuf_k = -1
            elif not v & 0x40:
                self.fifo_t0 = None
            if v & 0x04:
                self.rd = self._written()
                self.oflow = False
                self.regs[0x6A] = v & ~0x04


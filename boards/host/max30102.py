"""The simulated MAX30102: a 50 samples/s FIFO of red and IR with the casualty's pulse in it."""

import math



class SimMAX30102:
    """FIFO at 50 samples/s: red and IR with a pulse whose ratio encodes the true SpO2."""

    RATE = 50

    def __init__(self, board):
        self.board = board
        self.regs = {}
        self.t_read = None

    def _pending(self):
        if self.t_read is None:
            return 0
        n = (self.board.clock.ms - self.t_read) * self.RATE // 1000
        return min(31, n)

    def read(self, reg, n):
        if reg == 0xFF:
            return bytes((0x15,))
        if reg == 0x04:
            return bytes((self._pending(),))
        if reg == 0x06:
            return bytes((0,))
        return bytes(n)

    def read_into(self, reg, buf):
        count = len(buf) // 6
        t0 = self.board.clock.ms - count * 1000 // self.RATE
        hr, spo2 = self.board.world.vitals(self.board.now_s())
        from lpwa.firmware.algorithms import spo2 as spo2mod  # the node's, imported when used

        r = spo2mod.r_for(spo2) / 1000.0      # the default curve: this simulated sensor's own
        ir_dc, ir_ac = 100000.0, 1200.0
        red_dc = 90000.0
        red_ac = r * (ir_ac / ir_dc) * red_dc
        for i in range(count):
            t = (t0 + i * 1000 // self.RATE) / 1000.0
            p = math.sin(2 * math.pi * hr / 60.0 * t)
            pulse = p * p * p if p > 0 else 0.3 * p
            red = int(red_dc + red_ac * pulse) & 0x3FFFF
            ir = int(ir_dc + ir_ac * pulse) & 0x3FFFF
            j = 6 * i
            buf[j], buf[j + 1], buf[j + 2] = red >> 16, (red >> 8) & 0xFF, red & 0xFF
            buf[j + 3], buf[j + 4], buf[j + 5] = ir >> 16, (ir >> 8) & 0xFF, ir & 0xFF
        self.t_read = self.board.clock.ms

    def write(self, reg, data):
        self.regs[reg] = bytes(data)
        if reg == 0x09:  # MODE_CONFIG: sampling starts (0x03) or stops (reset, shutdown)
            self.t_read = self.board.clock.ms if data[0] & 0x07 == 0x03 else None


"""A 1-Wire bus with one simulated DS18B20 on it (scratchpad, CRC, power-on 85 C)."""



class SimOneWire:
    """A 1-Wire bus with one DS18B20: presence pulse, Convert T, Read Scratchpad with CRC."""

    def __init__(self, board):
        self.board = board
        self.last_cmd = None
        self.temp_c = 85.0  # the power-on value until a conversion runs
        self.corrupt = False

    def reset(self, required=False):
        return not self.board.faulty("temp")

    def select_rom(self, rom):
        pass

    def scan(self):
        return [] if self.board.faulty("temp") else [b"\x28\x01\x02\x03\x04\x05\x06\x9a"]

    def writebyte(self, b):
        if b == 0x44:
            self.temp_c = self.board.world.water_temp_c(self.board.now_s())
        self.last_cmd = b

    def readinto(self, buf):
        raw = int(round(self.temp_c * 16)) & 0xFFFF
        pad = bytearray((raw & 0xFF, raw >> 8, 0x4B, 0x46, 0x7F, 0xFF, 0x0C, 0x10))
        from lpwa.firmware.drivers.ds18b20 import crc8  # the node's, imported when used

        pad.append(crc8(pad) ^ (1 if self.corrupt else 0))
        for i in range(len(buf)):
            buf[i] = pad[i]


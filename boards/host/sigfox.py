"""A simulated Wisol-style Sigfox module on a UART, transmitting onto the simulated air.

AT$SF=<hex>[,1] -> OK [, RX=...]; three repeats of airtime. The module's sequence number lives
in its own NVM (the board's `sigfox_seq`), so it survives the MCU's resets and power loss.
"""


DOWNLINK_WAIT_MS = 25000


class SimSigfoxUart:
    def __init__(self, board, device):
        self.board = board
        self.device = device  # the module's Sigfox ID
        self.out = []

    def write(self, data):
        from binascii import unhexlify

        line = bytes(data).decode().strip()
        if not line.startswith("AT$SF="):
            self.out.append(b"ERR_CMD\r\n")
            return
        body = line[6:]
        payload = unhexlify(body.split(",")[0])
        b = self.board
        if b.sigfox_refuse:  # a module that refuses the send (no transmission, sequence unchanged)
            b.sigfox_refuse -= 1
            self.out.append(b"ERR_SFX_ERR_SEND_FRAME_WAIT_TIMEOUT\r\n")
            return
        b.sigfox_seq = (b.sigfox_seq + 1) & 0xFFF  # 12 bits on air, as the callback's seqNumber
        from lpwa.radio.airtime import sigfox_total_airtime_us  # the node's, imported when used

        air_us = sigfox_total_airtime_us(len(payload))
        b.air.transmit("sigfox", payload, b.clock.ms, air_us, {"device": self.device, "seq": b.sigfox_seq})
        b.clock.sleep_ms(air_us // 1000 + 1000)
        self.out.append(b"OK\r\n")
        if body.endswith(",1"):
            self._downlink_window()

    def _downlink_window(self):
        b = self.board
        b.clock.sleep_ms(DOWNLINK_WAIT_MS)
        data8 = b.air.pop_downlink(b.clock.ms)
        if data8 is not None:
            self.out.append(b"RX=" + " ".join("%02X" % x for x in data8).encode() + b"\r\n")

    def readline(self):
        return self.out.pop(0) if self.out else None

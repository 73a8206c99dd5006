"""A simulated LoRa modem with micropython-lib's `lora` API, transmitting onto the simulated air."""


GATEWAY_RSSI = -92  # what the simulated gateway measures of this node
GATEWAY_SNR = 6.5


class RxPacket(bytes):
    """Like micropython-lib's lora RxPacket: bytes with rssi and snr."""

    rssi = -92
    snr = 6.5


class SimLoraModem:
    """send(), recv(timeout_ms=), configure() as micropython-lib's modems; plus carrier_sense."""

    def __init__(self, board, lora):
        self.board = board
        self.cfg = dict(lora)
        self.busy_every = 0  # every Nth carrier sense finds the channel busy (0: never)
        self.senses = 0

    def configure(self, lora_cfg):
        """micropython-lib's lora_cfg keys (freq_khz, sf, bw as text, output_power)."""
        cfg = self.cfg
        cfg["sf"] = lora_cfg.get("sf", cfg["sf"])
        cfg["bw_khz"] = int(lora_cfg.get("bw", cfg["bw_khz"]))
        cfg["freq_khz"] = lora_cfg.get("freq_khz", cfg["freq_khz"])
        cfg["power_dbm"] = lora_cfg.get("output_power", cfg["power_dbm"])

    def carrier_sense(self, duration_us):
        self.board.clock.sleep_ms(max(1, duration_us // 1000))
        self.senses += 1
        return not (self.busy_every and self.senses % self.busy_every == 0)

    def send(self, payload):
        cfg = self.cfg
        from lpwa.radio.airtime import lora_airtime_us  # the node's, imported when used

        air_us = lora_airtime_us(len(payload), cfg["sf"], cfg["bw_khz"])
        meta = {"freq": cfg["freq_khz"] / 1000, "datr": "SF%dBW%d" % (cfg["sf"], cfg["bw_khz"]),
                "rssi": GATEWAY_RSSI, "snr": GATEWAY_SNR}
        self.board.air.transmit("lora", payload, self.board.clock.ms, air_us, meta)
        self.board.clock.sleep_ms(air_us // 1000 + 1)

    def recv(self, timeout_ms=None):
        data = self.board.air.pop_downlink(self.board.clock.ms)
        self.board.clock.sleep_ms(timeout_ms if data is None else 400)
        return None if data is None else RxPacket(data)

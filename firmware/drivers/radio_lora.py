"""LoRa through micropython-lib's `lora` drivers (SX1276 / SX1262): a thin adapter.

The modem is whatever `lora.SX1276(...)` / `lora.SX1262(...)` returned (or the host simulation):
`.send(bytes)`, `.recv(timeout_ms=...)` returning a packet with `.rssi` / `.snr`, and
`.configure(lora_cfg)`. Listen-before-talk needs an RSSI reading the `lora` package does not
expose; a modem that offers `carrier_sense(duration_us)` gets real carrier sense, otherwise the
adapter says so (`lbt_supported` False) and the budget's pause rules still apply.
"""


def lora_cfg(params):
    """Our config's lora dict -> micropython-lib's lora_cfg dict."""
    return {
        "freq_khz": params["freq_khz"],
        "sf": params["sf"],
        "bw": str(params["bw_khz"]),
        "coding_rate": 5,
        "preamble_len": 8,
        "output_power": params["power_dbm"],
        "crc_en": True,
        "syncword": 0x12,
    }


class LoraRadio:
    name = "lora"

    def __init__(self, modem, params):
        self.modem = modem
        self.params = dict(params)
        self.lbt_supported = hasattr(modem, "carrier_sense")

    def reconfigure(self, params):
        self.params = dict(params)
        self.modem.configure(lora_cfg(self.params))

    def carrier_sense(self, duration_us):
        """True when the channel is free (or when the modem cannot tell: see lbt_supported)."""
        if self.lbt_supported:
            return bool(self.modem.carrier_sense(duration_us))
        return True

    def send(self, payload, want_downlink=False):
        self.modem.send(payload)
        return {"freq": self.params["freq_khz"] / 1000, "datr": "SF%dBW%d" % (self.params["sf"], self.params["bw_khz"])}

    def receive(self, timeout_ms):
        """(payload bytes, meta) from the receive window, or None."""
        rx = self.modem.recv(timeout_ms=timeout_ms)
        if not rx:
            return None
        return bytes(rx), {"rssi": getattr(rx, "rssi", None), "snr": getattr(rx, "snr", None)}

    def sleep(self):
        if hasattr(self.modem, "sleep"):
            self.modem.sleep()

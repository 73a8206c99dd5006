"""LoRa through micropython-lib's `lora` drivers (SX1276 / SX1262): a thin adapter.

The modem is whatever `lora.SX1276(...)` / `lora.SX1262(...)` returned (or the host simulation):
`.send(bytes)`, `.recv(timeout_ms=...)` returning a packet with `.rssi` / `.snr`, and
`.configure(lora_cfg)`.

Listen before talk (ARIB STD-T108: free below -80 dBm) needs the instantaneous RSSI, which the
`lora` package does not expose. The adapter reads it through the drivers' register/command
helpers while the modem receives continuously (the one listen-before-talk of the project):
  * SX127x, LoRa mode: RegRssiValue 0x1B, RSSI = -157 + value on the HF port, -164 + value on
    the LF port (SX1276 datasheet 5.5.5). The port follows the frequency, not the PA pin: HF
    above 525 MHz (Semtech LoRaMac-node sx1276.c RF_MID_BAND_THRESH), so -157 at 920 MHz.
  * SX126x: GetRssiInst, opcode 0x15; the chip answers status then RssiInst on the two bytes
    after the opcode, RSSI = -RssiInst / 2 dBm (SX1261/2 datasheet 13.5.4), kept in half dB.
These are private helpers of micropython-lib (`_reg_read`, `_cmd(fmt, *args, n_read=)`, as of
lora-sx127x / lora-sx126x 0.1-0.2); a modem without them reports `lbt_supported` False and the
budget's pause and hourly rules still apply. The RSSI is over the LoRa bandwidth (125 kHz), not
ARIB's 200 kHz.
"""

import time

try:
    from micropython import const
except ImportError:  # CPython (lpwa.radio.const)
    from lpwa.radio.const import const  # type: ignore[assignment]


_RSSI_FREE_DBM = const(-80)


def lora_cfg(params, tx_ant=None):
    """Our config's lora dict -> micropython-lib's lora_cfg dict."""
    cfg = {
        "freq_khz": params["freq_khz"],
        "sf": params["sf"],
        "bw": str(params["bw_khz"]),
        "coding_rate": 5,
        "preamble_len": 8,
        "output_power": params["power_dbm"],
        "crc_en": True,
        "syncword": 0x12,
    }
    if tx_ant:
        cfg["tx_ant"] = tx_ant
    return cfg


_SX127X_REG_RSSI_VALUE = const(0x1B)
_SX127X_RSSI_OFFSET_HF = const(-157)
_SX127X_RSSI_OFFSET_LF = const(-164)
_SX127X_MID_BAND_KHZ = const(525000)  # above: the HF port
_SX126X_GET_RSSI_INST = const(0x15)


def _rssi_reader(modem, freq_khz):
    """A function returning the instantaneous RSSI in dBm, or None when the modem has no way."""
    if hasattr(modem, "_cmd"):  # SX126x: opcode, then status and RssiInst clocked back
        return lambda: -modem._cmd("B", _SX126X_GET_RSSI_INST, n_read=2)[1] / 2
    if hasattr(modem, "_reg_read"):  # SX127x
        offset = _SX127X_RSSI_OFFSET_HF if freq_khz > _SX127X_MID_BAND_KHZ else _SX127X_RSSI_OFFSET_LF
        return lambda: offset + modem._reg_read(_SX127X_REG_RSSI_VALUE)
    return None


class LoraRadio:
    name = "lora"

    def __init__(self, modem, params, tx_ant=None):
        self.modem = modem
        self.params = dict(params)
        self.tx_ant = tx_ant
        self._rssi = None if hasattr(modem, "carrier_sense") else _rssi_reader(modem, self.params["freq_khz"])
        self.lbt_supported = hasattr(modem, "carrier_sense") or self._rssi is not None
        self.last_rssi = None

    def reconfigure(self, params):
        self.params = dict(params)
        self.modem.configure(lora_cfg(self.params, self.tx_ant))
        if self._rssi is not None:  # the SX127x port (offset) follows the frequency
            self._rssi = _rssi_reader(self.modem, self.params["freq_khz"])

    def carrier_sense(self, duration_us):
        """True when the channel stayed below -80 dBm for `duration_us` (or the modem cannot tell)."""
        if hasattr(self.modem, "carrier_sense"):
            return bool(self.modem.carrier_sense(duration_us))
        if self._rssi is None:
            return True
        self.modem.start_recv(continuous=True)
        busiest = -200
        try:
            time.sleep_us(300)  # RSSI settles within a few symbols' worth of AGC (DS 2.5.5)
            deadline = time.ticks_add(time.ticks_us(), int(duration_us))
            while time.ticks_diff(deadline, time.ticks_us()) > 0:
                r = self._rssi()
                if r > busiest:
                    busiest = r
        finally:
            self.modem.standby()
        self.last_rssi = busiest
        return busiest < _RSSI_FREE_DBM

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

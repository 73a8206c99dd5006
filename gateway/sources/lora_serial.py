"""Single-channel LoRa source: one of our boards running the firmware in receiver mode on USB serial.

The cheapest gateway: a LoRa board on a USB cable, listening on one channel and one spreading
factor. Line protocol (ASCII, one message per line, "\\n" or "\\r\\n" terminated):

  board -> gateway   RX <hex> <rssi> <snr>       a received frame: payload hex, RSSI dBm, SNR dB
                     RX <hex> <rssi> <snr> <freq_mhz> <sf>   (optional radio settings)
                     OK | ERR <reason>           answer to a TX line
                     # <anything>                board log, ignored
  gateway -> board   TX <hex>                    transmit a downlink now (the board is still in
                                                 the node's receive window when it reads this)

Anything else is counted as malformed. Lines longer than MAX_LINE are dropped whole.
"""

import binascii
import math

from lpwa.gateway.sources.serial_link import SerialSource, check_serial

NAME = "lora_serial"
OPTIONS = {
    "port": (str, "/dev/ttyUSB1", "serial port of the receiver board"),
    "baudrate": (int, 115200, "serial speed"),
    "reconnect_max_s": (float, 5.0, "longest wait between attempts to re-open a vanished port"),
}
MAX_LINE = 1024  # a 255-byte frame is 510 hex digits, plus the numbers


def parse_rx(line):
    """'RX <hex> <rssi> <snr> [<freq> <sf>]' -> (payload, meta); ValueError when malformed."""
    parts = line.split()
    if len(parts) not in (4, 6) or parts[0] != "RX":
        raise ValueError("not an RX line")
    payload = binascii.unhexlify(parts[1])
    if not payload:
        raise ValueError("empty frame")
    meta = {"rssi": _number(parts[2]), "snr": _number(parts[3])}
    if len(parts) == 6:
        meta["freq"] = _number(parts[4])
        meta["datr"] = "SF%dBW125" % int(parts[5])
    return payload, meta


def _number(text):
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("not a finite number")
    return value


def build_tx(payload):
    return b"TX " + binascii.hexlify(bytes(payload)) + b"\n"


def check(options):
    """Config-time check of the options (see check_serial)."""
    check_serial(options, "sources.lora_serial")


class Source(SerialSource):
    NAME = NAME
    RADIO = "lora"
    OPTIONS = OPTIONS

    def __init__(self, options, pipeline, gateway_id):
        SerialSource.__init__(self, options, pipeline, gateway_id)
        self.stats.update({"tx_ok": 0, "tx_err": 0, "downlinks_lost": 0})
        self._buffer = b""
        self._overlong = False

    def _on_open(self):
        self._buffer = b""
        self._overlong = False

    def _on_idle(self):
        """The line went quiet mid-line: the board never writes half a line, so drop it."""
        if self._buffer:
            self.malformed("torn-line")
        self._on_open()

    def _on_data(self, data):
        self._buffer += data
        while True:
            end = self._buffer.find(b"\n")
            if end < 0:
                if len(self._buffer) > MAX_LINE:
                    self._buffer = b""
                    self._overlong = True
                return
            line, self._buffer = self._buffer[:end], self._buffer[end + 1:]
            if self._overlong or len(line) > MAX_LINE:
                self._overlong = False
                self.malformed("overlong-line")
                continue
            self._line(line.strip())

    def _line(self, line):
        if not line or line.startswith(b"#"):
            return
        try:
            text = line.decode("ascii")
        except UnicodeDecodeError:
            self.malformed("malformed-line")
            return
        if text == "OK":
            self.stats["tx_ok"] += 1
            return
        if text.startswith("ERR"):
            self.stats["tx_err"] += 1
            self.warn_once("tx-err", "lora_serial: board refused a downlink: %s", text[:40])
            return
        try:
            payload, meta = parse_rx(text)
        except (ValueError, binascii.Error):
            self.malformed("malformed-line")
            return
        outcome = self.ingest(payload, meta)
        if outcome is not None and outcome.downlink:
            if self.link.write(build_tx(outcome.downlink)):
                self.stats["downlinks"] += 1
            else:
                self.stats["downlinks_lost"] += 1

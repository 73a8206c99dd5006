"""What every frame encoder shares: the kind, the device, the reused value lists, the contract API.

A subclass (full.FullEncoder, compact.CompactEncoder) writes one frame with `encode_into` and
turns it into the list of frames that fit the radio with `_frames`.
"""

from lpwa.codecs import schema_base as _schema
from lpwa.codecs.header import HEADER_LEN, MAX_BODY, MIC_LEN, PREFIX_LEN, kind_schema
from lpwa.codecs.readings import scale_into, status_values
from lpwa.radio.limits import max_payload


class EncoderBase:
    """Encodes one node's frames for one radio. Reuse it: buffers are built once."""

    def __init__(self, kind, device_id, radio, sf, bw_khz, dwell_ms):
        self.schema = kind_schema(kind)
        self.kind = kind
        self.kind_id = self.schema["id"]
        if isinstance(device_id, str):
            device_id = int(device_id, 16)
        if not 0 <= device_id <= 0xFFFFFFFF:
            raise ValueError("device id must be 32-bit unsigned")
        self.device_id = device_id
        self.radio = radio
        self.limit = max_payload(radio, sf, bw_khz, dwell_ms)
        self.buf = bytearray(PREFIX_LEN + HEADER_LEN + MAX_BODY + MIC_LEN)
        self.start = PREFIX_LEN  # the frame is buf[start:start + n]
        self.values = [None] * len(self.schema["fields"])
        self.status_values = [None] * len(_schema.STATUS_FIELDS)
        self.dropped = 0  # fields dropped from the last frame by the "drop" rule

    def scale_into(self, readings, fields, values):
        scale_into(readings, fields, values)

    def encode(self, counter, readings, alarm=False):
        """Readings in natural units -> list of frames (bytes) that each fit the radio."""
        scale_into(readings, self.schema["fields"], self.values)
        return self._frames(counter, self.values, alarm, False)

    def encode_status(self, counter, status):
        """Status/health frame: battery_v, firmware ("1.2.3"), reset_reason, uptime_s, fault_flags."""
        alarm, status = status_values(status)
        scale_into(status, _schema.STATUS_FIELDS, self.status_values)
        return self._frames(counter, self.status_values, alarm, True)

    def frame_bytes(self, n):
        return bytes(self.buf[self.start:self.start + n])

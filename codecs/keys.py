"""A device key's derived MIC (AES-CMAC / HMAC-SHA256) and AES-128-CTR engines, built once.

Used by the full frames (uplink) and by command.py (downlink).
"""

from lpwa.codecs import crypto
from lpwa.codecs.header import MIC_LEN, u32_into


def write_ctr_block(block, direction, device_id, counter):
    """A_1: 0x01 || dir || device || counter || 0^5 || 0x01 (last bytes count the blocks)."""
    block[0] = 1
    block[1] = direction
    u32_into(block, 2, device_id)
    u32_into(block, 6, counter)
    for i in range(10, 15):
        block[i] = 0
    block[15] = 1


class Keys:
    """A device key's derived MIC and encryption engines, built once per device."""

    def __init__(self, key):
        if key is None or len(key) != 16:
            raise ValueError("device key must be 16 bytes")
        self.mic_key, enc_key = crypto.derive_keys(key)
        self.cmac = crypto.CMAC(self.mic_key)
        self.ctr = crypto.CTR(enc_key)
        self.block = bytearray(16)

    def mic_into(self, buf, start, end, out_off, hmac=False):
        if hmac:
            d = crypto.hmac_sha256(self.mic_key, bytes(buf[start:end]))
            for i in range(MIC_LEN):
                buf[out_off + i] = d[i]
        else:
            self.cmac.mac_into(buf, start, end, buf, out_off, MIC_LEN)

    def crypt(self, direction, device_id, counter, buf, start, end):
        write_ctr_block(self.block, direction, device_id, counter)
        self.ctr.xor_into(self.block, buf, start, end)


def keys_of(key):
    """A Keys from a Keys or 16 raw bytes (ValueError otherwise)."""
    return key if isinstance(key, Keys) else Keys(key)

"""The gateway's fast path for codecs/crypto.py (as cbor2 has its C extension): AES-128 ECB, CTR
and CMAC through OpenSSL, from the `cryptography` package. Imported by crypto.py where there is no
`cryptolib` (ImportError without the package, and the portable cipher serves): a board with
cryptolib (ESP32) never loads it, so its names are not on the node's heap (issue #14).
"""

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes  # type: ignore
from cryptography.hazmat.primitives.cmac import CMAC  # type: ignore


class AES128:
    """One AES-128 key in OpenSSL: a block, a CMAC, a CTR pass (what crypto.AES128, CMAC and CTR
    hand it; the same name as crypto's class so that a board interns no other)."""

    def __init__(self, key):
        self.key = algorithms.AES(bytes(key))
        self._ecb = Cipher(self.key, modes.ECB()).encryptor()
        self._cmac = None  # keyed once; each MAC starts from a copy

    def encrypt_block(self, src, src_off, dst, dst_off):
        dst[dst_off:dst_off + 16] = self._ecb.update(bytes(src[src_off:src_off + 16]))

    def mac_into(self, data, start, end, out, out_off, out_len):
        if self._cmac is None:
            self._cmac = CMAC(self.key)
        c = self._cmac.copy()
        c.update(bytes(data[start:end]))
        out[out_off:out_off + out_len] = c.finalize()[:out_len]

    def xor_into(self, counter_block, data, start, end):
        enc = Cipher(self.key, modes.CTR(bytes(counter_block[0:16]))).encryptor()
        data[start:end] = enc.update(bytes(data[start:end]))

"""Per-device integrity and privacy primitives for frames, portable and allocation-free.

AES-128 runs on `cryptolib` where the board has it and on the pure-Python block cipher of
codecs/aes_soft.py otherwise (MicroPython's WebAssembly port, CPython). The pure version works on
bytearrays and small ints only, so a steady-state MIC or CTR pass allocates no heap on MicroPython: that is why
frames use AES-CMAC (RFC 4493) for their MIC by default. HMAC-SHA256 (RFC 2104) via `hashlib` is
the alternative MIC (flag bit in the frame header); it allocates hash objects per call.

Keys: one 16-byte device key; `derive_keys` makes separate MIC and encryption keys from it so the
same key never serves two algorithms (as LoRaWAN 1.1 derives its session keys).
"""

import hashlib

try:
    import cryptolib  # type: ignore  # MicroPython ports with mbedTLS/axTLS
except ImportError:
    cryptolib = None  # type: ignore

# Gateway fast path (as cbor2 has its C extension): OpenSSL through the `cryptography` package
# when it is installed (codecs/crypto_openssl.py; a board with cryptolib never loads its names);
# the pure-Python cipher stays the portable fallback.
_fast = None
if cryptolib is None:
    try:
        from lpwa.codecs import crypto_openssl as _fast
    except ImportError:
        pass


class AES128:
    """AES-128 block encryption (all CTR and CMAC need). `encrypt_block` allocates nothing.

    `cryptolib` where the board has it, else OpenSSL (the gateway: `_fast`, which CMAC and CTR
    hand whole messages to), else the pure-Python cipher of codecs/aes_soft.py, imported only then.
    """

    def __init__(self, key):
        if len(key) != 16:
            raise ValueError("AES-128 key must be 16 bytes")
        self.block = bytearray(16)  # cryptolib's in and out (and the software cipher's scratch)
        self.buf = bytearray(16)
        self._hw = cryptolib.aes(bytes(key), 1) if cryptolib is not None else None
        self._fast = _fast.AES128(key) if self._hw is None and _fast is not None else None
        self._soft = None
        if self._hw is None and self._fast is None:
            from lpwa.codecs.aes_soft import SoftAES

            self._soft = SoftAES(key)

    def encrypt_block(self, data, start, out, out_off):
        """Encrypt data[start:start+16] into out[out_off:out_off+16] (may be the same buffer)."""
        if self._fast is not None:
            self._fast.encrypt_block(data, start, out, out_off)
            return
        if self._hw is None:
            self._soft.encrypt_block(data, start, out, out_off, self.block)
            return
        s = self.block
        for i in range(16):
            s[i] = data[start + i]
        self._hw.encrypt(s, self.buf)
        o = self.buf
        for i in range(16):
            out[out_off + i] = o[i]

    def encrypt(self, block):
        """Convenience for tests and key setup: one 16-byte block to new bytes."""
        out = bytearray(16)
        self.encrypt_block(block, 0, out, 0)
        return bytes(out)


class CMAC:
    """AES-CMAC (RFC 4493) over byte ranges of existing buffers; no heap after construction."""

    def __init__(self, key):
        self.aes = key if isinstance(key, AES128) else AES128(key)
        self.k1 = bytearray(16)
        self.k2 = bytearray(16)
        data = bytearray(16)
        self.aes.encrypt_block(data, 0, data, 0)  # L = AES_K(0^128)
        for out in (self.k1, self.k2):  # K1 = L * x, K2 = K1 * x in GF(2^128) (RFC 4493 2.3)
            carry = 0
            for i in range(15, -1, -1):
                b = data[i]
                out[i] = ((b << 1) & 0xFF) | carry
                carry = b >> 7
            if carry:
                out[15] ^= 0x87
            data = out
        self.x = bytearray(16)

    def mac_into(self, data, start, end, out, out_off=0, n=16):
        """Write the first n bytes of CMAC(data[start:end]) to out[out_off:]."""
        aes = self.aes
        if aes._fast is not None:
            aes._fast.mac_into(data, start, end, out, out_off, n)
            return
        x = self.x
        for i in range(16):
            x[i] = 0
        size = end - start
        full_last = size > 0 and size % 16 == 0
        last = start + (size - 16 if full_last else size - size % 16)
        p = start
        while p < last:
            for i in range(16):
                x[i] ^= data[p + i]
            aes.encrypt_block(x, 0, x, 0)
            p += 16
        if full_last:
            k = self.k1
            for i in range(16):
                x[i] ^= data[p + i] ^ k[i]
        else:
            k = self.k2
            rem = end - p
            for i in range(16):
                if i < rem:
                    b = data[p + i]
                elif i == rem:
                    b = 0x80
                else:
                    b = 0
                x[i] ^= b ^ k[i]
        aes.encrypt_block(x, 0, x, 0)
        for i in range(n):
            out[out_off + i] = x[i]

    def mac(self, data):
        out = bytearray(16)
        self.mac_into(data, 0, len(data), out)
        return bytes(out)


class CTR:
    """AES-CTR keystream XOR in place (SP 800-38A); the caller supplies the 16-byte counter block."""

    def __init__(self, key):
        self.aes = key if isinstance(key, AES128) else AES128(key)
        self.block = bytearray(16)
        self.buf = bytearray(16)  # the keystream block

    def xor_into(self, block, data, start, end):
        """XOR data[start:end] with the keystream from the counter block `block` (left unchanged)."""
        if self.aes._fast is not None:
            self.aes._fast.xor_into(block, data, start, end)
            return
        blk = self.block
        ks = self.buf
        for i in range(16):
            blk[i] = block[i]
        p = start
        while p < end:
            self.aes.encrypt_block(blk, 0, ks, 0)
            n = end - p
            if n > 16:
                n = 16
            for i in range(n):
                data[p + i] ^= ks[i]
            p += n
            i = 15  # increment the block as a 128-bit big-endian counter
            while i >= 0:
                blk[i] = (blk[i] + 1) & 0xFF
                if blk[i]:
                    break
                i -= 1


def hmac_sha256(key, data):
    """HMAC-SHA256 (RFC 2104) with hashlib.sha256, which MicroPython and CPython both have."""
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    ipad = bytearray(64)
    opad = bytearray(64)
    for i in range(64):
        k = key[i] if i < len(key) else 0
        ipad[i] = k ^ 0x36
        opad[i] = k ^ 0x5C
    inner = hashlib.sha256(ipad)
    inner.update(data)
    outer = hashlib.sha256(opad)
    outer.update(inner.digest())
    return outer.digest()


def derive_keys(key):
    """(mic_key, enc_key): AES_k(0x01 || 0^15) and AES_k(0x02 || 0^15) of the 16-byte device key."""
    if len(key) != 16:
        raise ValueError("device key must be 16 bytes")
    aes = AES128(key)
    block = bytearray(16)
    block[0] = 1
    mic_key = aes.encrypt(block)
    block[0] = 2
    enc_key = aes.encrypt(block)
    return mic_key, enc_key

"""AES-128 in pure Python: the block cipher for boards without `cryptolib` and for CPython
without the `cryptography` package (codecs/crypto.py picks). Its own module so that a board with
`cryptolib` never loads the S-box, the key schedule or the rounds onto its heap (issue #14).

Byte-wise on MicroPython (every value a small int: a block allocates nothing); on CPython the
same cipher runs on 32-bit T-tables, several times faster.
"""

import sys

# FIPS-197 S-box.
SBOX = bytes((
    0x63, 0x7c, 0x77, 0x7b, 0xf2, 0x6b, 0x6f, 0xc5, 0x30, 0x01, 0x67, 0x2b, 0xfe, 0xd7, 0xab, 0x76,
    0xca, 0x82, 0xc9, 0x7d, 0xfa, 0x59, 0x47, 0xf0, 0xad, 0xd4, 0xa2, 0xaf, 0x9c, 0xa4, 0x72, 0xc0,
    0xb7, 0xfd, 0x93, 0x26, 0x36, 0x3f, 0xf7, 0xcc, 0x34, 0xa5, 0xe5, 0xf1, 0x71, 0xd8, 0x31, 0x15,
    0x04, 0xc7, 0x23, 0xc3, 0x18, 0x96, 0x05, 0x9a, 0x07, 0x12, 0x80, 0xe2, 0xeb, 0x27, 0xb2, 0x75,
    0x09, 0x83, 0x2c, 0x1a, 0x1b, 0x6e, 0x5a, 0xa0, 0x52, 0x3b, 0xd6, 0xb3, 0x29, 0xe3, 0x2f, 0x84,
    0x53, 0xd1, 0x00, 0xed, 0x20, 0xfc, 0xb1, 0x5b, 0x6a, 0xcb, 0xbe, 0x39, 0x4a, 0x4c, 0x58, 0xcf,
    0xd0, 0xef, 0xaa, 0xfb, 0x43, 0x4d, 0x33, 0x85, 0x45, 0xf9, 0x02, 0x7f, 0x50, 0x3c, 0x9f, 0xa8,
    0x51, 0xa3, 0x40, 0x8f, 0x92, 0x9d, 0x38, 0xf5, 0xbc, 0xb6, 0xda, 0x21, 0x10, 0xff, 0xf3, 0xd2,
    0xcd, 0x0c, 0x13, 0xec, 0x5f, 0x97, 0x44, 0x17, 0xc4, 0xa7, 0x7e, 0x3d, 0x64, 0x5d, 0x19, 0x73,
    0x60, 0x81, 0x4f, 0xdc, 0x22, 0x2a, 0x90, 0x88, 0x46, 0xee, 0xb8, 0x14, 0xde, 0x5e, 0x0b, 0xdb,
    0xe0, 0x32, 0x3a, 0x0a, 0x49, 0x06, 0x24, 0x5c, 0xc2, 0xd3, 0xac, 0x62, 0x91, 0x95, 0xe4, 0x79,
    0xe7, 0xc8, 0x37, 0x6d, 0x8d, 0xd5, 0x4e, 0xa9, 0x6c, 0x56, 0xf4, 0xea, 0x65, 0x7a, 0xae, 0x08,
    0xba, 0x78, 0x25, 0x2e, 0x1c, 0xa6, 0xb4, 0xc6, 0xe8, 0xdd, 0x74, 0x1f, 0x4b, 0xbd, 0x8b, 0x8a,
    0x70, 0x3e, 0xb5, 0x66, 0x48, 0x03, 0xf6, 0x0e, 0x61, 0x35, 0x57, 0xb9, 0x86, 0xc1, 0x1d, 0x9e,
    0xe1, 0xf8, 0x98, 0x11, 0x69, 0xd9, 0x8e, 0x94, 0x9b, 0x1e, 0x87, 0xe9, 0xce, 0x55, 0x28, 0xdf,
    0x8c, 0xa1, 0x89, 0x0d, 0xbf, 0xe6, 0x42, 0x68, 0x41, 0x99, 0x2d, 0x0f, 0xb0, 0x54, 0xbb, 0x16,
))
# xtime (multiply by x in GF(2^8)) as a table: no per-byte branches or big ints.
XTIME = bytes(((i << 1) ^ 0x1B) & 0xFF if i & 0x80 else i << 1 for i in range(256))
_RCON = (0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0x1B, 0x36)


_TABLES = []  # type: list  # CPython only: the four 32-bit T-tables, built on first use


def _t_tables():
    if not _TABLES:
        t0 = []
        for x in range(256):
            s = SBOX[x]
            t0.append((XTIME[s] << 24) | (s << 16) | (s << 8) | (XTIME[s] ^ s))
        t1 = [((w >> 8) | (w << 24)) & 0xFFFFFFFF for w in t0]
        t2 = [((w >> 8) | (w << 24)) & 0xFFFFFFFF for w in t1]
        t3 = [((w >> 8) | (w << 24)) & 0xFFFFFFFF for w in t2]
        _TABLES.extend((t0, t1, t2, t3))
    return _TABLES


class SoftAES:
    """One key's round keys; `encrypt_block` like crypto.AES128's, without the copy in."""

    def __init__(self, key):
        self._out = bytearray(16)
        rk = bytearray(176)
        for i in range(16):
            rk[i] = key[i]
        for i in range(16, 176, 4):
            t0 = rk[i - 4]
            t1 = rk[i - 3]
            t2 = rk[i - 2]
            t3 = rk[i - 1]
            if i % 16 == 0:
                t0, t1, t2, t3 = SBOX[t1] ^ _RCON[i // 16 - 1], SBOX[t2], SBOX[t3], SBOX[t0]
            rk[i] = rk[i - 16] ^ t0
            rk[i + 1] = rk[i - 15] ^ t1
            rk[i + 2] = rk[i - 14] ^ t2
            rk[i + 3] = rk[i - 13] ^ t3
        self._rk = rk
        self._words = None
        if sys.implementation.name == "cpython":
            self._words = [int.from_bytes(bytes(rk[i:i + 4]), "big") for i in range(0, 176, 4)]

    def _encrypt_words(self, src, src_off, dst, dst_off):
        te0, te1, te2, te3 = _t_tables()
        rk = self._words
        sb = SBOX
        blk = int.from_bytes(bytes(src[src_off:src_off + 16]), "big")
        s0 = (blk >> 96) ^ rk[0]
        s1 = ((blk >> 64) & 0xFFFFFFFF) ^ rk[1]
        s2 = ((blk >> 32) & 0xFFFFFFFF) ^ rk[2]
        s3 = (blk & 0xFFFFFFFF) ^ rk[3]
        for r in range(4, 40, 4):
            t0 = te0[s0 >> 24] ^ te1[(s1 >> 16) & 255] ^ te2[(s2 >> 8) & 255] ^ te3[s3 & 255] ^ rk[r]
            t1 = te0[s1 >> 24] ^ te1[(s2 >> 16) & 255] ^ te2[(s3 >> 8) & 255] ^ te3[s0 & 255] ^ rk[r + 1]
            t2 = te0[s2 >> 24] ^ te1[(s3 >> 16) & 255] ^ te2[(s0 >> 8) & 255] ^ te3[s1 & 255] ^ rk[r + 2]
            t3 = te0[s3 >> 24] ^ te1[(s0 >> 16) & 255] ^ te2[(s1 >> 8) & 255] ^ te3[s2 & 255] ^ rk[r + 3]
            s0, s1, s2, s3 = t0, t1, t2, t3
        out = 0
        for a, b, c, d, k in ((s0, s1, s2, s3, rk[40]), (s1, s2, s3, s0, rk[41]),
                              (s2, s3, s0, s1, rk[42]), (s3, s0, s1, s2, rk[43])):
            w = (sb[a >> 24] << 24) | (sb[(b >> 16) & 255] << 16) | (sb[(c >> 8) & 255] << 8) | sb[d & 255]
            out = (out << 32) | (w ^ k)
        dst[dst_off:dst_off + 16] = out.to_bytes(16, "big")

    def encrypt_block(self, src, src_off, dst, dst_off, s):
        """Encrypt src[src_off:src_off+16] into dst[dst_off:...]; s: 16 bytes of scratch."""
        if self._words is not None:
            self._encrypt_words(src, src_off, dst, dst_off)
            return
        for i in range(16):
            s[i] = src[src_off + i]
        rk = self._rk
        t = self._out
        for i in range(16):
            s[i] ^= rk[i]
        for rnd in range(1, 11):
            # SubBytes + ShiftRows into t (state is column-major: byte r + 4c)
            for c in range(4):
                t[4 * c] = SBOX[s[4 * c]]
                t[4 * c + 1] = SBOX[s[(4 * c + 5) % 16]]
                t[4 * c + 2] = SBOX[s[(4 * c + 10) % 16]]
                t[4 * c + 3] = SBOX[s[(4 * c + 15) % 16]]
            base = 16 * rnd
            if rnd < 10:
                for c in range(4):  # MixColumns + AddRoundKey back into s
                    a0 = t[4 * c]
                    a1 = t[4 * c + 1]
                    a2 = t[4 * c + 2]
                    a3 = t[4 * c + 3]
                    x = a0 ^ a1 ^ a2 ^ a3
                    s[4 * c] = a0 ^ x ^ XTIME[a0 ^ a1] ^ rk[base + 4 * c]
                    s[4 * c + 1] = a1 ^ x ^ XTIME[a1 ^ a2] ^ rk[base + 4 * c + 1]
                    s[4 * c + 2] = a2 ^ x ^ XTIME[a2 ^ a3] ^ rk[base + 4 * c + 2]
                    s[4 * c + 3] = a3 ^ x ^ XTIME[a3 ^ a0] ^ rk[base + 4 * c + 3]
            else:
                for i in range(16):
                    s[i] = t[i] ^ rk[base + i]
        for i in range(16):
            dst[dst_off + i] = s[i]


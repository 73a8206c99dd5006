"""Every crypto primitive against its published vectors, under CPython and the real MicroPython.

RFC 4231 (HMAC-SHA256), FIPS-197 appendix C.1 and SP 800-38A F.1.1 (AES-128), SP 800-38A F.5.1
(AES-128-CTR), RFC 4493 section 4 (AES-CMAC).
"""

import pytest

from lpwa.codecs import crypto

RFC4231 = [  # (key hex, data hex, HMAC-SHA256 hex, truncated to this many bytes)
    ("0b" * 20, b"Hi There".hex(), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
    (b"Jefe".hex(), b"what do ya want for nothing?".hex(),
     "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
    ("aa" * 20, "dd" * 50, "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
    (bytes(range(1, 26)).hex(), "cd" * 50, "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"),
    ("0c" * 20, b"Test With Truncation".hex(), "a3b6167473100ee06e0c796c2955552b"),
    ("aa" * 131, b"Test Using Larger Than Block-Size Key - Hash Key First".hex(),
     "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
    ("aa" * 131, b"This is a test using a larger than block-size key and a larger than block-size data. "
                 b"The key needs to be hashed before being used by the HMAC algorithm.".hex(),
     "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"),
]
SP800_KEY = "2b7e151628aed2a6abf7158809cf4f3c"
SP800_PLAIN = ["6bc1bee22e409f96e93d7e117393172a", "ae2d8a571e03ac9c9eb76fac45af8e51",
               "30c81c46a35ce411e5fbc1191a0a52ef", "f69f2445df4f9b17ad2b417be66c3710"]
AES_ECB = [  # (key, plaintext, ciphertext): FIPS-197 C.1, then SP 800-38A F.1.1
    ("000102030405060708090a0b0c0d0e0f", "00112233445566778899aabbccddeeff", "69c4e0d86a7b0430d8cdb78070b4c55a"),
    (SP800_KEY, SP800_PLAIN[0], "3ad77bb40d7a3660a89ecaf32466ef97"),
    (SP800_KEY, SP800_PLAIN[1], "f5d3d58503b9699de785895a96fdbaaf"),
    (SP800_KEY, SP800_PLAIN[2], "43b1cd7f598ece23881b00e3ed030688"),
    (SP800_KEY, SP800_PLAIN[3], "7b0c785e27e8ad3f8223207104725dd4"),
]
CTR_IV = "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff"
CTR_CIPHER = ("874d6191b620e3261bef6864990db6ce" "9806f66b7970fdff8617187bb9fffdff"
              "5ae4df3edbd5d35e5b4f09020db03eab" "1e031dda2fbe03d1792170a0f3009cee")
CMAC = [  # RFC 4493 examples 1-4 (message = the first n bytes of the SP 800-38A plaintext)
    (0, "bb1d6929e95937287fa37d129b756746"),
    (16, "070a16b46b4d4144f79bdd9dd04a287c"),
    (40, "dfa66747de9ae63030ca32611497c827"),
    (64, "51f0bebf7e3b9d92fc49741779363cfe"),
]
RFC4493_SUBKEYS = ("fbeed618357133667c85e08f7236a8de", "f7ddac306ae266ccf90bc11ee46d513b")

MPY_RUN = """
from lpwa.codecs import crypto
import binascii
u = binascii.unhexlify
h = lambda b: binascii.hexlify(b).decode()
res = {"hmac": [], "ecb": [], "cmac": []}
for k, d, want in %(hmac)r:
    res["hmac"].append(h(crypto.hmac_sha256(u(k), u(d))[:len(want) // 2]))
for k, p, c in %(ecb)r:
    res["ecb"].append(h(crypto.AES128(u(k)).encrypt(u(p))))
buf = bytearray(u(%(plain)r))
crypto.CTR(u(%(key)r)).xor_into(u(%(iv)r), buf, 0, len(buf))
res["ctr"] = h(buf)
m = u(%(plain)r)
cm = crypto.CMAC(u(%(key)r))
for n, want in %(cmac)r:
    res["cmac"].append(h(cm.mac(m[:n])))
res["subkeys"] = [h(cm.k1), h(cm.k2)]
"""


@pytest.fixture(autouse=True, params=["openssl", "portable"])
def cipher_path(request, monkeypatch):
    """Every CPython vector runs on both paths: OpenSSL via `cryptography` (the gateway's fast
    path) and the portable pure-Python cipher the boards without cryptolib use."""
    if request.param == "portable":
        monkeypatch.setattr(crypto, "_fast", None)
    elif crypto._fast is None:
        pytest.skip("the cryptography package is not installed")
    return request.param


def test_fast_path_is_really_taken(cipher_path):
    aes = crypto.AES128(bytes(16))
    assert (aes._fast is not None) == (cipher_path == "openssl")
    assert (aes._soft is None) == (cipher_path == "openssl")


@pytest.mark.parametrize("key,data,want", RFC4231)
def test_hmac_sha256_rfc4231(key, data, want):
    assert crypto.hmac_sha256(bytes.fromhex(key), bytes.fromhex(data))[:len(want) // 2].hex() == want


@pytest.mark.parametrize("key,plain,cipher", AES_ECB)
def test_aes128_fips197_sp800_38a(key, plain, cipher):
    assert crypto.AES128(bytes.fromhex(key)).encrypt(bytes.fromhex(plain)).hex() == cipher


def test_aes128_ctr_sp800_38a_f51():
    buf = bytearray.fromhex("".join(SP800_PLAIN))
    crypto.CTR(bytes.fromhex(SP800_KEY)).xor_into(bytes.fromhex(CTR_IV), buf, 0, len(buf))
    assert buf.hex() == CTR_CIPHER
    # decryption is the same operation; a partial last block works too
    crypto.CTR(bytes.fromhex(SP800_KEY)).xor_into(bytes.fromhex(CTR_IV), buf, 0, 37)
    assert buf[:37].hex() == "".join(SP800_PLAIN)[:74]


@pytest.mark.parametrize("n,want", CMAC)
def test_aes_cmac_rfc4493(n, want):
    cm = crypto.CMAC(bytes.fromhex(SP800_KEY))
    assert (cm.k1.hex(), cm.k2.hex()) == RFC4493_SUBKEYS
    assert cm.mac(bytes.fromhex("".join(SP800_PLAIN))[:n]).hex() == want


def test_cmac_over_a_range_of_a_larger_buffer():
    """The frame code MACs a slice of its buffer in place; offsets must not matter."""
    cm = crypto.CMAC(bytes.fromhex(SP800_KEY))
    msg = bytes.fromhex("".join(SP800_PLAIN))[:40]
    big = b"\xee" * 7 + msg + b"\x11" * 5
    out = bytearray(20)
    cm.mac_into(big, 7, 47, out, 3, 4)
    assert out[3:7].hex() == CMAC[2][1][:8]


def test_derived_keys_differ_from_each_other_and_the_device_key():
    key = bytes(range(16))
    mic, enc = crypto.derive_keys(key)
    assert len({mic, enc, key}) == 3 and len(mic) == len(enc) == 16
    with pytest.raises(ValueError):
        crypto.derive_keys(b"short")


def test_vectors_on_each_implementation(impl):
    """The same snippet under CPython (both cipher paths) and the real MicroPython."""
    res = impl.eval_json(MPY_RUN % {"hmac": RFC4231, "ecb": AES_ECB, "plain": "".join(SP800_PLAIN),
                                   "key": SP800_KEY, "iv": CTR_IV, "cmac": CMAC}, "res")
    assert res["hmac"] == [w for _, _, w in RFC4231]
    assert res["ecb"] == [c for _, _, c in AES_ECB]
    assert res["ctr"] == CTR_CIPHER
    assert res["cmac"] == [w for _, w in CMAC]
    assert res["subkeys"] == list(RFC4493_SUBKEYS)


def test_cryptolib_path_gives_the_same_results(monkeypatch):
    """Boards with `cryptolib` use its ECB AES; a stand-in with cryptolib's API checks our adapter."""
    calls = []

    class FakeAES:
        def __init__(self, key, mode):
            assert mode == 1 and isinstance(key, bytes)
            saved, crypto.cryptolib = crypto.cryptolib, None
            try:
                self.inner = crypto.AES128(key)  # the software cipher behind the stand-in
            finally:
                crypto.cryptolib = saved

        def encrypt(self, src, dst):  # cryptolib.aes.encrypt(in_buf, out_buf)
            calls.append(len(src))
            dst[:] = self.inner.encrypt(bytes(src))

    monkeypatch.setattr(crypto, "cryptolib", type("cryptolib", (), {"aes": FakeAES}))
    for key, plain, cipher in AES_ECB:
        aes = crypto.AES128(bytes.fromhex(key))
        assert aes._hw is not None
        assert aes.encrypt(bytes.fromhex(plain)).hex() == cipher
    cm = crypto.CMAC(bytes.fromhex(SP800_KEY))
    assert cm.mac(bytes.fromhex("".join(SP800_PLAIN))).hex() == CMAC[3][1]
    assert calls and set(calls) == {16}


def test_a_board_with_cryptolib_never_loads_the_software_cipher():
    """Its S-box, key schedule and rounds would sit on the node's heap unused (issue #14), nor the
    gateway's OpenSSL path (its names would be interned); a
    stand-in `cryptolib` module plays the ESP32's, in a fresh interpreter."""
    import subprocess
    import sys

    program = r"""
import sys, types
fake = types.ModuleType("cryptolib")
class aes:
    def __init__(self, key, mode):
        pass
    def encrypt(self, src, dst):
        dst[:] = src
fake.aes = aes
sys.modules["cryptolib"] = fake
from lpwa.codecs import crypto
crypto.CMAC(bytes(16)).mac(b"x")
print("lpwa.codecs.aes_soft" in sys.modules, hasattr(crypto, "SBOX"), "lpwa.codecs.crypto_openssl" in sys.modules)
"""
    r = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True)
    assert r.stdout.split() == ["False", "False", "False"]

"""The decoder routes on (version, frame type); unknown pairs are "bad-version"."""

import pytest

from lpwa.codecs import decoder
from lpwa.codecs.errors import FrameError
from lpwa.codecs.full_decode import decode_full


def test_routes_name_real_functions():
    for (version, ftype), (mod, fn) in decoder.ROUTES.items():
        assert callable(getattr(__import__(mod, None, None, [fn]), fn)), (version, ftype)
    assert decoder.route(bytes([0x41]) + bytes(20)) is decode_full


@pytest.mark.parametrize("hdr,reason", [(0xC1, "bad-version"), (0x79, "bad-version"), (0x40, "unknown-kind"),
                                        (0x51, "fragment"), (0x00, "bad-version")])
def test_unroutable_headers(hdr, reason):
    with pytest.raises(FrameError) as e:
        decoder.decode(bytes([hdr]) + bytes(12), "lora", {}, lambda d: bytes(16))
    assert e.value.reason == reason


def test_empty_frame_is_truncated():
    with pytest.raises(FrameError) as e:
        decoder.decode(b"", "lora", {}, lambda d: None)
    assert e.value.reason == "truncated"

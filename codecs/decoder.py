"""Decoding any complete frame: route on (version, frame type) to the module that owns it.

A new version is one new module plus its rows in ROUTES. Fragments are reassembled first
(fragment.Reassembler), so decode() refuses them.
"""

from lpwa.codecs.errors import FrameError
from lpwa.codecs.header import (T_COMPACT, T_COMPACT_STATUS, T_FRAGMENT, T_READING, T_READING_R2,
                                T_SEALED, T_SEALED_STATUS, T_STATUS, split_header)

# (version, frame type) -> (module, function): imported on first use
ROUTES = {
    (1, T_READING): ("lpwa.codecs.full_decode", "decode_full"),
    (1, T_STATUS): ("lpwa.codecs.full_decode", "decode_full"),
    (1, T_COMPACT): ("lpwa.codecs.compact", "decode_compact_frame"),
    (1, T_COMPACT_STATUS): ("lpwa.codecs.compact", "decode_compact_frame"),
    (1, T_SEALED): ("lpwa.codecs.compact", "decode_sealed_frame"),
    (1, T_SEALED_STATUS): ("lpwa.codecs.compact", "decode_sealed_frame"),
    (2, T_READING): ("lpwa.codecs.packed", "decode_packed"),
    (2, T_STATUS): ("lpwa.codecs.packed", "decode_packed"),
    (2, T_READING_R2): ("lpwa.codecs.packed", "decode_packed"),
}
_loaded = {}  # type: dict


def route(raw):
    """-> the decode function of this frame's (version, type); "bad-version" when none."""
    if len(raw) < 1:
        raise FrameError("truncated", "empty frame")
    version = raw[0] >> 6
    ftype = (raw[0] >> 3) & 0x07
    if not any(v == version for v, _t in ROUTES):
        raise FrameError("bad-version", "version %d" % version)
    target = ROUTES.get((version, ftype))
    if target is None and ftype != T_FRAGMENT:
        raise FrameError("bad-version", "frame type %d" % ftype)
    split_header(raw)  # the kind exists
    if target is None:
        raise FrameError("fragment", "fragment given to decode(); reassemble first")
    fn = _loaded.get(target)
    if fn is None:
        fn = getattr(__import__(target[0], None, None, [target[1]]), target[1])
        _loaded[target] = fn
    return fn


def decode(raw, radio, meta, key_for, last_counter=None, loads=None, compact_needs_key=True):
    """One complete (not fragmented) frame -> the decoded dict of the contract.

    loads(body) -> object decodes CBOR (default: the portable decoder; the gateway uses cbor2)
    and raises FrameError("bad-cbor") on malformed input.
    """
    return route(raw)(raw, radio, meta, key_for, last_counter, loads, compact_needs_key)

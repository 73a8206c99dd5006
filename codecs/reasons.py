"""What each FrameError reason means (FRAMES.md "Errors" is generated from it); for the gateway,
the docs and the tests. Boards do not import it."""

# reason -> meaning: the one table (FRAMES.md "Rejections" is generated from it)
REASONS = {
    "truncated": "shorter than its type's layout (or empty)",
    "bad-version": "unknown version or frame type, reserved flag bits set, or not the type expected here",
    "unknown-kind": "kind id (or command id) not in the schema",
    "bad-mic": "the MIC does not verify for any plausible counter (forged, corrupt, replayed, wrong key)",
    "bad-cbor": "the body is not exactly one well-formed CBOR item",
    "bad-schema": "the body does not match the kind's fields (type, count, range, size)",
    "out-of-range": "a value to encode is outside its field's range or not a number",
    "too-large": "the frame cannot fit the radio's payload limit",
    "unknown-device": "no valid key for the device, or the network's device/sequence metadata is missing or malformed",
    "fragment": "a fragment that cannot be reassembled (bad index, conflicting copies, bad source)",
}

"""The encoder factory: a node imports only the codec its radio needs.

A Sigfox node gets compact.CompactEncoder (no CBOR, no fragmentation, no MIC engines); a LoRa or
Wi-SUN node gets full.FullEncoder (the compact codec is never imported; fragmentation only when
a frame does not fit), or with version=2 packed.PackedEncoder (what the firmware sends on LoRa:
one emission per reading at SF10, FRAMES.md "Frame version 2").
"""


def new_encoder(kind, device_id, key, radio="lora", version=1, **options):
    """-> the encoder of `kind` for `radio`; options as FullEncoder/CompactEncoder/PackedEncoder take them."""
    if radio == "sigfox":
        from lpwa.codecs.compact import CompactEncoder

        return CompactEncoder(kind, device_id, key, radio=radio, **options)
    if version == 2:
        from lpwa.codecs.packed import PackedEncoder

        return PackedEncoder(kind, device_id, key, radio=radio, **options)
    if version != 1:
        raise ValueError("frame version must be 1 or 2")
    from lpwa.codecs.full import FullEncoder

    return FullEncoder(kind, device_id, key, radio=radio, **options)

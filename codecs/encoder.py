"""The encoder factory: a node imports only the codec its radio needs.

A Sigfox node gets compact.CompactEncoder (no CBOR, no fragmentation, no MIC engines); a LoRa or
Wi-SUN node gets full.FullEncoder (the compact codec is never imported; fragmentation only when
a frame does not fit).
"""


def new_encoder(kind, device_id, key, radio="lora", **options):
    """-> the encoder of `kind` for `radio`; options as FullEncoder/CompactEncoder take them."""
    if radio == "sigfox":
        from lpwa.codecs.compact import CompactEncoder

        return CompactEncoder(kind, device_id, key, radio=radio, **options)
    from lpwa.codecs.full import FullEncoder

    return FullEncoder(kind, device_id, key, radio=radio, **options)

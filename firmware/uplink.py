"""How this node's messages leave: its counter, its encoder and budget profile, and frame
version 2's position reference (what the app keeps between frames for the codec).

Sigfox: the counter follows the modem's seqNumber (sigfox_seq.py), so personal kinds go sealed.
LoRa: frame version 2 (codecs/packed.py): a position is an offset from the last full frame the
node sent (a pedometer's interval is implied by it), which it keeps in State ("v2_ref": the
reference fields' stored values and that frame's counter); a full frame goes out on alarms, on
the codec's schedule and whenever there is no reference (after a power loss). On ARIB channels 24-38 the budget allows 4 s emissions (5 ms carrier sense, which
it always does), so a frame longer than 400 ms at this data rate is sent whole when one
emission costs less airtime than its fragments.
"""

from lpwa.firmware.store import CounterStore


def new_counter(board, cfg, slots, block):
    if cfg["radio"] == "sigfox":
        from lpwa.firmware.sigfox_seq import SigfoxCounter

        return SigfoxCounter(slots, board.flash("sigfox_seq"), cfg["sigfox"]["next_seq"])
    return CounterStore(slots, board.flash("counter"), block)


def send(cfg, counter, radio, payload, want_downlink):
    """radio.send; over Sigfox the counter is committed before the modem moves its seqNumber and
    stepped back when the module refused the frame (nothing sent)."""
    sigfox = cfg["radio"] == "sigfox"
    if sigfox:
        counter.sending()
    try:
        radio.send(payload, want_downlink)
    except OSError:
        if sigfox:
            counter.failed(getattr(radio, "maybe_sent", True))
        raise


def _long_channel(cfg, lora):
    """The ARIB channel when 4 s emissions are allowed on it (LoRa, channels 24-38), else None."""
    if cfg["radio"] != "lora":
        return None
    from lpwa.radio import limits

    ch = limits.arib_channel_for(lora["freq_khz"] / 1000)
    return ch if ch is not None and limits.long_emission_allowed(ch) else None


def budget_profile(bmod, cfg, lora):
    ch = _long_channel(cfg, lora)
    if ch is not None:
        return bmod.profile_for("lora", ch, True)
    return bmod.profile_for(cfg["radio"])


def new_encoder(codec, cfg, lora):
    opts = {}
    if cfg["radio"] == "lora":
        opts = {"version": 2, "long_ok": _long_channel(cfg, lora) is not None}
    return codec.new_encoder(cfg["kind"], cfg["device_id"], cfg["key"], radio=cfg["radio"], sf=lora["sf"],
                             bw_khz=lora["bw_khz"], **opts)


def before_encode(enc, state, alarm):
    """Version 2: the reference the frame may refer to; an alarm is a full frame."""
    if hasattr(enc, "reference"):
        enc.reference = state.get("v2_ref")
        enc.full = alarm


def after_send(enc, state, counter):
    """A sent full frame becomes the reference of the next frames."""
    if getattr(enc, "is_ref", False):
        state.set("v2_ref", enc.ref_values() + [counter])

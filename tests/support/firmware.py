"""Checks on what a simulated node sent, made from the frames alone (not the node's own bookkeeping)."""

from lpwa.radio.budget import profile_for


def check_duty_cycle(radio, frames, channel=37):
    """ARIB / Sigfox rules from the frames' own start times and airtimes (not the budget's state).
    LoRa on ARIB channels 24-38 (the simulation's 923.2 MHz is 37) may use 4 s emissions after
    5 ms carrier sense; channel=None checks the 400 ms rule."""
    p = profile_for(radio, channel, True) if radio == "lora" and channel is not None else profile_for(radio)
    repeats = p["repeats"]
    starts = [(f["time"] * 1000.0, f["meta"]["airtime_us"] / 1000.0) for f in frames]
    for i in range(len(starts)):
        t, air = starts[i]
        assert air / repeats <= p["max_tx_us"] / 1000.0, "emission too long"
        if i:
            pt, pair = starts[i - 1]
            assert t >= pt + pair + p["pause_ms"] - 1, "pause broken at frame %d" % i
        window = [a for (s, a) in starts if t - 3600000 < s <= t]
        assert sum(window) <= p["hour_budget_ms"], "hourly airtime broken"
        if p["day_messages"]:
            assert sum(1 for (s, _a) in starts if t - 86400000 < s <= t) <= p["day_messages"]

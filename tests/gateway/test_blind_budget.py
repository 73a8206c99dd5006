"""Issue #13 point 3: a forged frame for a device with no history cost 256 MIC checks; now each
device has a budget of blind searches, past it a frame costs at most 2, and a flood aimed at one
device leaves the others' frames (and its own epoch-0 frames) accepted."""

import os

from lpwa.codecs import frame as _frame
from lpwa.gateway.pipeline import Pipeline
from support.gateway import frame, make_config


def test_a_forged_flood_at_one_device_costs_bounded_work_and_starves_no_one(tmp_path, monkeypatch):
    template = frame("0a1b2c3d", 3)
    calls = [0]
    real_mic = _frame.Keys.mic_into

    def counting(self, *a):
        calls[0] += 1
        return real_mic(self, *a)

    monkeypatch.setattr(_frame.Keys, "mic_into", counting)
    p = Pipeline(make_config(tmp_path))
    try:
        n = 500
        forged = [("lora", template[:6] + os.urandom(2) + template[8:-4] + os.urandom(4), {}, "udp")
                  for _ in range(n)]
        outs = p.ingest_batch(forged)
        assert not any(o.accepted for o in outs)
        burst = p.decoder.blind.burst
        assert calls[0] <= burst * 256 + (n - burst) * 2, calls[0]  # was n * 256
        assert p.ingest("lora", frame("0a1b2c3d", 4), {}, "udp").accepted  # its own real frame
        assert p.ingest("lora", frame("99aabbcc", 70000), {}, "udp").accepted  # another device, blind
        assert p.status()["rejections"]["bad-mic"] == n
    finally:
        p.queue.close()


def test_bad_mic_is_logged_and_counted_for_the_claimed_device(tmp_path, caplog):
    """Issue #13 point 8: bad-mic was logged with "device": null and not counted per device."""
    p = Pipeline(make_config(tmp_path))
    try:
        bad = bytearray(frame("0a1b2c3d", 3))
        bad[-1] ^= 0xFF
        with caplog.at_level("WARNING"):
            out = p.ingest("lora", bytes(bad), {}, "udp")
        assert out.reason == "bad-mic"
        assert p.status()["devices"]["0a1b2c3d"]["rejected"] == 1
        assert [r.device for r in caplog.records if getattr(r, "event", None) == "rejected"] == ["0a1b2c3d"]
    finally:
        p.queue.close()

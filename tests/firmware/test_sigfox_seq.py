"""Sealed Sigfox frames from the whole app: the node's counter follows the modem's seqNumber
across its 4096 wrap, a power loss (RTC gone), a reset and a refused send, so the gateway
decrypts every personal reading to the values the node sampled (MicroPython and CPython)."""

import json

import pytest

from lpwa.codecs import header
from lpwa.gateway.frames import FrameDecoder
from lpwa.tools.cli.node import sim_config

SETUP = """
import json
from lpwa.firmware import config
from lpwa.boards.host.board import HostBoard
from lpwa.boards.host.simulate import simulate
_cfg = json.loads(%r)
_cfg["sigfox"] = {"next_seq": %d}
_b = HostBoard(_cfg["kind"], 1)
_b.sigfox_seq = %d
_b.sigfox_refuse = %d
_r = simulate(config.parse(_cfg), hours=%r, board=_b, power_loss_at_h=(2.0,), reset_at_h=(4.0,))
"""


def run(impl, kind, start_seq, hours=6.0, refuse=0):
    cfg = sim_config(kind, "sigfox")
    frames = impl.eval_json(SETUP % (cfg, start_seq, (start_seq - 1) & 0xFFF, refuse, hours), "_r['frames']")
    return json.loads(cfg), frames


def decode(cfg, frames):
    dec = FrameDecoder({cfg["device"]: bytes.fromhex(cfg["key"])}.get)
    out = []
    for f in frames:
        raw = bytes.fromhex(f["hex"])
        assert header.parse_header(raw)[0] in (header.T_SEALED, header.T_SEALED_STATUS), f["hex"]
        out += dec.feed(raw, "sigfox", f["meta"])
    return out


def plausible(kind, d, t0, t1):
    r = {k: v["value"] for k, v in d["readings"].items()}
    if d["type"] == "status":
        return r["firmware"].count(".") == 2 and 0 <= r["reset_reason"] <= 6 and 3.0 <= r["battery_v"] <= 4.3
    if kind == "drone-vital":  # the host World's firefighter: near the configured station
        return (40 <= r["heart_rate_bpm"] <= 200 and 80 <= r["spo2_pct"] <= 100
                and abs(r["lat_deg"] - 35.0) < 0.01 and abs(r["lon_deg"] - 139.8) < 0.01)
    return t0 - 3600 <= r["interval_start"] <= t1 and 0 <= r["steps"] <= r["steps_total"] < 10 ** 6


@pytest.mark.parametrize("kind", ["drone-vital", "pedometer"])
def test_sealed_frames_decrypt_across_the_wrap_and_resets(impl, kind):
    cfg, frames = run(impl, kind, 4086)
    seqs = [f["meta"]["seq"] for f in frames]
    assert 0 in seqs and 4095 in seqs, "the run must cross the 4096 wrap"
    decoded = decode(cfg, frames)
    assert len(decoded) == len(frames)
    t0, t1 = frames[0]["time"], frames[-1]["time"]
    for f, d in zip(frames, decoded):
        assert d["sealed_counter"] & 0xFFF == f["meta"]["seq"]
        assert d["sealed_counter"] == f["meta"]["counter"]  # the gateway rebuilt the node's counter
        assert plausible(kind, d, t0, t1), d
    assert decoded[-1]["sealed_counter"] > 4096  # the second epoch: a fresh keystream
    assert any(d["type"] == "status" for d in decoded)


def test_a_refused_send_does_not_put_the_counter_out_of_step(impl):
    cfg, frames = run(impl, "drone-vital", 100, hours=3.0, refuse=1)
    decoded = decode(cfg, frames)
    assert [d["sealed_counter"] for d in decoded] == [f["meta"]["seq"] for f in frames]
    assert all(plausible("drone-vital", d, frames[0]["time"], frames[-1]["time"]) for d in decoded)


SETUP_STORE = """
from lpwa.firmware.store import MemoryStore, Slots
from lpwa.firmware.sigfox_seq import SigfoxCounter
_flash = MemoryStore()
_c = SigfoxCounter(Slots(MemoryStore()), _flash, 4094)
_got = []
for _i in range(3):
    _got.append(_c.take())
    _c.sending()
_c.take()
_c.sending()
_c.failed(False)  # the module answered ERROR: not sent
_c.take()
_c.sending()
_c.failed(True)  # no answer: it may have sent
_c2 = SigfoxCounter(Slots(MemoryStore()), _flash, 7)  # power loss: RTC gone, flash kept
_out = [_got, _c.peek(), _c2.peek(), _c2.cold, SigfoxCounter(Slots(MemoryStore()), MemoryStore(), 4100 & 0xFFF).peek()]
"""


def test_counter_store_is_durable_and_steps_back_only_when_not_sent(impl):
    got, after, cold, was_cold, fresh = impl.eval_json(SETUP_STORE, "_out")
    assert got == [4094, 4095, 4096]
    assert after == 4098 and cold == 4098 and was_cold is False
    assert fresh == 4

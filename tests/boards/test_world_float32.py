"""The simulated sea under single precision, on the unix-port MicroPython built like an ESP32.

float32 epoch seconds (~1.8e9) step by 128 s: a swell computed from them is flat noise. The
world computes from seconds since its start (World.rel_s), so the unix port (float32) sees the
same 8 s swell CPython does. The simulated GPS adds its jitter in integer micro-degrees (139.8 + 1e-5 in float32 moves in
1.5e-5 steps). Runs where lpwa.tools.mpy.unix finds a unix port; skips saying so otherwise.
"""

import json

from lpwa.boards.host.clock import START_S
from lpwa.boards.host.world import World
from support import unix_mpy

PROBE = """
from lpwa.boards.host.world import World
w = World(1)
t0 = %d
for i in range(128):
    print(w.heave_mg(w.rel_s(t0 + i * 250)))
for i in range(128):
    print(w.heave_mg((t0 + i * 250) / 1000.0))
"""


def test_heave_under_float32_matches_the_double_precision_swell(tmp_path, unix_port_exe):
    t0 = START_S * 1000 + 3 * 3600000  # three hours into the simulated day
    r = unix_mpy.run(unix_port_exe, PROBE % t0, tmp_path)
    assert r[0] == 0, r[2]
    got = [float(x) for x in r[1].split()]
    rel32, abs32 = got[:128], got[128:]
    w = World(1)
    want = [w.heave_mg(w.rel_s(t0 + i * 250)) for i in range(128)]
    # same noise stream (the simulated rng is integer), float32 sin: within a few mg of a ~2 g swing
    assert max(abs(a - b) for a, b in zip(rel32, want)) < 5.0
    assert max(want) - min(want) > 100  # the swell is there (peak to peak, mg)
    # and the check can fail: from float32 epoch seconds the swell is gone
    assert max(abs(a - b) for a, b in zip(abs32, want)) > 50


DAY = """
from lpwa.firmware import config
from lpwa.boards.host.simulate import simulate
with open("cfg.json") as f:
    cfg = config.loads(f.read())
for fr in simulate(cfg, hours=24)["frames"]:
    print(fr["hex"])
"""


def _readings(cfg, hexes, frames):
    from lpwa.gateway.frames import FrameDecoder

    dec = FrameDecoder({cfg["device"]: bytes.fromhex(cfg["key"])}.get)
    out = []
    for h, f in zip(hexes, frames):
        out += [d["readings"] for d in dec.feed(bytes.fromhex(h), f["radio"], f["meta"]) if d["type"] == "reading"]
    return out


def test_a_buoy_day_under_float32_sends_the_frames_cpython_sends(unix_port_exe):
    """The installed .mpy tree on the unix port (float32, 512 KiB heap) against CPython, same seed: the
    frames are byte-equal except where the wave estimator itself (float32 FFT on the board) rounds its
    0.1 m height to the other side; tolerance: wave_height_m within 0.1 m in at most 5 % of frames."""
    from lpwa.tools.cli.node import run_sim, sim_config
    from lpwa.tools.mpy.unix import UnixPort

    cfg_json = sim_config("buoy", "lora")
    frames, _events, _info = run_sim(cfg_json, 24, "cpython")
    with UnixPort(unix_port_exe) as up:
        up.write("cfg.json", cfg_json)
        r = up.run(DAY, 512 * 1024)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr
    got = r.stdout.split()
    want = [f["hex"] for f in frames]
    assert len(got) == len(want) > 100
    assert sum(a != b for a, b in zip(got, want)) <= len(want) // 20
    cfg = json.loads(cfg_json)
    for a, b in zip(_readings(cfg, got, frames), _readings(cfg, want, frames)):
        differ = {k for k in a if a[k] != b.get(k)}
        assert differ <= {"wave_height_m"}, differ
        if differ:
            assert abs(a["wave_height_m"]["value"] - b["wave_height_m"]["value"]) <= 0.1 + 1e-9

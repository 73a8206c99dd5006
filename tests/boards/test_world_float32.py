"""The simulated sea under single precision, on the unix-port MicroPython built like an ESP32.

float32 epoch seconds (~1.8e9) step by 128 s: a swell computed from them is flat noise. The
world computes from seconds since its start (World.rel_s), so the unix port (float32) sees the
same 8 s swell CPython does. Runs where a unix-port interpreter is found: `micropython` on PATH,
$LPWA_MICROPYTHON, or ../shared/tools/micropython-unix/micropython; skips saying so otherwise.
"""

import pytest

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


def test_heave_under_float32_matches_the_double_precision_swell(tmp_path):
    t0 = START_S * 1000 + 3 * 3600000  # three hours into the simulated day
    r = unix_mpy.run(PROBE % t0, tmp_path)
    if r is None:
        pytest.skip("no unix-port MicroPython (PATH, $LPWA_MICROPYTHON, ../shared): float32 sea not checked")
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

"""The forged-flood bench through the real service (tools/bench/flood.py): with the per-device
blind-search budget every real frame of another device is acknowledged and published while forged
frames claiming a configured device with no history arrive at 1,000/s over the Semtech UDP source."""

import pytest

from lpwa.tools.bench import flood
from lpwa.tools.mosquitto import Mosquitto

pytestmark = pytest.mark.broker


def test_real_frames_are_acknowledged_and_published_during_a_forged_flood():
    broker = Mosquitto("max_queued_messages 0\n").start()
    try:
        r = flood.run(broker, rate=1000, real_rate=10, seconds=3)
    finally:
        broker.stop()
    print(r)
    assert r["forged"] == 3000 and r["real"] == 30
    assert r["acked"] == 30 and r["published"] == 30

"""The metered day: the meter watches the simulation without changing it, and its seconds add up."""

import pytest

from lpwa.tools.cli.node import run_sim, sim_config
from lpwa.tools.sim.energy_meter import meter_day


@pytest.mark.parametrize("kind,radio", [("buoy", "lora"), ("drone-vital", "sigfox"), ("buoy", "wisun")])
def test_the_meter_sees_the_simulated_day_it_does_not_change(kind, radio):
    cfg = sim_config(kind, radio)
    frames, _events, info = run_sim(cfg, 2.0, "cpython")
    duty = meter_day(cfg, 2.0)
    scale = 12.0  # 2 h scaled to a day
    assert duty["wakes"] == pytest.approx(info["wakes"] * scale)
    assert duty["tx_s"] == pytest.approx(sum(f["meta"]["airtime_us"] for f in frames) / 1e6 * scale)
    assert 0 < duty["awake_s"] < 86400 and duty["light_s"] == 0
    assert duty["wakes_from_deep"] == duty["wakes"]
    # every wake that fixes a position keeps the GPS on for the firmware's 3 s wait at least
    assert duty["sensor_on_s"]["gps"] >= 3.0 * duty["wakes"] * 0.5
    assert duty["rx_s"] > 0  # the receive window after each message; Sigfox: when a downlink was asked for


def test_a_pedometer_day_is_mostly_light_sleep_with_the_imu_always_on():
    from lpwa.tools.sim.gait_day import pedometer_day

    duty = meter_day(sim_config("pedometer", "lora"), 2.0, pedometer_day(0.0, 2.0))
    assert duty["light_s"] > 0.9 * 86400
    assert duty["drains"] > 0 and duty["samples"] > 0
    assert duty["sensor_on_s"]["mpu6050"] == 86400.0

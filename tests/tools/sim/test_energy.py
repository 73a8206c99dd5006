"""The energy model: every current has a source, and the arithmetic is the hand-worked one."""

import math

import pytest

from lpwa.tools.sim import energy


def test_every_row_names_its_source_and_kind_of_figure():
    for r in energy.ROWS:
        assert len(r["source"]) > 20, r
        assert r["level"] in (energy.CHIP, energy.BOARD, energy.ESTIMATE), r
        assert isinstance(r["checked"], bool), r
        assert math.isfinite(r["ma"]) and r["ma"] >= 0, r
    keys = [(r["part"], r["state"]) for r in energy.ROWS]
    assert len(keys) == len(set(keys)), "one row per part and state"


def test_every_part_a_node_can_have_has_its_rows():
    for board, (mcu, lora_chip) in energy.BOARD_PARTS.items():
        for state in ("active", "light", "deep"):
            energy.row(mcu, state)
        for radio in ("lora", "sigfox", "wisun"):
            for state in ("tx", "rx", "sleep"):
                energy.row(energy.radio_part(board, radio), state)
    for sensors in energy.KIND_SENSORS.values():
        for s in sensors:
            energy.row(s, "on")
            energy.row(s, "idle")
    assert set(energy.CELLS) == set(energy.KIND_SENSORS)


def test_a_hand_worked_day():
    """A TTGO LoRa32 buoy (ESP32 + SX1276, no board measurement) worked out on paper:

    awake 100 s + 10 boots x 0.6 s = 106 s x 40 mA = 4240 mAs; deep 86294 s x 0.010 = 862.94
    TX 10 s x 87 = 870; RX 20 s x 11.5 = 230; radio asleep 86370 s x 0.0002 = 17.274
    MPU-6050 1000 s x 3.9 (gyro on: the wave record) + 85400 s x 0.005 = 4327; GPS 30 s x 47 = 1410
    DS18B20 7.5 s x 1.0 + 86392.5 s x 0.00075 = 72.294375
    total 12029.508375 mAs / 86400 s = 0.1392304 mA
    life: 3400 x 0.8 / (0.1392304 x 24 + 3400 x 0.03 / 30) = 2720 / 6.741530 = 403.5 days
    """
    duty = {"awake_s": 100.0, "light_s": 0.0, "tx_s": 10.0, "rx_s": 20.0, "wakes": 10, "wakes_from_deep": 10,
            "sensor_on_s": {"mpu6050": 1000.0, "gps": 30.0, "ds18b20": 7.5}}
    c = energy.charge_per_day(duty, "ttgo-lora32-v21", "lora", "buoy")
    assert c["mcu awake"] == pytest.approx(4240.0)
    assert c["mcu deep sleep"] == pytest.approx(862.94)
    assert c["radio tx"] == pytest.approx(870.0) and c["radio rx"] == pytest.approx(230.0)
    assert c["radio sleep"] == pytest.approx(17.274)
    assert c["mpu6050"] == pytest.approx(4327.0) and c["gps"] == pytest.approx(1410.0)
    assert c["ds18b20"] == pytest.approx(72.294375)
    assert energy.average_ma(c) == pytest.approx(12029.508375 / 86400.0)
    s = energy.summary(duty, "ttgo-lora32-v21", "lora", "buoy")
    assert s["life_days"] == pytest.approx(403.5, abs=0.05)
    assert s["avg_ma"] == s["chip_only_avg_ma"]


def test_drains_and_samples_count_as_awake_time_out_of_light_sleep():
    duty = {"awake_s": 0.0, "light_s": 86400.0, "tx_s": 0.0, "rx_s": 0.0, "wakes": 1, "wakes_from_deep": 0,
            "drains": 1000, "samples": 100000, "sensor_on_s": {"mpu6050": 86400.0}}
    c = energy.charge_per_day(duty, "heltec-v2", "wisun", "pedometer")
    awake = (1000 * 2.0 + 100000 * 0.24) / 1000.0  # 26 s
    assert c["_seconds"]["awake"] == pytest.approx(awake)
    assert c["_seconds"]["light"] == pytest.approx(86400.0 - awake)
    assert c["mcu awake"] == pytest.approx(awake * 40.0)
    assert c["mcu light sleep"] == pytest.approx((86400.0 - awake) * 0.8)
    assert c["mpu6050"] == pytest.approx(86400.0 * 0.5)


def test_a_board_measurement_replaces_the_chip_row_for_that_board_only():
    duty = {"awake_s": 0.0, "light_s": 86400.0, "tx_s": 0.0, "rx_s": 0.0, "wakes": 1, "wakes_from_deep": 0,
            "sensor_on_s": {}}
    v3 = energy.summary(duty, "heltec-v3", "lora", "pedometer")
    assert v3["ma_by_consumer"]["mcu light sleep"] == pytest.approx(7.7)
    assert v3["chip_only_avg_ma"] < v3["avg_ma"]
    assert energy.charge_per_day(duty, "heltec-v3", "lora", "pedometer", chip_only=True)["mcu light sleep"] == \
        pytest.approx(86400.0 * 0.24)
    v2 = energy.summary(duty, "heltec-v2", "lora", "pedometer")
    assert v2["avg_ma"] == v2["chip_only_avg_ma"]

"""The node's RAM on the unix port with a fixed heap: a short day runs in the measured smallest heap
and not in 1 KiB less, the figures hang together, each module has its own cost, and fit() compares
with the boards' declared heaps."""

from lpwa.tools.cli.node import sim_config
from lpwa.tools.mpy import unix
from lpwa.tools.sim import ram


def test_a_buoy_day_runs_in_the_measured_heap_and_not_in_less(unix_port_exe):
    cfg = sim_config("buoy", "lora")
    with unix.UnixPort(unix_port_exe) as up:
        m = ram.measure(up, cfg, wakes=6)
        assert ram.LOW < m["need"] < ram.HIGH
        heapsize = unix.bisect_heap(lambda h: ram.day_fits(up, cfg, h, 6))
        assert 0 < m["host"] < 16 * 1024  # the simulator's modules, less their names: left out
        assert up.usable(heapsize) - m["host"] == m["need"]
        assert ram.day_fits(up, cfg, heapsize, 6) and not ram.day_fits(up, cfg, heapsize - 1024, 6)
    assert 0 < m["resident"] <= m["peak"] <= m["need"]
    assert m["frames"] >= 1 and m["downlinks"] == 1  # the day covers a frame and a downlink
    assert m["form"] == "mpy" and m["wakes"] == 6
    assert m["boots"] == 6  # a buoy deep-sleeps: each wake is a fresh interpreter, as on the board


def test_deep_sleep_restarts_the_interpreter_and_light_sleep_does_not(unix_port_exe):
    """A deep-sleep wake resumes the board (clock, RTC memory, flash: files, not heap) in a fresh
    interpreter; the pedometer's wakes share one run."""
    import json
    import os

    with unix.UnixPort(unix_port_exe) as up:
        ram.write_config(up, sim_config("drone-vital", "lora"))
        boots = ram.run_day(up, sim_config("drone-vital", "lora"), ram.PROBE_HEAP, 3)
        assert [b["wakes"] for b in boots] == [1, 1, 1]
        storage = os.path.join(up.dir, ram.STORAGE)
        with open(os.path.join(storage, "board.json")) as f:
            board = json.load(f)
        assert board["ms"] > 0 and board["next_cause"] == "deep-sleep"
        assert {"rtc.bin", "flash-counter.bin", "flash-budget.bin"} <= set(os.listdir(storage))
        from lpwa.boards.host.clock import START_S

        half_hour = ram.run_day(up, sim_config("drone-vital", "lora"), ram.PROBE_HEAP, hours=0.5)
        assert half_hour[-1]["ms"] >= START_S * 1000 + 1800000 > half_hour[-2]["ms"]  # by time, not a wake count
        ram.write_config(up, sim_config("pedometer", "lora"))
        assert [b["wakes"] for b in ram.run_day(up, sim_config("pedometer", "lora"), ram.PROBE_HEAP, 3)] == [3]


def test_every_installed_module_has_its_own_cost(unix_port_exe):
    with unix.UnixPort(unix_port_exe) as up:
        costs = ram.module_costs(up)
    names = [n for n, _c, _w in costs]
    assert "lpwa.firmware.app" in names and "lpwa.codecs.cbor" in names and "lpwa.boards.host.board" in names
    by = {n: c for n, c, why in costs if why is None}
    # a module is measured after what it imports: app's cost is its own, not the whole firmware's
    assert 0 < by["lpwa.firmware.app"] < sum(by.values()) / 4
    assert names.index("lpwa.codecs.cbor") < names.index("lpwa.codecs.frame")


def test_fit_gives_margin_per_board():
    f = ram.fit(150 * 1024)
    assert f["heltec-v2"] == {"heap": 111936, "fits": False, "margin": 111936 - 150 * 1024}
    assert f["heltec-v3"]["fits"] and f["tbeam"]["fits"] and "host" not in f
    assert not any(v["fits"] for v in ram.fit(None).values() if v["heap"] < ram.HIGH)

"""The pedometer counts every step: end to end, from the gait model through the host board's
simulated MPU-6050 FIFO, the firmware's continuous counter and the radio, to the gateway's
decoder. The municipal health programme asks for a counting error within 5 % of the real steps.

A full simulated day (12 bouts: walking at waist / pocket / bag, an irregular stroll, a 20 min
run, a bus and a car ride, hand shaking, rests) runs under CPython for each radio; a few hours
of it run under the real MicroPython interpreter and must send the very same frames.
"""

import json

import pytest

from lpwa.boards.host.clock import START_S
from lpwa.tools.cli.node import run_sim, sim_config
from lpwa.tools.sim.gait_day import pedometer_day
from lpwa.gateway.frames import FrameDecoder
from support.firmware import check_duty_cycle

_DAYS = {}
_RUNS = {}
STEP_GOAL = 0.05


def wearer(start_h=0.0, hours=24.0):
    if (start_h, hours) not in _DAYS:
        _DAYS[(start_h, hours)] = pedometer_day(start_h, hours)
    return _DAYS[(start_h, hours)]


def run(radio, start_h=0.0, hours=24.0, interp="cpython", mpy=None, **kw):
    key = (radio, start_h, hours, interp, json.dumps(kw, sort_keys=True))
    if key not in _RUNS:
        cfg = sim_config("pedometer", radio)
        _RUNS[key] = (cfg,) + run_sim(cfg, hours, interp, mpy=mpy, motion=wearer(start_h, hours), **kw)
    return _RUNS[key]


def readings_of(cfg, frames):
    """Decoded readings with the time (s from the day's start) their frame left."""
    c = json.loads(cfg)
    dec = FrameDecoder({c["device"]: bytes.fromhex(c["key"])}.get)
    out = []
    for f in frames:  # one decoder: LoRa readings may come in two fragments
        for d in dec.feed(bytes.fromhex(f["hex"]), f["radio"], f["meta"]):
            if d["type"] == "reading":
                r = dict(d["readings"])
                r["sent_s"] = f["time"] - START_S
                out.append(r)
    return out


def reported(readings):
    return sum(r["steps"]["value"] for r in readings)


def per_group(day, readings):
    """Bouts that share a reading interval (previous reading to this one) are judged together:
    [(names, truth, reported)]. Sigfox's compact frames carry no interval, so the frames'
    own times delimit them."""
    bouts = day["bouts"]
    groups = []
    a = -1.0
    for r in readings:
        b = r["sent_s"]
        inside = [i for i in range(len(bouts)) if bouts[i]["start_s"] < b and a < bouts[i]["end_s"]]
        a = b
        if not inside:
            assert r["steps"]["value"] == 0, "steps counted while resting"
            continue
        if groups and set(inside) & set(groups[-1][0]):
            g = groups[-1]
            g[0] = sorted(set(g[0]) | set(inside))
            g[2] += r["steps"]["value"]
        else:
            groups.append([inside, 0, r["steps"]["value"]])
    out = []
    for idx, _t, rep in groups:
        out.append(([bouts[i]["name"] for i in idx], sum(bouts[i]["truth"] for i in idx), rep))
    return out


def messages(frames):
    """Counters per message, in order (a LoRa reading may go out as two fragments sharing one)."""
    out = []
    for f in frames:
        key = (f["meta"]["counter"], f["meta"]["what"])
        if not out or out[-1] != key:
            out.append(key)
    return [c for c, _w in out]


@pytest.mark.parametrize("radio", ("lora", "sigfox", "wisun"))
def test_a_day_of_steps_within_5_percent_at_the_gateway(radio):
    cfg, frames, events, info = run(radio)
    day = wearer()
    readings = readings_of(cfg, frames)
    truth = day["truth"]
    got = reported(readings)
    assert abs(got - truth) <= STEP_GOAL * truth, (got, truth)
    totals = [r["steps_total"]["value"] for r in readings]
    assert totals == sorted(totals) and totals[-1] == got  # the cumulative total adds up
    for names, t, rep in per_group(day, readings):
        if t:
            assert abs(rep - t) <= STEP_GOAL * t + 2, (names, t, rep)
        else:
            assert rep <= 2, (names, rep)  # bus, car, shaking: no steps
    if radio != "sigfox":  # every interval reported, back to back: nothing falls between readings
        starts = [r["interval_start"]["value"] for r in readings]
        ends = [s + r["interval_s"]["value"] for s, r in zip(starts, readings)]
        assert all(abs(b - a) <= 1 for a, b in zip(ends, starts[1:]))
    counters = messages(frames)
    assert counters == sorted(set(counters))
    check_duty_cycle(radio, frames)
    assert all(f["meta"]["budget"]["ok"] for f in frames)
    ped = info["pedometer"]
    assert ped["overflows"] == 0, "samples lost: a drain came too late"  # Sigfox waits included
    assert ped["fifo_starts"] == 1
    # still periods are skipped: the counter sees the moving hours, not 24 h x 25 Hz
    assert ped["samples"] < 0.1 * 24 * 3600 * 25
    assert ped["samples"] > len(day["blob"]) // 6 * 0.95


@pytest.mark.parametrize("radio,start_h,hours", [("lora", 17.0, 3.0), ("sigfox", 7.0, 2.0)])
def test_micropython_counts_the_same_steps_as_cpython(mpy, radio, start_h, hours):
    cfg, frames, events, info = run(radio, start_h, hours, "micropython", mpy)
    assert info["interpreter"] == "micropython"
    _c, frames_c, _e, info_c = run(radio, start_h, hours)
    assert [f["hex"] for f in frames] == [f["hex"] for f in frames_c]
    assert info["pedometer"] == info_c["pedometer"]
    day = wearer(start_h, hours)
    got = reported(readings_of(cfg, frames))
    assert day["truth"] > 1500 and abs(got - day["truth"]) <= STEP_GOAL * day["truth"], (got, day["truth"])
    assert info["pedometer"]["overflows"] == 0


def test_resets_and_a_watchdog_bite_do_not_lose_the_count():
    """RTC memory keeps the counter through a reset mid-run and a hung sensor mid-walk; the
    IMU never stops sampling, and the watchdog wait itself is drained."""
    cfg, frames, events, info = run("lora", reset_at_h=(17.6, 19.05), hang_at_h=(12.1,))
    kinds = [e["event"] for e in events]
    assert kinds.count("reset") == 2 and kinds.count("watchdog") == 1
    day = wearer()
    got = reported(readings_of(cfg, frames))
    assert abs(got - day["truth"]) <= STEP_GOAL * day["truth"], (got, day["truth"])
    assert info["pedometer"]["fifo_starts"] == 1
    counters = messages(frames)
    assert counters == sorted(set(counters))


def test_power_loss_loses_at_most_the_unsent_interval():
    """Power loss empties RTC memory: the steps since the last reading went out are gone, the
    reported total never goes backwards, and counting resumes at once. (The simulation cuts
    the power at the first wake after 17.7 h: the pedometer wakes every 15 min.)"""
    cfg, frames, events, info = run("wisun", power_loss_at_h=(17.7,))
    readings = readings_of(cfg, frames)
    totals = [r["steps_total"]["value"] for r in readings]
    assert totals == sorted(totals)
    day = wearer()
    lost_at = [e["time"] - START_S for e in events if e["event"] == "power-loss"][0]
    last_sent = max(r["sent_s"] for r in readings if r["sent_s"] < lost_at)
    unsent = 0  # the model's steps between the last reading before the loss and the loss
    for b in day["bouts"]:
        lo, hi = max(b["start_s"], last_sent), min(b["end_s"], lost_at)
        if hi > lo:
            unsent += b["truth"] * (hi - lo) / (b["end_s"] - b["start_s"])
    assert unsent > 1000  # the loss hit the run
    lost = day["truth"] - reported(readings)
    assert abs(lost - unsent) <= STEP_GOAL * day["truth"], (lost, unsent)
    assert info["pedometer"]["fifo_starts"] == 1  # counted since the power came back (RTC stats restart)


def test_host_imu_fifo_fills_overflows_and_latches_motion(mpy):
    """The driver against the host board's MPU-6050: 25 samples/s into the FIFO, overflow after
    6.8 s, the motion latch, under MicroPython."""
    setup = (
        "from lpwa.boards.host.board import HostBoard\n"
        "from lpwa.firmware.drivers.mpu6050 import INT_MOTION, INT_FIFO_OFLOW\n"
        "class C:\n"
        "    def __init__(self): self.n = 0; self.z = []\n"
        "    def feed(self, x, y, z): self.n += 1; self.z.append(z)\n"
        "b = HostBoard('pedometer'); b.boot()\n"
        "imu = b.sensor('imu')\n"
        "fresh = imu.fifo_running(25)\n"
        "imu.start_fifo(25, 8)\n"
        "c = C(); b.clock.sleep_ms(2000); n2 = imu.read_fifo(c)\n"
        "b.clock.sleep_ms(8000); st = imu.status()\n"
        "imu.fifo_reset(); b.clock.sleep_ms(1000); n1 = imu.read_fifo(c)\n"
        "b.clock.ms = b.motion.origin_ms + 8 * 3600000 + 60000; imu.status(); imu.fifo_reset()\n"
        "b.clock.sleep_ms(4000); walking = imu.status()\n"
        "b.clock.ms = b.motion.origin_ms + 3 * 3600000; imu.status(); imu.fifo_reset()\n"
        "b.clock.sleep_ms(4000); still = imu.status()\n"
        "again = b.sensor('imu').fifo_running(25)\n"
    )
    out = mpy.eval_json(setup, "[fresh, n2, st, n1, walking, still, again, min(c.z), max(c.z), INT_MOTION, "
                               "INT_FIFO_OFLOW]")
    fresh, n2, st, n1, walking, still, again, zmin, zmax, motion_bit, oflow_bit = out
    assert not fresh and again
    assert n2 == 50 and n1 == 25
    assert st & oflow_bit
    assert walking & motion_bit and not still & motion_bit
    assert 900 < zmin and zmax < 1100  # at rest: 1 g (+-8 g range, mg out)


def test_config_checks_the_imu_rate():
    from lpwa.firmware import config

    doc = json.loads(sim_config("pedometer", "lora"))
    doc["plan"] = {"imu_rate_hz": 30}
    with pytest.raises(config.ConfigError):
        config.parse(doc)
    doc["plan"] = {"imu_rate_hz": 50}
    assert config.parse(doc)["plan"]["imu_rate_hz"] == 50


def test_config_has_a_step_mode_row_body_or_wrist():
    from lpwa.firmware import config
    from lpwa.firmware.algorithms import steps

    doc = json.loads(sim_config("pedometer", "lora"))
    assert config.parse(doc)["step_mode"] == "body"
    doc["step_mode"] = "wrist"
    assert config.parse(doc)["step_mode"] == "wrist"
    doc["step_mode"] = "ankle"
    with pytest.raises(config.ConfigError):
        config.parse(doc)
    assert config.STEP_MODES == steps.MODES


def test_cli_simulates_the_wearers_day_and_prints_the_step_error(tmp_path):
    import subprocess
    import sys

    out = tmp_path / "ped.jsonl"
    r = subprocess.run([sys.executable, "-m", "lpwa.tools.cli", "node", "simulate", "--kind", "pedometer", "--radio", "wisun",
                        "--hours", "24", "--interpreter", "cpython", "--out", str(out), "--summary-json"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    st = json.loads(r.stdout)["steps"]
    assert st["truth"] == wearer()["truth"] and abs(st["error_pct"]) <= 100 * STEP_GOAL
    assert len(out.read_text().splitlines()) > 90


def test_an_imu_that_stops_answering_costs_only_its_own_time():
    """The I2C bus fails at the 12:15 wake: no tracker, the node deep-sleeps to the next wake
    (no crash, readings still go out), and counting resumes at 12:30; the errand walked in
    between (451 steps) is what is lost."""
    cfg, frames, events, info = run("lora", faults={"i2c": (12.2, 12.3)})
    day = wearer()
    readings = readings_of(cfg, frames)
    errand = [b["truth"] for b in day["bouts"] if b["name"] == "errand"][0]
    lost = day["truth"] - reported(readings)
    assert errand - 10 <= lost <= errand + 10
    assert any(12.24 * 3600 < r["sent_s"] < 12.3 * 3600 for r in readings)  # the faulty wake still reported
    later = [b["truth"] for b in day["bouts"] if b["start_s"] > 12.5 * 3600]
    got_later = reported([r for r in readings if r["sent_s"] > 12.5 * 3600 + 60])
    assert abs(got_later - sum(later)) <= STEP_GOAL * sum(later)

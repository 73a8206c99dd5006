"""A wearer's day for the pedometer simulation, from the documented gait model (lpwa.tools.sim.gait).

Walking and running bouts at waist, pocket and bag, a bus ride, a car ride, hand shaking and
rests, placed on a 24 h clock. `pedometer_day(start_h, hours)` returns the bouts inside that
window as a scene for the host board's simulated IMU (boards/host/motion.MotionScene: segment
list + a blob of int16 samples) and the model's true step count per bout. The firmware never
sees this module: the host board's MPU-6050 samples the scene into its FIFO.
"""

from lpwa.tools.sim import gait

RATE_HZ = 25
LEAD_S = 3.0  # each model trace starts and ends standing still this long

# (start hour, name, model, arguments): the bouts of the day
DAY = (
    (7.50, "walk-to-stop", "gait", dict(cadence_hz=1.7, seconds=480, placement="waist")),
    (7.70, "bus", "vehicle", dict(seconds=1200)),
    (8.10, "walk-to-work", "gait", dict(cadence_hz=1.8, seconds=420, placement="pocket")),
    (10.50, "shaking", "shake", dict(seconds=60)),
    (12.05, "lunch-walk", "gait", dict(cadence_hz=1.6, seconds=600, placement="pocket",
                                      pauses=((200, 12), (420, 9)))),
    (12.30, "errand", "gait", dict(cadence_hz=1.5, seconds=300, placement="bag")),
    (15.00, "stroll", "gait", dict(cadence_hz=1.5, seconds=240, placement="pocket", jitter_pct=8.0,
                                  amp_var_pct=30.0, noise_mg=30.0)),
    (17.50, "run", "gait", dict(cadence_hz=2.7, seconds=1200, placement="waist", running=True)),
    (17.90, "cool-down", "gait", dict(cadence_hz=1.9, seconds=300, placement="waist")),
    (18.50, "car", "vehicle", dict(seconds=900)),
    (19.00, "evening-walk", "gait", dict(cadence_hz=1.6, seconds=600, placement="bag")),
    (21.50, "shaking-2", "shake", dict(seconds=30)),
)


def _trace(name, model, seed, args):
    if model == "gait":
        return gait.gait(name, seed, rate_hz=RATE_HZ, lead_s=LEAD_S, tail_s=LEAD_S, **args)
    return getattr(gait, model)(name, seed, rate_hz=RATE_HZ, **args)


def pedometer_day(start_h=0.0, hours=24.0, seed=1):
    """{"segments", "blob", "truth", "bouts": [{"name", "start_s", "end_s", "truth", "info"}]} for
    the bouts that lie wholly inside [start_h, start_h + hours); times from the window start."""
    segments = []
    parts = []
    bouts = []
    first = 0
    gravity = [0, 0, 1000]
    t_prev = 0
    end_ms = int(hours * 3600000)
    for i in range(len(DAY)):
        h, name, model, args = DAY[i]
        tr = _trace(name, model, seed * 1000 + i, args)
        t0 = int((h - start_h) * 3600000)
        t1 = t0 + len(tr.samples) * 1000 // RATE_HZ
        if t0 < 0 or t1 > end_ms:
            continue
        if t0 > t_prev:
            segments.append(["rest", t_prev, t0] + gravity)
        if model == "gait":
            active = [[t0 + int(LEAD_S * 1000), t1 - int(LEAD_S * 1000)]]
        else:
            active = [[t0, t1]]
        segments.append(["trace", t0, t1, RATE_HZ, first, len(tr.samples), active])
        for s in tr.samples:
            parts.append(s)
        first += len(tr.samples)
        tail = tr.samples[-RATE_HZ:]
        gravity = [sum(s[k] for s in tail) // len(tail) for k in range(3)]
        t_prev = t1
        bouts.append({"name": name, "start_s": t0 / 1000.0, "end_s": t1 / 1000.0, "truth": tr.truth,
                      "info": tr.info})
    if t_prev < end_ms:
        segments.append(["rest", t_prev, end_ms] + gravity)
    import struct

    blob = struct.pack("<%dh" % (3 * len(parts)), *[v for s in parts for v in s])
    return {"segments": segments, "blob": blob, "truth": sum(b["truth"] for b in bouts), "bouts": bouts}


def scene(day):
    """The host board's MotionScene for a pedometer_day() (CPython side)."""
    from lpwa.boards.host.motion import MotionScene

    return MotionScene(day["segments"], day["blob"])

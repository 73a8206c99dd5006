"""Accelerometer traces of walking, running and non-walking motion, with the true step count.

Gait model (per trace, seeded):
- A step phase phi(t) advances 2*pi per step at the instantaneous cadence
  f(t) = f0 * (1 + slow drift (+-4 %, 0.02 Hz random walk)) * (1 + per-step jitter (+-3 %,
  +-8 % on the "irregular" trace)).
  One step is counted at phi = 0 (the bout's first heel strike) and each time phi passes a
  multiple of 2*pi: that is the truth.
- Body-frame specific force (mg), vertical / antero-posterior (AP) / medio-lateral (ML):
  vertical = A_k * shape(phi) (A_k varies +-12 % step to step, +-30 % on the irregular trace),
  AP = 0.5 * A_k * sin(phi + 0.6),
  ML = 0.3 * A * sin(phi / 2) (sway at stride frequency, half the cadence).
  Walking shape: cos(phi) + 0.3 cos(2 phi + theta); running: an impact pulse
  (max(0, cos phi) ** 3, zero mean) plus a smaller cos(phi), peaking at 2.5-3.5 g at the waist.
- Placement: "waist" (fixed tilt), "pocket" (thigh pitch swings +-25 deg at stride frequency,
  plus leg-swing acceleration at stride frequency, alternate steps stronger), "bag" (amplitude
  x 0.6, a 0.9-1.2 Hz pendulum sway, +-10 deg swing).
- The body vector plus gravity (1000 mg up) is rotated into the sensor frame by the placement's
  orientation, white noise (12 mg rms per axis) is added, and it is quantised to int mg and
  clipped at +-16 g like a real accelerometer.

Non-walking models (truth 0 steps): "shake" (hand shaking at 4-8 Hz, 0.5-2 g, direction and
frequency changing every 0.3-1 s), "vehicle" (engine 25-40 Hz at 20-60 mg, road roughness as
band-limited noise ~40 mg rms, suspension bounces: Poisson bumps ringing at 1.1-1.6 Hz with
damping ratio 0.3, 50-250 mg, slow braking / cornering), "desk" (still, noise only).
"""

import math
import random

G = 1000.0  # mg


def _rotation(yaw, pitch, roll):
    cy, sy = math.cos(yaw), math.sin(yaw)
    cp, sp = math.cos(pitch), math.sin(pitch)
    cr, sr = math.cos(roll), math.sin(roll)
    return ((cy * cp, cy * sp * sr - sy * cr, cy * sp * cr + sy * sr),
            (sy * cp, sy * sp * sr + cy * cr, sy * sp * cr - cy * sr),
            (-sp, cp * sr, cp * cr))


def _apply(m, v):
    # sensor = M^T * world (M rotates sensor axes into the world frame)
    return (m[0][0] * v[0] + m[1][0] * v[1] + m[2][0] * v[2],
            m[0][1] * v[0] + m[1][1] * v[1] + m[2][1] * v[2],
            m[0][2] * v[0] + m[1][2] * v[1] + m[2][2] * v[2])


def _quantise(rng, v, noise):
    out = []
    for c in v:
        x = int(round(c + rng.gauss(0.0, noise)))
        out.append(max(-16000, min(16000, x)))
    return tuple(out)


class Trace:
    """Samples (list of (ax, ay, az) int mg), rate, true step count and a description."""

    def __init__(self, name, rate_hz, samples, truth, info):
        self.name = name
        self.rate_hz = rate_hz
        self.samples = samples
        self.truth = truth
        self.info = info


def gait(name, seed, cadence_hz, seconds, placement="waist", running=False, rate_hz=50,
         pauses=(), lead_s=3.0, tail_s=3.0, noise_mg=12.0, jitter_pct=3.0, amp_var_pct=12.0):
    """A walking or running bout (with optional standing pauses: list of (start_s, length_s)
    measured from the start of the bout) framed by `lead_s` / `tail_s` of standing still."""
    rng = random.Random(seed)
    dt = 1.0 / rate_hz
    amp = (rng.uniform(1100, 1500) if running else rng.uniform(250, 380))
    if placement == "bag":
        amp *= 0.6
    harm_phase = rng.uniform(0, 2 * math.pi)
    yaw, pitch0, roll0 = rng.uniform(-math.pi, math.pi), rng.uniform(-0.3, 0.3), rng.uniform(-0.3, 0.3)
    if placement == "pocket":
        pitch0 += math.pi / 2  # phone upright in a front pocket
    if placement == "bag":
        roll0 += rng.uniform(-1.2, 1.2)
    sway_f = rng.uniform(0.9, 1.2)
    sway_phase = rng.uniform(0, 2 * math.pi)
    samples = []
    steps = 1 if seconds > 0 else 0  # the heel strike at phi = 0 that starts the bout
    phi = 0.0
    drift = 0.0
    jitter = 1.0
    step_amp = amp
    total = lead_s + seconds + tail_s
    n = int(total * rate_hz)
    for i in range(n):
        t = i * dt
        tb = t - lead_s
        walking = 0.0 <= tb < seconds and not any(s <= tb < s + d for s, d in pauses)
        body = [0.0, 0.0, 0.0]  # AP, ML, vertical
        pitch, roll = pitch0, roll0
        if walking:
            drift += rng.gauss(0.0, 0.02 * math.sqrt(dt)) - drift * 0.02 * dt
            drift = max(-0.04, min(0.04, drift))
            f = cadence_hz * (1.0 + drift) * jitter
            phi_prev = phi
            phi += 2 * math.pi * f * dt
            if int(phi / (2 * math.pi)) != int(phi_prev / (2 * math.pi)):
                steps += 1
                jitter = 1.0 + rng.uniform(-jitter_pct, jitter_pct) / 100.0
                step_amp = amp * (1.0 + rng.uniform(-amp_var_pct, amp_var_pct) / 100.0)
            if running:
                c = max(0.0, math.cos(phi))
                shape = (c * c * c - 0.2122) * 2.6 + 0.35 * math.cos(phi)
            else:
                shape = math.cos(phi) + 0.3 * math.cos(2 * phi + harm_phase)
            body[2] = step_amp * shape
            body[0] = 0.5 * step_amp * math.sin(phi + 0.6)
            body[1] = 0.3 * amp * math.sin(phi / 2)
            if placement == "pocket":
                swing = math.sin(phi / 2)
                pitch = pitch0 + (0.45 if running else 0.35) * swing
                body[0] += 0.35 * amp * math.cos(phi / 2)
                body[2] *= 1.0 + 0.15 * swing
            elif placement == "bag":
                s = math.sin(2 * math.pi * sway_f * t + sway_phase)
                roll = roll0 + 0.17 * s
                body[1] += 0.25 * amp * s
        else:
            phi = 0.0 if not walking and tb < 0 else phi
        world = (body[0], body[1], body[2] + G)
        m = _rotation(yaw, pitch, roll)
        samples.append(_quantise(rng, _apply(m, world), noise_mg))
    kind = "run" if running else "walk"
    info = "%s %.2f Hz %s %ds" % (kind, cadence_hz, placement, int(seconds))
    if jitter_pct != 3.0 or amp_var_pct != 12.0:
        info += " +-%d%% T, +-%d%% A" % (int(jitter_pct), int(amp_var_pct))
    return Trace(name, rate_hz, samples, steps, info)


def shake(name, seed, seconds, rate_hz=50, noise_mg=12.0):
    """Hand shaking the device: 4-8 Hz, 0.5-2 g, changing direction and frequency."""
    rng = random.Random(seed)
    dt = 1.0 / rate_hz
    samples = []
    phase = 0.0
    t_next = 0.0
    f = amp = 0.0
    axis = (1.0, 0.0, 0.0)
    m = _rotation(rng.uniform(-3, 3), rng.uniform(-1, 1), rng.uniform(-1, 1))
    for i in range(int(seconds * rate_hz)):
        t = i * dt
        if t >= t_next:
            t_next = t + rng.uniform(0.3, 1.0)
            f = rng.uniform(4.0, 8.0)
            amp = rng.uniform(500, 2000)
            a, b = rng.uniform(0, 2 * math.pi), rng.uniform(-1, 1)
            axis = (math.sqrt(1 - b * b) * math.cos(a), math.sqrt(1 - b * b) * math.sin(a), b)
        phase += 2 * math.pi * f * dt
        s = amp * math.sin(phase)
        world = (axis[0] * s, axis[1] * s, axis[2] * s + G)
        samples.append(_quantise(rng, _apply(m, world), noise_mg))
    return Trace(name, rate_hz, samples, 0, "shake 4-8 Hz 0.5-2 g %ds" % int(seconds))


def vehicle(name, seed, seconds, rate_hz=50, noise_mg=12.0):
    """Riding in a car or bus: engine vibration, road roughness, suspension bounces, braking."""
    rng = random.Random(seed)
    dt = 1.0 / rate_hz
    f_engine = rng.uniform(25, 40)
    a_engine = rng.uniform(20, 60)
    f_susp = rng.uniform(1.1, 1.6)
    w = 2 * math.pi * f_susp
    zeta = 0.3
    # suspension as a damped oscillator x'' + 2 zeta w x' + w^2 x = w^2 * kick
    x = v = 0.0
    r1 = r2 = 0.0  # road roughness, a second-order low-pass of white noise
    m = _rotation(rng.uniform(-3, 3), rng.uniform(-0.5, 0.5), rng.uniform(-0.5, 0.5))
    samples = []
    lon = 0.0
    for i in range(int(seconds * rate_hz)):
        t = i * dt
        kick = 0.0
        if rng.random() < 0.5 * dt:  # bumps, Poisson 0.5 /s
            kick = rng.uniform(50, 250) * rng.choice((-1, 1)) / dt * 0.08
        acc = -2 * zeta * w * v - w * w * x + kick
        v += acc * dt
        x += v * dt
        susp = -2 * zeta * w * v - w * w * x
        r1 += (rng.gauss(0, 1) * 40 * math.sqrt(rate_hz / 8.0) - r1) * 0.5
        r2 += (r1 - r2) * 0.5
        lon += (rng.gauss(0, 1) * 3 - lon * 0.01)
        lon = max(-300, min(300, lon))
        vert = susp + r2 + a_engine * math.sin(2 * math.pi * f_engine * t)
        world = (lon + 0.3 * r2, 0.3 * r1, vert + G)
        samples.append(_quantise(rng, _apply(m, world), noise_mg))
    return Trace(name, rate_hz, samples, 0, "vehicle, bumps %.1f Hz, engine %d Hz %ds" % (f_susp, f_engine, int(seconds)))


def desk(name, seed, seconds, rate_hz=50, noise_mg=12.0):
    rng = random.Random(seed)
    m = _rotation(rng.uniform(-3, 3), rng.uniform(-1, 1), rng.uniform(-1, 1))
    samples = [_quantise(rng, _apply(m, (0.0, 0.0, G)), noise_mg) for _ in range(int(seconds * rate_hz))]
    return Trace(name, rate_hz, samples, 0, "still on a desk %ds" % int(seconds))


def bench_traces(scale=1.0):
    """The evaluation set: walking and running at waist, pocket and bag, at 25-100 Hz, plus
    non-walking motion that must count ~0. `scale` shortens every trace (tests use 0.2)."""
    s = lambda x: max(10.0, x * scale)  # noqa: E731
    return [
        gait("walk-waist-1.4Hz", 101, 1.4, s(120), "waist"),
        gait("walk-waist-2.0Hz", 102, 2.0, s(120), "waist"),
        gait("walk-pocket-1.7Hz", 103, 1.7, s(120), "pocket"),
        gait("walk-bag-1.6Hz", 104, 1.6, s(120), "bag"),
        gait("walk-pauses-1.8Hz", 105, 1.8, s(150), "waist",
             pauses=((s(150) / 3, max(4.0, 10 * scale)), (2 * s(150) / 3, max(4.0, 8 * scale)))),
        gait("walk-pocket-25Hz", 106, 1.9, s(120), "pocket", rate_hz=25),
        gait("walk-irregular-1.5Hz", 107, 1.5, s(120), "pocket", jitter_pct=8.0, amp_var_pct=30.0,
             noise_mg=30.0),
        gait("run-waist-2.7Hz", 201, 2.7, s(120), "waist", running=True),
        gait("run-pocket-3.0Hz", 202, 3.0, s(120), "pocket", running=True),
        gait("run-bag-2.5Hz", 203, 2.5, s(120), "bag", running=True),
        gait("run-waist-100Hz", 204, 2.8, s(60), "waist", running=True, rate_hz=100),
        shake("shake", 301, s(60)),
        vehicle("vehicle", 302, s(180)),
        desk("desk", 303, s(60)),
    ]

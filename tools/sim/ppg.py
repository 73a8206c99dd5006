"""MAX30102 red / IR traces with known heart rate and SpO2, plus motion and no-finger segments.

Model (seeded, deterministic), 50 Hz, 18-bit ADC counts:
- Beats: RR intervals 60/HR, modulated +-3 % by respiratory sinus arrhythmia (0.25 Hz) and
  +-2 % random jitter. The true HR is 60 / the mean RR of the trace.
- Pulse: an absorbance waveform per beat, p(u) = systolic Gaussian (u = 0.15, width 0.06) +
  0.4 x diastolic Gaussian (u = 0.45, width 0.10), u the phase within the beat, peak 1.
- Light: IR = DC_ir (1 - PI_ir p (1 + am sin(resp))) (1 + wander sin(resp)), red likewise with
  PI_red = R PI_ir, where R is the ratio of ratios the sensor's own curve gives for the SpO2
  (`curve`, a calibration as in firmware/algorithms/spo2.py; default: the default curve, so an
  uncalibrated estimator is right on it). DC_ir 90 000-150 000 (or `dc`), DC_red 0.6-0.9 of it,
  PI_ir 0.6-2 % (or `pi`: low perfusion is 0.2-1 %), respiration wander 0.3 % of DC (or `wander`,
  0.1-0.3 Hz) and amplitude modulation `am` (0 by default), 25 counts rms noise per channel.
- Motion: both channels multiplied by 1 + m(t), m a sum of three sinusoids of 0.5-4 Hz whose
  amplitudes (0.5-6 %) and frequencies change every 0.5-1.5 s, plus random 3-10 % steps.
- No finger: IR ~1 500 and red ~1 200 counts of ambient light with 100 Hz flicker aliased at
  50 Hz sampling (a DC shift) and noise.
Samples are quantised and clipped to 0..262143 like the sensor's ADC.
"""

import math
import random

from lpwa.firmware.algorithms import spo2 as spo2mod

FULL_SCALE = 262143


class PpgTrace:
    def __init__(self, name, rate_hz, samples, hr, spo2, valid, info):
        self.name = name
        self.rate_hz = rate_hz
        self.samples = samples      # list of (red, ir) ints
        self.hr = hr                # truth, None on traces with no valid reading
        self.spo2 = spo2
        self.valid = valid          # per-sample: True where a reading may be given
        self.info = info
        self.cal = None             # the calibration the estimator is given (None: default curve)
        self.hard = False           # stress at the sensor's limit: no reading is acceptable, a wrong one is not


def _clip(x):
    x = int(round(x))
    return 0 if x < 0 else (FULL_SCALE if x > FULL_SCALE else x)


def _pulse(u):
    a = (u - 0.15) / 0.06
    b = (u - 0.45) / 0.10
    return math.exp(-0.5 * a * a) + 0.4 * math.exp(-0.5 * b * b)


def ppg(name, seed, hr, spo2, seconds=60, rate_hz=50, segments=None, noise=25.0, pi=None, wander=0.003,
        am=0.0, curve=None, dc=None):
    """segments: list of (kind, seconds) with kind "finger", "motion" or "none"; default one
    finger segment of `seconds`."""
    rng = random.Random(seed)
    segments = segments or [("finger", seconds)]
    dc_ir = rng.uniform(90000, 150000)
    dc_ir = dc if dc else dc_ir
    dc_red = dc_ir * rng.uniform(0.6, 0.9)
    pi_ir = rng.uniform(0.006, 0.02)
    pi_ir = pi if pi else pi_ir
    r = spo2mod.r_for(spo2, curve) / 1000.0
    pi_red = r * pi_ir
    resp_f = rng.uniform(0.2, 0.3)
    rr_mean = 60.0 / hr
    samples, valid = [], []
    beat_start, rr = 0.0, rr_mean
    rrs = []
    t = 0.0
    dt = 1.0 / rate_hz
    motion = [(0.0, 1.0, 0.0)] * 3
    motion_next = 0.0
    step = 0.0
    for kind, length in segments:
        for _ in range(int(length * rate_hz)):
            while t >= beat_start + rr:
                beat_start += rr
                rr = rr_mean * (1 + 0.03 * math.sin(2 * math.pi * resp_f * beat_start)) * (1 + rng.uniform(-0.02, 0.02))
                rrs.append(rr)
            resp = math.sin(2 * math.pi * resp_f * t)
            p = _pulse((t - beat_start) / rr) * (1 + am * resp)
            wave = 1 + wander * resp
            if kind == "none":
                flick = 1 + 0.02 * math.sin(2 * math.pi * 100 * t + 0.3)
                ir = 1500 * flick + rng.gauss(0, noise)
                red = 1200 * flick + rng.gauss(0, noise)
            else:
                m = 0.0
                if kind == "motion":
                    if t >= motion_next:
                        motion_next = t + rng.uniform(0.5, 1.5)
                        motion = [(rng.uniform(0.005, 0.06), rng.uniform(0.5, 4.0), rng.uniform(0, 6.3)) for _ in range(3)]
                        if rng.random() < 0.5:
                            step = rng.uniform(0.03, 0.10) * rng.choice((-1, 1))
                    for a, f, ph in motion:
                        m += a * math.sin(2 * math.pi * f * t + ph)
                    m += step
                ir = dc_ir * (1 - pi_ir * p) * wave * (1 + m) + rng.gauss(0, noise)
                red = dc_red * (1 - pi_red * p) * wave * (1 + m) + rng.gauss(0, noise)
            samples.append((_clip(red), _clip(ir)))
            valid.append(kind == "finger")
            t += dt
    true_hr = 60.0 / (sum(rrs) / len(rrs)) if rrs else hr
    has_finger = any(k == "finger" for k, _ in segments)
    info = " + ".join("%s %ds" % (k, int(s)) for k, s in segments)
    return PpgTrace(name, rate_hz, samples, true_hr if has_finger else None,
                    spo2 if has_finger else None, valid, "HR %d SpO2 %d: %s" % (hr, spo2, info))


# A sensor whose optics read differently from the default curve, and its calibration
# (what the README's procedure would fit for it): SpO2 = 112.0 - 14.0 R - 12.0 R^2 from 65 %.
OTHER_SENSOR = (11200, -1400, -1200, 6500)


def calibrated(trace):
    trace.cal = OTHER_SENSOR
    return trace


def hard(trace):
    trace.hard = True
    return trace


def bench_traces(scale=1.0):
    s = lambda x: max(20.0, x * scale)  # noqa: E731
    return [
        ppg("rest-hr62-spo298", 501, 62, 98, s(60)),
        ppg("hr75-spo295", 502, 75, 95, s(60)),
        ppg("hr110-spo292", 503, 110, 92, s(60)),
        ppg("exercise-hr150-spo297", 504, 150, 97, s(60)),
        ppg("hypoxic-hr88-spo286", 505, 88, 86, s(60)),
        ppg("brady-hr48-spo299", 506, 48, 99, s(60)),
        ppg("motion", 507, 80, 97, segments=[("motion", s(60))]),
        ppg("no-finger", 508, 70, 97, segments=[("none", s(30))]),
        ppg("finger-motion-finger", 509, 70, 96,
            segments=[("finger", s(30)), ("motion", s(20)), ("finger", s(30))]),
    ] + stress_traces()


def stress_traces():
    """Short records and the real sensor's troubles: low perfusion, wander, respiratory modulation,
    another sensor's curve (calibrated), hypoxia on the default curve."""
    return [
        ppg("short5s-hr72", 521, 72, 97, 5),
        ppg("short6s-hr60", 522, 60, 98, 6),
        hard(ppg("short8s-hr95-pi0.3", 523, 95, 96, 8, pi=0.003)),
        hard(ppg("lowpi0.2-hr70", 524, 70, 97, 20, pi=0.002)),
        hard(ppg("lowpi0.5-wander1%-hr84", 525, 84, 95, 20, pi=0.005, wander=0.01)),
        ppg("resp-am30%-hr66", 526, 66, 98, 20, am=0.3),
        hard(ppg("lowdc30k-pi0.4-hr78", 527, 78, 97, 20, pi=0.004, dc=30000)),
        calibrated(ppg("other-sensor-cal-spo290", 528, 80, 90, 20, curve=OTHER_SENSOR)),
        calibrated(ppg("other-sensor-cal-spo275", 529, 92, 75, 20, curve=OTHER_SENSOR)),
        ppg("default-curve-spo278", 530, 100, 78, 20),
        ppg("below-range-spo262", 531, 110, 62, 20),
    ]

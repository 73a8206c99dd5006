"""Buoy vertical acceleration in a sea state of known Hm0 and Tp.

Model (seeded, deterministic):
- Spectrum: JONSWAP, S(f) = a g^2 (2 pi)^-4 f^-5 exp(-5/4 (fp/f)^4) gamma^r,
  r = exp(-(f - fp)^2 / (2 sigma^2 fp^2)), sigma = 0.07 below fp and 0.09 above;
  gamma = 1 is Pierson-Moskowitz. The level `a` is scaled so that 4 sqrt(m0) = Hm0 exactly.
- Surface: random-phase superposition eta(t) = sum a_i cos(2 pi f_i t + phi_i) with
  a_i = sqrt(2 S(f_i) df) (df = 1 / record length, 0.03-1.2 Hz), each f_i jittered uniformly
  inside its bin so the record is not periodic in any FFT window, phases uniform in [0, 2 pi).
- Truth: Hm0 = 4 x the standard deviation of the simulated surface over the record (the
  record's own height; the nominal spectral Hm0 differs from it by sampling variability).
- The buoy follows the surface: vertical acceleration -sum (2 pi f_i)^2 a_i cos(...), tilting with
  the surface slope theta = sum k_i a_i sin(...) (deep water, k = (2 pi f)^2 / g), and the
  accelerometer's z axis reads (g + a_v) cos(theta) + a_h sin(theta) with the horizontal
  orbital acceleration a_h, plus 1 mg rms white noise (a MEMS IMU of 100-200 ug/sqrt(Hz)
  averaged to 4 Hz, plus mounting vibration), quantised to int mg.
"""

import math
import random

G = 9.80665


def jonswap(f, fp, gamma):
    if f <= 0:
        return 0.0
    sigma = 0.07 if f <= fp else 0.09
    r = math.exp(-((f - fp) ** 2) / (2 * sigma * sigma * fp * fp))
    return f ** -5 * math.exp(-1.25 * (fp / f) ** 4) * gamma ** r


class SeaTrace:
    def __init__(self, name, rate_hz, samples, hm0, tp, info):
        self.name = name
        self.rate_hz = rate_hz
        self.samples = samples
        self.hm0 = hm0
        self.tp = tp
        self.info = info


def sea_state(name, seed, hm0, tp, gamma=3.3, seconds=256, rate_hz=4, noise_mg=1.0, tilt=True):
    rng = random.Random(seed)
    fp = 1.0 / tp
    df = 1.0 / seconds
    comps = []
    i = max(1, int(0.03 / df))
    while i * df <= 1.2:
        f = i * df
        comps.append([f, jonswap(f, fp, gamma)])
        i += 1
    m0_shape = sum(s for _, s in comps) * df
    level = (hm0 / 4.0) ** 2 / m0_shape
    waves = []
    for f, s in comps:
        a = math.sqrt(2 * s * level * df)
        # frequency jittered inside its bin, so the record is not periodic in any FFT window
        w = 2 * math.pi * (f + rng.uniform(-0.5, 0.5) * df)
        waves.append((w, a, w * w / G, rng.uniform(0, 2 * math.pi)))
    samples = []
    etas = []
    for n in range(int(seconds * rate_hz)):
        t = n / rate_hz
        av = ah = slope = eta = 0.0
        for w, a, k, ph in waves:
            c = math.cos(w * t + ph)
            s = math.sin(w * t + ph)
            eta += a * c
            av -= w * w * a * c
            ah += w * w * a * s
            slope += k * a * s
        if not tilt:
            slope = 0.0
        az = (G + av) * math.cos(slope) + ah * math.sin(slope)
        samples.append(int(round(az / G * 1000.0 + rng.gauss(0.0, noise_mg))))
        etas.append(eta)
    mean = sum(etas) / len(etas)
    true_hm0 = 4.0 * math.sqrt(sum((e - mean) ** 2 for e in etas) / len(etas))
    kind = "PM" if gamma == 1 else "JONSWAP g=%.1f" % gamma
    return SeaTrace(name, rate_hz, samples, true_hm0, tp,
                    "%s Hm0 %.2f m Tp %.1f s, %d s" % (kind, hm0, tp, seconds))


def bench_traces(seconds=256):
    return [
        sea_state("pm-hm0-0.5-tp5", 401, 0.5, 5.0, gamma=1.0, seconds=seconds),
        sea_state("pm-hm0-1.5-tp7", 402, 1.5, 7.0, gamma=1.0, seconds=seconds),
        sea_state("jonswap-hm0-1.0-tp6", 403, 1.0, 6.0, seconds=seconds),
        sea_state("jonswap-hm0-2.5-tp9", 404, 2.5, 9.0, seconds=seconds),
        sea_state("jonswap-hm0-4.0-tp11", 405, 4.0, 11.0, seconds=seconds),
        sea_state("swell-hm0-0.8-tp14", 406, 0.8, 14.0, gamma=7.0, seconds=seconds),
        sea_state("chop-hm0-0.3-tp3.5", 407, 0.3, 3.5, seconds=seconds),
    ]

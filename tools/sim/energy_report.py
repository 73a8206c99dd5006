"""The energy part of `lpwa node report`: metered days through the model, printed with its sources."""

import json
import sys

from lpwa.tools.sim import energy
from lpwa.tools.sim.energy_meter import meter_day

BOARDS = ("heltec-v2", "heltec-v3", "ttgo-lora32-v21", "tbeam")
SHOWN = ("heltec-v2", "heltec-v3")  # ttgo-lora32-v21 and tbeam have heltec-v2's chips and no board row
IMU_RATES = (25, 50)


def day_energy(cfg_json, hours, motion=None):
    """{"duty": metered seconds a day, "boards": {board: energy.summary}} for one config."""
    cfg = json.loads(cfg_json)
    duty = meter_day(cfg_json, hours, motion)
    return {"hours": hours, "duty": _rounded(duty), "boards": {b: energy.summary(duty, b, cfg["radio"], cfg["kind"]) for b in BOARDS}}


def _rounded(duty):
    out = {k: round(v, 1) for k, v in duty.items() if k != "sensor_on_s"}
    out["sensor_on_s"] = {k: round(v, 1) for k, v in duty["sensor_on_s"].items()}
    return out


def with_imu_rate(cfg_json, rate_hz):
    from lpwa.firmware import config

    doc = json.loads(cfg_json)
    doc["plan"]["imu_rate_hz"] = rate_hz
    return config.to_json(config.parse(doc))


def imu_rate_cost(cfg_json, hours, motion):
    """The pedometer at each IMU rate: drains, samples, MCU awake and average current (issue #11)."""
    out = {}
    for rate in IMU_RATES:
        e = day_energy(with_imu_rate(cfg_json, rate), hours, motion)
        d = e["duty"]
        out[rate] = {"drains": d.get("drains", 0), "samples": d.get("samples", 0),
                     "avg_ma": {b: e["boards"][b]["avg_ma"] for b in SHOWN},
                     "awake_s": {b: e["boards"][b]["seconds"]["awake"] for b in SHOWN}}
    return out


def add(rows, sim_config, hours, motion=None):
    """Give every report row (kind, radio) its "energy"; the pedometer rows also the IMU-rate costs."""
    for r in rows:
        cfg = sim_config(r["kind"], r["radio"])
        m = motion if r["kind"] == "pedometer" else None
        r["energy"] = day_energy(cfg, hours, m)
        if r["kind"] == "pedometer" and r["radio"] == "lora":
            r["energy"]["imu_rate"] = imu_rate_cost(cfg, hours, m)
    return rows


def print_section(rows, out=sys.stdout):
    w = out.write
    w("\nEnergy (lpwa.tools.sim.energy): the same app metered on CPython over a simulated %s per kind x radio, "
      "scaled to a day; currents from the rows below\n" % _span(rows))
    w("| kind | radio | wakes/day (from deep) | MCU awake s/day | light sleep s/day | TX s/day | RX s/day | "
      "sensors on s/day | %s |\n" % " | ".join("%s avg mA / life days" % b for b in SHOWN))
    w("|---|---|---|---|---|---|---|---|%s\n" % ("---|" * len(SHOWN)))
    for r in rows:
        e = r["energy"]
        d, s = e["duty"], e["boards"][SHOWN[0]]["seconds"]
        sensors = ", ".join("%s %.0f" % (p, d["sensor_on_s"][p]) for p in sorted(d["sensor_on_s"]))
        w("| %s | %s | %.0f (%.0f) | %.0f | %.0f | %.1f | %.1f | %s | %s |\n" % (
            r["kind"], r["radio"], d["wakes"], d["wakes_from_deep"], s["awake"], s["light"], d["tx_s"], d["rx_s"],
            sensors, " | ".join("%.2f / %.0f" % (e["boards"][b]["avg_ma"], e["boards"][b]["life_days"])
                                for b in SHOWN)))
    _battery_lines(rows, w)
    _board_row_lines(rows, w)
    _imu_rate_lines(rows, w)
    _model_lines(w)


def _span(rows):
    return "%g h" % rows[0]["energy"]["hours"] if rows else "day"


def _battery_lines(rows, w):
    seen = []
    for r in rows:
        if r["kind"] in seen:
            continue
        seen.append(r["kind"])
        lives = ["%s/%s %.0f d" % (x["radio"], b, x["energy"]["boards"][b]["life_days"])
                 for x in rows if x["kind"] == r["kind"] for b in SHOWN]
        w("Battery life, %s on %s (x %.1f usable, %.0f %%/month self-discharge): %s\n" % (
            r["kind"], energy.CELLS[r["kind"]]["name"], energy.DERATE, 100 * energy.SELF_DISCHARGE_PER_MONTH,
            ", ".join(lives)))


def _board_row_lines(rows, w):
    """Where a board measurement moved the figure, what the chip datasheets alone would give."""
    for b in SHOWN:
        moved = ["%s/%s %.2f mA (%.0f d)" % (r["kind"], r["radio"], r["energy"]["boards"][b]["chip_only_avg_ma"],
                                             r["energy"]["boards"][b]["chip_only_life_days"])
                 for r in rows if abs(r["energy"]["boards"][b]["chip_only_avg_ma"] - r["energy"]["boards"][b]["avg_ma"])
                 > 0.01 * r["energy"]["boards"][b]["avg_ma"]]
        if moved:
            w("%s with chip datasheet figures only (no board measurement): %s\n" % (b, ", ".join(moved)))


def _imu_rate_lines(rows, w):
    for r in rows:
        rates = r["energy"].get("imu_rate")
        if not rates:
            continue
        w("IMU rate (pedometer/%s): " % r["radio"] + "; ".join(
            "%d Hz: %.0f drains and %.0f samples a day, MCU awake %s s, avg %s mA" % (
                rate, rates[rate]["drains"], rates[rate]["samples"],
                " / ".join("%.0f" % rates[rate]["awake_s"][b] for b in SHOWN),
                " / ".join("%.2f" % rates[rate]["avg_ma"][b] for b in SHOWN)) for rate in sorted(rates))
          + " (%s); the IMU's own current is the same at both rates\n" % " / ".join(SHOWN))


def _model_lines(w):
    w("Model: average = (awake s x MCU active + light s x MCU light + deep s x MCU deep + TX s x radio TX + RX s x "
      "radio RX + sensors' on s x on current + their idle) / 86400 s. Awake includes %.1f s boot per wake from deep "
      "sleep, %.1f ms per FIFO drain and %.2f ms per IMU sample (estimates). Currents at 3.3 V; a linear LDO passes "
      "them to the cell unchanged. A board measurement replaces the chip row for its board. Sigfox: each downlink "
      "request counts the module's whole 25 s listening window as RX (an upper bound).\n" % (
          energy.row("boot", "s")["ma"], energy.row("drain", "ms")["ma"], energy.row("sample", "ms")["ma"]))
    w("| part | state | mA | level | checked | source |\n|---|---|---|---|---|---|\n")
    for r in energy.ROWS:
        w("| %s | %s | %g | %s | %s | %s |\n" % (r["part"], r["state"], r["ma"], r["level"],
                                                 "yes" if r["checked"] else "no", r["source"]))

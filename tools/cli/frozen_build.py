"""The frozen-firmware build, as boards/BOARDS.md documents it (boards_markdown() appends it).

Why a section of its own: the ESP32 image build is the user's (ESP-IDF); what this repo gives is
the tree (`lpwa flash --tree`), the manifest, and the exact commands, kept next to the pins.
"""

DOCUMENTED_HEAP = (39 * 1024, 48 * 1024)  # the frozen figures below (re-measured only where a frozen port is built)

MARKDOWN = """## Frozen firmware: an ESP32 image with lpwa-edge inside

Frozen modules run from flash: their bytecode and most interned names never enter the heap,
which is what makes a node fit an ESP32 without PSRAM. Measured on the unix port built like an
ESP32 (MicroPython 1.25.0 from Debian trixie's source package, 32-bit, single-precision floats,
fixed heap; `python -m lpwa.tools.mpy.frozen_unix SOURCE` builds it with this manifest and the
host simulation frozen in), the smallest heap that runs the measured day (boot, 14 wakes, full
frames, a downlink, each deep-sleep wake a fresh interpreter, boards/esp32.py and the frozen
profile table imported; by bisection, usable KiB, the simulator's own modules left out):
39-48 KiB frozen (buoy 42-48, drone-vital 39-41, pedometer 43-44), against 90-103 KiB with the
.mpy files `lpwa flash` installs.
tests/boards/test_frozen_day.py runs every kind x radio frozen in 64 KiB when
$LPWA_MICROPYTHON_FROZEN names such a port.
Three steps:

1. Lay out the tree the manifest reads, exactly the files `boards/manifest.py` names:

       lpwa flash --tree ~/lpwa-tree        # makes ~/lpwa-tree/lpwa/<folder>/...; refuses an existing one

2. A board manifest that keeps the port's own frozen modules (the ESP32 port's
   `boards/manifest.py` freezes `_boot.py`, which mounts the filesystem: a FROZEN_MANIFEST that
   leaves it out gives a board without one) and adds lpwa-edge and the LoRa driver:

       # ~/lpwa-esp32-manifest.py
       include("$(PORT_DIR)/boards/manifest.py")
       include("/path/to/lpwa-edge/boards/manifest.py")
       require("lora-sync")
       require("lora-sx127x")   # heltec-v2, ttgo-lora32-v21, tbeam; "lora-sx126x" for heltec-v3

3. Build and flash with ESP-IDF (the version MicroPython's `ports/esp32/README.md` names for
   the release you check out). `$(LPWA_TREE)` reaches the manifest as a `MICROPY_MANIFEST_*`
   variable: on the make-based ports as `MICROPY_MANIFEST_LPWA_TREE=DIR`, on the ESP32's CMake
   build as `-DMICROPY_MANIFEST_LPWA_TREE=DIR` in `CMAKE_ARGS`:

       git clone https://github.com/micropython/micropython && cd micropython && git checkout v1.27.0
       make -C mpy-cross
       cd ports/esp32 && . $IDF_PATH/export.sh && make submodules
       make BOARD=ESP32_GENERIC FROZEN_MANIFEST=$HOME/lpwa-esp32-manifest.py \\
           CMAKE_ARGS=-DMICROPY_MANIFEST_LPWA_TREE=$HOME/lpwa-tree          # heltec-v2, ttgo, tbeam
       make BOARD=ESP32_GENERIC_S3 FROZEN_MANIFEST=... CMAKE_ARGS=...         # heltec-v3
       make BOARD=ESP32_GENERIC PORT=/dev/ttyUSB0 deploy

   Then `lpwa flash --board ... --config node.toml --port /dev/ttyUSB0` as usual for the config,
   boot.py and main.py. It still copies the .mpy files to /lib/lpwa; the frozen modules win
   (`.frozen` comes before `/lib` in `sys.path`), so the copy only costs flash space.

The same manifest freezes the project into the unix port (what the tests can run; a MicroPython
source tree is needed, e.g. Debian's `micropython` source package, 1.25.0 in trixie;
`python -m lpwa.tools.mpy.frozen_unix SOURCE` does this, adding the host simulation):

    make -C ports/unix VARIANT=standard MICROPY_FORCE_32BIT=1 MICROPY_PY_FFI=0 MICROPY_PY_BTREE=0 \\
        CFLAGS_EXTRA='-DMICROPY_FLOAT_IMPL=MICROPY_FLOAT_IMPL_FLOAT' \\
        FROZEN_MANIFEST=/path/to/lpwa-edge/boards/manifest.py MICROPY_MANIFEST_LPWA_TREE=$HOME/lpwa-tree
""".splitlines()

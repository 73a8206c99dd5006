"""Import, at boot, every module this node's kind and radio will use in the wake, then collect.

A .mpy module's bytecode and tables are allocated on the heap when it is imported and stay
there. Imported midway through the wake, they land between the wake's short-lived data (sample
buffers, frames) and pin the heap into pieces too small for the next buffer: measured on the
ESP32-like unix port (tools/mpy/heap_probe.py), that fragmentation cost more heap than the
wake's data itself. Imported first, they sit together at the bottom of the heap. Only what the
kind and radio need: a buoy never imports the pulse oximeter, a Sigfox node never CBOR.

Two phases: sampling, then sending. A buoy or drone-vital needs its sensor drivers and
estimators only while sampling, and the codec only after: `boot` imports the sampling set, the
app unloads it when the sensors are done (`unload`, after a collection the heap is the resident
part and the readings), and `sending` imports the codec into the room it left. The peak is then
the larger phase, not their sum. The pedometer samples all day (FIFO drains), so it keeps both,
but not the sampler (sampler_modules).
"""

import gc
import sys

# the heap the phases arrange is MicroPython's: on CPython (the simulations, the energy meter) a full
# collection of a big process at every phase of every simulated wake only costs time
_COLLECT = sys.implementation.name == "micropython"

_COMMON = ("lpwa.firmware.drivers.battery",)
_SEND_COMMON = ("lpwa.radio.budget", "lpwa.radio.airtime")
_SEND = ("lpwa.codecs.encoder", "lpwa.codecs.keys")
_KIND = {
    "buoy": ("lpwa.firmware.sensing_buoy", "lpwa.firmware.drivers.gps", "lpwa.firmware.drivers.ds18b20", "lpwa.firmware.drivers.conductivity",
             "lpwa.firmware.drivers.mpu6050", "lpwa.firmware.algorithms.imu_waves"),
    "drone-vital": ("lpwa.firmware.sensing_vitals", "lpwa.firmware.drivers.gps", "lpwa.firmware.drivers.max30102", "lpwa.firmware.algorithms.ppg"),
    "pedometer": ("lpwa.firmware.sensing_steps", "lpwa.firmware.drivers.mpu6050", "lpwa.firmware.pedometer",
                  "lpwa.firmware.algorithms.steps"),
}
_RADIO = {
    "lora": ("lpwa.firmware.drivers.radio_lora",),
    "sigfox": ("lpwa.firmware.sigfox_seq", "lpwa.firmware.drivers.radio_sigfox"),
    "wisun": ("lpwa.radio.skstack_node", "lpwa.firmware.drivers.radio_wisun"),
}
# this kind's schema table (codecs/schema_base.kind_schema), the only one a node loads
_SCHEMA = {"buoy": "lpwa.codecs.schema_buoy", "drone-vital": "lpwa.codecs.schema_drone_vital",
           "pedometer": "lpwa.codecs.schema_pedometer"}
# the codec each radio's encoder uses (firmware/uplink.py: v2 on LoRa, compact on Sigfox, v1 on Wi-SUN)
_CODEC = {"lora": "lpwa.codecs.packed", "sigfox": "lpwa.codecs.compact", "wisun": "lpwa.codecs.full"}


# what only sampling uses, with the modules those import (unloaded after it); not the pedometer's
_SAMPLERS = ("lpwa.firmware.sensing",)
_SAMPLING_ONLY = {
    "buoy": _KIND["buoy"] + _SAMPLERS + ("lpwa.firmware.algorithms.attitude", "lpwa.firmware.algorithms.waves",
                                         "lpwa.firmware.algorithms.fft"),
    "drone-vital": _KIND["drone-vital"] + _SAMPLERS + ("lpwa.firmware.algorithms.spo2",),
}


def modules(kind, radio):
    """The module names a wake of this kind and radio imports (both phases), in import order."""
    return boot_modules(kind, radio) + send_modules(radio)


def boot_modules(kind, radio):
    """What boot imports: this kind's sampling (and, for a kind that samples all day, the sending
    phase's too: it has no phase without its sensors)."""
    mods = _COMMON + ((_SCHEMA[kind],) if kind in _SCHEMA else ()) + _KIND.get(kind, ())
    return mods if kind in _SAMPLING_ONLY else mods + send_modules(radio)


def send_modules(radio):
    """The sending phase's: the budget, the radio driver, the encoder and this radio's codec."""
    return _SEND_COMMON + _RADIO.get(radio, ()) + _SEND + ((_CODEC[radio],) if radio in _CODEC else ())


# a kind that keeps its sensors (the pedometer: its step counter drains the IMU FIFO all day) still
# drops the sampler itself once sampling is done; the next wake's boot imports it again
_SAMPLER = {"pedometer": ("lpwa.firmware.sensing_steps",) + _SAMPLERS}


def sampler_modules(kind):
    """The sampler's modules a kind that keeps its sensors unloads after sampling (empty: none)."""
    return _SAMPLER.get(kind, ())


def sampling_only(kind):
    """What the end of sampling unloads for this kind (empty: it keeps its sensors)."""
    return _SAMPLING_ONLY.get(kind, ())


def preload(kind, radio, names=None):
    """Import `names` (default: both phases; a module missing from this image is skipped: the
    wake reports it), collecting after each: what loading a .mpy leaves behind (its reader, the
    names it read) is then freed before the next module's bytecode is placed, which fills those
    holes instead of leaving them between the modules (measured, ram.need: 2-8 KiB less per
    kind x radio; one collection per module costs the boot a few ms on an ESP32)."""
    for name in modules(kind, radio) if names is None else names:
        try:
            __import__(name)
        except ImportError:
            pass
        if _COLLECT:
            gc.collect()


def unload(*names):
    """Forget modules a phase of the wake used and the rest will not (their bytecode, tables and
    qstr-free objects become garbage), then collect. On a board each wake is a fresh interpreter,
    so what one phase needed does not add to the peak of the next (issue #14). A module is kept
    alive by sys.modules and by its parent package's attribute: both go."""
    for name in names:
        if sys.modules.pop(name, None) is None:
            continue
        parent, _dot, leaf = name.rpartition(".")
        pkg = sys.modules.get(parent)
        if pkg is not None and leaf in getattr(pkg, "__dict__", {}):
            try:
                delattr(pkg, leaf)
            except AttributeError:
                pass
    if _COLLECT:
        gc.collect()


def intern(names):
    """Import `names` and forget them again with what they brought in: their bytecode goes, the
    names they interned stay (qstr pools are never freed), at the bottom of the heap. Importing
    them later then allocates only bytecode, not qstr pool chunks (the largest allocations, up
    to 1.3 KB), in a heap the wake has cut up. Measured (ram.need): worth it for the downlink
    modules; for the sending phase's codec it helped LoRa and Wi-SUN rows and cost Sigfox ones
    up to 7 KiB, so it is not done there."""
    before = set(sys.modules)
    preload(None, None, names)
    unload(*[name for name in sys.modules if name not in before])

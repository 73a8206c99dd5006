"""The unix port of MicroPython built like an ESP32 (32-bit, float32, fixed heap): find it, run on it.

Unlike the WebAssembly port (lpwa.tools.mpy.MicroPython), its heap has a fixed size and a real
collector, so `-X heapsize=N` answers "does this run in N bytes of MicroPython heap?". What runs
is the installed form: every module boards/manifest.py names, compiled by mpy-cross exactly as
`lpwa flash` puts them on a board, plus the host simulation (boards/host, also compiled) that
stands in for the sensors, the radio and the world.

The host simulation is hardware, not node code, so it is kept out of the heap being measured: its
.mpy files go into a ROMFS image (mpremote's writer) that every run mounts over
lpwa/boards/host before anything else, and its bytecode then runs in place from the image. The
image's buffer is the one heap block allocated first; `usable` leaves it out, so a heap figure
here is what the node itself gets (lpwa.tools.sim.ram also leaves out the heap the simulator's
modules take when loaded, but not the names they intern). What the simulation allocates at run
time (its objects, the simulated world's state) stays in the measured heap: an overcount.

Where the interpreter comes from, first found wins: $LPWA_MICROPYTHON (when set, only it),
`micropython` on PATH, ../shared/tools/micropython-unix/micropython beside the checkout.
$LPWA_MICROPYTHON_FROZEN names a unix port with the project frozen in (boards/manifest.py and the
host simulation; lpwa.tools.mpy.frozen_unix builds one).
"""

import os
import shutil
import subprocess
import tempfile

from lpwa.tools.mpy import board_sources, manifest

SHARED_BINARY = ("shared", "tools", "micropython-unix", "micropython")
HOST = "lpwa/boards/host"  # the simulated board: mounted from ROM, outside the measured heap
ROM_IMAGE = "host.romfs"
RUN_TIMEOUT_S = 300
KIB = 1024


class UnixPortError(RuntimeError):
    """The unix port is missing, or a run failed for a reason other than running out of heap."""


def checkout_root():
    """The folder holding the `lpwa` folders (codecs/, boards/, ...): the checkout."""
    return os.path.dirname(manifest.package_dir("boards"))


def find():
    """Path of the unix-port interpreter, or None; see the module docstring for the order."""
    env = os.environ.get("LPWA_MICROPYTHON")
    if env:
        return env if _executable(env) else None
    for cand in (shutil.which("micropython"), os.path.join(os.path.dirname(checkout_root()), *SHARED_BINARY)):
        if cand and _executable(cand):
            return cand
    return None


def find_frozen():
    """$LPWA_MICROPYTHON_FROZEN when it names an executable (a unix port with lpwa frozen in), else None."""
    env = os.environ.get("LPWA_MICROPYTHON_FROZEN")
    return env if env and _executable(env) else None


def _executable(path):
    return os.path.isfile(path) and os.access(path, os.X_OK)


def where_looked():
    return "$LPWA_MICROPYTHON, micropython on PATH, ../shared/tools/micropython-unix/micropython"


def install(dest, frozen=False, opt=None):
    """Compile the manifest's modules and the host simulation with mpy-cross into dest/lpwa/...;
    returns the installed target paths (.mpy). frozen: nothing (the image holds them all, host
    simulation included: see lpwa.tools.mpy.frozen_unix). opt: an mpy-cross -O flag other than the
    one `lpwa flash` uses (for measuring what it buys)."""
    from lpwa.tools.cli.flash import MPY_OPT, compile_files

    if frozen:
        return []
    files = [(src, t[:-3] + ".mpy") for src, t in board_sources()]
    compile_files(dest, files, opt or MPY_OPT)
    return [t for _s, t in files]


def move_to_rom(dest, folder=HOST):
    """Pack dest/folder's files into a ROMFS image dest/ROM_IMAGE and remove the folder; returns the
    image's size. MicroPython runs .mpy from a ROMFS image in place (vfs.VfsRom, MicroPython 1.25+)."""
    from mpremote.romfs import VfsRomWriter

    src = os.path.join(dest, *folder.split("/"))
    w = VfsRomWriter()
    for name in sorted(os.listdir(src)):
        with open(os.path.join(src, name), "rb") as f:
            w.mkfile(name, f.read())
    image = w.finalise()
    with open(os.path.join(dest, ROM_IMAGE), "wb") as f:
        f.write(image)
    shutil.rmtree(src)
    return len(image)


# Run first: the tree mounted at /lib, where a board keeps it (so __file__ and the .mpy's source names are
# the board's strings: lpwa.tools.cli.flash.BOARD_LIB), and sys.path = [/lib]; the host image read into
# one buffer allocated before anything else and mounted over /lib/lpwa/boards/host; _rom is that
# buffer's heap cost (with the mounts'). The working folder stays the tree (cfg.json is read from it).
MOUNT = """import gc, sys, vfs
gc.collect()
_rom = gc.mem_alloc()
_image = bytearray(%(size)d)
with open(%(image)r, "rb") as _f:
    _f.readinto(_image)
vfs.mount(vfs.VfsRom(_image), %(lib)r + "/" + %(host)r)  # first: a mount inside a mounted /lib is refused
vfs.mount(vfs.VfsPosix(%(dir)r), %(lib)r)
sys.path[:] = [%(lib)r]
del _f
gc.collect()
_rom = gc.mem_alloc() - _rom
"""


def failure(r):
    """The last line of what a failed run printed (the unix port prints tracebacks on stdout)."""
    lines = (r.stderr.strip() or r.stdout.strip()).splitlines()
    if r.stdout.strip() and "Traceback" in r.stdout:
        lines = r.stdout.strip().splitlines()
    return lines[-1] if lines else "exit %d" % r.returncode


def bisect_heap(fits, lo=32 * KIB, hi=512 * KIB):
    """The smallest heap in whole KiB for which fits(heap_bytes) holds; None if even `hi` does not."""
    if not fits(hi):
        return None
    lo_k, hi_k = lo // KIB, hi // KIB  # invariant: hi_k fits; lo_k - 1 assumed not to
    if fits(lo_k * KIB):
        return lo_k * KIB
    while hi_k - lo_k > 1:
        mid = (lo_k + hi_k) // 2
        if fits(mid * KIB):
            hi_k = mid
        else:
            lo_k = mid
    return hi_k * KIB


class UnixPort:
    """One installed tree and the interpreter that runs it; each run is a fresh process.

    >>> with UnixPort() as up:
    ...     up.run("print(1 + 1)", 64 * 1024).stdout
    '2\\n'
    """

    def __init__(self, exe=None, frozen=False, opt=None):
        self.exe = exe or (find_frozen() if frozen else find())
        if self.exe is None:
            raise UnixPortError("no unix-port MicroPython (looked at %s)" % where_looked())
        self.frozen = frozen
        self.dir = tempfile.mkdtemp(prefix="lpwa-unix-")
        self.prelude, self.rom_bytes = "", 0
        try:
            self.modules = install(self.dir, frozen, opt)
            if frozen:
                self._check_frozen()
            else:
                self._mount_host()
        except Exception:
            shutil.rmtree(self.dir, ignore_errors=True)
            raise

    def _mount_host(self):
        size = move_to_rom(self.dir)
        from lpwa.tools.cli.flash import BOARD_LIB

        self.prelude = MOUNT % {"dir": self.dir, "size": size, "image": os.path.join(self.dir, ROM_IMAGE), "host": HOST,
                                "lib": BOARD_LIB.rstrip("/")}
        r = self.run("print(_rom)", 512 * KIB)
        if r.returncode != 0:
            raise UnixPortError("%s cannot mount the host simulation from ROMFS (MicroPython 1.25+ with "
                                "vfs.VfsRom): %s" % (self.exe, failure(r)))
        self.rom_bytes = int(r.stdout)

    def _check_frozen(self):
        r = self.run("import lpwa.firmware.app, lpwa.boards.host.simulate", 512 * KIB)
        if r.returncode != 0:
            raise UnixPortError("%s does not hold lpwa and its host simulation frozen (%s): build it with "
                                "python -m lpwa.tools.mpy.frozen_unix" % (self.exe, failure(r)))

    def write(self, name, text):
        """A data file beside the tree (e.g. a config); returns its path."""
        path = os.path.join(self.dir, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def run(self, code, heap_bytes):
        """Run `code` (after the prelude that mounts the host simulation) with a heap of heap_bytes; the
        CompletedProcess (never raises on exit status)."""
        env = dict(os.environ, MICROPYPATH=".frozen:" + self.dir if self.frozen else self.dir)
        try:
            return subprocess.run([self.exe, "-X", "heapsize=%d" % heap_bytes, "-c", self.prelude + code],
                                  capture_output=True,
                                  text=True, env=env, cwd=self.dir, timeout=RUN_TIMEOUT_S)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise UnixPortError("%s: %s" % (self.exe, e))

    def fits(self, code, heap_bytes):
        """True if `code` runs to the end in heap_bytes; False on MemoryError; UnixPortError otherwise."""
        r = self.run(code, heap_bytes)
        if r.returncode == 0:
            return True
        if "MemoryError" in failure(r):
            return False
        raise UnixPortError("the unix port failed (not a MemoryError): %s" % failure(r))

    def smallest_heap(self, code, lo=32 * KIB, hi=512 * KIB):
        """The smallest heap, in whole KiB, that runs `code`; None if even `hi` does not."""
        return bisect_heap(lambda h: self.fits(code, h), lo, hi)

    def usable(self, heap_bytes):
        """gc.mem_free() + gc.mem_alloc() with a heap of heap_bytes, less the host simulation's ROM image:
        the heap the node gets, as an ESP32 reports its heap (-X heapsize also holds the collector's
        tables, ~2 %% of it)."""
        r = self.run("import gc\nprint(gc.mem_free() + gc.mem_alloc())", heap_bytes)
        if r.returncode != 0:
            raise UnixPortError("cannot read the heap size: %s" % failure(r))
        return int(r.stdout) - self.rom_bytes

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

"""The unix port of MicroPython built like an ESP32 (32-bit, float32, fixed heap): find it, run on it.

Unlike the WebAssembly port (lpwa.tools.mpy.MicroPython), its heap has a fixed size and a real
collector, so `-X heapsize=N` answers "does this run in N bytes of MicroPython heap?". What runs
is the installed form: every module boards/manifest.py names, compiled by mpy-cross exactly as
`lpwa flash` puts them on a board, plus the host simulation (boards/host, also compiled) in
place of boards/esp32.py.

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


def failure(r):
    """The last line of what a failed run printed (the unix port prints tracebacks on stdout)."""
    lines = (r.stderr.strip() or r.stdout.strip()).splitlines()
    if r.stdout.strip() and "Traceback" in r.stdout:
        lines = r.stdout.strip().splitlines()
    return lines[-1] if lines else "exit %d" % r.returncode


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
        try:
            self.modules = install(self.dir, frozen, opt)
            if frozen:
                self._check_frozen()
        except Exception:
            shutil.rmtree(self.dir, ignore_errors=True)
            raise

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
        """Run `code` with a heap of heap_bytes; the CompletedProcess (never raises on exit status)."""
        env = dict(os.environ, MICROPYPATH=".frozen:" + self.dir if self.frozen else self.dir)
        try:
            return subprocess.run([self.exe, "-X", "heapsize=%d" % heap_bytes, "-c", code], capture_output=True,
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
        if not self.fits(code, hi):
            return None
        lo_k, hi_k = lo // KIB, hi // KIB  # invariant: hi_k fits; lo_k - 1 assumed not to
        if self.fits(code, lo_k * KIB):
            return lo_k * KIB
        while hi_k - lo_k > 1:
            mid = (lo_k + hi_k) // 2
            if self.fits(code, mid * KIB):
                hi_k = mid
            else:
                lo_k = mid
        return hi_k * KIB

    def usable(self, heap_bytes):
        """gc.mem_free() + gc.mem_alloc() with a heap of heap_bytes: what an ESP32 reports as its heap
        (-X heapsize also holds the collector's tables, ~2 %% of it)."""
        r = self.run("import gc\nprint(gc.mem_free() + gc.mem_alloc())", heap_bytes)
        if r.returncode != 0:
            raise UnixPortError("cannot read the heap size: %s" % failure(r))
        return int(r.stdout)

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

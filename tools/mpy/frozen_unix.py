"""Build the ESP32-like unix port with the project frozen in, to measure the frozen heap.

    python -m lpwa.tools.mpy.frozen_unix MICROPYTHON_SOURCE [--jobs 2]

A frozen ESP32 image is the user's ESP-IDF build (boards/BOARDS.md); what can be proven here is
the same boards/manifest.py frozen into the unix port, built like the one in
../shared/tools/micropython-unix (32-bit, float32). The simulated board (lpwa.boards.host) is
frozen in too: MicroPython's `lpwa` namespace package has one folder, so a host simulation left
on the filesystem would hide the frozen tree (and on a board, boards/esp32.py is frozen as well).
MICROPYTHON_SOURCE: a MicroPython source tree, e.g. `apt-get source micropython` (Debian trixie:
1.25.0) or a git checkout; its micropython-lib and axtls submodules may be missing (then AES is
the pure-Python fallback, frozen too). Prints the interpreter's path: set
$LPWA_MICROPYTHON_FROZEN to it and `lpwa node report` measures the frozen image as well.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

from lpwa.tools.mpy import HOST_PACKAGE, board_sources, manifest

BUILD = "build-lpwa-frozen"
FLAGS = ["VARIANT=standard", "BUILD=" + BUILD, "MICROPY_FORCE_32BIT=1", "MICROPY_PY_FFI=0", "MICROPY_PY_BTREE=0",
         "CFLAGS_EXTRA=-DMICROPY_FLOAT_IMPL=MICROPY_FLOAT_IMPL_FLOAT"]


def host_targets(tree):
    """Lay out every board module and the host simulation under tree/lpwa (as `lpwa flash --tree`
    does for the manifest alone); returns the host simulation's targets, which the manifest lacks."""
    from lpwa.tools.cli.flash import lay_tree

    return [t for t in lay_tree(tree, board_sources()) if t.startswith(HOST_PACKAGE + "/")]


def write_manifest(path, host_targets):
    """boards/manifest.py, unchanged, plus one module() row per host-simulation file."""
    lines = ['include(%r)' % manifest.manifest_path()]
    lines += ['module(%r, base_path="$(LPWA_TREE)")' % t for t in host_targets]
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def ssl_flags(src):
    """cryptolib (as an ESP32 has) when the source tree has axtls, else none."""
    axtls = os.path.join(src, "lib", "axtls")
    if os.path.isdir(axtls) and os.listdir(axtls):
        return ["MICROPY_PY_SSL=1", "MICROPY_SSL_AXTLS=1", "MICROPY_SSL_MBEDTLS=0"]
    return ["MICROPY_PY_SSL=0"]


def build(src, work, jobs=2):
    """Build it; returns the interpreter's path. subprocess.CalledProcessError on a failed make."""
    tree = os.path.join(work, "tree")
    man = os.path.join(work, "manifest.py")
    write_manifest(man, host_targets(tree))
    mpy_lib = os.path.join(src, "lib", "micropython-lib")
    if not os.path.exists(os.path.join(mpy_lib, "README.md")):  # only require() reads it; the manifest has none
        mpy_lib = os.path.join(work, "no-micropython-lib")
        os.makedirs(mpy_lib, exist_ok=True)
        open(os.path.join(mpy_lib, "README.md"), "w").close()
    subprocess.run(["make", "-C", os.path.join(src, "mpy-cross"), "-j%d" % jobs], check=True)
    subprocess.run(["make", "-C", os.path.join(src, "ports", "unix"), "-j%d" % jobs] + FLAGS + ssl_flags(src)
                   + ["FROZEN_MANIFEST=" + man, "MICROPY_MANIFEST_LPWA_TREE=" + tree, "MPY_LIB_DIR=" + mpy_lib],
                   check=True)
    return os.path.join(src, "ports", "unix", BUILD, "micropython")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("source", help="a MicroPython source tree")
    p.add_argument("--jobs", type=int, default=2)
    args = p.parse_args(argv)
    src = os.path.abspath(args.source)
    if not os.path.isfile(os.path.join(src, "ports", "unix", "Makefile")):
        p.error("%s is not a MicroPython source tree (no ports/unix/Makefile)" % src)
    work = tempfile.mkdtemp(prefix="lpwa-frozen-")
    try:
        exe = build(src, work, args.jobs)
    except subprocess.CalledProcessError as e:
        print("frozen build failed: %s exited %d" % (e.cmd[0], e.returncode), file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(exe)
    return 0


if __name__ == "__main__":
    sys.exit(main())

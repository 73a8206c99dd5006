"""Run a snippet of board code on the unix-port MicroPython built like an ESP32 (32-bit,
single-precision floats) straight from the source tree, for float32 checks; the interpreter comes
from the `unix_port_exe` fixture (lpwa.tools.mpy.unix.find, which skips saying where it looked)."""

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = ("boards", "codecs", "radio", "firmware", "tools")


def run(exe, code, tmp_path, heap="110K"):
    """Run `code` with the lpwa package importable; (returncode, stdout, stderr). tmp_path holds
    the package links and any data files the code opens."""
    (tmp_path / "lpwa").mkdir(exist_ok=True)
    for d in FOLDERS:
        if not (tmp_path / "lpwa" / d).exists():
            (tmp_path / "lpwa" / d).symlink_to(ROOT / d)
    r = subprocess.run([exe, "-X", "heapsize=" + heap, "-c", code], capture_output=True, text=True,
                       env=dict(os.environ, MICROPYPATH=str(tmp_path)), timeout=300, cwd=str(tmp_path))
    return r.returncode, r.stdout, r.stderr

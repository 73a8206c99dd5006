"""The unix-port MicroPython built like an ESP32 (32-bit, single-precision floats), for float32
checks of board code: `micropython` on PATH, $LPWA_MICROPYTHON, or ../shared/tools/micropython-unix."""

import os
import subprocess
from pathlib import Path

from lpwa.tools.mpy import unix

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = ("boards", "codecs", "radio", "firmware", "tools")


def unix_micropython():
    """The one finder (lpwa.tools.mpy.unix), so tests and `lpwa node report` agree."""
    return unix.find()


def run(code, tmp_path, heap="110K"):
    """Run `code` with the lpwa package importable; (returncode, stdout, stderr), or None without
    an interpreter. tmp_path holds the package links and any data files the code opens."""
    mp = unix_micropython()
    if mp is None:
        return None
    (tmp_path / "lpwa").mkdir(exist_ok=True)
    for d in FOLDERS:
        if not (tmp_path / "lpwa" / d).exists():
            (tmp_path / "lpwa" / d).symlink_to(ROOT / d)
    r = subprocess.run([mp, "-X", "heapsize=" + heap, "-c", code], capture_output=True, text=True,
                       env=dict(os.environ, MICROPYPATH=str(tmp_path)), timeout=300, cwd=str(tmp_path))
    return r.returncode, r.stdout, r.stderr

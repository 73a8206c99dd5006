"""Frame format and codecs (portable core: runs unchanged under MicroPython and CPython)."""

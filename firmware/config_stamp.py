"""The device config `lpwa flash` validated, read at boot without the validator.

The validator (firmware/config.py) interns every name its checks use, a hundred qstrs that stay
on the heap for the wake; the file does not change between boots. So `lpwa flash` writes, beside
the config it validated on the host, a stamp: the CRC-32 of the file's bytes and this firmware's
version. A boot whose file matches its stamp takes the file as it is (only the key and device id
are turned back into bytes and an int, as parse() does); a file without a matching stamp (edited
on the board, another version's) goes through the validator, as before.
"""

import json
from binascii import crc32, unhexlify

from lpwa.firmware.version import VERSION


def stamp(raw):
    """The stamp of a config file's bytes (what `lpwa flash` writes to stamp_path())."""
    return b"%08x %s" % (crc32(raw) & 0xFFFFFFFF, VERSION.encode())


def stamp_path(path):
    return path + ".ok"


def read(path):
    """The config at `path` when its stamp matches, as parse() would return it; None otherwise (then the
    validator reads it)."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
        with open(stamp_path(path), "rb") as f:
            mark = f.read()
    except OSError:
        return None
    if mark.strip() != stamp(raw):
        return None
    cfg = json.loads(raw)
    cfg["key"] = unhexlify(cfg["key"])
    cfg["device_id"] = int(cfg["device"], 16)
    if cfg.get("spo2_cal") is not None:
        from lpwa.firmware.algorithms.spo2 import from_config

        cfg["spo2_cal"] = from_config(cfg["spo2_cal"])
    return cfg

"""State that outlives deep sleep and power loss: RTC memory slots, flash files, the frame counter.

Deep sleep keeps RTC memory and loses RAM; power loss loses both and keeps flash. The frame
counter must never repeat (the gateway rejects replays, and a reused counter leaks keystream), so
it reserves blocks ahead in flash: every counter handed out is below the ceiling already written
to flash, and a cold boot resumes at that ceiling. Flash is written once per block, not per frame.
"""

import json
import os
import struct

from binascii import crc32

from lpwa.radio.memory_store import MemoryStore  # noqa: F401  (bytes in RAM: the host board's RTC memory, tests)


def _check(data):
    return crc32(data) & 0xFFFFFFFF


def pack_word(value):
    """A 32-bit counter with its check word, as the counters keep it in flash (and RTC)."""
    return struct.pack("<II", value, value ^ 0x5A5A5A5A)


def unpack_word(raw):
    """pack_word's value, or None when `raw` is missing, torn or not such a word."""
    if raw and len(raw) == 8:
        value, check = struct.unpack("<II", raw)
        if check == (value ^ 0x5A5A5A5A):
            return value
    return None


class FileStore:
    """Bytes in a flash file, replaced atomically (write a temp file, then rename over)."""

    def __init__(self, path):
        self.path = path

    def read(self):
        try:
            with open(self.path, "rb") as f:
                return f.read()
        except OSError:
            return None

    def write(self, data):
        tmp = self.path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(data)
        try:
            os.remove(self.path)
        except OSError:
            pass
        os.rename(tmp, self.path)


_MAGIC = b"LPR2"


class Slots:
    """Named byte slots packed into one store (ESP32 RTC memory is a single 2 KB buffer).

    Layout: magic, CRC-32 of the body, then per slot: name length (1), name, data length (2,
    little-endian), data. A bad CRC (power loss, a brown-out mid-write) reads as empty, never as
    wrong values. Names are ASCII; the store copies what `write` is given (RTC memory, flash,
    MemoryStore do): flush reuses its buffer.
    """

    def __init__(self, store):
        self.store = store
        self.slots = {}
        raw = store.read()
        if raw and len(raw) >= 8 and raw[:4] == _MAGIC:
            body = memoryview(raw)[8:]  # a view: slices below copy each slot once, not the body first
            if struct.unpack("<I", raw[4:8])[0] == _check(body):
                try:
                    self._unpack(body)
                except (IndexError, UnicodeError, ValueError):
                    self.slots = {}

    def _unpack(self, body):
        i = 0
        n = len(body)
        while i < n:
            k = body[i]
            name = bytes(body[i + 1 : i + 1 + k]).decode()
            i += 1 + k
            size = body[i] | (body[i + 1] << 8)
            self.slots[name] = bytes(body[i + 2 : i + 2 + size])
            i += 2 + size

    def get(self, name):
        return self.slots.get(name)

    def put(self, name, data):
        """Keep `data`: bytes as they are (immutable; bytes() of bytes is a second copy on MicroPython),
        a buffer copied, into the slot's own when the size is the same: the budget's fixed-size state,
        saved after every frame, then allocates nothing in a heap the wake has cut up."""
        old = self.slots.get(name)
        if type(data) is bytes:
            self.slots[name] = data
        elif type(old) is bytearray and len(old) == len(data):
            old[:] = data
        else:
            self.slots[name] = bytearray(data)

    def flush(self):
        """Pack every slot into one buffer (magic, CRC, body) and write it: no per-slot parts,
        no joined body and no second copy with the header, so a drain's flush does not need a
        free run of the body's size three times over in a heap the wake has cut up."""
        slots = self.slots
        size = 8
        for name in slots:
            size += 3 + len(name) + len(slots[name])
        buf = _image(size)
        i = 8
        for name in slots:
            data = slots[name]
            k = len(name)
            buf[i] = k
            buf[i + 1 : i + 1 + k] = name.encode()
            i += 1 + k
            n = len(data)
            buf[i] = n & 0xFF
            buf[i + 1] = n >> 8
            buf[i + 2 : i + 2 + n] = data
            i += 2 + n
        buf[0:4] = _MAGIC
        view = memoryview(buf)
        struct.pack_into("<I", buf, 4, _check(view[8:size]))
        self.store.write(view[:size])


_flush_buf = None  # one per interpreter: the pedometer's wakes (light sleep) share it, as do a wake's flushes


def _image(size):
    """A buffer of at least `size` bytes for Slots.flush, allocated again only when the record outgrows it
    (with room to spare): a new one at every wake's save would ask for ~1.2 KB in one piece of a heap the
    wake has cut up."""
    global _flush_buf
    if _flush_buf is None or len(_flush_buf) < size:
        _flush_buf = bytearray((size + 255) // 256 * 256)
    return _flush_buf


class SlotStore:
    """One named slot seen as a store (`.read()` / `.write()`), e.g. for the duty-cycle budget."""

    def __init__(self, slots, name):
        self.slots = slots
        self.name = name

    def read(self):
        return self.slots.get(self.name)

    def write(self, data):
        self.slots.put(self.name, data)
        self.slots.flush()


class MirroredStore:
    """RTC first (fast, no wear), flash as the copy that survives power loss."""

    def __init__(self, rtc, flash):
        self.rtc = rtc
        self.flash = flash

    def read(self):
        data = self.rtc.read()
        return data if data is not None else self.flash.read()

    def write(self, data):
        self.rtc.write(data)
        self.flash.write(data)


class CounterStore:
    """The uplink frame counter: RTC holds the next value, flash holds a reserved ceiling.

    `take()` returns a counter no earlier boot, sleep or power loss has returned. Before handing
    out a value at or past the ceiling, the new ceiling is written to flash first.
    """

    def __init__(self, rtc_slots, flash, block=64):
        self.rtc = rtc_slots
        self.flash = flash
        self.block = block
        self.ceiling = self._read_ceiling()
        raw = rtc_slots.get("ctr")
        nxt = struct.unpack("<I", raw)[0] if raw and len(raw) == 4 else None
        # RTC lost (power loss) or inconsistent: everything below the ceiling may have been used.
        self.next = nxt if nxt is not None and nxt <= self.ceiling else self.ceiling
        self.cold = nxt is None

    def _read_ceiling(self):
        value = unpack_word(self.flash.read())
        return 0 if value is None else value

    def _write_ceiling(self, value):
        self.flash.write(pack_word(value))
        self.ceiling = value

    def take(self):
        value = self.next
        if value >= self.ceiling:
            self._write_ceiling(value + self.block)
        self.next = value + 1
        self.rtc.put("ctr", struct.pack("<I", self.next))
        self.rtc.flush()  # before the frame leaves: a reset mid-wake must not hand it out again
        return value

    def peek(self):
        return self.next


class State:
    """The app's small settings and memory (interval override, faults, last downlink counter...).

    Kept in RTC every wake; copied to flash only when a setting that must survive power loss
    changes (`dirty`), to spare the flash.
    """

    def __init__(self, rtc_slots, flash):
        self.rtc = rtc_slots
        self.flash = flash
        self.values = {}
        self.dirty = False
        raw = rtc_slots.get("app")
        if raw is None:
            raw = flash.read()
        if raw:
            try:
                values = json.loads(raw)
            except ValueError:  # UnicodeError is a ValueError too
                values = None
            # a torn or foreign flash file that still parses as JSON ("[]", "5") reads as empty,
            # not as an AttributeError at every wake (a node that never sends again)
            self.values = values if isinstance(values, dict) else {}

    def get(self, name, default=None):
        return self.values.get(name, default)

    def set(self, name, value, durable=False):
        if self.values.get(name) != value:
            self.values[name] = value
            if durable:
                self.dirty = True

    def save(self):
        body = json.dumps(self.values).encode()
        self.rtc.put("app", body)
        if self.dirty:
            self.flash.write(body)
            self.dirty = False

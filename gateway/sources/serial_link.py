"""A serial port kept open by a reader thread that reconnects with back-off.

USB dongles vanish (unplugged, reset, re-enumerated) and come back, often under the same
/dev/serial/by-id/ symlink. The thread opens the port with pyserial's serial_for_url (so tests can
use a pseudo-terminal or loop://), hands every chunk it reads to `on_data`, and when the port
errors or disappears closes it and tries again with exponential back-off; each successful re-open
after the first counts as a reconnect. Writes go through `write()`, which is safe from any thread.
`on_idle` is called once when the line has been quiet for `idle_s` after some data: a module
writes whole lines at once, so anything still half-parsed then is a torn line to drop.
"""

import threading
import time

import serial

from lpwa.gateway.sources.base import SourceBase

BACKOFF_START_S = 0.05


def check_serial(options, name):
    """Config-time check shared by serial sources (`name` is the section): a back-off that is not a
    positive number would retry a missing port in a busy loop, and a bad baud rate would look like a
    missing port forever."""
    if not options["reconnect_max_s"] >= BACKOFF_START_S or options["reconnect_max_s"] == float("inf"):
        raise ValueError("%s.reconnect_max_s: must be a number of seconds >= %s" % (name, BACKOFF_START_S))
    if options["baudrate"] <= 0:
        raise ValueError("%s.baudrate: must be a positive integer" % name)


class SerialLink:
    def __init__(self, port, baudrate, on_data, stats, log, backoff_max_s=5.0, on_open=None, on_idle=None,
                 idle_s=1.0):
        self.port = port
        self.baudrate = baudrate
        self.on_data = on_data
        self.on_open = on_open
        self.on_idle = on_idle
        self.idle_s = idle_s
        self.stats = stats
        self.log = log
        self.backoff_max_s = backoff_max_s
        self.connected = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._serial = None
        self._thread = None
        self._opened_before = False
        stats.setdefault("reconnects", 0)
        stats.setdefault("disconnects", 0)

    def start(self):
        self._thread = threading.Thread(target=self._run, name="lpwa-serial-" + str(self.port), daemon=True)
        self._thread.start()

    def stop(self, timeout=2.0):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._close()

    def write(self, data):
        """Write to the port; False when it is not open (the caller counts the loss)."""
        with self._lock:
            port = self._serial
            if port is None:
                return False
            try:
                port.write(data)
                port.flush()
                return True
            except (serial.SerialException, OSError):
                return False

    def _run(self):
        backoff = BACKOFF_START_S
        missing_logged = False
        while not self._stop.is_set():
            if not self._open():
                if not missing_logged:
                    missing_logged = True
                    self.log.warning("serial port %s is not available; retrying every <= %.1f s",
                                     self.port, self.backoff_max_s)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, self.backoff_max_s)
                continue
            backoff = BACKOFF_START_S
            missing_logged = False
            self._read_until_error()
            self._close()
            if not self._stop.is_set():
                self.stats["disconnects"] += 1
                self.log.warning("serial port %s lost; reconnecting", self.port)

    def _open(self):
        try:
            port = serial.serial_for_url(self.port, baudrate=self.baudrate, timeout=0.2)
        except (serial.SerialException, OSError, ValueError):
            return False
        with self._lock:
            self._serial = port
        if self._opened_before:
            self.stats["reconnects"] += 1
            self.log.info("serial port %s is back", self.port)
        self._opened_before = True
        self.connected.set()
        if self.on_open is not None:
            self.on_open()
        return True

    def _read_until_error(self):
        port = self._serial
        last_data = None
        while not self._stop.is_set():
            try:
                data = port.read(max(1, port.in_waiting))
            except (serial.SerialException, OSError, TypeError):
                return
            if data:
                last_data = time.monotonic()
                self._call(self.on_data, data)
            elif last_data is not None and time.monotonic() - last_data >= self.idle_s:
                last_data = None
                if self.on_idle is not None:
                    self._call(self.on_idle)

    def _call(self, handler, *args):
        try:
            handler(*args)
        except Exception as exc:  # a handler bug must not kill the reader
            self.stats["errors"] = self.stats.get("errors", 0) + 1
            self.log.warning("serial handler failed: %s", type(exc).__name__)

    def _close(self):
        self.connected.clear()
        with self._lock:
            port, self._serial = self._serial, None
        if port is not None:
            try:
                port.close()
            except Exception:
                pass


class SerialSource(SourceBase):
    """A source on a serial line: a SerialLink that reconnects, started and stopped with the
    source; subclasses parse what `_on_data` receives and reset their parser in `_on_open`."""

    def __init__(self, options, pipeline, gateway_id):
        SourceBase.__init__(self, options, pipeline, gateway_id)
        self.link = SerialLink(self.options["port"], self.options["baudrate"], self._on_data, self.stats,
                               self.log, self.options["reconnect_max_s"], on_open=self._on_open,
                               on_idle=self._on_idle)

    async def start(self):
        self.link.start()

    async def stop(self):
        self.link.stop()

"""systemd readiness and watchdog (`Type=notify`, `WatchdogSec=`): the sd_notify(3) datagram protocol.

systemd passes NOTIFY_SOCKET (a path, or "@name" for the abstract namespace) and, with
`WatchdogSec=`, WATCHDOG_USEC (and WATCHDOG_PID, the process meant). We send "READY=1" once the
sources listen, "WATCHDOG=1" from a task on the gateway's event loop every half interval (so a loop
blocked by a hung call stops the pings and systemd restarts the service), and "STOPPING=1" when
a stop begins. Outside systemd (no NOTIFY_SOCKET) every call does nothing. The protocol is one
AF_UNIX datagram per message (sd_notify(3), "Notes"); no library is needed for it.
"""

import asyncio
import logging
import os
import socket

log = logging.getLogger("lpwa.gateway.systemd")


class Notifier:
    def __init__(self, environ=None):
        env = os.environ if environ is None else environ
        path = env.get("NOTIFY_SOCKET") or ""
        self.address = "\0" + path[1:] if path.startswith("@") else path
        self.interval_s = None
        usec = env.get("WATCHDOG_USEC", "")
        pid = env.get("WATCHDOG_PID", "")
        if usec.isdigit() and int(usec) > 0 and (not pid or pid == str(os.getpid())):
            self.interval_s = int(usec) / 1e6 / 2  # sd_watchdog_enabled(3): ping at half the timeout
        self._sock = None
        self._failed = False

    @property
    def enabled(self):
        return bool(self.address)

    def notify(self, message):
        """Send one state string; False when not under systemd or the socket is gone (logged once)."""
        if not self.address:
            return False
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._sock.sendto(message.encode("ascii"), self.address)
            return True
        except OSError as e:
            if not self._failed:
                self._failed = True
                log.warning("systemd notify failed", extra={"event": "sd-notify-error", "error": str(e)})
            return False

    def ready(self, status=""):
        return self.notify("READY=1" + ("\nSTATUS=" + status if status else ""))

    def stopping(self):
        return self.notify("STOPPING=1")

    async def watchdog(self, alive=lambda: True):
        """Ping every half interval while `alive()` (e.g. the MQTT sink thread still runs)."""
        if self.interval_s is None or not self.address:
            return
        while True:
            if alive():
                self.notify("WATCHDOG=1")
            await asyncio.sleep(self.interval_s)

    def close(self):
        if self._sock is not None:
            self._sock.close()
            self._sock = None

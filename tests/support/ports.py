"""A pseudo-terminal standing in for a USB serial device at a stable symlinked path."""

import os
import tty


class PtyPort:
    """The source opens `path` (like /dev/serial/by-id/...); `vanish()` unplugs it (the symlink
    goes and the pty closes, so the open port errors), `reappear()` plugs a new one in at the same
    path. The test talks to the device side through the master end."""

    def __init__(self, path):
        self.path = path
        self.master = self.slave = None
        self.reappear()

    def reappear(self):
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)  # no echo, no newline translation, even before pyserial configures it
        os.set_blocking(self.master, False)
        tmp = self.path + ".new"
        os.symlink(os.ttyname(self.slave), tmp)
        os.replace(tmp, self.path)

    def write(self, data):
        os.write(self.master, data)

    def read(self):
        out = b""
        while True:
            try:
                chunk = os.read(self.master, 4096)
            except (BlockingIOError, OSError):
                return out
            if not chunk:
                return out
            out += chunk

    def vanish(self):
        if os.path.lexists(self.path):
            os.unlink(self.path)
        for fd in (self.master, self.slave):
            if fd is not None:
                os.close(fd)
        self.master = self.slave = None

    def close(self):
        self.vanish()

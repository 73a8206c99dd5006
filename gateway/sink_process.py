"""The MQTT sink in a process of its own (`mqtt.sink_process = true`), so it runs on a second core.

Why: in one CPython process the GIL serialises decoding, SQLite and paho, and paho's publish and
PUBACK work alone is about half of a frame's CPU. Here the ingest process (sources + pipeline)
commits rows to the SQLite WAL queue exactly as before, and this child reads them in order on its
own connection, publishes them with the same `MqttSink`, and deletes each row on its PUBACK in its
own short write transactions (WAL: one writer at a time, each holding the lock for microseconds;
a delete that finds the ingest process writing is simply tried again on the next round, so the
MQTT loop never sleeps in SQLite's busy handler).
The zero-loss chain is unchanged: a row is in SQLite before the source acknowledges, and leaves it
only on the broker's PUBACK.

Between the two processes (`python -m lpwa.gateway.sink_process <down fd> <up fd>`):
- ingest -> child, a pipe: first the config (device keys removed: the child never needs them),
  then one small message after each commit that added rows (wakes the sink's select), written
  non-blocking so a busy child never stalls ingest.
- child -> ingest, a pipe: ("removed", deleted, dead) after each delete commit (the ingest's queue
  depth and size cap), ("downlink", device, command, kind) for `Pipeline.queue_downlink` (device
  keys and downlink counters stay in the ingest process), ("status", dict) twice a second.
- signals: SIGTERM stops the child (offline status, last deletes, disconnect); SIGHUP reloads its
  consent file.
If the ingest process dies (even kill -9), the child sees the pipe close and stops the same way;
rows it had in flight are published again by the next gateway (at-least-once, as before).
"""

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from multiprocessing.connection import Connection

log = logging.getLogger("lpwa.gateway.mqtt")

STATUS_EVERY_S = 0.5
READY_WAIT_S = 5.0  # start() waits this long for the child to be up (and connected, if it can)
RESTART_DELAY_S = 1.0  # a child that died is started again after this long


def _child_config(config):
    """The config the child gets: everything but the device keys."""
    out = dict(config)
    out["devices"] = [{k: v for k, v in d.items() if k != "key"} for d in config["devices"]]
    return out


def child_main(down_fd, up_fd):
    """Child process: queue + consent + MqttSink until SIGTERM or the ingest process goes away."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group; the parent decides
    down, up = Connection(down_fd, writable=False), Connection(up_fd, readable=False)
    config = down.recv()
    from lpwa.gateway.consent import Consent
    from lpwa.gateway.logs import setup_logging
    from lpwa.gateway.mqtt_sink import MqttSink
    from lpwa.gateway.store import Store

    g, q = config["gateway"], config["queue"]
    setup_logging(g["log_format"], g["log_level"])
    send_lock = threading.Lock()
    stop = threading.Event()

    def send(msg):
        with send_lock:
            try:
                up.send(msg)
            except (OSError, ValueError):  # the parent is gone
                stop.set()

    queue = Store(os.path.join(g["state_dir"], "queue.sqlite3"), q["max_frames"], q["synchronous"])
    queue.on_removed = lambda deleted, dead: send(("removed", deleted, dead))
    queue.nowait_deletes()
    consent = Consent(config["devices"], config["consent"]["file"])
    sink = MqttSink(config, queue, consent=consent,
                    on_downlink=lambda device, command, kind: send(("downlink", device, command, kind)))
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGHUP, lambda *_: consent.reload())

    def wakes():
        while True:
            try:
                down.recv_bytes()
            except (EOFError, OSError):  # the parent closed the pipe or died
                stop.set()
                return
            sink.wake()

    sink.start()
    threading.Thread(target=wakes, name="lpwa-sink-wake", daemon=True).start()
    deadline = time.monotonic() + READY_WAIT_S - 1.0
    while not sink.connected and not stop.is_set() and time.monotonic() < deadline:
        time.sleep(0.005)
    send(("status", sink.status()))  # the first status says "up" to start()
    while not stop.wait(STATUS_EVERY_S):
        send(("status", sink.status()))
    sink.stop()
    send(("status", sink.status()))
    queue.close()


class SinkProcess:
    """What the service sees of a sink running in a child process: the MqttSink surface it uses
    (start, stop, wake, status, connected, last_error) plus reload(). A child that dies (crash,
    OOM kill) is logged and started again after RESTART_DELAY_S; rows wait in SQLite meanwhile."""

    def __init__(self, config, queue, on_downlink=None):
        self.config = config
        self.queue = queue
        self.on_downlink = on_downlink
        self.proc = None
        self.restarts = 0
        self._down = None
        self._up = None
        self._reader = None
        self._ready = threading.Event()
        self._lock = threading.Lock()  # proc and pipes vs stop()
        self._stopping = False
        m = config["mqtt"]
        self._status = {"connected": False, "protocol": m["protocol"], "qos": m["qos"], "inflight": 0,
                        "published": 0, "last_error": None, "process": None, "restarts": 0}

    @property
    def connected(self):
        return bool(self._status.get("connected"))

    @property
    def last_error(self):
        return self._status.get("last_error")

    def start(self):
        self.queue.remote = [0, 0]
        with self._lock:
            self._spawn()
        self._reader = threading.Thread(target=self._read, name="lpwa-sink-reader", daemon=True)
        self._reader.start()
        self._ready.wait(READY_WAIT_S)
        log.info("mqtt sink process started", extra={"event": "sink-process-start", "pid": self.proc.pid})

    def _spawn(self):
        down_r, down_w = os.pipe()
        up_r, up_w = os.pipe()
        try:
            self.proc = subprocess.Popen([sys.executable, "-m", "lpwa.gateway.sink_process", str(down_r), str(up_w)],
                                         pass_fds=(down_r, up_w), stdin=subprocess.DEVNULL)
        except BaseException:
            for fd in (down_w, up_r):
                os.close(fd)
            raise
        finally:
            os.close(down_r)
            os.close(up_w)
        self._down, self._up = Connection(down_w, readable=False), Connection(up_r, writable=False)
        try:
            self._down.send(_child_config(self.config))
        except OSError:
            pass  # it died at once: _read() sees the pipe close and starts it again
        os.set_blocking(down_w, False)

    def _read(self):
        while True:
            self._pump(self._up, self.proc.pid)
            with self._lock:
                if self._stopping:
                    return
                code = self.proc.wait()
            self.restarts += 1
            log.error("mqtt sink process exited; starting it again", extra={
                "event": "sink-process-exit", "code": code, "restarts": self.restarts})
            st = dict(self._status)
            st.update(connected=False, inflight=0, last_error="sink process exited (%s)" % code,
                      restarts=self.restarts)
            self._status = st
            time.sleep(RESTART_DELAY_S)
            with self._lock:
                if self._stopping:
                    return
                self.queue.recount()  # a delete the dead child committed but did not report
                for conn in (self._down, self._up):
                    try:
                        conn.close()
                    except OSError:
                        pass
                try:
                    self._spawn()
                except OSError as e:
                    log.error("mqtt sink process cannot start", extra={"event": "sink-process-error",
                                                                       "error": str(e)})
                    self._ready.set()
                    return

    def _pump(self, up, pid):
        """Handle the child's messages until its pipe closes."""
        remote = self.queue.remote
        while True:
            try:
                msg = up.recv()
            except (EOFError, OSError):
                self._ready.set()
                return
            if msg[0] == "removed":
                remote[0] += msg[1]
                remote[1] += msg[2]
            elif msg[0] == "status":
                st = dict(msg[1])
                st["process"] = pid
                st["restarts"] = self.restarts
                self._status = st
                self.queue.handed = st.get("handed_seq", 0)  # a withdrawal purges only rows above it
                self._ready.set()
            elif msg[0] == "downlink" and self.on_downlink is not None:
                try:
                    self.on_downlink(*msg[1:])
                except Exception:
                    log.exception("downlink handling failed", extra={"event": "downlink-error", "device": msg[1]})

    def wake(self):
        """After a commit that added rows (pipeline thread). Never blocks: when the pipe is full the
        child has wake-ups it has not read yet."""
        down = self._down
        if down is not None:
            try:
                down.send_bytes(b"w")
            except (OSError, ValueError):
                pass

    def reload(self):
        """SIGHUP: the child reloads its consent (the service reloads the parent's)."""
        proc = self.proc
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGHUP)

    def stop(self, timeout=10.0):
        with self._lock:
            self._stopping = True
            proc = self.proc
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()  # SIGTERM: offline status, last deletes, disconnect
        try:
            proc.wait(timeout + 2.0)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if self._reader is not None:
            self._reader.join(2.0)  # the last "removed" and status messages
        down, self._down = self._down, None
        for conn in (down, self._up):
            try:
                conn.close()
            except OSError:
                pass
        self.proc = None

    def status(self):
        return dict(self._status)


if __name__ == "__main__":
    child_main(int(sys.argv[1]), int(sys.argv[2]))

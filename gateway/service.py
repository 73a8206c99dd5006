"""The gateway service: queue + pipeline + MQTT sink + sources + metrics, under one asyncio loop.

`Gateway(config).run_forever()` is what `lpwa gateway run` (and the systemd unit) runs. SIGTERM and
SIGINT stop it cleanly (sources first, so nothing new arrives, then the sink says "offline");
SIGHUP reloads the consent file. Every few seconds the status is written to
`<state_dir>/status.json`, which `lpwa gateway status` reads.
"""

import asyncio
import json
import logging
import os
import signal
import sqlite3
import sys
import time

from lpwa.gateway import config as config_mod
from lpwa.gateway.consent import Consent
from lpwa.gateway.logs import JsonFormatter, TextFormatter, setup_logging  # noqa: F401 (re-exported)
from lpwa.gateway import metrics as metrics_mod
from lpwa.gateway.metrics_http import MetricsServer
from lpwa.gateway.pipeline import Pipeline
from lpwa.gateway.store import Store
from lpwa.gateway.systemd import Notifier

log = logging.getLogger("lpwa.gateway")

STATUS_FILE = "status.json"
STATUS_EVERY_S = 2.0


class StartError(RuntimeError):
    """A source or the metrics endpoint could not start; the message names the config section."""


def status_path(config):
    return os.path.join(config["gateway"]["state_dir"], STATUS_FILE)


class Gateway:
    def __init__(self, config, decoder=None):
        """`config` as returned by lpwa.gateway.config.load/from_dict; `decoder` replaces the
        FrameDecoder (tests)."""
        self.config = config
        g, q = config["gateway"], config["queue"]
        try:
            os.makedirs(g["state_dir"], exist_ok=True)
            self.queue = Store(os.path.join(g["state_dir"], "queue.sqlite3"), q["max_frames"], q["synchronous"])
        except (OSError, sqlite3.Error) as e:
            raise StartError("gateway.state_dir: cannot use %s (%s)" % (g["state_dir"], e))
        self.consent = Consent(config["devices"], config["consent"]["file"])  # ConfigError names consent.file
        self.pipeline = Pipeline(config, queue=self.queue, decoder=decoder, consent=self.consent)
        from lpwa.gateway.mqtt_sink import check_tls

        check_tls(config["mqtt"])  # ConfigError naming the key, here rather than in a sink child
        if config["mqtt"]["sink_process"]:
            from lpwa.gateway.sink_process import SinkProcess

            self.sink = SinkProcess(config, self.queue, on_downlink=self.pipeline.queue_downlink)
        else:
            from lpwa.gateway.mqtt_sink import MqttSink

            self.sink = MqttSink(config, self.queue, consent=self.consent, on_downlink=self.pipeline.queue_downlink)
        self.pipeline.on_enqueue.append(self.sink.wake)
        self.observer = self.pipeline.observer = metrics_mod.Observer()
        self.registry = metrics_mod.build_registry(self.status, self.observer, self.backlog)
        self.notifier = Notifier()
        self._watchdog_task = None
        self.sources = {}
        self.metrics = None
        self.started = None
        self._stopping = None
        self._status_task = None

    async def start(self):
        from lpwa.gateway import sources as sources_pkg

        self.started = time.time()
        log.info("gateway starting", extra={"event": "start", "gateway": self.config["gateway"]["id"],
                                            "queue_depth": self.queue.depth,
                                            "devices": len(self.config["devices"])})
        self.sink.start()
        try:
            for name, options in self.config["sources"].items():
                if not options.get("enabled", True):
                    continue
                try:
                    source = sources_pkg.create(name, options, self.pipeline, self.config["gateway"]["id"])
                    await source.start()
                except (OSError, ValueError, ImportError) as e:  # port in use, no such device, bad option
                    raise StartError("sources.%s: cannot start (%s)" % (name, e))
                self.sources[name] = source
                log.info("source started", extra={"event": "source-start", "source": name})
            listen = self.config["metrics"]["listen"]
            if listen:
                host, port = config_mod.parse_hostport("metrics.listen", listen)
                try:
                    self.metrics = MetricsServer(host, port, self.status, self.registry)
                except OSError as e:
                    raise StartError("metrics.listen: cannot listen on %s (%s)" % (listen, e))
                self.metrics.start()
                log.info("metrics listening", extra={"event": "metrics-start", "host": host,
                                                     "port": self.metrics.port})
        except StartError:  # the caller prints it: `run` as its one line
            await self.stop()
            raise
        self._status_task = asyncio.get_running_loop().create_task(self._status_loop())
        self.notifier.ready("%d sources, queue depth %d" % (len(self.sources), self.queue.depth))
        self._watchdog_task = asyncio.get_running_loop().create_task(self.notifier.watchdog())

    async def stop(self):
        self.notifier.stopping()
        if self._watchdog_task:
            self._watchdog_task.cancel()
            self._watchdog_task = None
        for name, source in list(self.sources.items()):
            try:
                await source.stop()
            except Exception:
                log.exception("source stop failed", extra={"event": "source-stop-error", "source": name})
        if self._status_task:
            self._status_task.cancel()
            self._status_task = None
        await asyncio.to_thread(self.sink.stop)
        if self.metrics:
            self.metrics.stop()
            self.metrics = None
        self.write_status(running=False)
        self.queue.close()
        log.info("gateway stopped", extra={"event": "stop", "queue_depth": self.queue.depth})

    async def run_forever(self):
        """Start, then run until SIGTERM/SIGINT; SIGHUP reloads the consent file."""
        loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        await self.start()
        handled = []
        for sig, handler in ((signal.SIGTERM, self._stopping.set), (signal.SIGINT, self._stopping.set),
                             (signal.SIGHUP, self.reload)):
            try:
                loop.add_signal_handler(sig, handler)
                handled.append(sig)
            except (NotImplementedError, RuntimeError, ValueError):
                pass
        try:
            await self._stopping.wait()
        finally:
            for sig in handled:
                loop.remove_signal_handler(sig)
            await self.stop()

    def request_stop(self):
        if self._stopping is not None:
            self._stopping.set()

    def reload(self):
        log.info("SIGHUP: reloading consent", extra={"event": "reload"})
        self.consent.reload()
        reload_sink = getattr(self.sink, "reload", None)
        if reload_sink is not None:
            reload_sink()

    def status(self):
        source_stats = {}
        for name, source in self.sources.items():
            stats = dict(getattr(source, "stats", {}) or {})
            peers = getattr(source, "rejected_by_peer", None)
            if peers is not None and peers.counts:
                stats["rejected_by_peer"] = peers.top(16)  # the full LRU is 256; status shows the worst
                stats["peers_evicted"] = peers.evicted
            source_stats[name] = stats
        return {"gateway": self.config["gateway"]["id"], "pid": os.getpid(), "time": time.time(),
                "started": self.started, "uptime_s": round(time.time() - self.started, 1) if self.started else 0,
                "mqtt": self.sink.status(), "pipeline": self.pipeline.status(), "source_stats": source_stats,
                "metrics": {"refused": self.metrics.refused if self.metrics else 0,
                            "timed_out": self.metrics.timed_out if self.metrics else 0}}

    def backlog(self, status):
        """{source: queued messages of the devices last heard through it} (per-source backlog)."""
        by_device = self.queue.depth_by_device()
        devices = status["pipeline"]["devices"]
        out = dict.fromkeys(self.sources, 0)
        for device, n in by_device.items():
            source = (devices.get(device) or {}).get("source") or "unknown"
            out[source] = out.get(source, 0) + n
        return out

    def write_status(self, running=True):
        path = status_path(self.config)
        try:
            st = self.status()
            st["running"] = running
            tmp = path + ".tmp"
            with open(tmp, "w") as f:
                json.dump(st, f, default=str)
            os.replace(tmp, path)
        except Exception as e:  # status is best effort; never stop the service for it
            log.warning("status file not written", extra={"event": "status-error", "error": str(e)})

    async def _status_loop(self):
        while True:
            self.write_status()
            await asyncio.sleep(STATUS_EVERY_S)


def run(config):
    """Blocking entry point for the CLI: run the gateway until a stop signal. A config or
    environment error (what preflight finds before anything starts, or a source that still cannot
    start) is one line on stderr and exit 2: the unit's RestartPreventExitStatus=2 stops systemd
    restarting what a restart cannot fix."""
    from lpwa.gateway import preflight

    try:
        preflight.check(config)
        gateway = Gateway(config)
        asyncio.run(gateway.run_forever())
    except (config_mod.ConfigError, StartError) as e:
        sys.stderr.write("lpwa gateway: %s\n" % e)
        return 2
    return 0

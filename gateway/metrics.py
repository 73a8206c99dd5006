"""Prometheus metrics of the gateway, exposed with prometheus-client (no hand-written exposition).

Two inputs, one way: the pipeline calls ONE object, `Observer.uplink()`, once per accepted (or
consent-withheld) message after its commit, with what only the ingest path sees (RSSI/SNR,
battery, counter gaps); everything else is read at scrape time from `Gateway.status()` (the
same dict `lpwa gateway status` prints) by `Collector`, a prometheus-client custom collector.
Each family has one name and one type: counters are `CounterMetricFamily` (exposed as
`<name>_total`), levels are `GaugeMetricFamily`. Labels are the gateway id plus, where it
applies, a source, reason, radio or a CONFIGURED device (a frame needs a device key to be
accepted, so garbage ids cannot grow the label set).
"""

import threading

from prometheus_client import CollectorRegistry, ProcessCollector
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

BATTERY_FIELD = "battery_v"


def _number(value):
    """A finite float, -0.0 as 0.0, or None (a forwarder's NaN, a string)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    if value - value != 0:
        return None
    return value + 0.0


class Observer:
    """Per-device radio and health figures the pipeline reports (called under the pipeline lock;
    scrapes copy it under this object's own lock)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._devices = {}  # device -> {"rssi", "snr", "battery", "lost", "counter"}

    def uplink(self, device, radio, meta, readings, last, counter):
        """One message of `device` heard with `meta` (the radio's rx metadata) whose counter moved
        from `last` to `counter`: any counter skipped in between is a lost frame (-1: first seen)."""
        gap = counter - last - 1 if last >= 0 and counter > last else 0
        battery = (readings or {}).get(BATTERY_FIELD)
        if isinstance(battery, dict):
            battery = battery.get("value")
        with self._lock:
            d = self._devices.get(device)
            if d is None:
                d = self._devices[device] = {"rssi": None, "snr": None, "battery": None, "lost": 0,
                                             "radio": radio}
            d["radio"] = radio
            for key in ("rssi", "snr"):
                if key in meta:
                    d[key] = _number(meta.get(key))
            battery = _number(battery)
            if battery is not None:
                d["battery"] = battery
            d["lost"] += gap

    def snapshot(self):
        with self._lock:
            return {dev: dict(d) for dev, d in self._devices.items()}


def _family(kind, name, doc, labels):
    cls = CounterMetricFamily if kind == "counter" else GaugeMetricFamily
    return cls(name, doc, labels=list(labels))


class Collector:
    """A prometheus-client custom collector: one status() and one snapshot per scrape."""

    def __init__(self, status_fn, observer=None, backlog_fn=None):
        self.status_fn = status_fn
        self.observer = observer
        self.backlog_fn = backlog_fn  # (status) -> {source: queued messages}

    def collect(self):
        status = self.status_fn()
        gw = str(status.get("gateway", ""))
        out = []
        out += _service(gw, status)
        out += _queue(gw, status.get("pipeline", {}))
        out += _mqtt(gw, status.get("mqtt", {}))
        out += _sources(gw, status, self.backlog_fn(status) if self.backlog_fn else {})
        out += _devices(gw, status.get("pipeline", {}), self.observer.snapshot() if self.observer else {})
        out += _downlinks(gw, status.get("pipeline", {}))
        return out


def _one(kind, name, doc, gw, value):
    f = _family(kind, name, doc, ["gateway"])
    value = _number(value)
    if value is not None:
        f.add_metric([gw], value)
    return f


def _service(gw, status):
    p = status.get("pipeline", {})
    consent = p.get("consent", {})
    rejected = _family("counter", "lpwa_frames_rejected_total", "rejected frames by reason", ["gateway", "reason"])
    for reason, n in sorted(p.get("rejections", {}).items()):
        rejected.add_metric([gw, reason], n)
    return [
        _one("gauge", "lpwa_up", "1 while the gateway service runs", gw, 1),
        _one("gauge", "lpwa_start_time_seconds", "unix time the service started", gw, status.get("started")),
        _one("gauge", "lpwa_uptime_seconds", "seconds since the service started", gw, status.get("uptime_s")),
        _one("counter", "lpwa_frames_accepted_total", "frames accepted and queued", gw, p.get("accepted", 0)),
        rejected,
        _one("counter", "lpwa_consent_purged_messages_total", "queued personal messages dropped on withdrawal",
             gw, consent.get("purged", 0)),
        _one("counter", "lpwa_consent_reloads_total", "consent file reloads (SIGHUP)", gw, consent.get("reloads", 0)),
        _one("counter", "lpwa_metrics_refused_connections_total",
             "metrics connections closed at accept: the endpoint's connection cap was reached", gw,
             status.get("metrics", {}).get("refused", 0)),
        _one("counter", "lpwa_metrics_timed_out_connections_total",
             "metrics connections shut down at their deadline (a client too slow to finish its request)", gw,
             status.get("metrics", {}).get("timed_out", 0)),
    ]


def _queue(gw, p):
    q = p.get("queue", {})
    return [
        _one("counter", "lpwa_messages_queued_total", "MQTT messages written to the durable queue", gw,
             q.get("enqueued", 0)),
        _one("counter", "lpwa_messages_published_total", "messages acknowledged by the broker and deleted", gw,
             q.get("published", 0)),
        _one("gauge", "lpwa_queue_depth", "messages waiting for a broker acknowledgement", gw, q.get("depth", 0)),
        _one("gauge", "lpwa_queue_oldest_age_seconds", "how long the oldest queued message has waited", gw,
             q.get("oldest_age_s") or 0),
        _one("gauge", "lpwa_queue_max_frames", "queue size cap (queue.max_frames)", gw, q.get("max_frames", 0)),
        _one("gauge", "lpwa_queue_at_cap", "1 while the queue is at its cap and refuses frames", gw,
             1 if q.get("full") else 0),
        _one("counter", "lpwa_queue_full_total", "frames refused because the queue was full", gw,
             q.get("full_events", 0)),
        _one("gauge", "lpwa_queue_dead_messages", "messages the broker refused, kept in the dead table", gw,
             q.get("dead", 0)),
    ]


def _mqtt(gw, mq):
    return [
        _one("gauge", "lpwa_mqtt_connected", "1 while connected to the broker", gw, 1 if mq.get("connected") else 0),
        _one("gauge", "lpwa_mqtt_inflight", "publishes awaiting PUBACK", gw, mq.get("inflight", 0)),
        _one("counter", "lpwa_mqtt_disconnects_total", "broker connection losses", gw, mq.get("disconnects", 0)),
        _one("counter", "lpwa_mqtt_refused_total", "publishes the broker refused (moved to the dead table)", gw,
             mq.get("refused", 0)),
        _one("counter", "lpwa_mqtt_consent_dropped_total", "queued personal messages dropped at publish time", gw,
             mq.get("consent_dropped", 0)),
        _one("counter", "lpwa_mqtt_stalls_total",
             "connections renewed because the broker sent no PUBACK (or CONNACK) within mqtt.puback_timeout", gw,
             mq.get("stalls", 0)),
        _one("counter", "lpwa_mqtt_expired_total", "personal messages older than mqtt.personal_expiry, not published",
             gw, mq.get("expired", 0)),
    ]


def _sources(gw, status, backlog):
    labels = ["gateway", "source"]
    fams = {field: _family("counter", "lpwa_source_%s_total" % field, "frames %s per source" % field, labels)
            for field in ("received", "accepted", "rejected")}
    sources = status.get("pipeline", {}).get("sources", {})
    for name, v in sorted(sources.items()):
        for field, f in fams.items():
            f.add_metric([gw, name], v.get(field, 0))
    events = _family("counter", "lpwa_source_events_total",
                     "protocol-level events a source counts (push_data, tx_ack, reconnects, ...)",
                     ["gateway", "source", "event"])
    for name, stats in sorted(status.get("source_stats", {}).items()):
        for key, value in sorted(stats.items()):
            value = _number(value)
            if value is not None and key not in ("received", "accepted", "rejected"):
                events.add_metric([gw, name, key], value)
    peers = _family("counter", "lpwa_source_peer_rejected_total",
                    "rejected frames per sender address (the 16 worst of at most 256 kept per source)",
                    ["gateway", "source", "peer"])
    for name, stats in sorted(status.get("source_stats", {}).items()):
        for peer, n in sorted((stats.get("rejected_by_peer") or {}).items()):
            peers.add_metric([gw, name, peer], n)
    depth = _family("gauge", "lpwa_source_queue_depth",
                    "messages from this source's devices waiting in the queue (backlog per source)", labels)
    for name in sorted(set(backlog) | set(status.get("source_stats", {}))):
        depth.add_metric([gw, name], backlog.get(name, 0))
    return list(fams.values()) + [events, peers, depth]


DEVICE_GAUGES = (  # (name, help, observer key)
    ("lpwa_device_rssi_dbm", "RSSI of the last accepted frame", "rssi"),
    ("lpwa_device_snr_db", "SNR of the last accepted frame (radios that report one)", "snr"),
    ("lpwa_device_battery_volts", "battery voltage the node last reported", "battery"),
)


def _devices(gw, p, seen):
    labels = ["gateway", "device", "kind"]
    accepted = _family("counter", "lpwa_device_frames_accepted_total", "accepted frames per device", labels)
    rejected = _family("counter", "lpwa_device_frames_rejected_total", "rejected frames per device", labels)
    last = _family("gauge", "lpwa_device_last_seen_timestamp_seconds", "unix time of the last accepted frame",
                   labels)
    lost = _family("counter", "lpwa_device_frames_lost_total",
                   "frames never heard: gaps in the device's frame counter", labels)
    gauges = [(_family("gauge", name, doc, labels), key) for name, doc, key in DEVICE_GAUGES]
    for dev, d in sorted(p.get("devices", {}).items()):
        lab = [gw, dev, str(d.get("kind") or "")]
        accepted.add_metric(lab, d.get("accepted", 0))
        rejected.add_metric(lab, d.get("rejected", 0))
        if _number(d.get("last_seen")):
            last.add_metric(lab, d["last_seen"])
        o = seen.get(dev)
        if o is None:
            continue
        lost.add_metric(lab, o["lost"])
        for f, key in gauges:
            if o.get(key) is not None:
                f.add_metric(lab, o[key])
    rejected.add_metric([gw, "unknown", ""], p.get("rejected_unknown_device", 0))  # ids without a key: one label
    return [accepted, rejected, last, lost] + [f for f, _k in gauges]


def _downlinks(gw, p):
    d = p.get("downlinks", {})
    used = _family("gauge", "lpwa_duty_cycle_used_seconds",
                   "gateway transmit time in the rolling hour (ARIB budget, lpwa.radio.budget)", ["gateway", "radio"])
    cap = _family("gauge", "lpwa_duty_cycle_budget_seconds", "transmit time the rolling hour allows",
                  ["gateway", "radio"])
    for radio, b in sorted(p.get("budgets", {}).items()):
        used.add_metric([gw, radio], b.get("hour_used_us", 0) / 1e6)
        cap.add_metric([gw, radio], b.get("hour_budget_us", 0) / 1e6)
    return [
        _one("counter", "lpwa_downlinks_queued_total", "downlinks queued for a receive window", gw, d.get("queued", 0)),
        _one("counter", "lpwa_downlinks_sent_total", "downlinks handed to a source", gw, d.get("sent", 0)),
        _one("counter", "lpwa_downlinks_rejected_total", "downlink commands refused", gw, d.get("rejected", 0)),
        used, cap,
    ]


def build_registry(status_fn, observer=None, backlog_fn=None, process=True):
    """A registry of its own per gateway (not prometheus-client's global one: tests run several)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(Collector(status_fn, observer, backlog_fn))
    if process:
        ProcessCollector(registry=registry)  # process_cpu_seconds_total, process_resident_memory_bytes, ...
    return registry

"""Semtech UDP packet forwarder source (LoRa concentrators: the Pi's own HAT or a LAN gateway).

PUSH_DATA is answered with PUSH_ACK only after every rxpk in it went through the pipeline, so an
acknowledged frame is already in the durable queue. PULL_DATA tells us where each forwarder (by
gateway EUI) listens for downlinks; a downlink handed back by the pipeline leaves as PULL_RESP,
timed for the node's receive window (uplink tmst + rx_delay_s, same frequency and data rate), or
`imme` when the forwarder sent no tmst. The protocol itself is lpwa.radio.semtech_udp.
"""

import asyncio
import os

from lpwa.gateway.sources.base import SourceBase, parse_listen
from lpwa.radio import semtech_udp as sudp

NAME = "udp"
OPTIONS = {
    "listen": (str, "0.0.0.0:1700", "UDP address the packet forwarder sends to (host:port)"),
    "rx_delay_s": (float, 1.0, "downlink delay after the uplink's end (the node's RX1 window)"),
    "tx_power_dbm": (int, 13, "downlink transmit power asked of the forwarder"),
}
MAX_FORWARDERS = 256  # downlink routes remembered (a site has a handful; garbage must not grow it)


def check(options):
    """Config-time check: the downlink time is tmst (a 32-bit microsecond counter) + rx_delay_s."""
    if not 0 <= options["rx_delay_s"] < 4294:
        raise ValueError("sources.udp.rx_delay_s: must be 0 or more seconds, below 4294")


class Source(SourceBase):
    NAME = NAME
    RADIO = "lora"
    OPTIONS = OPTIONS

    def __init__(self, options, pipeline, gateway_id):
        SourceBase.__init__(self, options, pipeline, gateway_id)
        self.stats.update({"push_data": 0, "pull_data": 0, "tx_ack": 0, "tx_errors": 0,
                           "downlinks_unroutable": 0})
        self.forwarders = {}  # gateway EUI -> address its PULL_DATA came from
        self.transport = None
        self.address = None

    async def start(self):
        host, port = parse_listen(self.options["listen"], "sources.udp.listen")
        loop = asyncio.get_running_loop()
        self.transport, _ = await loop.create_datagram_endpoint(
            lambda: _Protocol(self), local_addr=(host, port))
        self.address = self.transport.get_extra_info("sockname")[:2]
        self.log.info("udp: listening for packet forwarders on %s:%d", *self.address)

    async def stop(self):
        if self.transport is not None:
            self.transport.close()
            self.transport = None

    def datagram_received(self, data, addr):
        try:
            msg = sudp.parse(data)
        except (sudp.ProtocolError, ValueError):
            self.malformed("malformed-datagram")
            return
        kind = msg.get("type")
        if kind == sudp.PUSH_DATA:
            self._push_data(msg, addr)
        elif kind == sudp.PULL_DATA:
            self.stats["pull_data"] += 1
            if msg.get("eui"):
                self.forwarders.pop(msg["eui"], None)
                self.forwarders[msg["eui"]] = addr  # newest last, so the cap drops the longest silent
                if len(self.forwarders) > MAX_FORWARDERS:
                    del self.forwarders[next(iter(self.forwarders))]
            self._send(sudp.ack_for(msg), addr)
        elif kind == sudp.TX_ACK:
            self.stats["tx_ack"] += 1
            error = sudp.tx_ack_error(msg)
            if error and error != "NONE":
                self.stats["tx_errors"] += 1
                # the forwarder's documented codes only: anyone can send TX_ACKs, and one log line (and
                # one remembered key) per made-up string would flood the log and grow without bound
                error = error if error in sudp.TX_ERRORS else "other"
                self.warn_once("tx-" + error, "udp: forwarder refused a downlink: %s", error)
        else:
            self.malformed("unexpected-type")

    def _push_data(self, msg, addr):
        self.stats["push_data"] += 1
        try:
            frames = sudp.rxpk_frames(msg)
        except (sudp.ProtocolError, ValueError):
            self.malformed("malformed-rxpk")
            frames = []
        batch = []
        for payload, meta in frames:
            if meta.get("crc_ok") is False:
                self.malformed("bad-crc")
                continue
            meta = dict(meta)
            meta["gateway_eui"] = msg.get("eui")
            batch.append(("lora", payload, meta))
        outcomes = self.ingest_many(batch) if batch else []
        for (_, _, meta), outcome in zip(batch, outcomes):
            if outcome is not None and outcome.downlink:
                self._downlink(outcome.downlink, meta, msg.get("eui"))
        if all(outcome is not None for outcome in outcomes):
            # everything in it is durably queued (or rejected as bad and counted): now acknowledge
            self._send(sudp.ack_for(msg), addr)

    def _downlink(self, payload, meta, eui):
        addr = self.forwarders.get(eui)
        if addr is None:
            self.stats["downlinks_unroutable"] += 1
            self.warn_once("unroutable", "udp: downlink for a node heard via %s, which never sent PULL_DATA", eui)
            return
        freq = meta.get("freq") or 923.2
        datr = meta.get("datr") or "SF10BW125"
        if isinstance(freq, bool) or not isinstance(freq, (int, float)) or not 0 < freq < 10000 \
                or not isinstance(datr, str):
            # a forwarder's garbage (freq Infinity would even make the PULL_RESP invalid JSON)
            self.count("downlinks_lost")
            self.warn_once("downlink-meta", "udp: dropped a downlink: the uplink's freq/datr are not usable")
            return
        tmst = meta.get("tmst")
        if isinstance(tmst, int):
            when = (tmst + int(self.options["rx_delay_s"] * 1000000)) & 0xFFFFFFFF
            txpk = sudp.make_txpk(bytes(payload), freq, datr, tmst=when, powe=self.options["tx_power_dbm"])
        else:
            txpk = sudp.make_txpk(bytes(payload), freq, datr, imme=True, powe=self.options["tx_power_dbm"])
        self._send(sudp.build_pull_resp(int.from_bytes(os.urandom(2), "big"), txpk), addr)
        self.stats["downlinks"] += 1

    def _send(self, data, addr):
        if data and self.transport is not None:
            self.transport.sendto(data, addr)


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, source):
        self.source = source

    def datagram_received(self, data, addr):
        try:
            self.source.datagram_received(data, addr)
        except Exception as exc:  # never let one datagram take the endpoint down
            self.source.stats["errors"] += 1
            self.source.warn_once("crash", "udp: unexpected %s handling a datagram", type(exc).__name__)

    def error_received(self, exc):
        self.source.stats["errors"] += 1

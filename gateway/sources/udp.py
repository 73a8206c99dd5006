"""Semtech UDP packet forwarder source (LoRa concentrators: the Pi's own HAT or a LAN gateway).

PUSH_DATA is answered with PUSH_ACK only after every rxpk in it went through the pipeline, so an
acknowledged frame is already in the durable queue. PULL_DATA tells us where each forwarder (by
gateway EUI) listens for downlinks; a downlink handed back by the pipeline leaves as PULL_RESP,
timed for the node's receive window (uplink tmst + rx_delay_s, same frequency and data rate), or
`imme` when the forwarder sent no tmst. The protocol itself is lpwa.radio.semtech_udp.

Every answer (PUSH_ACK, PULL_ACK, PULL_RESP) goes out in the protocol version the forwarder
spoke. A PUSH_DATA's rxpk entries are decoded one by one: a bad one is counted (`rxpk_bad`) and
the good ones beside it are delivered; it is still acknowledged (a resend would be as bad).

Forwarders never resend, so datagrams the kernel drops while the gateway stalls are gone. The
socket's receive buffer is sized by `rcvbuf_bytes` (SO_RCVBUFFORCE when the process may, else
SO_RCVBUF, which Linux caps at net.core.rmem_max; the size granted is in `rcvbuf_bytes` of the
status, with a warning when it is less than asked). Kernel drops are read from the socket's row
(by inode) of /proc/net/udp or /proc/net/udp6, `drops` column, every `drops_poll_s`, into
`kernel_drops`; where the OS does not report them (no /proc: macOS, BSD) it shows "n/a".
"""

import asyncio
import os
import socket

from lpwa.gateway.options import Row
from lpwa.gateway.sources.base import SourceBase, check_listen, parse_listen
from lpwa.radio import semtech_udp as sudp

NAME = "udp"
OPTIONS = {
    "listen": Row(str, "0.0.0.0:1700", "UDP address the packet forwarder sends to (host:port)", check_listen),
    "rx_delay_s": (float, 1.0, "downlink delay after the uplink's end (the node's RX1 window)"),
    "tx_power_dbm": (int, 13, "downlink transmit power asked of the forwarder"),
    "rcvbuf_bytes": (int, 4 * 1024 * 1024, "socket receive buffer: datagrams that arrive while the gateway stalls"),
    "drops_poll_s": (float, 5.0, "how often kernel drop counts are read from /proc/net/udp"),
}
BINDS = {"listen": "udp"}  # what `lpwa gateway check` test-binds (lpwa.gateway.preflight)
MAX_FORWARDERS = 256  # downlink routes remembered (a site has a handful; garbage must not grow it)
SO_RCVBUFFORCE = getattr(socket, "SO_RCVBUFFORCE", 33)  # Linux; needs CAP_NET_ADMIN
PROC_UDP = ("/proc/net/udp", "/proc/net/udp6")


def check(options):
    """Config-time check: the downlink time is tmst (a 32-bit microsecond counter) + rx_delay_s."""
    if not 0 <= options["rx_delay_s"] < 4294:
        raise ValueError("sources.udp.rx_delay_s: must be 0 or more seconds, below 4294")
    if not 4096 <= options["rcvbuf_bytes"] <= 1 << 30:
        raise ValueError("sources.udp.rcvbuf_bytes: must be 4096 .. 1073741824 bytes")
    if not 0.1 <= options["drops_poll_s"] < float("inf"):
        raise ValueError("sources.udp.drops_poll_s: must be at least 0.1 seconds")


def set_rcvbuf(sock, size):
    """Ask for a `size`-byte receive buffer (forced past rmem_max when allowed); the size granted.
    Linux reports twice the payload size it reserves (bookkeeping), so that is halved back."""
    for option in (SO_RCVBUFFORCE, socket.SO_RCVBUF):
        try:
            sock.setsockopt(socket.SOL_SOCKET, option, size)
            break
        except OSError:
            continue
    granted = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
    return granted // 2 if os.uname().sysname == "Linux" else granted


def kernel_drops(sock, tables=PROC_UDP):
    """The kernel's drop count for `sock` from /proc/net/udp{,6} (matched by inode), or None where
    the OS does not report one."""
    inode = str(os.fstat(sock.fileno()).st_ino)
    for path in tables:
        try:
            with open(path) as f:
                lines = f.readlines()
        except OSError:
            continue
        for line in lines[1:]:
            cols = line.split()
            if len(cols) >= 13 and cols[9] == inode:
                return int(cols[-1])
    return None


class Source(SourceBase):
    NAME = NAME
    RADIO = "lora"
    OPTIONS = OPTIONS

    def __init__(self, options, pipeline, gateway_id):
        SourceBase.__init__(self, options, pipeline, gateway_id)
        self.stats.update({"push_data": 0, "pull_data": 0, "tx_ack": 0, "tx_errors": 0,
                           "downlinks_unroutable": 0, "rxpk_bad": 0, "rcvbuf_bytes": 0, "kernel_drops": "n/a"})
        self.forwarders = {}  # gateway EUI -> (address its PULL_DATA came from, protocol version)
        self.transport = None
        self.address = None
        self._poll = None

    async def start(self):
        host, port = parse_listen(self.options["listen"], "sources.udp.listen")
        loop = asyncio.get_running_loop()
        self.transport, _ = await loop.create_datagram_endpoint(
            lambda: _Protocol(self), local_addr=(host, port))
        self.address = self.transport.get_extra_info("sockname")[:2]
        self._size_buffer(self.transport.get_extra_info("socket"))
        self.log.info("udp: listening for packet forwarders on %s:%d", *self.address)
        self.poll_drops()

    def _size_buffer(self, sock):
        asked = self.options["rcvbuf_bytes"]
        granted = self.stats["rcvbuf_bytes"] = set_rcvbuf(sock, asked)
        if granted < asked:
            self.log.warning("udp: receive buffer is %d bytes, not the %d asked (raise net.core.rmem_max "
                             "or run with CAP_NET_ADMIN)", granted, asked)

    def poll_drops(self):
        """Copy the kernel's drop count into the stats, and read it again in drops_poll_s."""
        if self.transport is None:
            return
        sock = self.transport.get_extra_info("socket")
        drops = kernel_drops(sock) if sock is not None else None
        if drops is None:
            self.warn_once("no-drops", "udp: this OS does not report kernel datagram drops (no /proc/net/udp)")
            return
        self.stats["kernel_drops"] = drops
        self._poll = asyncio.get_running_loop().call_later(self.options["drops_poll_s"], self.poll_drops)

    async def stop(self):
        if self._poll is not None:
            self._poll.cancel()
            self._poll = None
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
                # newest last, so the cap drops the longest silent
                self.forwarders[msg["eui"]] = (addr, msg["version"])
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
        batch = []
        for payload, meta, reason in sudp.rxpk_entries(msg):
            if reason is not None:
                self.stats["rxpk_bad"] += 1
                self.malformed("rxpk-" + reason)
                continue
            if meta.get("crc_ok") is False:
                self.malformed("bad-crc")
                continue
            meta = dict(meta)
            meta["gateway_eui"] = msg.get("eui")
            batch.append(("lora", payload, meta))
        outcomes = self.ingest_many(batch, peer=addr[0]) if batch else []
        for (_, _, meta), outcome in zip(batch, outcomes):
            if outcome is not None and outcome.downlink:
                self._downlink(outcome.downlink, meta, msg.get("eui"))
        if all(outcome is not None for outcome in outcomes):
            # everything in it is durably queued (or rejected as bad and counted): now acknowledge
            self._send(sudp.ack_for(msg), addr)

    def _downlink(self, payload, meta, eui):
        route = self.forwarders.get(eui)
        if route is None:
            self.stats["downlinks_unroutable"] += 1
            self.warn_once("unroutable", "udp: downlink for a node heard via %s, which never sent PULL_DATA", eui)
            return
        addr, version = route
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
        self._send(sudp.build_pull_resp(int.from_bytes(os.urandom(2), "big"), txpk, version), addr)
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

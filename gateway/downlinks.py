"""Downlinks: commands from MQTT queued durably per device, handed to a source in the device's
next receive window, within each radio's payload limit and the ARIB duty-cycle budget.

`queue()` is what the MQTT sink calls for `<prefix>/<kind>/<device>/down`; `take()` runs inside the
pipeline's transaction for an uplink that opened a receive window.
"""

import logging

from lpwa.codecs.command import encode_command
from lpwa.gateway.network import gateway_side as network_downlink
from lpwa.radio import airtime, budget

log = logging.getLogger("lpwa.gateway.pipeline")

DOWNLINK_MAX = {"sigfox": 8, "lora": 51, "wisun": 1232}  # bytes; Sigfox downlinks are exactly 8
LORA_DEFAULT_SF = 10  # when the forwarder's rxpk gives no datr


class _BadCommand(Exception):
    pass


class _MemStore:
    """Byte store for a gateway-side duty-cycle Budget (kept in memory: a restart starts a fresh hour)."""

    def __init__(self):
        self.data = None

    def read(self):
        return self.data

    def write(self, data):
        self.data = bytes(data)


def lora_sf(datr):
    """Spreading factor of a Semtech `datr` ("SF10BW125") -> int, LORA_DEFAULT_SF when absent or not
    LoRa, None when it names an SF we cannot charge airtime for."""
    datr = str(datr or "")
    if not (datr.startswith("SF") and "BW" in datr):
        return LORA_DEFAULT_SF
    sf = datr[2:datr.index("BW")]
    if not sf.isdigit() or not 5 <= int(sf) <= 12:
        return None
    return int(sf)


class Downlinks:
    def __init__(self, store, state, keys, devices, rejections, clock):
        self.store = store
        self.state = state
        self._keys = keys
        self._devices = devices
        self.rejections = rejections  # the pipeline's Counter: "downlink-<reason>"
        self.clock = clock
        self.devices = store.downlink_devices()  # devices with a queued downlink
        self._budgets = {}
        self.queued = 0
        self.sent = 0
        self.rejected = 0

    def queue(self, device, command, kind=None):
        """Encode a command (dict, see lpwa.codecs.command) for `device` and queue it durably for its next
        receive window. `kind` (the topic's kind level) must be the device's kind, so an ACL on
        `.../drone-vital/+/down` cannot be used to command a buoy. Returns None on success or a
        reason string (counted and logged)."""
        key = self._keys.get(device)
        if key is None:
            return self._reject(device, "unknown-device")
        if kind is not None and kind != self._devices[device]["kind"]:
            return self._reject(device, "wrong-kind", "topic says %s" % kind)
        if not isinstance(command, dict) or not isinstance(command.get("cmd"), str):
            return self._reject(device, "bad-command")
        network_counter = network_downlink.take_counter(command)  # lpwa network: gateway/NETWORK.md
        if network_downlink.refusal(self.state, device, network_counter):
            return self._reject(device, network_downlink.refusal(self.state, device, network_counter))
        with self.store.lock:
            previous = self.state.get(device)["down_counter"]
            try:
                with self.store.transaction() as batch:
                    counter = network_downlink.counter(self.state, batch, device, network_counter)
                    try:
                        data = encode_command(int(device, 16), key, counter, command)
                    except (ValueError, TypeError, KeyError, OverflowError) as e:  # OverflowError: int(inf)
                        raise _BadCommand(getattr(e, "reason", None) or str(e).split(":")[0][:40] or "bad-command")
                    batch.add_downlink(device, data, self.clock())
            except _BadCommand as e:
                self.state.get(device)["down_counter"] = previous
                return self._reject(device, "bad-command", str(e))
            self.devices.add(device)
            self.queued += 1
        log.info("downlink queued", extra={"event": "downlink-queued", "device": device, "cmd": command["cmd"],
                                           "bytes": len(data)})
        return None

    def budget_status(self):
        """The gateway's own duty-cycle use per radio (the budgets downlinks are charged to)."""
        now_ms = int(self.clock() * 1000)
        return {radio: b.status(now_ms) for radio, b in sorted(self._budgets.items())}

    def reload(self):
        """After a rolled-back transaction: a downlink taken in it is still queued."""
        try:
            self.devices = self.store.downlink_devices()
        except Exception:
            pass

    def _reject(self, device, reason, detail=None):
        self.rejected += 1
        self.rejections["downlink-" + reason] += 1
        extra = {"event": "downlink-rejected", "device": device, "reason": reason}
        if detail:
            extra["detail"] = detail
        log.warning("downlink rejected", extra=extra)
        return reason

    def take(self, batch, device, radio, meta):
        """The downlink for this uplink's receive window (removed in `batch`), or None."""
        if device not in self.devices:
            return None
        if radio == "sigfox" and meta.get("ack") is False:
            return None  # the device did not ask for a downlink on this uplink
        head = network_downlink.head_id(batch, device)
        data = batch.take_downlink(device, DOWNLINK_MAX.get(radio))
        if data is None:
            return None
        verdict = self._budget(radio, meta, len(data))
        if verdict != "ok":
            # keep it for a later window, at the head of this device's line: "never" means too long
            # for one transmission at this data rate; a faster uplink can still carry it
            network_downlink.put_back(batch, head, device, data, self.clock())
            self.rejections["downlink-deferred-" + ("too-long" if verdict == "never" else "duty-cycle")] += 1
            return None
        if not batch.has_downlink(device):
            self.devices.discard(device)
        log.info("downlink taken", extra={"event": "downlink-sent", "device": device, "radio": radio,
                                          "bytes": len(data)})
        return data

    def _airtime_us(self, radio, meta, length):
        if radio == "lora":
            sf = lora_sf(meta.get("datr"))
            return None if sf is None else airtime.lora_airtime_us(length, sf)
        return airtime.wisun_airtime_us(length)

    def _budget(self, radio, meta, length):
        """Gateway transmissions obey the same ARIB duty-cycle budget as nodes (lpwa.radio.budget).
        -> "ok" (charged), "wait" (not now) or "never" (too long for one transmission).
        Sigfox downlinks are sent by the Sigfox network, not by us."""
        if radio == "sigfox":
            return "ok"
        try:
            us = self._airtime_us(radio, meta, length)
            if us is None:
                return "never"  # a data rate we cannot charge: keep it for an uplink with a sane one
            b = self._budgets.get(radio)
            if b is None:
                b = self._budgets[radio] = budget.Budget(_MemStore(), budget.profile_for(radio))
            now_ms = int(self.clock() * 1000)
            ok, wait_ms, _why = b.request(now_ms, us)
            if ok:
                b.record(now_ms, us)
                return "ok"
            return "never" if wait_ms < 0 else "wait"
        except Exception:  # a budget bug must not stop uplinks
            log.exception("duty-cycle budget failed", extra={"event": "budget-error", "radio": radio})
            return "ok"

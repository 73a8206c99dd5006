"""Remote re-configuration: a downlink from the receive window, checked by the codec, applied.

The codec (lpwa.codecs.command_node, the node's half of lpwa.codecs.command) verifies the MIC
and the downlink counter (a replay fails the MIC), and this module applies the command to the
node's durable state: sampling interval, radio parameters, reboot, sensor-fault reset, consent, an immediate status frame, the SpO2 calibration. A command the node
cannot follow is answered with a reason in the log, never half-applied.
"""

from lpwa.firmware import tunables  # the checks only, not the whole config validator


def _keys(node):
    """The key schedule this wake's encoder already holds (the same keys, derived from the same device key):
    building another in the receive window asks for ~500 B in one piece of a heap the wake has cut up."""
    keys = getattr(node.encoder, "keys", None)
    return keys if keys is not None else node.cfg["key"]


def apply(node, raw):
    """Apply one downlink to `node`; returns a short result string for the log."""
    from lpwa.codecs import command_node as cmdmod
    from lpwa.codecs.errors import FrameError

    cfg = node.cfg
    state = node.state
    try:
        cmd = cmdmod.decode_command(raw, cfg["device_id"], _keys(node), state.get("dl_ctr"))
    except FrameError as e:
        state.set("dl_rejected", state.get("dl_rejected", 0) + 1)
        return "rejected: " + e.reason
    state.set("dl_ctr", cmd["counter"], durable=True)
    name = cmd["cmd"]
    if name == "set-interval":
        try:
            seconds = tunables.check_interval(cmd["seconds"], cfg["radio"])
        except tunables.ConfigError as e:
            return "refused: " + str(e)
        state.set("interval_s", seconds, durable=True)
        # the new interval starts from the reading just sent
        state.set("next_reading_ms", state.get("last_reading_s", 0) * 1000 + seconds * 1000)
        return "interval %d s" % seconds
    if name == "set-radio":
        if cmd["radio"] != cfg["radio"]:
            return "refused: radio %s is not fitted (this node has %s)" % (cmd["radio"], cfg["radio"])
        if "sf" in cmd and cfg["radio"] == "lora":
            lora = dict(node.lora)
            lora["sf"] = cmd["sf"]
            try:
                lora = tunables.check_lora(lora)
            except tunables.ConfigError as e:
                return "refused: " + str(e)
            state.set("lora", lora, durable=True)
            node.lora = lora
            if node.radio is not None and hasattr(node.radio, "reconfigure"):
                node.radio.reconfigure(lora)
            return "lora sf %d" % lora["sf"]
        return "radio unchanged"
    if name == "reboot":
        state.set("reboot", True, durable=True)
        return "reboot"
    if name == "reset-fault":
        mask = cmd.get("mask", 255)
        faults = dict(state.get("faults", {}))
        for key in list(faults):
            if int(key) & mask:
                del faults[key]
        state.set("faults", faults, durable=True)
        state.set("fault_reset", state.get("fault_reset", 0) + 1, durable=True)
        node.board.reset_sensors()
        return "faults cleared (mask 0x%02x)" % mask
    if name == "consent":
        state.set("consent", bool(cmd["granted"]), durable=True)
        state.set("status_now", True)  # the next status frame shows the gateway it was applied
        return "consent %s" % ("granted" if cmd["granted"] else "withdrawn")
    if name == "set-spo2-cal":
        return _spo2_cal(node, cmd["coef"], int(round(cmd["value"] * 100)))
    if name == "request-status":
        state.set("status_now", True)
        return "status requested"
    return "ignored: " + name


def _spo2_cal(node, coef, code):
    """Stage one coefficient, or check and apply the staged curve ("apply", lo in hundredths)."""
    from lpwa.firmware.algorithms import spo2

    state = node.state
    staged = list(state.get("spo2_cal_staged") or [None, None, 0])
    if coef != "apply":
        staged["abc".index(coef)] = code
        state.set("spo2_cal_staged", staged, durable=True)
        return "spo2 %s staged" % coef
    if code == 0:
        state.set("spo2_cal", None, durable=True)
        return "spo2 calibration from the config" if node.cfg.get("spo2_cal") else "spo2 default curve"
    if staged[0] is None or staged[1] is None:
        return "refused: spo2 a and b must be staged first"
    try:
        cal = spo2.check((staged[0], staged[1], staged[2], code))
    except spo2.CalibrationError as e:
        return "refused: " + str(e)
    state.set("spo2_cal", list(cal), durable=True)
    state.set("spo2_cal_staged", None, durable=True)
    return "spo2 calibration %d %d %d from %d" % cal

"""What a downlink may change (the reading interval, the LoRa parameters) and its checks.

Split from firmware/config.py so that applying a downlink does not load the whole validator
(8.5 KB of bytecode and names) midway through a wake, into a heap the wake's frames have cut up
(issue #14). config.py imports these: one ConfigError, one set of checks.
"""

MIN_INTERVAL_S = {"lora": 30, "sigfox": 620, "wisun": 10}
MAX_INTERVAL_S = 86400
LORA_SF = (7, 8, 9, 10, 11, 12)
LORA_BW_KHZ = (125, 250)
# ARIB STD-T108 channels 24..61: 920.6..928.0 MHz in 200 kHz steps (radio-facts.md).
LORA_FREQ_MIN_KHZ = 920600
LORA_FREQ_MAX_KHZ = 928000
LORA_POWER_MAX_DBM = 13
MIN_LORA_PAYLOAD = 16  # a fragment header, a little body and the MIC
DEFAULT_LORA = {"sf": 10, "bw_khz": 125, "freq_khz": 923200, "power_dbm": 13}


class ConfigError(ValueError):
    """The device config is missing a field or has a bad value."""


def check_lora(lora):
    """Validate radio parameters (also used for set-radio downlinks); returns a clean dict."""
    if not isinstance(lora, dict):
        raise ConfigError("lora must be an object")
    out = dict(DEFAULT_LORA)
    for k in lora:
        if k not in out:
            raise ConfigError("lora: unknown field %r" % k)
        out[k] = lora[k]
    if not isinstance(out["sf"], int) or isinstance(out["sf"], bool) or out["sf"] not in LORA_SF:
        raise ConfigError("lora.sf must be one of %s" % (LORA_SF,))
    if not isinstance(out["bw_khz"], int) or isinstance(out["bw_khz"], bool) or out["bw_khz"] not in LORA_BW_KHZ:
        raise ConfigError("lora.bw_khz must be one of %s" % (LORA_BW_KHZ,))
    from lpwa.radio.limits import max_payload

    if max_payload("lora", out["sf"], out["bw_khz"]) < MIN_LORA_PAYLOAD:
        raise ConfigError("lora.sf %d at %d kHz cannot carry a frame within the 400 ms dwell limit"
                          % (out["sf"], out["bw_khz"]))
    f = out["freq_khz"]
    if not isinstance(f, int) or f < LORA_FREQ_MIN_KHZ or f > LORA_FREQ_MAX_KHZ or (f - LORA_FREQ_MIN_KHZ) % 200:
        raise ConfigError("lora.freq_khz must be an ARIB channel centre 920600..928000 in 200 kHz steps")
    p = out["power_dbm"]
    if not isinstance(p, int) or p < -4 or p > LORA_POWER_MAX_DBM:
        raise ConfigError("lora.power_dbm must be -4..%d (20 mW class)" % LORA_POWER_MAX_DBM)
    return out


def check_interval(seconds, radio):
    if not isinstance(seconds, int) or seconds < MIN_INTERVAL_S[radio] or seconds > MAX_INTERVAL_S:
        raise ConfigError("interval must be %d..%d s for %s" % (MIN_INTERVAL_S[radio], MAX_INTERVAL_S, radio))
    return seconds

"""The simulated air: what the host board's radio modules put on it, and what comes back.

A real board's frames leave through its radio; so do the host board's. Each simulated module
(lora.py, sigfox.py, wisun.py) records every transmission here as the network would see it:
the bytes, when they started, the airtime they took and the radio's metadata (LoRa data rate
and channel with the RSSI/SNR a gateway would measure, the Sigfox module's ID and sequence
number, the Wi-SUN sender address). `lpwa node simulate`, `lpwa node report` and the tests read
the air, not the app's log. Downlinks wait here for the node's next receive window.
"""

MAX_UPLINKS = 256  # a wake sends a handful; whoever runs the board takes them after each wake


class AirFull(Exception):
    """More transmissions piled up than anybody read: the runner forgot to take them."""


class Air:
    def __init__(self):
        self.uplinks = []  # {"radio", "time_ms", "bytes", "airtime_us", "meta"} in order sent
        self.downlinks = []  # (world ms, order, bytes) waiting for a receive window

    def transmit(self, radio, payload, time_ms, airtime_us, meta):
        """A module sent `payload` starting at world time `time_ms`."""
        if len(self.uplinks) >= MAX_UPLINKS:
            raise AirFull("%d transmissions not taken from the simulated air" % MAX_UPLINKS)
        self.uplinks.append({"radio": radio, "time_ms": time_ms, "bytes": bytes(payload),
                             "airtime_us": airtime_us, "meta": meta})

    def take(self):
        """Every transmission since the last take, oldest first."""
        out = self.uplinks
        self.uplinks = []
        return out

    def schedule_downlinks(self, downlinks):
        """[(world ms, bytes)]: each waits for the first receive window at or after its time."""
        for data in downlinks:
            self.downlinks.append((data[0], len(self.downlinks), bytes(data[1])))
        self.downlinks.sort()  # by time, then given order (MicroPython's sort is not stable)

    def pop_downlink(self, now_ms):
        """The oldest downlink due by `now_ms`, or None (a module's receive window asks)."""
        if self.downlinks and self.downlinks[0][0] <= now_ms:
            return self.downlinks.pop(0)[2]
        return None

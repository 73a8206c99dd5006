"""The Wi-SUN dongle's PANA session: what state it is in, and re-joining when it ends.

The module reports the session with EVENT lines (ROHM BP35A1 / BP35C0-C2 command references,
section EVENT): 25 established, 24 PANA failed, 26 the peer asked to end it, 27 ended, 28 ending
timed out, 29 lifetime expired. After any of the losing ones the gateway sends
`SKJOIN <coordinator>` again, with exponential back-off between attempts (an attempt the module
never answers is retried after JOIN_TIMEOUT_S); one warning per episode, then the recovery is
logged once. The coordinator's address is the configured one (or the SKJOIN among the init
commands); without one the gateway does not re-join (a dongle that is itself the PAN coordinator,
SKSTART, sees EVENT 25/27 for its nodes' sessions, not its own). State names, shown by `lpwa gateway status`: unknown (nothing heard yet), up, joining,
down (lost, waiting for the next attempt).
"""

import threading

from lpwa.radio import skstack

JOIN_TIMEOUT_S = 60.0  # SKJOIN takes up to ~40 s on a BP35C2 before EVENT 24/25 (nbtk/momonga)


def rejoin_delay(attempt, first_s, max_s):
    """Seconds to wait before attempt number `attempt` (0-based): first_s, doubled, capped."""
    return min(first_s * (2 ** min(attempt, 30)), max_s)


class PanaSession:
    """Session state fed with parsed EVENTs; `send(bytes)` writes to the dongle; `stats` gets
    session (state name), session_lost and rejoins."""

    def __init__(self, send, stats, log, coordinator="", first_s=5.0, max_s=300.0):
        self.send = send
        self.stats = stats
        self.log = log
        self.coordinator = coordinator or None
        self.first_s = first_s
        self.max_s = max_s
        self.attempts = 0  # in the current episode
        self._lock = threading.Lock()
        self._timer = None
        self._episode = False
        self._stopped = False
        stats.update({"session": "unknown", "session_lost": 0, "rejoins": 0})

    def on_event(self, event):
        code = event.get("code")
        if code == 0x25:
            self._established()
        elif code in skstack.SESSION_LOST:
            self._lost(event.get("name"))

    def join_now(self):
        """Join at once (a fresh or re-plugged dongle, when a coordinator is configured)."""
        with self._lock:
            self._cancel()
            if self.coordinator is not None and not self._stopped:
                self._attempt()

    def stop(self):
        with self._lock:
            self._stopped = True
            self._cancel()

    def _established(self):
        with self._lock:
            self._cancel()
            if self._episode:
                self.log.info("wisun: PANA session re-established after %d attempt(s)", self.attempts)
            self._episode = False
            self.attempts = 0
            self.stats["session"] = "up"

    def _lost(self, why):
        with self._lock:
            was = self.stats["session"]
            self.stats["session"] = "down"
            if was == "up" or not self._episode:
                self.stats["session_lost"] += 1
            if not self._episode:
                self._episode = True
                if self.coordinator is None:
                    self.log.info("wisun: PANA session ended (%s); not re-joining: sources.wisun.join is not set",
                                  why)
                else:
                    self.log.warning("wisun: PANA session lost (%s); re-joining with back-off up to %.0f s",
                                     why, self.max_s)
            self._cancel()
            if self.coordinator is not None and not self._stopped:
                self._arm(rejoin_delay(self.attempts, self.first_s, self.max_s))

    def _attempt(self):
        """Send SKJOIN (lock held) and arm the watchdog for an attempt that is never answered."""
        self.attempts += 1
        self.stats["rejoins"] += 1
        self.stats["session"] = "joining"
        self.send(skstack.build_skjoin(self.coordinator))
        self._arm(max(JOIN_TIMEOUT_S, rejoin_delay(self.attempts, self.first_s, self.max_s)))

    def _fire(self, timer):
        with self._lock:
            if timer is not self._timer or self._stopped:
                return
            self._timer = None
            self._attempt()

    def _arm(self, delay):
        timer = threading.Timer(delay, lambda: self._fire(timer))
        timer.daemon = True
        self._timer = timer
        timer.start()

    def _cancel(self):
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

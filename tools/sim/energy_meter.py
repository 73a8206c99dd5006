"""A metered simulated day: how long the node spends in each power state, for the energy model.

The host board runs the unchanged app on a simulated clock; this board subclass notes, on that
clock, when each wake starts and ends, each light sleep, each receive window, the airtime of
each uplink and the span over which each sensor is used in a wake. Computation costs no
simulated time, so per-wake boot and per-drain costs are added by the model (energy.py rows).
"""

from lpwa.boards.host.board import HostBoard

SENSOR_PART = {"imu": "mpu6050", "ppg": "max30102", "temp": "ds18b20", "gps": "gps"}
# Least time a part is on per wake that uses it, where the simulated part answers at once:
# the DS18B20's 12-bit conversion (datasheet tCONV 750 ms); the GPS the firmware's fix wait
# (plan gps_timeout_ms, 3 s): with Vext off between wakes each fix is a cold start (NEO-6 TTFF
# ~27 s), so the wait usually runs out.
MIN_ON_S = {"ds18b20": 0.75, "gps": 3.0}
# A Sigfox uplink that asks for a downlink keeps the module listening: up to 25 s, from 20 s after
# the uplink (Sigfox RC3; firmware/drivers/radio_sigfox.py DOWNLINK_TIMEOUT_MS). The simulated
# module just waits, so the meter counts the whole window as module RX (an upper bound).
SIGFOX_RX_S = 25.0


class _Timed:
    """Wraps a driver: notes the simulated time of its first and last call in this wake."""

    def __init__(self, drv, board, part):
        self._drv = drv
        self._board = board
        self._part = part

    def __getattr__(self, name):
        attr = getattr(self._drv, name)
        if not callable(attr):
            return attr
        board, part = self._board, self._part

        def timed(*a, **kw):
            board.sensor_used(part, board.clock.ms)
            try:
                return attr(*a, **kw)
            finally:
                board.sensor_used(part, board.clock.ms)

        return timed


class _TimedRadio:
    def __init__(self, radio, board):
        self._radio = radio
        self._board = board

    def __getattr__(self, name):
        return getattr(self._radio, name)

    def send(self, payload, want_downlink=False):
        if want_downlink and getattr(self._radio, "name", None) == "sigfox":
            self._board.meter["rx_s"] += SIGFOX_RX_S
        return self._radio.send(payload, want_downlink)

    def receive(self, timeout_ms):
        t0 = self._board.clock.ms
        try:
            return self._radio.receive(timeout_ms)
        finally:
            self._board.meter["rx_s"] += (self._board.clock.ms - t0) / 1000.0


class MeteredBoard(HostBoard):
    def __init__(self, kind="buoy", seed=1, scenario=None):
        HostBoard.__init__(self, kind, seed, scenario)
        self.meter = {"awake_s": 0.0, "light_s": 0.0, "tx_s": 0.0, "rx_s": 0.0, "wakes": 0, "wakes_from_deep": 0,
                      "sensor_on_s": {}}
        self._wake_ms = None
        self._span = {}
        transmit = self.air.transmit

        def metered_transmit(radio, payload, time_ms, air_us, meta):
            self.meter["tx_s"] += air_us / 1e6
            return transmit(radio, payload, time_ms, air_us, meta)

        self.air.transmit = metered_transmit

    def sensor_used(self, part, ms):
        lo_hi = self._span.get(part)
        self._span[part] = (ms, ms) if lo_hi is None else (min(lo_hi[0], ms), max(lo_hi[1], ms))

    def _end_awake(self):
        if self._wake_ms is not None:
            self.meter["awake_s"] += (self.clock.ms - self._wake_ms) / 1000.0
        self._wake_ms = None

    def _end_wake(self):
        self._end_awake()
        on = self.meter["sensor_on_s"]
        for part in self._span:
            lo, hi = self._span[part]
            on[part] = on.get(part, 0.0) + max((hi - lo) / 1000.0, MIN_ON_S.get(part, 0.0))
        self._span = {}

    def boot(self):
        self._end_wake()
        HostBoard.boot(self)
        self.meter["wakes"] += 1
        if self.cause != "light-sleep":
            self.meter["wakes_from_deep"] += 1
        self._wake_ms = self.clock.ms

    def deep_sleep(self, ms):
        self._end_wake()
        HostBoard.deep_sleep(self, ms)

    def light_sleep(self, ms):
        self._end_awake()
        t0 = self.clock.ms
        HostBoard.light_sleep(self, ms)
        self.meter["light_s"] += (self.clock.ms - t0) / 1000.0
        self._wake_ms = self.clock.ms

    def sensor(self, name):
        drv = HostBoard.sensor(self, name)
        part = SENSOR_PART.get(name)
        return drv if part is None or isinstance(drv, _Timed) else _Timed(drv, self, part)

    def radio(self, cfg, lora):
        return _TimedRadio(HostBoard.radio(self, cfg, lora), self)


def meter_day(cfg_json, hours=24.0, motion=None):
    """Seconds per power state in a simulated day (scaled to 24 h), plus the pedometer's counts."""
    from lpwa.boards.host.simulate import simulate
    from lpwa.firmware import config

    cfg = config.loads(cfg_json)
    board = MeteredBoard(cfg["kind"])
    scene = None
    if motion is not None:
        from lpwa.tools.sim.gait_day import scene as make_scene

        scene = make_scene(motion)
    r = simulate(cfg, hours=hours, board=board, motion=scene)
    board._end_wake()
    scale = 24.0 / hours
    m = board.meter
    duty = {k: m[k] * scale for k in ("awake_s", "light_s", "tx_s", "rx_s", "wakes", "wakes_from_deep")}
    duty["sensor_on_s"] = {p: m["sensor_on_s"][p] * scale for p in m["sensor_on_s"]}
    ped = r.get("pedometer")
    if ped:
        duty["drains"] = ped.get("drains", 0) * scale
        duty["samples"] = ped.get("samples", 0) * scale
        duty["sensor_on_s"]["mpu6050"] = 86400.0  # the IMU samples into its FIFO all day, MCU asleep or not
    return duty

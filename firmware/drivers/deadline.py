"""Timeouts that survive the tick counter's wrap-around.

MicroPython's time.ticks_ms() wraps (every 2**30 ms, about 12.4 days, on the ESP32), so a
deadline of `ticks_ms() + timeout` compared with `<` may be one the counter never reaches: a
node in continuous light sleep (the pedometer) would then wait on a silent module until the
watchdog fires. Clocks with `ticks_diff` (the board's) are compared the MicroPython way; a
clock without it (the host's simulated clock, which never wraps) by plain subtraction.
"""


def elapsed_ms(clock, start):
    """Milliseconds since `start` (a value of clock.ticks_ms()), correct across a wrap."""
    now = clock.ticks_ms()
    diff = getattr(clock, "ticks_diff", None)
    if diff is None:
        return now - start
    return diff(now, start)

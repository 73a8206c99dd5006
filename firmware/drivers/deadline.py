"""Timeouts that survive the tick counter's wrap-around.

MicroPython's time.ticks_ms() wraps (every 2**30 ms, about 12.4 days, on the ESP32), so a
deadline of `ticks_ms() + timeout` compared with `<` may be one the counter never reaches: a
node in continuous light sleep (the pedometer) would then wait on a silent module until the
watchdog fires. Every board clock has `ticks_diff` (the ESP32's is time.ticks_diff; the host's
simulated clock never wraps and subtracts).
"""


def elapsed_ms(clock, start):
    """Milliseconds since `start` (a value of clock.ticks_ms()), correct across a wrap."""
    return clock.ticks_diff(clock.ticks_ms(), start)

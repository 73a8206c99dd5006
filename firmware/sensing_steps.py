"""The pedometer's sampling: every step from the IMU FIFO (firmware/pedometer.py), since the last reading."""

from lpwa.firmware.sensing import F_IMU, Sampler


class StepsSampler(Sampler):
    """One pedometer wake's sampling."""

    def step_tracker(self, slots):
        """The continuous step counter (firmware/pedometer.py), or None when the IMU failed."""
        from lpwa.firmware import pedometer

        mode = self.cfg.get("step_mode", "body")
        return self._try(F_IMU, lambda: pedometer.tracker(self.board, slots, self.plan, mode))

    def steps(self, readings, now_s, since_s, tracker, now_ms):
        """Steps since the last reading, every one counted (the IMU FIFO is drained continuously)."""
        steps = 0
        if tracker is not None and self._try(F_IMU, lambda: tracker.drain(now_ms)) is not None:
            steps = tracker.take()
        pending = self.state.get("steps_pending", 0) + steps
        total = self.state.get("steps_total", 0) + steps
        # steps not yet sent (radio down, budget) stay pending: the interval runs from the first
        start = self.state.get("steps_since") or since_s
        self.state.set("steps_pending", pending)
        self.state.set("steps_since", start)
        self.state.set("steps_total", total, durable=True)
        readings["steps"] = min(pending, 65535)
        readings["steps_total"] = total
        readings["interval_start"] = int(start)
        readings["interval_s"] = max(1, min(86400, int(now_s - start)))
        self.battery(readings)

"""Battery voltage through the board's resistor divider on an ADC pin (ratio from the board profile)."""


class Battery:
    def __init__(self, adc, divider, ctrl=None, samples=4):
        self.adc = adc
        self.divider = divider
        self.ctrl = ctrl  # a pin that connects the divider, or None
        self.samples = samples

    def volts(self):
        if self.ctrl is not None:
            self.ctrl.on()
        total = 0
        for _ in range(self.samples):
            total += self.adc.read_uv()
        if self.ctrl is not None:
            self.ctrl.off()
        return round(total / self.samples / 1000000 * self.divider, 3)

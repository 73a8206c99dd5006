"""The one error every driver raises for a sensor that does not answer or answers wrongly."""


class SensorError(Exception):
    def __init__(self, sensor, why):
        self.sensor = sensor
        self.why = why
        super().__init__("%s: %s" % (sensor, why))

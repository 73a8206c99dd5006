"""Sensor and radio drivers: each thin, over a bus object (I2C, UART, ADC, OneWire, a lora modem).

The drivers never import `machine`: the board hands them bus objects. On an ESP32 those are
`machine.I2C` and friends (boards/esp32.py); on the host board they are simulations that answer
like the real parts (boards/host/), so the same driver code runs in both places.
"""

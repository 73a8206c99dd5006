"""The MicroPython node application."""

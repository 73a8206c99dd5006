"""Firmware version, read back after flashing to verify the board runs what was written."""

VERSION = "0.1.0"

"""lpwa-edge: one namespace for the firmware, the portable core, the gateway and the CLI.

This folder is the `lpwa` package itself (the command line lives here); the other top-level
folders are its subpackages: `lpwa.codecs`, `lpwa.radio`, `lpwa.gateway`, `lpwa.firmware`,
`lpwa.boards`. Kept MicroPython-safe: the board imports it too.
"""

__version__ = "0.1.0"

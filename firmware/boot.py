"""boot.py on the board's root (copied there by `lpwa flash`): keep boot minimal and safe.

Radio off until the app asks (no Wi-Fi, no BLE: they cost power and the node never uses them);
`/lib` first on the path so the flashed lpwa package is found. Interrupting at the REPL stays
possible: the app does not start until main.py.
"""

import sys

if "/lib" not in sys.path:
    sys.path.insert(0, "/lib")
try:
    import network

    network.WLAN(network.STA_IF).active(False)
    network.WLAN(network.AP_IF).active(False)
except (ImportError, OSError):
    pass

"""main.py on the board's root (copied there by `lpwa flash`): one wake, then deep sleep.

MicroPython runs boot.py, then this, after every reset and every wake from deep sleep.
"""

from lpwa.firmware import app

app.main()

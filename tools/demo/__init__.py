"""`lpwa demo`: the whole stack on one machine, with nothing to set up.

An MQTT broker (amqtt, in-process, on a free loopback port, unless --broker names a real one),
the real gateway service with three sources (Semtech UDP, a Wi-SUN dongle on a pseudo-terminal,
the Sigfox HTTP callback endpoint), and nine simulated nodes - a buoy, a drone-vital monitor and
a pedometer on each of LoRa, Sigfox and Wi-SUN - encoding plausible readings with the codec's
FrameEncoder exactly as the firmware does. A subscriber prints every message as it arrives. One
drone-vital frame is an alarm; one more pedometer has withdrawn its consent, so its frames are
verified and counted by the gateway but never published; and a command published on the first
buoy's .../down topic reaches it as a LoRa downlink in its receive window.

Everything runs in one asyncio loop; nothing is written outside a temporary state directory.
One job a file: nodes.py (the simulated nodes), forwarder.py, dongle.py, sigfox_cloud.py (the
three radios at the gateway's doorstep), broker.py (embedded amqtt), subscriber.py (the printing
subscriber), stack.py (start and stop it all), traffic.py (what is sent), run.py (the steps).
"""

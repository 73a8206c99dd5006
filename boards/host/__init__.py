"""The `host` board: the firmware's hardware, simulated, so the unchanged app runs on a PC.

Host-only: `lpwa flash` never installs it (boards/manifest.py does not list it); the
MicroPython harness copies it in on top (lpwa.tools.mpy.HOST_MODULES). One job per file:

    board.py     HostBoard, the interface boards/esp32.py gives the app
    clock.py     simulated clock and watchdog (sleeping costs nothing: a day runs in seconds)
    rng.py       the deterministic generator everything random draws from
    world.py     the truth the sensors measure (sea, salinity, position, walks, vitals)
    motion.py    what a wearer's IMU feels (a scene from lpwa.tools.sim.gait_day, or World's walks)
    ds18b20.py, mpu6050.py, max30102.py, gps.py, analog.py, i2c.py   the simulated parts, at bus level
    lora.py, sigfox.py, wisun.py   the simulated radio modules, behind the ESP32's own drivers
    air.py       the simulated air: what the modules transmit, and downlinks waiting for them
    simulate.py  simulate(cfg, hours): wakes back to back with power losses, resets and downlinks
"""

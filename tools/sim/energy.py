"""Energy model of a node: currents with their sources, a metered day, average current, battery life.

Why: `lpwa node report` printed an average current with its assumptions hidden in constants.
Here every current is a row of ROWS naming its document (table/section), whether it is a chip
datasheet figure, a measurement on a board, or our own estimate, and whether we re-read the
figure in that document ("checked") or carry it unconfirmed. The model is plain arithmetic a
reader can redo by hand (charge_per_day):

    charge = awake_s x I(MCU active) + light_s x I(MCU light sleep) + deep_s x I(MCU deep sleep)
           + tx_s x I(radio TX) + rx_s x I(radio RX) + rest_s x I(radio sleep)
           + per sensor: on_s x I(sensor on) + (day - on_s) x I(sensor idle)
    average = charge / 86400 s;  life = usable mAh / (average x 24 + self-discharge mAh a day)

The seconds come from a metered simulated day (energy_meter.py): the app's real wakes, sleeps,
radio airtime and receive windows on the simulated clock, plus per-wake boot and per-FIFO-drain
costs the simulated clock cannot see (rows of level "estimate").
"""

CHIP = "chip datasheet"
BOARD = "board measurement"
ESTIMATE = "estimate"

ESP32_DS = "Espressif ESP32 Series Datasheet, 'Power Consumption by Power Modes' table (RTC and Low-Power Management)"
ESP32S3_DS = "Espressif ESP32-S3 Series Datasheet, 'Current Consumption in Low-Power Modes' table"
SX1276_DS = "Semtech SX1276/77/78/79 datasheet rev. 4, Table 6 'Power Consumption Specification' (band 1, 862-1020 MHz)"
SX1262_DS = "Semtech SX1261/2 datasheet rev. 2.1, section 3.4 'Power Consumption' (DC-DC mode, 3.3 V)"
MPU_DS = "InvenSense PS-MPU-6000A-00 rev. 3.4, section 6.3 'Electrical and Other Common Specifications'"
MAX_DS = "Maxim MAX30102 datasheet 19-7740, Electrical Characteristics (power supply; LED driver)"
DS18_DS = "Maxim DS18B20 datasheet, DC Electrical Characteristics (IDD active / IDDS standby) and AC table (tCONV)"
NEO6_DS = "u-blox NEO-6 Data Sheet GPS.G6-HW-09005, 'Power consumption' table (3.0 V, continuous)"

# (part, state) -> mA. One table; each row says where its number comes from.
ROWS = (
    # MCUs
    {"part": "esp32", "state": "deep", "ma": 0.010, "level": CHIP, "checked": True,
     "source": ESP32_DS + ": Deep-sleep, RTC timer + RTC memory 10 uA"},
    {"part": "esp32", "state": "light", "ma": 0.8, "level": CHIP, "checked": True,
     "source": ESP32_DS + ": Light-sleep 0.8 mA"},
    {"part": "esp32", "state": "active", "ma": 40.0, "level": CHIP, "checked": True,
     "source": ESP32_DS + ": Modem-sleep (CPU on, radio off) 80 MHz 20-25 mA, 240 MHz 30-50 mA; MicroPython's "
               "default 160 MHz taken as 40 mA (between the two rows)"},
    {"part": "esp32s3", "state": "deep", "ma": 0.008, "level": CHIP, "checked": True,
     "source": ESP32S3_DS + ": Deep-sleep 7-8 uA (lucidar.me quotes the datasheet's 7 uA and measured 8 uA "
               "on an ESP32-S3-DevKitM-1 at 3.3 V; 8 taken)"},
    {"part": "esp32s3", "state": "light", "ma": 0.24, "level": CHIP, "checked": True,
     "source": ESP32S3_DS + ": Light-sleep 240 uA"},
    {"part": "esp32s3", "state": "active", "ma": 31.7, "level": BOARD, "checked": True,
     "source": "lucidar.me 'Power consumption of ESP32-S3-DevKitM-1': 31.7 mA awake (ESP-IDF idle, 160 MHz, "
               "3.3 V); board-level, no radio"},
    # Board-level figures where someone measured the board (they replace the chip's row for that board).
    {"part": "heltec-v3", "state": "light", "ma": 7.7, "level": BOARD, "checked": True,
     "source": "community.heltec.cn/t/11866: Wireless Stick Lite V3 (ESP32-S3 + SX1262, same power path) "
               "light sleep on a Nordic PPK2 ~7.7 mA base, cause not found in the thread"},
    {"part": "heltec-v3", "state": "deep", "ma": 0.005, "level": BOARD, "checked": True,
     "source": "community.heltec.cn/t/11866: same board, deep sleep 'a few uA' on a Nordic PPK2 (read as 5 uA)"},
    # LoRa chips at the configured +13 dBm (ARIB 20 mW class)
    {"part": "sx1276", "state": "tx", "ma": 87.0, "level": CHIP, "checked": False,
     "source": SX1276_DS + ": IDDT +17 dBm on PA_BOOST 87 mA. The boards feed the antenna from PA_BOOST and "
               "the table has no +13 dBm PA_BOOST row: an upper bound (RFO +13 dBm is 29 mA)"},
    {"part": "sx1276", "state": "rx", "ma": 11.5, "level": CHIP, "checked": False,
     "source": SX1276_DS + ": IDDR LnaBoost on, band 1, 11.5 mA"},
    {"part": "sx1276", "state": "sleep", "ma": 0.0002, "level": CHIP, "checked": False,
     "source": SX1276_DS + ": IDDSL sleep 0.2 uA"},
    {"part": "sx1262", "state": "tx", "ma": 45.0, "level": CHIP, "checked": False,
     "source": SX1262_DS + ": TX +14 dBm, optimal PA settings, 45 mA (the row at or above +13 dBm)"},
    {"part": "sx1262", "state": "rx", "ma": 4.6, "level": CHIP, "checked": False,
     "source": SX1262_DS + ": RX LoRa 125 kHz, DC-DC, 4.6 mA (front page: 4.2 mA active receive)"},
    {"part": "sx1262", "state": "sleep", "ma": 0.0006, "level": CHIP, "checked": True,
     "source": SX1262_DS + ": sleep, warm start, 0.6 uA"},
    # UART modules
    {"part": "sigfox", "state": "tx", "ma": 26.0, "level": CHIP, "checked": True,
     "source": "Wisol WSG303S product sheet (S2-LP + STM32, RC1/3/5/6/7): 26 mA TX at 14 dBm (peak). The "
               "WSSFM10R3 sheet's own figure was not found"},
    {"part": "sigfox", "state": "rx", "ma": 7.0, "level": CHIP, "checked": False,
     "source": "ST S2-LP datasheet DS11896, RX current 7 mA (the WSG303S radio; module MCU not included)"},
    {"part": "sigfox", "state": "sleep", "ma": 0.0047, "level": CHIP, "checked": True,
     "source": "Wisol WSG303S product sheet: 4.7 uA in sleep mode"},
    {"part": "wisun", "state": "tx", "ma": 47.0, "level": CHIP, "checked": False,
     "source": "ROHM BP35A1 datasheet, current consumption (TX 20 mW): figure not re-read, recalled; check "
               "before relying on it"},
    {"part": "wisun", "state": "rx", "ma": 30.0, "level": CHIP, "checked": False,
     "source": "ROHM BP35A1 datasheet, current consumption (RX): figure not re-read, recalled"},
    {"part": "wisun", "state": "sleep", "ma": 0.003, "level": CHIP, "checked": False,
     "source": "ROHM BP35A1 datasheet, deep sleep (SKDSLEEP): figure not re-read, recalled"},
    # Sensors
    {"part": "mpu6050", "state": "on", "ma": 0.5, "level": CHIP, "checked": True,
     "source": MPU_DS + ": normal operating current, accelerometer only (gyro and DMP disabled) 500 uA; the same "
               "at 25 or 50 Hz (low-power cycling only offers 1.25/5/20/40 Hz wake-ups)"},
    {"part": "mpu6050", "state": "on_gyro", "ma": 3.9, "level": CHIP, "checked": False,
     "source": MPU_DS + ": gyro + accelerometer, 3.9 mA (the buoy's wave record: the gyro gives the attitude; "
               "gyro 3.6 mA + accelerometer; the driver's figure, not re-read)"},
    {"part": "mpu6050", "state": "idle", "ma": 0.005, "level": CHIP, "checked": True,
     "source": MPU_DS + ": full-chip idle mode 5 uA"},
    {"part": "max30102", "state": "on", "ma": 1.2, "level": CHIP, "checked": False,
     "source": MAX_DS + ": IDD SpO2 mode ~0.6 mA typ plus the LED pulses' average (2 LEDs x ~6 mA x 215 us x "
               "50 sps ~ 0.13 mA), rounded up to the 1.2 mA max IDD"},
    {"part": "max30102", "state": "idle", "ma": 0.0007, "level": CHIP, "checked": True,
     "source": MAX_DS + ": shutdown current 0.7 uA typ"},
    {"part": "ds18b20", "state": "on", "ma": 1.0, "level": CHIP, "checked": False,
     "source": DS18_DS + ": IDD active 1 mA typ (conversion: 750 ms at 12 bits, checked)"},
    {"part": "ds18b20", "state": "idle", "ma": 0.00075, "level": CHIP, "checked": False,
     "source": DS18_DS + ": IDDS standby 750 nA typ"},
    {"part": "gps", "state": "on", "ma": 47.0, "level": CHIP, "checked": False,
     "source": NEO6_DS + ": acquisition 47 mA, tracking 37 mA (max performance); UKHAS measured 50-60 mA to "
               "lock, ~40 mA locked (3.3 V module). Acquisition, since each wake restarts the receiver"},
    {"part": "gps", "state": "idle", "ma": 0.0, "level": ESTIMATE, "checked": False,
     "source": "GPS powered from Vext, switched off between wakes (boards/esp32.py): 0"},
    # Costs the simulated clock cannot see
    {"part": "boot", "state": "s", "ma": 0.6, "level": ESTIMATE, "checked": False,
     "source": "our estimate, seconds at MCU active current per wake from deep sleep: ROM boot, MicroPython "
               "start, importing the .mpy modules (unmeasured on a board; frozen firmware imports faster)"},
    {"part": "drain", "state": "ms", "ma": 2.0, "level": ESTIMATE, "checked": False,
     "source": "our estimate, ms awake per IMU FIFO drain: light-sleep wake-up and INT_STATUS/FIFO_COUNT reads"},
    {"part": "sample", "state": "ms", "ma": 0.24, "level": ESTIMATE, "checked": False,
     "source": "our estimate, ms awake per IMU sample: 6-byte I2C burst at 400 kHz (~0.2 ms) plus decoding "
               "and counting (~0.04 ms: the WebAssembly port's cost x 5, unmeasured on an ESP32)"},
)

# The cell a pilot would fit per kind: capacity, usable share, self-discharge.
CELLS = {
    "buoy": {"name": "one 18650 Li-ion, 3,400 mAh (Panasonic NCR18650B class)", "mah": 3400.0},
    "drone-vital": {"name": "LiPo pouch 1S, 1,000 mAh", "mah": 1000.0},
    "pedometer": {"name": "LiPo pouch 1S, 500 mAh", "mah": 500.0},
}
DERATE = 0.8  # usable share: cut-off at the LDO's dropout (~3.5 V) and cold; our assumption
SELF_DISCHARGE_PER_MONTH = 0.03  # Li-ion/LiPo with protection circuit (Battery University BU-802b: 1-2 % + ~3 %)

# Which parts a node has: the board's MCU and LoRa chip, the radio module, the kind's sensors.
BOARD_PARTS = {"heltec-v2": ("esp32", "sx1276"), "heltec-v3": ("esp32s3", "sx1262"),
               "ttgo-lora32-v21": ("esp32", "sx1276"), "tbeam": ("esp32", "sx1276")}
KIND_SENSORS = {"buoy": ("mpu6050", "gps", "ds18b20"), "drone-vital": ("max30102", "gps"),
                "pedometer": ("mpu6050",)}
# The state a kind's sensor is in while used, where it is not "on": the buoy's IMU runs its gyro.
SENSOR_ON_STATE = {("buoy", "mpu6050"): "on_gyro"}


def row(part, state):
    for r in ROWS:
        if r["part"] == part and r["state"] == state:
            return r
    raise KeyError("no energy row for %s %s" % (part, state))


def current(board, part, state, chip_only=False):
    """mA of `part` in `state` on `board`: a board-level measurement of that board if one exists."""
    if part in ("esp32", "esp32s3") and not chip_only:
        for r in ROWS:
            if r["part"] == board and r["state"] == state:
                return r["ma"]
    return row(part, state)["ma"]


def radio_part(board, radio):
    return BOARD_PARTS[board][1] if radio == "lora" else radio


def charge_per_day(duty, board, radio, kind, chip_only=False):
    """mA-seconds a day per consumer, from a metered day `duty` (energy_meter.meter_day)."""
    mcu = BOARD_PARTS[board][0]
    day = 86400.0
    awake = duty["awake_s"] + duty["wakes_from_deep"] * row("boot", "s")["ma"] + (
        duty.get("drains", 0) * row("drain", "ms")["ma"] + duty.get("samples", 0) * row("sample", "ms")["ma"]) / 1000.0
    light = max(0.0, duty["light_s"] - (awake - duty["awake_s"]))
    deep = max(0.0, day - awake - light)
    rp = radio_part(board, radio)
    tx, rx = duty["tx_s"], duty["rx_s"]
    out = {"mcu awake": awake * current(board, mcu, "active", chip_only),
           "mcu light sleep": light * current(board, mcu, "light", chip_only),
           "mcu deep sleep": deep * current(board, mcu, "deep", chip_only),
           "radio tx": tx * row(rp, "tx")["ma"], "radio rx": rx * row(rp, "rx")["ma"],
           "radio sleep": max(0.0, day - tx - rx) * row(rp, "sleep")["ma"]}
    for s in KIND_SENSORS[kind]:
        on = min(day, duty["sensor_on_s"].get(s, 0.0))
        out[s] = on * row(s, SENSOR_ON_STATE.get((kind, s), "on"))["ma"] + (day - on) * row(s, "idle")["ma"]
    out["_seconds"] = {"awake": awake, "light": light, "deep": deep, "tx": tx, "rx": rx}
    return out


def average_ma(charge):
    return sum(v for k, v in charge.items() if not k.startswith("_")) / 86400.0


def life_days(avg_ma, kind):
    """Days on the kind's cell: usable charge over the daily draw plus self-discharge."""
    cap = CELLS[kind]["mah"]
    per_day = avg_ma * 24.0 + cap * SELF_DISCHARGE_PER_MONTH / 30.0
    return cap * DERATE / per_day


def summary(duty, board, radio, kind):
    """The figures the report prints and its JSON carries, for one kind x radio on one board."""
    c = charge_per_day(duty, board, radio, kind)
    avg = average_ma(c)
    chip = average_ma(charge_per_day(duty, board, radio, kind, chip_only=True))
    return {"board": board, "avg_ma": round(avg, 3), "life_days": round(life_days(avg, kind), 1),
            "chip_only_avg_ma": round(chip, 3), "chip_only_life_days": round(life_days(chip, kind), 1),
            "cell": CELLS[kind]["name"], "seconds": {k: round(v, 1) for k, v in c["_seconds"].items()},
            "ma_by_consumer": {k: round(v / 86400.0, 4) for k, v in c.items() if not k.startswith("_")}}

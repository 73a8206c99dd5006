"""Board profiles: which radio chip sits on which pins, per board, with the document each pin came from.

A wrong pin is a bricked field trip, so every pin group names its source and says whether it was
checked against that source ("verified": True) or is our own wiring choice that you must check
against your board before soldering ("verified": False). Plain dicts: the board imports this too.
"""

# Vendor pin definitions, cited per pin group below.
SRC_HELTEC_V2 = "espressif/arduino-esp32 variants/heltec_wifi_lora_32_V2/pins_arduino.h (Heltec's own variant)"
SRC_HELTEC_V2_MESH = "meshtastic/firmware variants/esp32/heltec_v2/variant.h"
SRC_HELTEC_V3 = "espressif/arduino-esp32 variants/heltec_wifi_lora_32_V3/pins_arduino.h; schematic HTIT-WB32LA(F)_V3.1"
SRC_HELTEC_V3_MESH = "meshtastic/firmware variants/esp32s3/heltec_v3/variant.h"
SRC_TTGO_V21 = "espressif/arduino-esp32 variants/ttgo-lora32-v21new/pins_arduino.h (T3 v1.6 20180606)"
SRC_TTGO_V21_MESH = "meshtastic/firmware variants/esp32/tlora_v2_1_16/variant.h"
SRC_TBEAM = "espressif/arduino-esp32 variants/tbeam/pins_arduino.h"
SRC_TBEAM_MESH = "meshtastic/firmware variants/esp32/tbeam/variant.h"
PA_BOOST_NOTE = ("SX1276 modules on these boards (RFM95-style) feed the antenna from PA_BOOST, RFO is "
                 "not connected; from the vendors' Arduino examples, not re-checked against a schematic")
# Usable MicroPython heap (gc.mem_free() + gc.mem_alloc()), MicroPython 1.22+: the heap grows on demand
# into free system RAM. `lpwa flash` refuses a node whose measured need (unix port, lpwa.tools.sim.ram)
# is above it.
SRC_HEAP_ESP32 = ("micropython/micropython PR #13219 and issue #14421: 111,936 bytes after one growth on an "
                  "ESP32 without PSRAM")
SRC_HEAP_S3 = "micropython/micropython issue #12141: about 250 KiB on an ESP32-S3 without PSRAM"
SRC_HEAP_PSRAM = ("MicroPython's ESP32_GENERIC-SPIRAM firmware puts the heap in PSRAM, up to 4 MB "
                  "(docs.micropython.org, esp32 quickref); the T-Beam V1.x carries 8 MB PSRAM (LilyGO)")
HEAP_ESP32 = {"bytes": 111936, "psram": False, "source": SRC_HEAP_ESP32, "verified": True}
OUR_WIRING = "lpwa-edge wiring choice for an external part: not a vendor pin; check your board's header before soldering"

# micropython-lib packages each chip needs (`mpremote mip install <name>`).
MIP_SX127X = ("lora-sync", "lora-sx127x")
MIP_SX126X = ("lora-sync", "lora-sx126x")

BOARDS = {
    "heltec-v2": {
        "title": "Heltec WiFi LoRa 32 V2",
        "mcu": "esp32",
        "radio_chip": "sx1276",
        "mip": MIP_SX127X,
        "lora": {"spi": 1, "sck": 5, "mosi": 27, "miso": 19, "cs": 18, "reset": 14, "dio0": 26, "dio1": 35,
                 "tx_ant": "PA_BOOST", "tx_ant_note": PA_BOOST_NOTE, "source": SRC_HELTEC_V2, "verified": True},
        "i2c": {"id": 0, "sda": 4, "scl": 15, "note": "shared with the OLED (0x3c)",
                "source": SRC_HELTEC_V2, "verified": True},
        "battery": {"pin": 13, "divider": 3.2, "atten_db": 11,
                    "note": "V2.1 boards only (R12 100k / R10 220k); V2.0 has no battery sense",
                    "source": SRC_HELTEC_V2_MESH, "verified": True},
        "vext": {"pin": 21, "active_low": True, "source": SRC_HELTEC_V2, "verified": True},
        "led": {"pin": 25, "source": SRC_HELTEC_V2, "verified": True},
        "button": {"pin": 0, "note": "PRG", "source": SRC_HELTEC_V2, "verified": True},
        "gps_uart": {"id": 1, "tx": 33, "rx": 36, "baud": 9600,
                     "note": "Meshtastic's external-GPS wiring for this board", "source": SRC_HELTEC_V2_MESH,
                     "verified": True},
        "module_uart": {"id": 2, "tx": 17, "rx": 23, "source": OUR_WIRING, "verified": False},
        "onewire": {"pin": 22, "source": OUR_WIRING, "verified": False},
        "adc_conductivity": {"pin": 37, "atten_db": 11, "source": OUR_WIRING, "verified": False},
        "heap": dict(HEAP_ESP32, note="ESP32-D0WDQ6, no PSRAM"),
    },
    "heltec-v3": {
        "title": "Heltec WiFi LoRa 32 V3",
        "mcu": "esp32s3",
        "radio_chip": "sx1262",
        "mip": MIP_SX126X,
        "lora": {"spi": 1, "sck": 9, "mosi": 10, "miso": 11, "cs": 8, "reset": 12, "busy": 13, "dio1": 14,
                 "tcxo_mv": 1800, "dio2_rf_switch": True,
                 "source": SRC_HELTEC_V3 + "; TCXO 1.8 V and DIO2 RF switch: " + SRC_HELTEC_V3_MESH,
                 "verified": True},
        "i2c": {"id": 0, "sda": 41, "scl": 42, "note": "the header I2C (the OLED is on 17/18)",
                "source": SRC_HELTEC_V3, "verified": True},
        "battery": {"pin": 1, "divider": 5.12, "atten_db": 2, "ctrl": 37, "ctrl_active_low": True,
                    "note": "ADC_CTRL low connects the divider (multiplier 4.9 x 1.045); reportedly inverted on "
                            "some V3.2 boards: if the battery reads near 0 V, set ctrl_active_low False",
                    "source": SRC_HELTEC_V3_MESH, "verified": True},
        "vext": {"pin": 36, "active_low": True, "source": SRC_HELTEC_V3, "verified": True},
        "led": {"pin": 35, "source": SRC_HELTEC_V3, "verified": True},
        "button": {"pin": 0, "note": "PRG", "source": SRC_HELTEC_V3_MESH, "verified": True},
        "gps_uart": {"id": 1, "tx": 48, "rx": 47, "baud": 9600, "note": "header J2 pins 5 and 6",
                     "source": OUR_WIRING, "verified": False},
        "module_uart": {"id": 2, "tx": 33, "rx": 34, "note": "free on the V3's ESP32-S3FN8 (no PSRAM on 33-37)",
                        "source": OUR_WIRING, "verified": False},
        "onewire": {"pin": 7, "source": OUR_WIRING, "verified": False},
        "adc_conductivity": {"pin": 6, "atten_db": 11, "source": OUR_WIRING, "verified": False},
        "heap": {"bytes": 250 * 1024, "psram": False, "note": "ESP32-S3FN8, no PSRAM", "source": SRC_HEAP_S3,
                 "verified": True},
    },
    "ttgo-lora32-v21": {
        "title": "LilyGO TTGO LoRa32 V2.1 (T3 V1.6)",
        "mcu": "esp32",
        "radio_chip": "sx1276",
        "mip": MIP_SX127X,
        "lora": {"spi": 1, "sck": 5, "mosi": 27, "miso": 19, "cs": 18, "reset": 23, "dio0": 26, "dio1": 33,
                 "tx_ant": "PA_BOOST", "tx_ant_note": PA_BOOST_NOTE,
                 "note": "on the T3 V1.6.1 TCXO variant GPIO33 enables the TCXO and DIO1 is not connected",
                 "source": SRC_TTGO_V21, "verified": True},
        "i2c": {"id": 0, "sda": 21, "scl": 22, "note": "shared with the OLED (0x3c)",
                "source": SRC_TTGO_V21, "verified": True},
        "battery": {"pin": 35, "divider": 2.0, "atten_db": 11, "note": "R42 100k / R43 100k",
                    "source": SRC_TTGO_V21_MESH, "verified": True},
        "led": {"pin": 25, "source": SRC_TTGO_V21, "verified": True},
        "button": {"pin": 0, "note": "BOOT (KEY_BUILTIN)", "source": SRC_TTGO_V21, "verified": True},
        "gps_uart": {"id": 1, "tx": 4, "rx": 34, "baud": 9600, "source": OUR_WIRING, "verified": False},
        "module_uart": {"id": 2, "tx": 12, "rx": 39,
                        "note": "GPIO12 is a strapping pin (flash voltage): the module must not pull it high at reset",
                        "source": OUR_WIRING, "verified": False},
        "onewire": {"pin": 13, "note": "the SD card's CS: leave the SD slot empty", "source": OUR_WIRING,
                    "verified": False},
        "adc_conductivity": {"pin": 36, "atten_db": 11, "source": OUR_WIRING, "verified": False},
        "heap": dict(HEAP_ESP32, note="ESP32-PICO-D4, no PSRAM"),
    },
    "tbeam": {
        "title": "LilyGO T-Beam (V1.x, SX1276 or SX1262)",
        "mcu": "esp32",
        "radio_chip": "sx1276",
        "radio_chip_alt": "sx1262",
        "mip": MIP_SX127X,
        "mip_alt": MIP_SX126X,
        "lora": {"spi": 1, "sck": 5, "mosi": 27, "miso": 19, "cs": 18, "reset": 23, "dio0": 26, "dio1": 33,
                 "tx_ant": "PA_BOOST", "tx_ant_note": PA_BOOST_NOTE, "source": SRC_TBEAM, "verified": True},
        "lora_alt": {"spi": 1, "sck": 5, "mosi": 27, "miso": 19, "cs": 18, "reset": 23, "busy": 32, "dio1": 33,
                     "tcxo_mv": 1800, "dio2_rf_switch": True,
                     "note": "SX1262 module: DIO2 (GPIO32 on the SX1276 board) is BUSY",
                     "source": SRC_TBEAM_MESH, "verified": True},
        "i2c": {"id": 0, "sda": 21, "scl": 22, "note": "shared with the AXP192 PMU (0x34)",
                "source": SRC_TBEAM_MESH, "verified": True},
        "battery": {"pmu": "axp192", "note": "battery voltage comes from the AXP192 over I2C, not an ADC pin",
                    "source": SRC_TBEAM_MESH, "verified": True},
        "led": {"pin": 4, "note": "V1.1 boards", "source": SRC_TBEAM_MESH, "verified": True},
        "button": {"pin": 38, "note": "the middle button", "source": SRC_TBEAM_MESH, "verified": True},
        "gps_uart": {"id": 1, "tx": 12, "rx": 34, "baud": 9600, "note": "u-blox NEO-6M/M8N on board",
                     "source": SRC_TBEAM_MESH, "verified": True},
        "module_uart": {"id": 2, "tx": 13, "rx": 35,
                        "note": "GPIO35 doubles as the PMU IRQ on V1.x: move RX if you use PMU interrupts",
                        "source": OUR_WIRING, "verified": False},
        "onewire": {"pin": 25, "source": OUR_WIRING, "verified": False},
        "adc_conductivity": {"pin": 36, "atten_db": 11, "source": OUR_WIRING, "verified": False},
        "heap": {"bytes": 4 * 1024 * 1024, "psram": True, "source": SRC_HEAP_PSRAM, "verified": True,
                 "note": "with the SPIRAM firmware; a build without PSRAM support has an ESP32's ~110 KiB"},
    },
    "host": {
        "title": "Host simulation (no hardware: simulated sensors, radios and clock)",
        "mcu": "host",
        "radio_chip": "sim",
        "mip": (),
        "source": "boards/host/",
    },
}

# External UART radio modules: line settings from the module documents; pins come from the
# board's "module_uart" group above.
UART_MODULES = {
    "sigfox": {"title": "Wisol-style Sigfox AT module (WSSFM10R3 class, RC3)", "baud": 9600, "eol": "\r",
               "source": "Wisol WSSFM10R AT command set (AT$SF, AT$I=10), as used by sigfox/sigfox-downlink", "verified": True},
    "wisun": {"title": "ROHM BP35C0 / BP35A1 SKSTACK-IP Wi-SUN module", "baud": 115200, "eol": "\r\n",
              "source": "ROHM SKSTACK-IP command reference (SKSENDTO, ERXUDP), as implemented by nbtk/momonga",
              "verified": False, "note": "BP35A1 ships at 115200; some BP35C0 setups use other rates: check WUART"},
}


class BoardError(ValueError):
    """Unknown board name."""


def board_names():
    return sorted(BOARDS)


def profile(name):
    """The profile dict for `name`; BoardError lists the known boards."""
    p = BOARDS.get(name)
    if p is None:
        raise BoardError("unknown board %r (known: %s)" % (name, ", ".join(board_names())))
    return p


def lora_pins(name, chip=None):
    """The LoRa pin group and the chip it drives; `chip` picks the T-Beam's alternative radio."""
    p = profile(name)
    if chip and chip != p["radio_chip"]:
        if p.get("radio_chip_alt") != chip:
            raise BoardError("board %r has no %s radio" % (name, chip))
        return p["lora_alt"], chip
    return p.get("lora"), p["radio_chip"]


# what stays on the flash host: titles, documents, notes, packages, heap figures, the other LoRa chip
_NOT_ON_BOARD = ("title", "source", "note", "verified", "tx_ant_note", "mip", "mip_alt", "heap", "lora_alt",
                 "radio_chip_alt")


def wiring(name, chip=None):
    """What the board itself reads of its profile: pin numbers only, the LoRa chip resolved, the UART
    modules' line speeds. `lpwa flash` installs it as lpwa/boards/wiring.py, so a board never imports
    this table (11 KB of heap as .mpy; its wiring, under 1 KB)."""
    pins, chip = lora_pins(name, chip)
    out = {"name": name, "radio_chip": chip, "lora": _pins_only(pins),
           "uart_baud": {k: m["baud"] for k, m in UART_MODULES.items()}}
    for key, value in profile(name).items():
        if key == "mcu":
            out[key] = value
        elif isinstance(value, dict) and key not in _NOT_ON_BOARD and key != "lora":
            out[key] = _pins_only(value)
    return out


def wiring_source(name, chip=None):
    """lpwa/boards/wiring.py for board `name`: the module `lpwa flash` renders and installs."""
    return ("# Rendered by `lpwa flash` from boards/profiles.py for %s (sources and notes there).\n"
            "WIRING = %r\n" % (name, wiring(name, chip)))


def _pins_only(group):
    return None if group is None else {k: v for k, v in group.items() if k not in _NOT_ON_BOARD}


def heap_bytes(name):
    """The usable MicroPython heap of board `name` in bytes; None for the host simulation."""
    return (profile(name).get("heap") or {}).get("bytes")


def unverified(name):
    """Names of the pin groups on `name` that are our own wiring choice, not a vendor pin."""
    p = profile(name)
    return sorted(k for k, v in p.items() if isinstance(v, dict) and v.get("verified") is False)

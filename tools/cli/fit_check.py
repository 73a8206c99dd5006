"""Before `lpwa flash` touches a board: does this kind x radio fit the board's heap, installed as flash
installs it (.mpy)? Measured on the unix port (lpwa.tools.sim.ram); without one, say so and go on."""


class DoesNotFit(Exception):
    """The measured need is above the board's heap; the message is the one line the user sees."""


def check(board, cfg_json, progress):
    """Raise DoesNotFit when the node needs more heap than `board` has; otherwise report the margin."""
    import json

    from lpwa.boards.profiles import heap_bytes
    from lpwa.tools.mpy import unix
    from lpwa.tools.sim import ram
    from lpwa.tools.sim.ram_report import kib  # one decimal: 109.6 KiB on a 109.3 KiB board is not "109, has 109"

    cfg = json.loads(cfg_json)
    what = "%s/%s" % (cfg["kind"], cfg["radio"])
    heap = heap_bytes(board)
    if unix.find() is None:
        progress("could not check that %s fits %s's heap: no unix-port MicroPython (%s)"
                 % (what, board, unix.where_looked()))
        return
    with unix.UnixPort() as up:
        need = ram.need(up, cfg_json)
    if need is not None and need <= heap:
        progress("fits: %s needs %s of heap as .mpy (unix port), %s has %s (margin %s)"
                 % (what, kib(need), board, kib(heap), kib(heap - need)))
        return
    raise DoesNotFit("%s needs %s of heap installed as .mpy (measured on the unix port), %s has %s: %s, "
                     "or --ignore-fit" % (what, kib(need) if need else "over %d KiB" % (ram.HIGH // 1024),
                                          board, kib(heap), would_fit(need)))


def would_fit(need):
    """What would take this need: the boards whose heap is enough, or the frozen image."""
    from lpwa.tools.cli.frozen_build import DOCUMENTED_HEAP
    from lpwa.tools.sim import ram

    boards = [b for b, f in ram.fit(need).items() if f["fits"]]
    frozen = "the frozen image (documented %d-%d KiB, boards/BOARDS.md)" % (DOCUMENTED_HEAP[0] // 1024,
                                                                           DOCUMENTED_HEAP[1] // 1024)
    return ("use %s or %s" % (", ".join(boards), frozen)) if boards else "use " + frozen

"""micropython.const for CPython: the identity. On a board `from micropython import const` succeeds and
mpy-cross folds every _NAME = const(...) into the bytecode (no name interned, no global kept); the
portable core imports this only where that import fails."""


def const(x):
    return x

"""Read `boards/manifest.py` (micropython-lib's manifest format) into the files it names.

One list of what goes on a board, for the flasher and the MicroPython harness alike. Only the
calls the manifest uses are understood (`metadata`, `package`, `module`); anything else is an
error, not a silent omission. `$(LPWA_TREE)/lpwa/<folder>/...` maps to the installed package
`lpwa.<folder>`, so the same manifest works from a checkout and from an installed wheel.
"""

import importlib
import os

TREE = "$(LPWA_TREE)"


class ManifestError(Exception):
    """The manifest names something that is not there, or uses a call this reader lacks."""


def manifest_path():
    return os.path.join(package_dir("boards"), "manifest.py")


def package_dir(folder):
    """The directory that holds `lpwa.<folder>` (a top-level folder of the checkout)."""
    return os.path.dirname(importlib.import_module("lpwa." + folder).__file__)


def _source(target):
    """Source file of a target path such as `lpwa/codecs/cbor.py`."""
    parts = target.split("/")
    if len(parts) < 3 or parts[0] != "lpwa":
        raise ManifestError("%s: not under lpwa/<folder>/" % target)
    return os.path.join(package_dir(parts[1]), *parts[2:])


def read(path=None):
    """[(source path, target path)] of every module the manifest puts on a board, in order."""
    out = []

    def metadata(**_kw):
        pass

    def module(module_path, base_path=".", opt=None):
        if base_path != TREE:
            raise ManifestError("%s: base_path must be %s" % (module_path, TREE))
        src = _source(module_path)
        if not os.path.isfile(src):
            raise ManifestError("%s: no such file %s" % (module_path, src))
        out.append((src, module_path))

    def package(package_path, files=None, base_path=".", opt=None):
        if base_path != TREE:
            raise ManifestError("%s: base_path must be %s" % (package_path, TREE))
        root = _source(package_path + "/__init__.py")[: -len("__init__.py")]
        if not os.path.isdir(root):
            raise ManifestError("%s: no such package" % package_path)
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "__")))
            for name in sorted(filenames):
                if name.endswith(".py") and (files is None or name in files):
                    rel = os.path.relpath(os.path.join(dirpath, name), root).replace(os.sep, "/")
                    out.append((os.path.join(dirpath, name), package_path + "/" + rel))

    path = path or manifest_path()
    with open(path, encoding="utf-8") as f:
        code = compile(f.read(), path, "exec")
    exec(code, {"metadata": metadata, "module": module, "package": package, "__file__": path})
    return out

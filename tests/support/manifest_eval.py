"""Evaluate a micropython-lib manifest the way MicroPython's tools/manifestfile.py does when freezing.

The same four calls with the same path rules (`$(VAR)` substituted, relative paths from the
manifest's folder, `package()` walks every .py under base_path/package_path, `module()` names one
file, `include()` runs another manifest from its own folder), so a test can check what a frozen
build would pick up from a tree without a MicroPython source checkout. A file that does not exist
is an error here as it is there ("Cannot stat").
"""

import os


class ManifestFileError(Exception):
    pass


def evaluate(manifest, variables):
    """[(full path, target path)] that freezing `manifest` with `variables` would put in the image."""
    out = []

    def resolve(path, here):
        for name in variables:
            path = path.replace("$(%s)" % name, variables[name])
        if "$(" in path:
            raise ManifestFileError("unknown variable in %s" % path)
        return os.path.abspath(os.path.join(here, path))

    def add(full, target):
        if not os.path.isfile(full):
            raise ManifestFileError("Cannot stat %s" % full)
        out.append((full, target))

    def run(path):
        here = os.path.dirname(os.path.abspath(path))

        def metadata(description=None, version=None, license=None, author=None):
            pass

        def module(module_path, base_path=".", opt=None):
            if not module_path.lower().endswith(".py"):
                raise ManifestFileError("module must be .py file")
            add(os.path.join(resolve(base_path, here), module_path), module_path)

        def package(package_path, files=None, base_path=".", opt=None):
            base = resolve(base_path, here)
            if files is not None:
                for f in files:
                    add(os.path.join(base, package_path, f), os.path.join(package_path, f))
                return
            for dirpath, _dirs, names in os.walk(os.path.join(base, package_path), followlinks=True):
                for name in names:
                    if name.lower().endswith(".py"):
                        full = os.path.join(dirpath, name)
                        add(full, os.path.relpath(full, base).replace(os.sep, "/"))

        def include(manifest_path, **_kw):
            p = resolve(manifest_path, here)
            run(os.path.join(p, "manifest.py") if os.path.isdir(p) else p)

        with open(path, encoding="utf-8") as f:
            code = compile(f.read(), path, "exec")
        exec(code, {"metadata": metadata, "module": module, "package": package, "include": include,
                    "__file__": path})

    run(manifest)
    return out

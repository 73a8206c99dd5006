"""The project's shape: one namespace, no `codecs` shadowing, README and CI agree."""

import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


FOLDERS = ("boards", "codecs", "firmware", "gateway", "radio", "tools")


def test_one_namespace_over_the_top_level_folders():
    """`lpwa` has no folder of its own; every `lpwa.<x>` lives in folder `<x>`, no exception."""
    import importlib

    import lpwa

    assert getattr(lpwa, "__file__", None) is None, "lpwa must be a namespace package"
    for folder in FOLDERS:
        mod = importlib.import_module("lpwa." + folder)
        assert os.path.dirname(os.path.abspath(mod.__file__)) == os.path.join(ROOT, folder)


def test_pyproject_lists_every_package_of_every_folder():
    """A mapped layout cannot be discovered: a package missing from the list is missing from a wheel."""
    try:
        import tomllib
    except ImportError:  # Python < 3.11
        import tomli as tomllib
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        setup = tomllib.load(f)["tool"]["setuptools"]
    assert setup["package-dir"] == {"lpwa." + f: f for f in FOLDERS}
    found = set()
    for folder in FOLDERS:
        for dirpath, dirnames, filenames in os.walk(os.path.join(ROOT, folder)):
            dirnames[:] = [d for d in dirnames if not d.startswith((".", "__")) and d != "node_modules"]
            if "__init__.py" in filenames:
                found.add("lpwa." + os.path.relpath(dirpath, ROOT).replace(os.sep, "."))
    assert set(setup["packages"]) == found


def test_codecs_is_still_the_standard_library_from_the_repo_root():
    code = "import sys; sys.path.insert(0, '.'); import codecs, importlib; importlib.reload(codecs); print(codecs.__file__); codecs.lookup('utf-8')"
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert not r.stdout.strip().startswith(ROOT), r.stdout


def _readme_commands():
    with open(os.path.join(ROOT, "README.md")) as f:
        text = f.read()
    first_block = re.search(r"```(?:sh|bash)?\n(.*?)```", text, re.S)
    assert first_block and text.index("```") < 200, "README must open with the set-up commands"
    return [line for line in first_block.group(1).splitlines() if line.strip()]


def test_readme_opens_with_exactly_two_setup_commands():
    cmds = _readme_commands()
    assert len(cmds) == 2
    assert "lpwa demo" in cmds[0] and "pip install" in cmds[0]


def test_ci_runs_the_readme_test_command():
    test_cmd = _readme_commands()[1]
    with open(os.path.join(ROOT, ".ci", "run")) as f:
        ci = f.read()
    assert test_cmd.split()[-1] in ci

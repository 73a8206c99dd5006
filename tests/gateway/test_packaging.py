"""pip: a wheel built from this tree (pip wheel, as the unit's install steps say) carries every
package and data file, installs into a fresh venv, and its `lpwa` runs: `--version` and
`gateway check` on the example config the wheel ships; the unit header's PKG= line finds the
README, the unit and the example in the installed package."""

import os
import re
import subprocess
import sys
import sysconfig
import zipfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PACKAGE_DIRS = {"tools": "lpwa/tools", "codecs": "lpwa/codecs", "radio": "lpwa/radio", "gateway": "lpwa/gateway",
                "firmware": "lpwa/firmware", "boards": "lpwa/boards"}
DATA = ("lpwa/gateway/README.md", "lpwa/gateway/lpwa-gateway.service", "lpwa/gateway/gateway.example.toml",
        "lpwa/gateway/grafana/lpwa-gateway.json", "lpwa/gateway/grafana/datasource.yaml",
        "lpwa/gateway/grafana/dashboards.yaml", "lpwa/codecs/frame.cddl", "lpwa/codecs/FRAMES.md",
        "lpwa/tools/mpy/package.json")

pytestmark = pytest.mark.slow


def run(*args, **kw):
    return subprocess.run(list(args), capture_output=True, text=True, timeout=300, **kw)


def source_files():
    """Every .py of the tree's packages (what the wheel must carry), as wheel paths."""
    out = set()
    for folder, target in PACKAGE_DIRS.items():
        for dirpath, dirnames, filenames in os.walk(os.path.join(ROOT, folder)):
            dirnames[:] = [d for d in dirnames if d not in ("node_modules", "__pycache__")]
            rel = os.path.relpath(dirpath, os.path.join(ROOT, folder))
            for name in filenames:
                if name.endswith(".py"):
                    out.add(os.path.normpath(os.path.join(target, rel, name)).replace(os.sep, "/"))
    return out


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    r = run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), ROOT)
    if r.returncode != 0 and "No matching distribution" in r.stderr + r.stdout:
        pytest.skip("pip cannot fetch the build backend (setuptools) from a package index here")
    assert r.returncode == 0, r.stderr
    [name] = [n for n in os.listdir(out) if n.endswith(".whl")]
    return os.path.join(out, name)


def test_the_wheel_carries_every_package_and_data_file(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = sorted((source_files() | set(DATA)) - names)
    assert not missing, missing
    assert not [n for n in names if "node_modules" in n or "__pycache__" in n]


def test_the_wheel_installs_into_a_fresh_venv_and_lpwa_runs(wheel, tmp_path):
    venv = tmp_path / "venv"
    r = run(sys.executable, "-m", "venv", str(venv))
    assert r.returncode == 0, r.stderr
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    r = run(str(bindir / "python"), "-m", "pip", "install", "-q", "--no-index", "--no-deps", wheel)
    assert r.returncode == 0, r.stderr
    # the dependencies (cbor2, paho-mqtt, ...) from this interpreter's site-packages, without its
    # editable lpwa: a path in a .pth is put on sys.path but the .pth files inside it are not run
    purelib = run(str(bindir / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])")
    with open(os.path.join(purelib.stdout.strip(), "deps.pth"), "w") as f:
        f.write(sysconfig.get_paths()["purelib"] + "\n")
    env = dict(os.environ, PYTHONPATH="")
    where = run(str(bindir / "python"), "-c", "import lpwa.gateway, os; print(os.path.dirname(lpwa.gateway.__file__))",
                env=env, cwd=str(tmp_path))
    pkg = where.stdout.strip()
    assert where.returncode == 0 and pkg.startswith(str(venv)), (where.stdout, where.stderr)
    r = run(str(bindir / "lpwa"), "--version", env=env, cwd=str(tmp_path))
    assert r.returncode == 0 and re.fullmatch(r"lpwa-edge \d+\.\d+\.\d+\S*\s*", r.stdout), r.stdout + r.stderr
    r = run(str(bindir / "lpwa"), "gateway", "check", "--config-only", "-c", os.path.join(pkg, "gateway.example.toml"),
            env=env, cwd=str(tmp_path))
    assert r.returncode == 0, r.stdout + r.stderr
    # the unit header's PKG= line, run as the install steps run it
    with open(os.path.join(ROOT, "gateway", "lpwa-gateway.service")) as f:
        line = [s for s in f.read().splitlines() if s.startswith("#   PKG=")][0][len("#   "):]
    r = run("sh", "-c", line.replace("/opt/lpwa/bin/python", str(bindir / "python")) + ' && echo "$PKG"', env=env,
            cwd=str(tmp_path))
    assert r.stdout.strip() == pkg
    for name in ("README.md", "lpwa-gateway.service", "gateway.example.toml"):
        assert os.path.isfile(os.path.join(pkg, name))

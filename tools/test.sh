#!/usr/bin/env bash
# Installs everything the test suite needs on a fresh Debian / Raspberry Pi OS machine, then runs it.
# Idempotent: a second run reuses the venv, node_modules and the installed Mosquitto.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
need_apt=()
command -v node >/dev/null 2>&1 || need_apt+=(nodejs)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
{ command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ]; } || need_apt+=(mosquitto)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need_apt+=(python3-venv)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "== apt-get install ${need_apt[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
echo "== pip install -e .[dev]"
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[dev]'
echo "== npm ci (MicroPython WebAssembly port, pinned in tools/mpy/package-lock.json)"
npm ci --prefix tools/mpy --silent --no-audit --no-fund

echo "== pytest"
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"

"""Run code under the real MicroPython interpreter (the WebAssembly port on Node.js).

The portable core must run unchanged on the board; tests and benches prove it by running it
here, not by reading it. One Node.js process holds one interpreter and serves many calls.
`tools/mpy/` pins the npm package; `npm ci --prefix tools/mpy` installs it.
"""

import json
import os
import shutil
import subprocess
import threading

from lpwa.tools.mpy import manifest

HERE = os.path.dirname(os.path.abspath(__file__))
RUNNER = os.path.join(HERE, "runner.mjs")
NODE_MODULES = os.path.join(HERE, "node_modules", "@micropython")

# Besides what the manifest puts on a board, the harness copies in the simulated board (the
# host's stand-in for boards/esp32.py: every file of the `lpwa.boards.host` package), so the
# unchanged app can run a simulated day. The flasher never installs these.
HOST_PACKAGE = "lpwa/boards/host"


def _host_modules():
    folder = os.path.join(manifest.package_dir("boards"), "host")
    return tuple(HOST_PACKAGE + "/" + f for f in sorted(os.listdir(folder)) if f.endswith(".py"))


HOST_MODULES = _host_modules()


class MicroPythonError(Exception):
    """A MicroPython exception, carrying its traceback as MicroPython printed it."""

    def __init__(self, traceback, stdout=""):
        self.traceback = traceback
        self.stdout = stdout
        last = traceback.strip().splitlines()[-1] if traceback.strip() else ""
        self.exc_type = last.split(":", 1)[0].strip()
        super().__init__(traceback)


class HarnessUnavailable(RuntimeError):
    """Node.js or the pinned MicroPython npm package is missing."""


def board_sources():
    """[(source path, target path)] of what the harness runs: the manifest plus the host board."""
    return manifest.read() + [(manifest._source(t), t) for t in HOST_MODULES]


def board_files():
    """Map of interpreter path -> source for every board-side module (`lpwa` is a namespace)."""
    return {"/lib/" + target: _read(src) for src, target in board_sources()}


def _read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


class MicroPython:
    """One MicroPython interpreter in a Node.js child process.

    >>> mp = MicroPython(); mp.load_board_files()
    >>> mp.run("print(1 + 1)")
    '2\\n'
    """

    def __init__(self, heap_bytes=16 * 1024 * 1024):
        node = shutil.which("node")
        if node is None:
            raise HarnessUnavailable("node is not installed (apt-get install nodejs)")
        if not os.path.isdir(NODE_MODULES):
            raise HarnessUnavailable("run `npm ci --prefix tools/mpy` to install the MicroPython WebAssembly port")
        env = dict(os.environ, LPWA_MPY_HEAP=str(heap_bytes))
        self._proc = subprocess.Popen(
            [node, RUNNER], cwd=HERE, env=env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, encoding="utf-8", bufsize=1,
        )
        self._lock = threading.Lock()
        hello = self._read_reply()
        if not hello.get("ready"):
            raise HarnessUnavailable("MicroPython runner did not start: %r" % (hello,))

    def _read_reply(self):
        line = self._proc.stdout.readline()
        if not line:
            err = self._proc.stderr.read()
            raise HarnessUnavailable("MicroPython runner exited: " + err[-2000:])
        return json.loads(line)

    def _request(self, req):
        with self._lock:
            self._proc.stdin.write(json.dumps(req) + "\n")
            self._proc.stdin.flush()
            return self._read_reply()

    def write_files(self, files):
        """Write {path: text} into the interpreter's filesystem."""
        reply = self._request({"op": "write", "files": files})
        if not reply.get("ok"):
            raise HarnessUnavailable(reply.get("error", "write failed"))

    def load_board_files(self):
        """Copy the portable core and firmware in, importable as `lpwa.*`; forget stale modules."""
        self.write_files(board_files())
        self.run("import sys\nfor _m in [m for m in sys.modules if m == 'lpwa' or m.startswith('lpwa.')]:\n    del sys.modules[_m]\n")

    def run(self, code):
        """Execute `code`; return what it printed, or raise MicroPythonError with the traceback."""
        reply = self._request({"op": "run", "code": code})
        if not reply.get("ok"):
            raise MicroPythonError(reply.get("error", ""), reply.get("stdout", ""))
        return reply.get("stdout", "")

    def eval_json(self, setup, expr):
        """Run `setup`, then return the value of `expr` round-tripped through JSON."""
        out = self.run(setup + "\nimport json as _j\nprint('\\x1e' + _j.dumps(" + expr + "))\n")
        return json.loads(out.rsplit("\x1e", 1)[1])

    def close(self):
        if self._proc.poll() is None:
            self._proc.stdin.close()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
        for stream in (self._proc.stdout, self._proc.stderr):
            if stream:
                stream.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

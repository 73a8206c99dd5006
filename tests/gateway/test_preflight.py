"""`lpwa gateway check` refuses what `run` would refuse (issue #13 point 7), and both say it the
same way: one line on stderr naming the key, no secret, exit 2 (the unit's RestartPreventExitStatus).
On main `check` passed every case below and `run` exited 1 (several lines, restarted every 2 s)."""

import os
import socket
import subprocess
import sys

import pytest

from lpwa.gateway import config, preflight
from lpwa.gateway.config import ConfigError
from support.broker import free_port
from support.gateway import make_test_ca

LPWA = [sys.executable, "-m", "lpwa.tools.cli"]
PASSWORD = "pw-never-shown-31"


def lpwa(*args):
    return subprocess.run(LPWA + list(args), capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def ca(tmp_path_factory):
    return make_test_ca(str(tmp_path_factory.mktemp("ca")))


@pytest.fixture
def busy():
    """A TCP port someone listens on and a UDP port someone holds."""
    tcp = socket.socket()
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind(("127.0.0.1", 0))
    tcp.listen(1)
    udp = socket.socket(type=socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    yield {"tcp": tcp.getsockname()[1], "udp": udp.getsockname()[1]}
    tcp.close()
    udp.close()


def unwritable(tmp_path):
    """A state_dir whose directory cannot be written (chmod does not stop root: then /proc)."""
    if os.geteuid() != 0:
        d = tmp_path / "ro"
        d.mkdir()
        d.chmod(0o500)
        return str(d / "state"), str(d)
    if not os.path.isdir("/proc/self"):
        pytest.skip("running as root without /proc: no unwritable directory to point at")
    return "/proc/lpwa-state", "/proc"


def case_config(case, tmp_path, ca, busy):
    """(TOML text, the key the one line must name) for each thing `run` refuses."""
    state = 'state_dir = "%s"\n' % (tmp_path / "state")
    mqtt = '[mqtt]\nurl = "mqtt://127.0.0.1:%d"\npassword = "%s"\n' % (free_port(), PASSWORD)
    tls = '[mqtt]\nurl = "mqtts://127.0.0.1:%d"\npassword = "%s"\n' % (free_port(), PASSWORD)
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    return {
        "tls_ca missing": ("[gateway]\n" + state + tls + 'tls_ca = "%s"\n' % (tmp_path / "none.pem"), "mqtt.tls_ca"),
        "tls_key missing": ("[gateway]\n" + state + tls + 'tls_ca = "%s"\ntls_cert = "%s"\ntls_key = "%s"\n'
                            % (ca["ca.crt"], ca["client.crt"], tmp_path / "none.key"), "mqtt.tls_key"),
        "listen without a port": ("[gateway]\n" + state + mqtt + '[sources.udp]\nlisten = "127.0.0.1"\n',
                                  "sources.udp.listen"),
        "listen port 99999": ("[gateway]\n" + state + mqtt + '[sources.sigfox]\nsecret = "s"\n'
                              'listen = "127.0.0.1:99999"\n', "sources.sigfox.listen"),
        "state_dir is a file": ('[gateway]\nstate_dir = "%s"\n' % blocker + mqtt, "gateway.state_dir"),
        "state_dir not writable": ('[gateway]\nstate_dir = "%s"\n' % unwritable(tmp_path)[0] + mqtt,
                                   "gateway.state_dir"),
        "udp port in use": ("[gateway]\n" + state + mqtt + '[sources.udp]\nlisten = "127.0.0.1:%d"\n' % busy["udp"],
                            "sources.udp.listen"),
        "sigfox port in use": ("[gateway]\n" + state + mqtt + '[sources.sigfox]\nsecret = "s"\n'
                               'listen = "127.0.0.1:%d"\n' % busy["tcp"], "sources.sigfox.listen"),
        "metrics port in use": ("[gateway]\n" + state + mqtt + '[metrics]\nlisten = "127.0.0.1:%d"\n' % busy["tcp"],
                                "metrics.listen"),
        "replay file missing": ("[gateway]\n" + state + mqtt + '[sources.replay]\nfile = "%s"\n'
                                % (tmp_path / "none.jsonl"), "sources.replay.file"),
    }[case]


CASES = ["tls_ca missing", "tls_key missing", "listen without a port", "listen port 99999", "state_dir is a file",
         "state_dir not writable", "udp port in use", "sigfox port in use", "metrics port in use",
         "replay file missing"]


@pytest.mark.parametrize("command", ["check", "run"])
@pytest.mark.parametrize("case", CASES)
def test_check_and_run_refuse_it_in_one_line_with_exit_2(case, command, tmp_path, ca, busy):
    text, key = case_config(case, tmp_path, ca, busy)
    path = tmp_path / "g.toml"
    path.write_text(text)
    r = lpwa("gateway", command, "-c", str(path))
    assert r.returncode == 2, (r.returncode, r.stderr[-600:])
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lpwa gateway: %s: " % key), r.stderr[-600:]
    assert PASSWORD not in r.stderr and "Traceback" not in r.stderr


def test_no_bind_and_config_only_skip_what_is_not_this_machine_now(tmp_path, busy):
    path = tmp_path / "g.toml"
    path.write_text('[gateway]\nstate_dir = "%s"\n[sources.udp]\nlisten = "127.0.0.1:%d"\n'
                    % (tmp_path / "state", busy["udp"]))
    assert lpwa("gateway", "check", "-q", "-c", str(path)).returncode == 2
    r = lpwa("gateway", "check", "-q", "--no-bind", "-c", str(path))
    assert r.returncode == 0 and r.stderr == "", r.stderr
    path.write_text('[gateway]\nstate_dir = "%s"\n' % unwritable(tmp_path)[0])  # a config for another machine
    assert lpwa("gateway", "check", "-q", "-c", str(path)).returncode == 2
    assert lpwa("gateway", "check", "-q", "--config-only", "-c", str(path)).returncode == 0


def test_two_listen_keys_on_one_port_are_refused_and_check_creates_nothing(tmp_path):
    port = free_port()
    cfg = config.from_dict({"gateway": {"state_dir": str(tmp_path / "new" / "state")},
                            "metrics": {"listen": "127.0.0.1:%d" % port},
                            "sources": {"sigfox": {"secret": "s", "listen": "127.0.0.1:%d" % port}}})
    with pytest.raises(ConfigError, match="^metrics.listen: cannot listen on TCP"):
        preflight.check(cfg)
    cfg["metrics"]["listen"] = ""
    preflight.check(cfg)  # nothing else wrong: the state dir can be made, the port is free again
    assert not (tmp_path / "new").exists()

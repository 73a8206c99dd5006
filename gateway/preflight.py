"""What `lpwa gateway run` would refuse in its environment, checked before anything starts: by
`lpwa gateway check` (the unit's ExecStartPre) and by `run` itself (issue #13 point 7).

Config rows already refuse what a value alone shows (a listen address without a port, port
99999). This adds what only the machine can say: the state directory (a directory, or creatable,
and writable: a file is really created and removed), the MQTT TLS files (loaded as the sink
would), each source's own check (`preflight(options)`, e.g. the replay file) and a bind test for
every listen address (`BINDS` of the source modules: UDP for the packet forwarder, TCP for the
Sigfox callbacks; TCP for metrics), all held open together so two keys on one port are caught,
then closed. Every problem is one ConfigError naming the key, never a secret's value; the CLI
prints it as one line and exits 2, which the unit's RestartPreventExitStatus=2 does not restart.
"""

import errno
import importlib
import os
import socket
import tempfile

from lpwa.gateway import config as config_mod
from lpwa.gateway.options import ConfigError

KINDS = {"udp": socket.SOCK_DGRAM, "tcp": socket.SOCK_STREAM}


def check(config, bind=True):
    """Raise ConfigError for the first thing `run` would refuse; bind=False skips the bind test
    (e.g. checking an edited config while the gateway runs and holds its ports)."""
    state_dir(config["gateway"]["state_dir"])
    tls_files(config["mqtt"])
    binds = []
    registry = config_mod.source_registry()
    for name, options in config["sources"].items():
        if not options.get("enabled", True):
            continue
        module = importlib.import_module(registry[name])
        hook = getattr(module, "preflight", None)
        if hook is not None:
            try:
                hook(options)
            except ValueError as e:
                raise ConfigError(str(e))
        for key, kind in sorted(getattr(module, "BINDS", {}).items()):
            binds.append(("sources.%s.%s" % (name, key), options[key], kind))
    if config["metrics"]["listen"]:
        binds.append(("metrics.listen", config["metrics"]["listen"], "tcp"))
    if bind:
        bind_all(binds)


def state_dir(path):
    """gateway.state_dir must be a writable directory, or one that can be made."""
    key = "gateway.state_dir"
    if os.path.exists(path) and not os.path.isdir(path):
        raise ConfigError("%s: %s is not a directory" % (key, path))
    existing = path
    while not os.path.exists(existing):  # the nearest ancestor that exists: run creates the rest
        parent = os.path.dirname(existing.rstrip(os.sep)) or "."
        if parent == existing:
            break
        existing = parent
    if not os.path.isdir(existing):
        raise ConfigError("%s: cannot be created under %s (not a directory)" % (key, existing))
    try:
        tempfile.TemporaryFile(dir=existing).close()
    except OSError as e:
        raise ConfigError("%s: %s is not writable (%s)" % (key, existing, e.strerror or type(e).__name__))


def tls_files(m):
    """When TLS is on (as MqttSink decides), each file named must be readable (the one line names
    that key), then all load together as the sink loads them."""
    if not (config_mod.parse_url(m["url"])[2] or m["tls_ca"]):
        return
    for key in ("tls_ca", "tls_cert", "tls_key"):
        if m[key]:
            try:
                open(m[key], "rb").close()
            except OSError as e:
                raise ConfigError("mqtt.%s: cannot read %s (%s)" % (key, m[key], e.strerror or type(e).__name__))
    from lpwa.gateway.mqtt_sink import check_tls

    check_tls(m)


def bind_all(binds):
    """Bind every (key, 'host:port', 'udp'|'tcp') as the service would, all open at once, then close."""
    held = []
    try:
        for key, text, kind in binds:
            host, port = config_mod.parse_hostport(key, text)
            held.extend(_bind(key, host, port, kind))
    finally:
        for sock in held:
            sock.close()


def _bind(key, host, port, kind):
    what = "%s %s:%d" % (kind.upper(), host, port)
    try:
        infos = socket.getaddrinfo(host, port, socket.AF_UNSPEC, KINDS[kind], 0, socket.AI_PASSIVE)
    except socket.gaierror as e:
        raise ConfigError("%s: cannot resolve %s (%s)" % (key, host, e.strerror))
    socks = []
    try:
        for family, socktype, proto, _name, address in infos[:1] if kind == "udp" else infos:
            sock = socket.socket(family, socktype, proto)
            socks.append(sock)
            if kind == "tcp":  # as asyncio's create_server and http.server do
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(address)
            if kind == "tcp":  # listening, so a second key on the same port is refused as at start
                sock.listen(1)
    except OSError as e:
        for sock in socks:
            sock.close()
        hint = " (another program, or this gateway already running?)" if e.errno == errno.EADDRINUSE else ""
        raise ConfigError("%s: cannot listen on %s: %s%s" % (key, what, e.strerror or type(e).__name__, hint))
    return socks

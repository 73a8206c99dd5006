"""Helpers for the gateway tests: real frames from the codec's FrameEncoder, config dicts, a TLS
test CA made with the openssl CLI, and a gateway running on its own loop."""

import asyncio
import contextlib
import os
import shutil
import subprocess
import threading

import pytest

from lpwa.codecs.frame import FrameEncoder
from lpwa.gateway import config as config_mod
from lpwa.gateway.service import Gateway

KEYS = {
    "0a1b2c3d": "000102030405060708090a0b0c0d0e0f",
    "11223344": "f0e1d2c3b4a5968778695a4b3c2d1e0f",
    "55667788": "00112233445566778899aabbccddeeff",
    "99aabbcc": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
}
KINDS = {"0a1b2c3d": "buoy", "11223344": "drone-vital", "55667788": "pedometer", "99aabbcc": "buoy"}
READINGS = {
    "buoy": {"water_temp_c": 18.25, "wave_height_m": 1.2, "battery_v": 3.7},
    "drone-vital": {"heart_rate_bpm": 72, "spo2_pct": 98, "body_temp_c": 36.6},
    "pedometer": {"steps": 120, "steps_total": 5000, "battery_v": 3.9},
}


def devices(consent=True):
    return [{"id": d, "key": KEYS[d], "kind": KINDS[d], "consent": consent} for d in KEYS]


def make_config(state_dir, broker=None, **sections):
    raw = {"gateway": {"id": "gw-test", "state_dir": str(state_dir), "log_format": "json"},
           "mqtt": {"url": broker.url if broker else "mqtt://127.0.0.1:1"},
           "devices": devices(sections.pop("consent", True))}
    for name, values in sections.items():
        raw.setdefault(name, {}).update(values)
    return config_mod.from_dict(raw)


_ENCODERS = {}


def frame(device, counter, radio="lora", readings=None, mic="cmac"):
    """One real frame (bytes) of `device` with `counter` (the first one if it needs fragments)."""
    return frames(device, counter, radio, readings, mic)[0]


def frames(device, counter, radio="lora", readings=None, mic="cmac"):
    key = (device, radio, mic)
    enc = _ENCODERS.get(key)
    if enc is None:
        enc = _ENCODERS[key] = FrameEncoder(KINDS[device], int(device, 16), bytes.fromhex(KEYS[device]),
                                           radio=radio, mic=mic)
    return [bytes(f) for f in enc.encode(counter, readings or READINGS[KINDS[device]])]


def make_test_ca(directory, host="127.0.0.1"):
    """A CA and a server certificate for `host` (IP SAN), with the openssl CLI. -> dict of paths."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl CLI not installed")
    p = {name: os.path.join(directory, name) for name in
         ("ca.key", "ca.crt", "server.key", "server.csr", "server.crt", "ext.cnf")}

    def run(*args):
        subprocess.run([openssl] + list(args), check=True, capture_output=True)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", p["ca.key"], "-out", p["ca.crt"],
        "-days", "2", "-subj", "/CN=lpwa test CA")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", p["server.key"], "-out", p["server.csr"],
        "-subj", "/CN=%s" % host)
    with open(p["ext.cnf"], "w") as f:
        f.write("subjectAltName=IP:%s,DNS:localhost\n" % host)
    run("x509", "-req", "-in", p["server.csr"], "-CA", p["ca.crt"], "-CAkey", p["ca.key"], "-CAcreateserial",
        "-out", p["server.crt"], "-days", "2", "-extfile", p["ext.cnf"])
    for name in ("client.key", "client.csr", "client.crt"):
        p[name] = os.path.join(directory, name)
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", p["client.key"], "-out", p["client.csr"],
        "-subj", "/CN=lpwa-gateway")
    run("x509", "-req", "-in", p["client.csr"], "-CA", p["ca.crt"], "-CAkey", p["ca.key"], "-CAcreateserial",
        "-out", p["client.crt"], "-days", "2")
    return p


@contextlib.contextmanager
def running(cfg):
    """A Gateway running on its own asyncio loop in a thread (as `lpwa gateway run` would)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    gw = Gateway(cfg)
    asyncio.run_coroutine_threadsafe(gw.start(), loop).result(20)
    try:
        yield gw
    finally:
        asyncio.run_coroutine_threadsafe(gw.stop(), loop).result(20)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()

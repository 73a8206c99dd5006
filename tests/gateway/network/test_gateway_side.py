"""The gateway's side of a network downlink (lpwa.gateway.network.gateway_side in the pipeline):
the network's counter is used and the node accepts it; a used or malformed one is refused and
counted; a downlink deferred by the duty cycle keeps its place ahead of a newer one."""

import pytest

from lpwa.codecs.command import decode_command
from lpwa.gateway.pipeline import Pipeline
from support.gateway import KEYS, frame, make_config

DEV = "0a1b2c3d"


class Clock:
    def __init__(self):
        self.t = 1795593600.0

    def __call__(self):
        return self.t


@pytest.fixture
def pipe(tmp_path):
    clock = Clock()
    p = Pipeline(make_config(tmp_path), clock=clock)
    p.test_clock = clock
    yield p
    p.queue.close()


def test_the_network_counter_is_used_and_the_node_accepts_it(pipe):
    assert pipe.queue_downlink(DEV, {"cmd": "set-interval", "seconds": 600, "network_counter": 41}) is None
    out = pipe.ingest("lora", frame(DEV, 1), {"datr": "SF10BW125"}, "udp")
    cmd = decode_command(out.downlink, DEV, bytes.fromhex(KEYS[DEV]), 40)
    assert cmd == {"cmd": "set-interval", "seconds": 600, "counter": 41}
    # a direct command to this gateway afterwards continues above the network's counter
    assert pipe.queue_downlink(DEV, {"cmd": "reboot"}) is None
    pipe.test_clock.t += 10
    out = pipe.ingest("lora", frame(DEV, 2), {"datr": "SF10BW125"}, "udp")
    assert decode_command(out.downlink, DEV, bytes.fromhex(KEYS[DEV]), 41)["counter"] == 42


@pytest.mark.parametrize("bad", [0, -1, 2 ** 32, "7", True, 1.5, None])
def test_a_malformed_network_counter_is_refused(pipe, bad):
    assert pipe.queue_downlink(DEV, {"cmd": "reboot", "network_counter": bad}) == "bad-network-counter"
    assert pipe.rejections["downlink-bad-network-counter"] == 1 and not pipe.downlinks.devices


def test_a_counter_this_gateway_already_used_is_refused(pipe):
    assert pipe.queue_downlink(DEV, {"cmd": "reboot", "network_counter": 5}) is None
    assert pipe.queue_downlink(DEV, {"cmd": "reboot", "network_counter": 5}) == "network-counter-behind"
    assert pipe.queue_downlink(DEV, {"cmd": "reboot", "network_counter": 3}) == "network-counter-behind"
    assert pipe.rejections["downlink-network-counter-behind"] == 2


def test_a_deferred_downlink_keeps_its_place_in_line(pipe):
    """Two commands queued; the first uplink's window is refused by the duty cycle (the pause after
    a transmission): the older command must still go first, or the node (which only accepts
    increasing counters) would reject it after the newer one."""
    key = bytes.fromhex(KEYS[DEV])
    assert pipe.downlinks._budget("lora", {"datr": "SF10BW125"}, 8) == "ok"  # a transmission just now: pause running
    pipe.queue_downlink(DEV, {"cmd": "set-interval", "seconds": 600, "network_counter": 1})
    pipe.queue_downlink(DEV, {"cmd": "set-interval", "seconds": 900, "network_counter": 2})
    out = pipe.ingest("lora", frame(DEV, 1), {"datr": "SF10BW125"}, "udp")
    assert out.downlink is None and pipe.rejections["downlink-deferred-duty-cycle"] == 1
    node_last = None
    for c in (2, 3):
        pipe.test_clock.t += 10
        out = pipe.ingest("lora", frame(DEV, c), {"datr": "SF10BW125"}, "udp")
        cmd = decode_command(out.downlink, DEV, key, node_last)
        node_last = cmd["counter"]
        assert cmd["seconds"] == (600 if c == 2 else 900)

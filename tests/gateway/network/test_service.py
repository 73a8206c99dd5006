"""`lpwa network` against real processes: real Mosquitto (and two bridged), real `lpwa gateway run`
gateways with udp sources, real `lpwa network run` instances, simulated forwarders whose nodes
decode every downlink with the real codec. Faults are real SIGKILLs."""

import argparse

import pytest

from lpwa.tools.bench.network import run_bench
from support.broker import mosquitto_binary

pytestmark = [pytest.mark.broker, pytest.mark.slow,
              pytest.mark.skipif(mosquitto_binary() is None, reason="mosquitto is not installed")]


def bench(**kw):
    args = dict(gateways=2, instances=1, nodes=6, rounds=12, overlap=2, rate=150.0, downlink_every=4,
                window_ms=200.0, bridge=False, kill=None, json=True)
    args.update(kw)
    return run_bench(argparse.Namespace(**args))


def exactly_once(res):
    assert res["uplinks"] > 0 and res["published_once"] == res["uplinks"]
    assert res["duplicates_published"] == 0 and res["lost"] == 0
    assert res["rejected_by_nodes"] == 0, res["node_rejections"]


def test_two_gateways_one_message_per_uplink_one_transmission_per_downlink():
    res = bench()
    exactly_once(res)
    assert res["gateways_per_message"] == 2.0  # every message lists both gateways that heard it
    assert res["downlinks"] == 12 and res["transmissions"] == 12 and res["accepted_by_nodes"] == 12


def test_through_a_bridge_between_two_brokers():
    res = bench(gateways=3, bridge=True)
    exactly_once(res)
    assert res["transmissions"] == res["downlinks"] == res["accepted_by_nodes"] == 12


def test_kill_9_of_one_of_two_network_instances():
    res = bench(instances=2, kill="network")
    exactly_once(res)
    assert res["transmissions"] == res["downlinks"] == res["accepted_by_nodes"] == 12


def test_kill_9_of_the_only_network_instance_and_restart():
    """Copies are acknowledged only once their frame is published: the persistent session hands the
    restarted instance what it had not settled, and the retained state stops re-publication."""
    res = bench(kill="network")
    exactly_once(res)
    assert res["transmissions"] == res["downlinks"] == res["accepted_by_nodes"] == 12


def test_kill_9_of_a_gateway():
    """Frames the other gateway heard are all published once; a downlink never goes out twice
    (one queued on the dead gateway may not go out at all until it restarts)."""
    res = bench(gateways=3, kill="gateway", rounds=12)
    exactly_once(res)
    assert res["transmissions"] <= res["downlinks"] and res["accepted_by_nodes"] == res["transmissions"]
    assert res["transmissions"] >= res["downlinks"] - 6  # at most one outstanding command per node is lost

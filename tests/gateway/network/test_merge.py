"""The merge bookkeeping (lpwa.gateway.network.merge, .window, .members, .downlinks), no broker."""

from lpwa.gateway.network import downlinks
from lpwa.gateway.network.members import Members
from lpwa.gateway.network.merge import Merger
from lpwa.gateway.network.window import WIDTH, ReplayWindow


class Clock:
    def __init__(self, t=1000.0):
        self.t = t

    def __call__(self):
        return self.t


def copy(counter, rssi=-90, device="0a1b2c3d", ts=None, temp=18.25, radio="lora"):
    return {"kind": "buoy", "type": "reading", "device": device, "counter": counter, "alarm": False,
            "readings": {"water_temp_c": {"value": temp, "unit": "degC"}}, "radio": radio, "source": "udp",
            "rx": {"rssi": rssi, "snr": 5.0}, "ts": 1795593600.0 if ts is None else ts}


def merger(clock):
    return Merger(window_s=0.2, hold_s=30.0, clock=clock, wall=lambda: 1795593600.0)


def test_window_marks_out_of_order_and_refuses_below_it():
    w = ReplayWindow()
    for c in (5, 3, 9):
        assert w.state(c) == "new"
        w.mark(c)
    assert [w.state(c) for c in (3, 4, 5, 8, 9, 10)] == ["published", "new", "published", "new", "published", "new"]
    w.mark(9 + WIDTH + 5)
    assert w.state(9) == "stale" and w.state(9 + WIDTH + 4) == "new"
    again = ReplayWindow.load(w.dump())
    assert again.last == w.last and again.mask == w.mask


def test_window_merge_is_the_union():
    a, b = ReplayWindow(), ReplayWindow()
    for c in (1, 2, 7):
        a.mark(c)
    for c in (4, 10):
        b.mark(c)
    a.merge(b.last, b.mask)
    assert sorted(a.published()) == [1, 2, 4, 7, 10]
    b.merge(*ReplayWindow(3, 0).dump()[:1], 0)
    assert sorted(b.published()) == [3, 4, 10]


def test_copies_of_one_frame_become_one_entry_best_rssi_first():
    clock = Clock()
    m = merger(clock)
    assert m.offer("gw-a", copy(17, rssi=-110), mid=1) == "new"
    assert m.offer("gw-b", copy(17, rssi=-80), mid=2) == "joined"
    assert m.due(lambda d: True) == ([], [])  # window still open
    clock.t += 0.25
    publish, held = m.due(lambda d: True)
    assert len(publish) == 1 and held == []
    entry = publish[0]
    assert [g["gateway"] for g in entry.gateways()] == ["gw-b", "gw-a"] and entry.mids == [1, 2]
    m.published(entry)
    assert m.offer("gw-c", copy(17), mid=3) == "late-copy"  # a gateway that joins late
    assert m.counts["late-copy"] == 1 and m.counts["published"] == 1


def test_faults_are_counted_never_published_twice():
    clock = Clock()
    m = merger(clock)
    m.offer("gw-a", copy(5))
    assert m.offer("gw-a", copy(5)) == "redelivered"  # QoS 1 re-delivery of the same copy
    assert m.offer("gw-a", copy(5, rssi=-70)) == "gateway-id-conflict"  # two gateways, one id
    assert m.offer("gw-b", copy(5, temp=30.0)) == "conflict"  # same counter, another frame
    assert m.offer("gw-b", copy(6, ts=1795593600.0 + 86400)) == "new"
    assert m.counts["clock-off"] == 1  # counted, and the frame is still merged
    assert m.offer("network", copy(7)) == "bad-copy" and m.offer("gw-a", {"device": "x"}) == "bad-copy"
    clock.t += 1
    publish, _ = m.due(lambda d: True)
    assert [e.counter for e in publish] == [5, 6]


def test_non_owner_holds_and_takes_over_only_what_was_not_published():
    clock = Clock()
    m = merger(clock)
    m.offer("gw-a", copy(1), mid=10)
    m.offer("gw-a", copy(2), mid=11)
    clock.t += 1
    publish, held = m.due(lambda d: False)
    assert publish == [] and [e.counter for e in held] == [1, 2]
    m.learn_uplink(dict(copy(1), gateways=[{"gateway": "gw-a"}]))  # the owner published 1, then died
    taken = m.takeover(lambda d: True)
    assert [e.counter for e in taken] == [2] and m.counts["takeover"] == 1 and not m.held


def test_state_carries_windows_and_the_downlink_counter():
    clock = Clock()
    a, b = merger(clock), merger(clock)
    a.offer("gw-a", copy(3))
    clock.t += 1
    a.published(a.due(lambda d: True)[0][0])
    a.down["0a1b2c3d"] = 7
    assert b.learn_state("0a1b2c3d", a.state_of("0a1b2c3d"))
    assert b.offer("gw-b", copy(3)) == "late-copy" and b.down["0a1b2c3d"] == 7
    assert downlinks.assign_counter(b, "0a1b2c3d") == 8


def test_bounded():
    clock = Clock()
    m = Merger(window_s=0.2, max_entries=3, max_devices=2, clock=clock)
    for c in range(2):
        m.offer("gw", copy(c + 1))
    assert m.offer("gw", copy(1, device="11111111")) == "new"
    assert m.offer("gw", copy(9)) == "window-full"  # pending + held entries
    m = Merger(window_s=0.2, max_entries=100, max_devices=2, clock=clock)
    m.offer("gw", copy(1))
    assert m.offer("gw", copy(1, device="11111111")) == "new"
    assert m.offer("gw", copy(1, device="22222222")) == "window-full"  # a third device


def test_owner_is_one_live_member_and_moves_when_it_dies():
    clock = Clock()
    views = {}
    for me in ("n1", "n2", "n3"):
        views[me] = Members(me, grace_s=1.0, clock=clock)
        for other in ("n1", "n2", "n3"):
            views[me].update(other, True)
    clock.t += 1.1
    for v in views.values():
        v.tick()
    devices = ["%08x" % i for i in range(200)]
    for d in devices:
        assert sum(views[me].owns(d) for me in views) == 1
    owned_by_n1 = [d for d in devices if views["n1"].owns(d)]
    assert owned_by_n1  # rendezvous hashing spreads the devices
    for v in ("n2", "n3"):
        views[v].update("n1", False)
        assert views[v].tick()
    for d in owned_by_n1:
        assert views["n2"].owns(d) != views["n3"].owns(d)


def test_a_new_member_owns_nothing_during_its_grace():
    clock = Clock()
    m = Members("n2", grace_s=1.0, clock=clock)
    m.update("n1", True, initial=True)
    m.update("n2", True)
    m.tick()
    assert m.eligible() == ["n1"] and not any(m.owns("%08x" % i) for i in range(50))
    clock.t += 1.0
    assert m.tick() and m.eligible() == ["n1", "n2"]


def test_downlink_goes_to_the_best_live_gateway_and_stays_there():
    latest = ("buoy", [{"gateway": "gw-b"}, {"gateway": "gw-a"}])
    assert downlinks.choose_gateway(latest, "buoy", {"gw-a": True, "gw-b": True}) == "gw-b"
    assert downlinks.choose_gateway(latest, "buoy", {"gw-a": True, "gw-b": False}) == "gw-a"
    assert downlinks.choose_gateway(latest, "buoy", {"gw-a": True, "gw-b": True}, sticky="gw-a") == "gw-a"
    assert downlinks.choose_gateway(latest, "buoy", {}) == "no-gateway-online"
    assert downlinks.choose_gateway(latest, "pedometer", {"gw-b": True}) == "wrong-kind"
    assert downlinks.choose_gateway(None, "buoy", {}) == "no-uplink"
    assert downlinks.parse_command(b'{"cmd": "reboot", "network_counter": 5}') == "bad-command"
    assert downlinks.parse_command(b"{") == "bad-command"

"""Counter and state persistence: no counter is ever handed out twice, whatever mix of deep
sleep, resets and power loss happens, and a damaged RTC record reads as empty, never as wrong."""

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from lpwa.firmware.store import CounterStore, MemoryStore, MirroredStore, SlotStore, Slots, State

EVENTS = st.lists(st.sampled_from(["take", "take", "take", "sleep", "reset", "power-loss", "torn-rtc"]),
                  max_size=300)


def run_events(events, block=8):
    rtc, flash = MemoryStore(), MemoryStore()
    seen = []
    slots = Slots(rtc)
    ctr = CounterStore(slots, flash, block)
    flash_writes = 0
    last_flash = flash.read()
    for ev in events:
        if ev == "take":
            seen.append(ctr.take())
            if flash.read() != last_flash:
                flash_writes += 1
                last_flash = flash.read()
            continue
        if ev == "power-loss":
            rtc = MemoryStore()
        elif ev == "torn-rtc" and rtc.read():
            raw = bytearray(rtc.read())
            raw[-1] ^= 0xFF  # a brown-out mid-write
            rtc = MemoryStore(bytes(raw))
        slots = Slots(rtc)  # every wake or reset starts from the stores, RAM is gone
        ctr = CounterStore(slots, flash, block)
    return seen, flash_writes


@settings(max_examples=300, deadline=None)
@given(EVENTS)
def test_counter_never_repeats(events):
    seen, writes = run_events(events)
    assert len(seen) == len(set(seen))
    assert seen == sorted(seen)


def test_flash_is_written_once_per_block_when_sleeping():
    seen, writes = run_events(["take", "sleep"] * 640, block=64)
    assert seen == list(range(640))
    assert writes == 10


def test_counter_under_micropython(mpy):
    """The same property, run by the real interpreter on a batch of scripted histories."""
    import random

    rnd = random.Random(7)
    histories = [[rnd.choice(["take", "take", "sleep", "reset", "power-loss", "torn-rtc"]) for _ in range(120)]
                 for _ in range(40)]
    setup = (
        "from lpwa.firmware.store import CounterStore, MemoryStore, Slots\n"
        "def run(events):\n"
        "    rtc, flash = MemoryStore(), MemoryStore()\n"
        "    seen = []\n"
        "    ctr = CounterStore(Slots(rtc), flash, 8)\n"
        "    for ev in events:\n"
        "        if ev == 'take':\n"
        "            seen.append(ctr.take())\n"
        "            continue\n"
        "        if ev == 'power-loss':\n"
        "            rtc = MemoryStore()\n"
        "        elif ev == 'torn-rtc' and rtc.read():\n"
        "            raw = bytearray(rtc.read()); raw[-1] ^= 0xFF; rtc = MemoryStore(bytes(raw))\n"
        "        ctr = CounterStore(Slots(rtc), flash, 8)\n"
        "    return seen\n"
        "H = %s\n" % json.dumps(histories)
    )
    results = mpy.eval_json(setup, "[run(h) for h in H]")
    for h, seen in zip(histories, results):
        assert len(seen) == len(set(seen)) == h.count("take")
        assert seen == run_events(h)[0]


def test_slots_roundtrip_and_corruption():
    rtc = MemoryStore()
    s = Slots(rtc)
    s.put("a", b"\x00\x01")
    s.put("budget", bytes(range(256)) * 3)
    s.flush()
    again = Slots(rtc)
    assert again.get("a") == b"\x00\x01" and again.get("budget") == bytes(range(256)) * 3
    assert len(rtc.read()) < 2048  # fits ESP32 RTC user memory
    raw = bytearray(rtc.read())
    raw[20] ^= 1
    assert Slots(MemoryStore(bytes(raw))).slots == {}
    assert Slots(MemoryStore(b"junk")).slots == {}


def test_slot_store_and_mirror_prefer_rtc_and_fall_back_to_flash():
    rtc, flash = MemoryStore(), MemoryStore()
    m = MirroredStore(SlotStore(Slots(rtc), "b"), flash)
    m.write(b"state-1")
    assert Slots(rtc).get("b") == b"state-1" and flash.read() == b"state-1"
    assert MirroredStore(SlotStore(Slots(MemoryStore()), "b"), flash).read() == b"state-1"  # after power loss


def test_state_writes_flash_only_for_durable_changes():
    rtc, flash = MemoryStore(), MemoryStore()
    slots = Slots(rtc)
    st_ = State(slots, flash)
    st_.set("uplinks", 3)
    st_.save()
    assert flash.read() is None
    st_.set("interval_s", 1800, durable=True)
    st_.save()
    slots.flush()
    assert json.loads(flash.read())["interval_s"] == 1800
    after_loss = State(Slots(MemoryStore()), flash)
    assert after_loss.get("interval_s") == 1800
    same = State(Slots(rtc), flash)
    assert same.get("uplinks") == 3


STATE_GARBAGE = [b"[1]", b"5", b'"x"', b"null", b"true", b"\xff\xfe", b'{"a":1', b"\x00" * 8]


def test_state_from_garbage_flash_reads_as_empty():
    for raw in STATE_GARBAGE:
        st_ = State(Slots(MemoryStore()), MemoryStore(raw))
        assert st_.values == {} and st_.get("interval_s", 7) == 7, raw
        st_.set("interval_s", 60, durable=True)
        st_.save()


def test_state_from_garbage_flash_reads_as_empty_under_micropython(mpy):
    got = mpy.eval_json(
        "import binascii\nfrom lpwa.firmware.store import MemoryStore, Slots, State\n"
        "def one(h):\n"
        "    st_ = State(Slots(MemoryStore()), MemoryStore(binascii.unhexlify(h)))\n"
        "    st_.set('interval_s', 60, durable=True)\n"
        "    st_.save()\n"
        "    return st_.get('boots', 0)\n"
        "H = %s\n" % json.dumps([r.hex() for r in STATE_GARBAGE]), "[one(h) for h in H]")
    assert got == [0] * len(STATE_GARBAGE)


def test_flush_reuses_its_buffer_but_the_store_keeps_what_was_written():
    """flush packs into one buffer kept between flushes: a store's copy of an earlier image must
    not change when a later flush of the same size reuses it, and the image matches the layout."""
    rtc = MemoryStore()
    s = Slots(rtc)
    s.put("ctr", b"\x01\x00\x00\x00")
    s.put("app", bytearray(b'{"a":1}'))
    s.flush()
    first = rtc.read()
    s.put("ctr", b"\x02\x00\x00\x00")
    s.flush()
    assert first != rtc.read() and Slots(MemoryStore(first)).get("ctr") == b"\x01\x00\x00\x00"
    assert Slots(rtc).slots == {"ctr": b"\x02\x00\x00\x00", "app": b'{"a":1}'}
    body = b"\x03ctr\x04\x00\x02\x00\x00\x00" + b'\x03app\x07\x00{"a":1}'
    assert rtc.read() == b"LPR2" + (__import__("binascii").crc32(body) & 0xFFFFFFFF).to_bytes(4, "little") + body
    s.put("app", b"{}")  # a smaller image: a new buffer of its size
    s.flush()
    assert Slots(rtc).get("app") == b"{}" and len(rtc.read()) == 8 + 10 + 8

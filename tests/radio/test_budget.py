"""The duty-cycle budget never breaks a limit, and keeps its alarm promise.

An independent oracle replays the transmission log in true time (exact microsecond overlaps, not
the budget's minute slots) and checks: every emission within max_tx, the pause after every
transmission, at most 360 s in every 60-minute window, at most the daily cap in every 24 h
window. The same driver runs under MicroPython and must make exactly the same decisions.
"""

import bisect
import json
import random

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from lpwa.radio import airtime, budget

HOUR_US = 3600 * 10**6
T0 = 1_764_000_000_000  # epoch milliseconds: big integers on purpose (MicroPython long ints)

# One driver, run by CPython and by MicroPython: same actions in, same decisions out.
DRIVER = r'''
def drive(budget_mod, profile, actions, t0):
    store = budget_mod.MemoryStore()
    b = budget_mod.Budget(store, profile)
    st = {"T": t0, "skew": 0, "b": b}
    dec = []
    log = []

    def ask(a, alarm):
        bb = st["b"]
        ok, w, r = bb.request(st["T"] - st["skew"], a, alarm)
        dec.append([st["T"], a, 1 if alarm else 0, 1 if ok else 0, w, r, st["skew"], len(log)])
        if ok:
            bb.record(st["T"] - st["skew"], a, alarm)
            log.append([st["T"], a, 1 if alarm else 0])
        return ok, w

    for act in actions:
        k = act[0]
        if k == "adv":
            st["T"] += act[1]
        elif k == "tx":
            ok, w = ask(act[1], act[2])
            if not ok and act[3] and w >= 0:
                st["T"] += w
                ok2, w2 = ask(act[1], act[2])
                if not ok2:
                    dec[-1].append("retry-failed")
        elif k == "burst":
            for i in range(act[1]):
                ask(act[2], act[4])
                st["T"] += act[3]
        elif k == "sleep":
            st["b"].save()
            st["b"] = budget_mod.Budget(store, profile)
        elif k == "clockback":
            st["skew"] += act[1]
    return {"decisions": dec, "log": log, "state": st["b"].dump().hex() if hasattr(b"", "hex") else ""}
'''

_ns = {}
exec(DRIVER, _ns)
drive = _ns["drive"]


def oracle(profile, log):
    """Violations of the rules in true time, computed from the log alone (sorted by start)."""
    bad = []
    max_tx = profile["max_tx_us"]
    reps = profile["repeats"]
    pause_ms = profile["pause_ms"]
    hour_us = profile["hour_budget_ms"] * 1000
    cap = profile["day_messages"]
    starts = [t * 1000 for t, _, _ in log]
    ends = [t * 1000 + a for t, a, _ in log]
    prefix = [0]
    for _, a, _ in log:
        prefix.append(prefix[-1] + a)
    spread = (reps - 1) * profile.get("repeat_gap_ms", 0)  # Sigfox repeats may be 2 s apart
    for i, (t, a, _) in enumerate(log):
        if -(-a // reps) > max_tx:
            bad.append(("too-long", i))
        if i:
            prev_end_ms = log[i - 1][0] + -(-log[i - 1][1] // 1000) + spread
            if t < prev_end_ms + pause_ms:
                bad.append(("pause", i))
    if bad:
        return bad  # overlapping emissions: the window sums below assume none

    def overlap(w0, w1):
        i = bisect.bisect_right(ends, w0)  # first emission ending after w0
        j = bisect.bisect_left(starts, w1)  # first emission starting at or after w1
        if i >= j:
            return 0
        return prefix[j] - prefix[i] - max(0, w0 - starts[i]) - max(0, ends[j - 1] - w1)

    # The sliding 60-minute sum peaks with the window ending at an emission's end or starting at
    # an emission's start.
    for s, e in zip(starts, ends):
        for w0, w1 in ((e - HOUR_US, e), (s, s + HOUR_US)):
            used = overlap(w0, w1)
            if used > hour_us:
                bad.append(("hour", w0, used))
    if cap:
        for i, s in enumerate(starts):
            n = i + 1 - bisect.bisect_right(starts, s - 86400 * 10**6)
            if n > cap:
                bad.append(("day", s, n))
    return bad


def latency_violations(profile, decisions, log):
    """Alarms refused although the reserve allowed them (see radio/budget.py: Alarm latency)."""
    bad = []
    reserve_us = profile["reserve_ms"] * 1000
    cap = profile["day_messages"]
    starts = [t for t, _, _ in log]
    alarm_air = [0]
    alarm_n = [0]
    for _, a, al in log:
        alarm_air.append(alarm_air[-1] + (a if al else 0))
        alarm_n.append(alarm_n[-1] + (1 if al else 0))
    for d in decisions:
        t, a, alarm, ok, w, why, skew, n_before = d[:8]
        if ok or not alarm or skew or -(-a // profile["repeats"]) > profile["max_tx_us"]:
            continue
        lo = bisect.bisect_right(starts, t - 3600000 - 120000, 0, n_before)
        if alarm_air[n_before] - alarm_air[lo] + a > reserve_us:
            continue
        lo = bisect.bisect_right(starts, t - 86400000 - 3600000, 0, n_before)
        if cap and alarm_n[n_before] - alarm_n[lo] + 1 > profile["reserve_msgs"]:
            continue
        pause_left = 0
        if n_before:
            prev = log[n_before - 1]
            spread = (profile["repeats"] - 1) * profile.get("repeat_gap_ms", 0)
            pause_left = max(0, prev[0] + -(-prev[1] // 1000) + spread + profile["pause_ms"] - t)
        if why != "pause" or w > pause_left:
            bad.append(d)
    return bad


def _airtimes(radio):
    if radio == "sigfox":
        return st.sampled_from([airtime.sigfox_total_airtime_us(n) for n in (0, 1, 4, 8, 12)])
    if radio == "wisun":
        return st.sampled_from([airtime.wisun_airtime_us(n) for n in (20, 100, 1232)] + [airtime.wisun_airtime_us(2000, overhead=0)])
    fixed = [airtime.lora_airtime_us(pl, sf) for pl, sf in ((24, 10), (51, 9), (11, 10), (200, 7), (51, 12))]
    return st.one_of(st.sampled_from(fixed), st.integers(1, 4_500_000))


@st.composite
def scenarios(draw):
    """Phases of steady traffic (cadence, frame, alarm share) separated by idle gaps, deep sleeps
    and clock resets: hypothesis picks the phases, a seeded RNG mixes alarms in."""
    key = draw(st.sampled_from(["lora", "lora-long", "sigfox", "wisun"]))
    profile = budget.profile_for("lora", long_emissions=True) if key == "lora-long" else budget.profile_for(key)
    air = _airtimes(profile["radio"])
    phase = st.tuples(
        air,
        st.one_of(st.sampled_from([0, 50, 450, 1000, 4200, 7000, 20000, 60000, 600000]), st.integers(0, 900000)),
        st.one_of(st.sampled_from([1, 50, 400, 1500]), st.integers(1, 1500)),
        st.sampled_from([0.0, 0.02, 0.2, 1.0]),
        st.booleans(),
        st.sampled_from(["adv", "adv", "adv", "sleep", "clockback", "burst"]),
        st.integers(0, 2 * 86_400_000),
    )
    phases = draw(st.lists(phase, min_size=1, max_size=8))
    rng = random.Random(draw(st.integers(0, 2**32 - 1)))
    actions = []
    for a, gap, n, alarm_share, retry, between, idle in phases:
        for _ in range(n):
            actions.append(["tx", a, rng.random() < alarm_share, retry and rng.random() < 0.5])
            actions.append(["adv", gap + rng.randrange(0, 50)])
        if between == "sleep":
            actions.append(["sleep"])
        elif between == "clockback":
            actions.append(["clockback", rng.randrange(1, 600000)])
        elif between == "burst":
            actions.append(["burst", rng.randrange(1, 60), a, rng.randrange(0, 3000), True])
        actions.append(["adv", idle])
    return key, profile, actions


def _check(profile, result):
    assert oracle(profile, result["log"]) == []
    assert [d for d in result["decisions"] if "retry-failed" in d] == []
    assert latency_violations(profile, result["decisions"], result["log"]) == []


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(scenarios())
def test_no_limit_is_ever_exceeded_and_alarms_keep_their_reserve(scn):
    key, profile, actions = scn
    result = drive(budget, profile, [list(a) for a in actions], T0)
    for why in sorted({d[5] for d in result["decisions"]}):
        event("%s: %s" % (key, why))
    days = (result["decisions"][-1][0] - T0) // 86400000 if result["decisions"] else 0
    event("spans %s" % ("a week or more" if days >= 7 else "a day or more" if days >= 1 else "under a day"))
    _check(profile, result)


def _week(profile, rng, routine_every_ms, routine_air, alarm_air, alarm_rate):
    """A deterministic week: a routine frame every `routine_every_ms` (retried at the budget's
    wait, like the firmware) with alarms sprinkled, bursts of alarms, and deep sleeps."""
    actions = []
    t = 0
    while t < 7 * 86400000:
        actions.append(["tx", routine_air, 0, rng.random() < 0.5])
        if rng.random() < alarm_rate:
            actions.append(["adv", rng.randrange(1, 5000)])
            actions.append(["tx", alarm_air, 1, 1])
        if rng.random() < 0.01:
            actions.append(["burst", rng.randrange(2, 30), alarm_air, rng.randrange(100, 3000), 1])
        if rng.random() < 0.05:
            actions.append(["sleep"])
        step = routine_every_ms + rng.randrange(0, 2000)
        actions.append(["adv", step])
        t += step
    return actions


def test_a_greedy_week_on_every_profile_stays_legal():
    rng = random.Random(4)
    cases = [
        ("lora", budget.profile_for("lora"), 4000, airtime.lora_airtime_us(66, 9), airtime.lora_airtime_us(11, 10)),
        ("sigfox", budget.profile_for("sigfox"), 300000, airtime.sigfox_total_airtime_us(12),
         airtime.sigfox_total_airtime_us(4)),
        ("wisun", budget.profile_for("wisun"), 3000, airtime.wisun_airtime_us(1900, kbps=50), airtime.wisun_airtime_us(40)),
    ]
    for name, profile, every, routine_air, alarm_air in cases:
        actions = _week(profile, rng, every, routine_air, alarm_air, 0.02)
        result = drive(budget, profile, actions, T0)
        _check(profile, result)
        sent_routine = sum(1 for x in result["log"] if not x[2])
        sent_alarm = sum(1 for x in result["log"] if x[2])
        refused = [d for d in result["decisions"] if not d[3]]
        # The week really pressed the limits, and alarms still went out.
        assert refused and sent_routine and sent_alarm, name
        assert {d[5] for d in refused} & {"reserve", "day-cap", "hour-budget", "pause"}


def test_routine_traffic_is_held_to_budget_minus_reserve_and_alarms_get_the_rest():
    p = budget.profile_for("lora")
    b = budget.Budget(budget.MemoryStore(), p)
    a = airtime.lora_airtime_us(24, 10)
    t = T0
    used = 0
    while True:
        ok, wait, why = b.request(t, a)
        if not ok:
            break
        b.record(t, a)
        used += a
        t += 1000
    assert why == "reserve" and wait > 0
    assert used <= (p["hour_budget_ms"] - p["reserve_ms"]) * 1000 < used + a
    alarms = 0
    while True:
        ok, wait, why = b.request(t, a, alarm=True)
        if not ok:
            break
        b.record(t, a, alarm=True)
        alarms += 1
        t += 1000
    assert why == "hour-budget" and used + alarms * a <= p["hour_budget_ms"] * 1000
    assert alarms == p["reserve_ms"] * 1000 // a or used + (alarms + 1) * a > p["hour_budget_ms"] * 1000


def test_sigfox_daily_cap_and_alarm_messages():
    p = budget.profile_for("sigfox")
    b = budget.Budget(budget.MemoryStore(), p)
    a = airtime.sigfox_total_airtime_us(12)
    t = T0
    n = 0
    while n < 1000:
        ok, wait, why = b.request(t, a)
        if not ok and why in ("reserve", "day-cap"):
            break
        if ok:
            b.record(t, a)
            n += 1
        t += max(wait, 0) if not ok else 600000  # 6 an hour: the hour budget never binds
    assert why == "reserve" and n == p["day_messages"] - p["reserve_msgs"]
    for i in range(p["reserve_msgs"]):
        ok, wait, why = b.request(t, a, alarm=True)
        assert ok, (i, why)
        b.record(t, a, alarm=True)
        t += 60000
    ok, wait, why = b.request(t, a, alarm=True)
    assert (ok, why) == (False, "day-cap") and 0 < wait <= 25 * 3600000


def test_too_long_emissions_are_refused_for_good():
    b = budget.Budget(budget.MemoryStore(), budget.profile_for("lora"))
    assert b.request(T0, airtime.lora_airtime_us(51, 12)) == (False, -1, "too-long")
    b4 = budget.Budget(budget.MemoryStore(), budget.profile_for("lora", channel=30, long_emissions=True))
    assert b4.request(T0, airtime.lora_airtime_us(51, 12))[0]


def test_long_emissions_only_on_channels_24_to_38():
    import pytest

    with pytest.raises(ValueError):
        budget.profile_for("lora", channel=45, long_emissions=True)
    with pytest.raises(ValueError):
        budget.profile_for("zigbee")


def test_state_survives_deep_sleep_byte_for_byte():
    p = budget.profile_for("lora")
    store = budget.MemoryStore()
    b = budget.Budget(store, p)
    assert b.restored == "fresh"
    t = T0
    for i in range(50):
        if b.request(t, 300000, alarm=i % 7 == 0)[0]:
            b.record(t, 300000, alarm=i % 7 == 0)
        t += 20000
    b.save()
    assert len(store.data) == budget.STATE_SIZE
    b2 = budget.Budget(store, p)
    assert b2.restored == "restored" and b2.dump() == b.dump()
    assert b2.request(t, 300000) == b.request(t, 300000)


def test_a_corrupt_or_foreign_store_is_conservative_not_a_crash():
    p = budget.profile_for("lora")
    good = budget.Budget(budget.MemoryStore(), p)
    good.record(T0, 100000)
    raw = good.dump()
    rng = random.Random(7)
    variants = [b"", b"\x00", b"LB", raw[:-1], raw + b"\x00", b"XX" + raw[2:], raw[:2] + b"\x09" + raw[3:]]
    for _ in range(40):
        i = rng.randrange(len(raw))
        variants.append(raw[:i] + bytes([raw[i] ^ (1 << rng.randrange(8))]) + raw[i + 1:])
    for data in variants:
        b = budget.Budget(budget.MemoryStore(data), p)
        if data == b"":
            assert b.restored == "fresh"
            continue
        assert b.restored == "corrupt", data[:4]
        ok, wait, why = b.request(T0 + 10, 100000, alarm=True)
        assert not ok and why == "hour-budget" and wait > 0
        # ...and it recovers by itself once the hour it assumed has passed.
        assert b.request(T0 + 10 + wait, 100000, alarm=True)[0]


def test_a_clock_that_goes_backwards_never_forgets_airtime():
    p = budget.profile_for("lora")
    b = budget.Budget(budget.MemoryStore(), p)
    a = 390000
    t = T0
    sent = 0
    while b.request(t, a)[0]:
        b.record(t, a)
        sent += 1
        t += 500
    ok, wait, why = b.request(0, a)  # RTC lost: the clock restarts at zero
    assert not ok and why == "reserve"
    assert not b.request(wait - 1, a)[0] and b.request(wait, a)[0]


class Channel:
    def __init__(self, busy):
        self.busy = list(busy)
        self.calls = []

    def carrier_sense(self, duration_us):
        self.calls.append(duration_us)
        return not (self.busy.pop(0) if self.busy else False)


def test_listen_before_talk_senses_for_the_profile_time_and_backs_off():
    p = budget.profile_for("lora")
    b = budget.Budget(budget.MemoryStore(), p)
    ch = Channel([True] * 8)
    waits = []
    for _ in range(8):
        assert b.listen_before_talk(ch, T0) is False
        waits.append(b.backoff_ms)
    assert ch.calls == [p["cs_us"]] * 8 and p["cs_us"] >= 5000
    assert all(p["backoff_ms"] <= w < p["backoff_ms"] + (p["backoff_ms"] << 5) for w in waits)
    assert max(waits[4:]) > max(waits[:1])  # the window grows
    assert b.listen_before_talk(ch, T0) is True and b.backoff_ms == 0
    ch2 = Channel([True])
    b.listen_before_talk(ch2, T0, alarm=True)
    assert b.backoff_ms < p["backoff_ms"]


def test_frames_per_hour():
    b = budget.Budget(budget.MemoryStore(), budget.profile_for("lora"))
    a = airtime.lora_airtime_us(24, 10)
    assert b.frames_per_hour(a) == (360000 - 36000) * 1000 // a
    s = budget.Budget(budget.MemoryStore(), budget.profile_for("sigfox"))
    assert s.frames_per_hour(airtime.sigfox_total_airtime_us(12)) == (360000 - 36000) // 6240  # 51: the hour binds


# -- the same decisions under MicroPython ------------------------------------------------------

def _random_actions(rng, radio, n):
    pools = {
        "lora": [airtime.lora_airtime_us(pl, sf) for pl, sf in ((24, 10), (51, 9), (11, 10), (200, 7))] + [450000],
        "sigfox": [airtime.sigfox_total_airtime_us(k) for k in (1, 8, 12)],
        "wisun": [airtime.wisun_airtime_us(k) for k in (20, 1232)],
    }[radio]
    out = []
    for _ in range(n):
        r = rng.random()
        if r < 0.35:
            out.append(["adv", rng.choice([rng.randrange(0, 3000), rng.randrange(0, 3600000)])])
        elif r < 0.8:
            out.append(["tx", rng.choice(pools), rng.random() < 0.2, rng.random() < 0.5])
        elif r < 0.9:
            out.append(["burst", rng.randrange(1, 300), rng.choice(pools), rng.randrange(0, 3000), rng.random() < 0.1])
        elif r < 0.97:
            out.append(["sleep"])
        else:
            out.append(["clockback", rng.randrange(1, 100000)])
    return out


def test_micropython_makes_exactly_the_same_decisions(mpy):
    rng = random.Random(2026)
    mpy.run("from lpwa.radio import budget as _bm\n" + DRIVER)
    for radio in ("lora", "sigfox", "wisun"):
        profile = budget.profile_for(radio)
        actions = _random_actions(rng, radio, 150)
        host = drive(budget, profile, actions, T0)
        _check(profile, host)
        board = mpy.eval_json(
            "import json\n_r = drive(_bm, _bm.profile_for(%r), json.loads(%r), %d)" % (radio, json.dumps(actions), T0),
            "_r")
        assert board["decisions"] == host["decisions"], radio
        assert board["log"] == host["log"]
        assert board["state"] == host["state"]  # the persisted record is the same bytes too


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), radio=st.sampled_from(["lora", "sigfox", "wisun"]))
def test_micropython_replays_random_sequences_identically(mpy, seed, radio):
    actions = _random_actions(random.Random(seed), radio, 60)
    profile = budget.profile_for(radio)
    host = drive(budget, profile, actions, T0)
    mpy.run("from lpwa.radio import budget as _bm\n" + DRIVER)
    board = mpy.eval_json(
        "import json\n_r = drive(_bm, _bm.profile_for(%r), json.loads(%r), %d)" % (radio, json.dumps(actions), T0), "_r")
    assert board["decisions"] == host["decisions"]


def test_the_oracle_has_teeth():
    """A budget run with looser numbers than the rules is caught by the oracle and the latency check."""
    rng = random.Random(1)
    true = budget.profile_for("lora")
    loose = dict(true, hour_budget_ms=400000, reserve_ms=0, pause_ms=0)
    actions = _week(true, rng, 1000, airtime.lora_airtime_us(66, 9), airtime.lora_airtime_us(11, 10), 0.05)[:30000]
    result = drive(budget, loose, actions, T0)
    kinds = {v[0] for v in oracle(true, result["log"])}
    assert "pause" in kinds
    result = drive(budget, dict(true, hour_budget_ms=400000, reserve_ms=0), actions, T0)
    assert {v[0] for v in oracle(true, result["log"])} == {"hour"}
    result = drive(budget, dict(true, reserve_ms=0), actions, T0)
    assert oracle(true, result["log"]) == [] and latency_violations(true, result["decisions"], result["log"])


def test_sigfox_downlink_requests_are_capped_at_4_a_rolling_day():
    p = budget.profile_for("sigfox")
    store = budget.MemoryStore()
    b = budget.Budget(store, p)
    a = airtime.sigfox_total_airtime_us(8)
    t = T0
    asked = []
    for i in range(12):
        want = b.downlink_allowed(t)
        asked.append(want)
        b.record(t, a, downlink=want)
        b.save()
        b = budget.Budget(store, p)  # deep sleep between uplinks
        t += 3600000
    assert asked == [True] * 4 + [False] * 8
    assert b.status(t)["day_downlinks"] == 4
    assert b.downlink_allowed(T0 + 25 * 3600000)  # a day later the first one has expired
    assert budget.Budget(budget.MemoryStore(), budget.profile_for("lora")).downlink_allowed(T0)


def test_profiles_are_the_arib_and_sigfox_rules():
    """Only the node's profile is built (from a row, not four dicts at import): every value as the
    rules in radio/limits.py give it, for each radio and the 4 s LoRa class."""
    arib = {"cs_us": 5000, "pause_ms": 50, "hour_budget_ms": 360000, "reserve_ms": 36000, "channel": None}
    one = dict(arib, day_messages=0, reserve_msgs=0, repeats=1, backoff_ms=100, alarm_backoff_ms=10)
    assert budget.profile_for("lora") == dict(one, name="lora-arib-lbt", radio="lora", max_tx_us=400000)
    assert budget.profile_for("wisun") == dict(one, name="wisun-arib", radio="wisun", max_tx_us=400000)
    assert budget.profile_for("lora", 30, True) == dict(one, name="lora-arib-lbt-4s", radio="lora",
                                                        max_tx_us=4000000, channel=30)
    assert budget.profile_for("lora", long_emissions=True)["max_tx_us"] == 4000000  # channel 37 by default
    assert budget.profile_for("sigfox") == dict(arib, name="sigfox-rc3", radio="sigfox", max_tx_us=4000000,
                                                day_messages=140, reserve_msgs=10, repeats=3, repeat_gap_ms=2000,
                                                day_downlinks=4, backoff_ms=500, alarm_backoff_ms=50)
    p = budget.profile_for("lora")
    p["max_tx_us"] = 1
    assert budget.profile_for("lora")["max_tx_us"] == 400000  # each call a fresh dict


def test_the_state_record_sizes_written_as_constants_match_their_formats():
    """STATE_SIZE and the ring formats are literals (const() on the board): they must stay the
    sizes struct computes from the head format and the ring lengths."""
    import struct

    head = struct.calcsize(budget._HEAD)
    assert head == budget._HEAD_SIZE
    assert struct.calcsize(budget._MIN_FMT) == 8 * 62 and struct.calcsize(budget._HOUR_FMT) == 4 * 25
    assert struct.calcsize(budget._DL_FMT) == 25
    assert budget.STATE_SIZE == head + 8 * 62 + 4 * 25 + 25 + 4 == 677

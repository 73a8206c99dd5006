"""The test helpers' own assumptions: the frames they make are real, configs get their defaults."""

from support.gateway import KEYS, frame, make_config


def test_frames_are_real_and_distinct():
    a, b = frame("0a1b2c3d", 1), frame("0a1b2c3d", 2)
    assert a != b and a[0] >> 6 == 1
    assert frame("55667788", 3, radio="sigfox") and len(frame("55667788", 3, radio="sigfox")) <= 12


def test_make_config_fills_defaults(tmp_path):
    cfg = make_config(tmp_path)
    assert cfg["mqtt"]["qos"] == 1 and cfg["queue"]["max_frames"] == 100000
    assert [d["id"] for d in cfg["devices"]] == sorted(KEYS)

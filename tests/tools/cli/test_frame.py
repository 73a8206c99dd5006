"""`lpwa frame encode|decode|cddl|examples` and `lpwa bench codec --json` from the command line."""

import io
import json
import sys

import pytest

from lpwa.tools.cli import main

KEY = "000102030405060708090a0b0c0d0e0f"
BUOY = {"water_temp_c": 18.25, "wave_height_m": 1.25, "lat_deg": 35.123456, "lon_deg": 139.654321, "battery_v": 3.7}


def run(capsys, argv, stdin=None, monkeypatch=None):
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    rc = main(argv)
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_encode_then_decode_hex_argument(capsys):
    rc, out, _ = run(capsys, ["frame", "encode", "--kind", "buoy", "--radio", "wisun", "--counter", "5",
                              "--json", json.dumps(BUOY)])
    assert rc == 0
    hexes = out.split()
    assert len(hexes) == 1
    rc, out, _ = run(capsys, ["frame", "decode", hexes[0], "--key", KEY])
    assert rc == 0
    d = json.loads(out)
    assert d["counter"] == 5 and d["readings"]["water_temp_c"] == {"value": 18.25, "unit": "degC"}


def test_sigfox_compact_and_stdin_replay_jsonl(capsys, monkeypatch, tmp_path):
    rc, out, _ = run(capsys, ["frame", "encode", "--kind", "buoy", "--radio", "sigfox", "--json", json.dumps(BUOY)])
    compact = out.strip()
    assert rc == 0 and len(bytes.fromhex(compact)) <= 12
    rc, out, _ = run(capsys, ["frame", "encode", "--kind", "pedometer", "--radio", "lora", "--sf", "10",
                              "--counter", "9", "--json", '{"steps": 12, "steps_total": 99999, "battery_v": 3.3}'])
    frags = out.split()
    lines = [json.dumps({"radio": "sigfox", "time": 1.0, "hex": compact, "meta": {"device": "0a1b2c3d", "seq": 4}})]
    lines += [json.dumps({"radio": "lora", "time": 2.0, "hex": h, "meta": {"rssi": -90}}) for h in frags]
    lines += ["zz", "41000a1b2c3d0001"]
    keys = tmp_path / "keys.toml"
    keys.write_text('[devices.0a1b2c3d]\nkey = "%s"\n' % KEY)
    rc, out, _ = run(capsys, ["frame", "decode", "-", "--keys", str(keys)], "\n".join(lines) + "\n", monkeypatch)
    docs = [json.loads(line) for line in out.splitlines()]
    assert rc == 1  # some lines were bad
    assert docs[0]["counter"] == 4 and docs[0]["kind"] == "buoy"
    assert docs[1]["kind"] == "pedometer" and docs[1]["readings"]["steps"]["value"] == 12
    assert [d.get("error") for d in docs[2:]] == ["bad-input", "truncated"]
    assert KEY not in out


def test_encode_errors(capsys):
    rc, _, err = run(capsys, ["frame", "encode", "--kind", "buoy", "--json", '{"water_temp_c": 99}'])
    assert rc == 1 and "out-of-range" in err
    rc, _, err = run(capsys, ["frame", "encode", "--kind", "whale", "--json", "{}"])
    assert rc == 1 and "unknown-kind" in err
    with pytest.raises(SystemExit):
        main(["frame", "encode", "--kind", "buoy", "--json", "[1"])


def test_decode_wrong_key_reports_bad_mic_without_the_key(capsys):
    rc, out, _ = run(capsys, ["frame", "encode", "--kind", "buoy", "--radio", "wisun", "--json", json.dumps(BUOY)])
    other = "ff" * 16
    rc, out, _ = run(capsys, ["frame", "decode", out.strip(), "--key", other])
    assert rc == 1 and json.loads(out)["error"] == "bad-mic" and other not in out


def test_bench_codec_json_shape(capsys):
    rc, out, _ = run(capsys, ["bench", "codec", "--json", "--no-mpy", "--repeat", "20"])
    assert rc == 0
    res = json.loads(out)
    assert set(res["kinds"]) == {"buoy", "drone-vital", "pedometer"}
    for row in res["kinds"].values():
        for k in ("ours_bytes", "lpp_bytes", "senml_bytes", "json_bytes"):
            assert isinstance(row[k], int) and row[k] > 0
        assert row["ours_compact_bytes"] <= 12
    assert "mpy_heap_bytes_per_encode" in res


@pytest.mark.parametrize("content", [None, "bad = [", "devices = 3", "[devices.0a1b2c3d]\nkey = \"zz\"\n",
                                     b'a = "\xff"\n'])
def test_decode_with_an_unreadable_or_bad_keys_file_is_a_one_line_error(capsys, tmp_path, content):
    path = tmp_path / "keys.toml"
    if isinstance(content, bytes):  # not UTF-8: tomllib raises UnicodeDecodeError, not TOMLDecodeError
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    with pytest.raises(SystemExit) as e:
        main(["frame", "decode", "41000a1b2c3d000081190721b7373574", "--keys", str(path)])
    msg = str(e.value.code)
    assert msg.startswith("lpwa frame:") and "\n" not in msg
    assert str(path) in msg or "32 hex" in msg

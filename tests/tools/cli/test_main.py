"""The `lpwa` command line: help, version, and one-line errors with exit status 2."""

import subprocess
import sys

import pytest

from lpwa.tools import __version__
from lpwa.tools.cli import COMMANDS, main


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "lpwa.tools.cli", *args], capture_output=True, text=True, timeout=60)


def test_help_lists_every_command():
    r = run_cli("--help")
    assert r.returncode == 0
    for name in COMMANDS:
        assert name in r.stdout


def test_version():
    r = run_cli("--version")
    assert r.returncode == 0 and __version__ in r.stdout


@pytest.mark.parametrize("args", [["no-such-command"], ["--no-such-flag"], ["airtime", "--no-such-flag"]])
def test_bad_usage_exits_2_with_one_line(args):
    r = run_cli(*args)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lpwa") and "error" in lines[0]


def test_no_command_prints_help_and_exits_2(capsys):
    assert main([]) == 2
    assert "usage" in capsys.readouterr().out


def test_a_closed_pipe_is_not_a_traceback():
    """`lpwa frame decode - < many-frames | head -1` must not print a BrokenPipeError traceback."""
    p = subprocess.Popen([sys.executable, "-m", "lpwa.tools.cli", "frame", "decode", "-"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdin.write(b"0102\n" * 10000)  # fits the pipe buffer: no deadlock
    p.stdin.close()
    p.stdout.readline()
    p.stdout.close()
    err = p.stderr.read().decode()
    p.wait(timeout=60)
    assert "Traceback" not in err


@pytest.mark.parametrize("args", [["bench", "codec", "--no-mpy", "--repeat", "0"],
                                  ["bench", "codec", "--no-mpy", "--repeat", "-5"]])
def test_bench_sizes_below_one_are_usage_errors(args):
    """`lpwa bench codec --repeat 0` was a ZeroDivisionError traceback; -5 printed negative times."""
    r = run_cli(*args)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    (line,) = r.stderr.strip().splitlines()
    assert line.startswith("lpwa bench codec: error: argument --repeat: must be at least 1")

"""One error family: every reason raised in the codecs and the gateway decoder is in the table."""

import ast
import os

import pytest

from lpwa.codecs.errors import FrameError
from lpwa.codecs.reasons import REASONS

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _sources():
    codecs = os.path.join(ROOT, "codecs")
    paths = [os.path.join(codecs, n) for n in sorted(os.listdir(codecs)) if n.endswith(".py")]
    return paths + [os.path.join(ROOT, "gateway", "frames.py")]


def _raised_reasons(path):
    """Every string literal in the first argument of a FrameError(...) call in the file."""
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "FrameError" and node.args:
            for sub in ast.walk(node.args[0]):
                if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
                    out.add(sub.value)
    return out


def test_every_raised_reason_is_in_the_table():
    seen = {}
    for path in _sources():
        for reason in _raised_reasons(path):
            seen.setdefault(reason, []).append(os.path.relpath(path, ROOT))
    unknown = {r: p for r, p in seen.items() if r not in REASONS}
    assert not unknown, "reasons missing from reasons.REASONS: %r" % unknown
    # the scan really sees the raises: all but none of the table's reasons are raised somewhere
    assert set(seen) == set(REASONS)


def test_reason_and_detail():
    e = FrameError("bad-mic", "device 0a1b2c3d")
    assert isinstance(e, ValueError) and e.reason == "bad-mic" and str(e) == "bad-mic: device 0a1b2c3d"
    assert str(FrameError("truncated")) == "truncated"


@pytest.mark.parametrize("reason", sorted(REASONS))
def test_every_reason_has_a_meaning(reason):
    assert REASONS[reason] and "\n" not in REASONS[reason]

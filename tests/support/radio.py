"""The recorded radio corpus (tests/data/radio/*.jsonl), one JSON object a line."""

import json
import os

DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "radio")


def corpus(name):
    with open(os.path.join(DATA, name)) as f:
        return [json.loads(line) for line in f if line.strip()]

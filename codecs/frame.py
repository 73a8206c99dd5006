"""The frame codec in one import, for the gateway and host tools (a thin facade).

The codec lives in one module per job: errors (FrameError), reasons (the reason table), header
(layout, constants), keys (MIC/CTR keys), readings (units <-> stored integers), full (LoRa/Wi-SUN
frames) and full_decode (their receiving side), compact (Sigfox), fragment (fragments, reassembly), encoder (the per-radio factory the firmware
uses), decoder (routes on version and frame type). Boards import those directly, not this.
See FRAMES.md and frame.cddl.
"""

from lpwa.codecs.compact import CompactEncoder, decode_compact, requantise as _requantise  # noqa: F401
from lpwa.codecs.decoder import ROUTES, decode  # noqa: F401
from lpwa.codecs.encoder import new_encoder
from lpwa.codecs.errors import FrameError  # noqa: F401
from lpwa.codecs.reasons import REASONS  # noqa: F401
from lpwa.codecs.fragment import Reassembler, fragment  # noqa: F401
from lpwa.codecs.full import FullEncoder  # noqa: F401
from lpwa.codecs.full_decode import counter_candidates, open_frame  # noqa: F401
from lpwa.codecs.header import *  # noqa: F401,F403
from lpwa.codecs.header import device_hex, mic_equal, parse_header, write_b0  # noqa: F401
from lpwa.codecs.keys import Keys, write_ctr_block  # noqa: F401
from lpwa.codecs.readings import readings_from_body  # noqa: F401
from lpwa.radio.limits import max_payload  # noqa: F401

FrameEncoder = new_encoder  # FrameEncoder(kind, device, key, radio=...): the radio's encoder

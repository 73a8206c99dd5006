"""The schema is split so a node loads its own kind's table only; the gateway's view is unchanged."""

import subprocess
import sys

from lpwa.codecs import schema, schema_base


def test_kind_schema_is_the_gateways_table_for_every_kind():
    for kind in schema.KIND_NAMES:
        s = schema_base.kind_schema(kind)
        assert s is schema.KINDS[kind]
        assert schema.KIND_BY_ID[s["id"]] == kind and schema.KIND_NAMES.index(kind) + 1 == s["id"]
    assert sorted(schema.KINDS) == sorted(schema.KIND_NAMES)
    assert schema.KINDS["buoy"]["fields"] is schema.BUOY_FIELDS
    assert schema.KINDS["drone-vital"]["compact"] is schema.DRONE_VITAL_COMPACT
    assert schema.KINDS["pedometer"]["fields"] is schema.PEDOMETER_FIELDS


def test_an_unknown_kind_has_no_schema():
    for kind in ("boat", "", None, 1, "drone_vital", "schema"):
        assert schema_base.kind_schema(kind) is None


def test_compact_layouts_name_fields_of_their_kind():
    for kind in schema.KIND_NAMES:
        s = schema.KINDS[kind]
        for entry in s["compact"]:
            assert schema.field_index(s["fields"], entry[0]) >= 0, (kind, entry)
            if len(entry) > 5:
                assert schema.field_index(s["fields"], entry[5]) >= 0, (kind, entry)
    for entry in schema.STATUS_COMPACT:
        assert schema.field_index(schema.STATUS_FIELDS, entry[0]) >= 0


def test_a_node_imports_only_its_own_kinds_table():
    """Encoding a pedometer reading and a status frame over each radio never imports the buoy's or
    the drone-vital's schema, nor the gateway's gathering module."""
    code = ("import sys\n"
            "from lpwa.codecs import encoder\n"
            "for radio in ('lora', 'sigfox', 'wisun'):\n"
            "    enc = encoder.new_encoder('pedometer', 0x01020304, bytes(16), radio=radio)\n"
            "    assert enc.encode(7, {'steps': 10, 'steps_total': 100, 'interval_start': 1764000000,"
            " 'battery_v': 3.7, 'interval_s': 900})\n"
            "    assert enc.encode_status(8, {'battery_v': 3.7, 'firmware': '1.2.3', 'reset_reason': 'power-on',"
            " 'uptime_s': 60, 'fault_flags': 0})\n"
            "print(sorted(m for m in sys.modules if m.startswith('lpwa.codecs.schema')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["['lpwa.codecs.schema_base',", "'lpwa.codecs.schema_pedometer']"]

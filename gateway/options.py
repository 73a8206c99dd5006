"""Declarative config rows (esphome's config_validation style): one row per key says its type, its
default, its help and its check, and parsing, the README's reference table and the example config
are all rendered from the rows (chirpstack-mqtt-forwarder renders its config template the same way).

`Row(type, default, help, check=None)`: the first three fields are what source modules' OPTIONS
tuples always were, so `spec[1]` is still the default everywhere. `default=None` means required.
`check(value)` returns None when the value is fine, else the rest of the one-line error after
"<section>.<key>: " (never the value: it may be a secret).
"""

import collections
import json

Row = collections.namedtuple("Row", "type default help check")
Row.__new__.__defaults__ = (None,)

_TYPE_WORDS = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}


class ConfigError(ValueError):
    """A bad or unknown configuration key; the message starts with the dotted key name."""


def as_row(spec):
    """A Row from a Row or an old (type, default, help) tuple."""
    return spec if isinstance(spec, Row) else Row(*spec)


# -- checks ----------------------------------------------------------------------------------------

def one_of(*values):
    words = [str(v) for v in values]
    text = "must be " + (", ".join(words[:-1]) + " or " + words[-1] if len(words) > 1 else words[0])
    return lambda v: None if v in values else text


def at_least(low):
    return lambda v: None if v >= low else "must be at least %d" % low


def between(low, high, unit=""):
    text = "must be %s..%s%s" % (low, high, " " + unit if unit else "")
    return lambda v: None if low <= v <= high else text


def max_utf8(limit, what):
    return lambda v: None if len(v.encode("utf-8", "replace")) <= limit else what


def raises(parse):
    """A check from a parser that raises ConfigError("<name>: <problem>")."""
    def check(v):
        try:
            parse(v)
        except ConfigError as e:
            return str(e).split(": ", 1)[-1]
        return None
    return check


# -- parsing -----------------------------------------------------------------------------------------

def typed(name, value, kind):
    if kind is bool:
        ok = isinstance(value, bool)
    elif kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    else:
        ok = isinstance(value, kind)
    if not ok:
        raise ConfigError("%s: must be %s" % (name, _TYPE_WORDS.get(kind, kind.__name__)))
    return value


def section(name, given, rows):
    """Validate one table against its rows -> the table with every default filled in."""
    if not isinstance(given, dict):
        raise ConfigError("%s: must be a table" % name)
    for key in given:
        if key not in rows:
            raise ConfigError("%s.%s: unknown key" % (name, key))
    out = {}
    for key, spec in rows.items():
        row = as_row(spec)
        dotted = "%s.%s" % (name, key)
        if key not in given:
            if row.default is None:
                raise ConfigError("%s: required" % dotted)
            out[key] = row.default
            continue
        out[key] = value = typed(dotted, given[key], row.type)
        problem = row.check(value) if row.check is not None else None
        if problem:
            raise ConfigError("%s: %s" % (dotted, problem))
    return out


# -- rendering ---------------------------------------------------------------------------------------

def toml_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a TOML basic string for what configs hold
    return repr(value)


def _default_text(row):
    if row.default is None:
        return "required"
    if row.default == "":
        return "empty"
    return "`%s`" % toml_value(row.default).strip('"')


def reference_rows(tables):
    """Markdown table rows for [(heading, rows)] (heading: "mqtt", "[[devices]]", "sources.udp")."""
    out = ["| key | type | default | meaning |", "|---|---|---|---|"]
    for heading, rows in tables:
        for key, spec in rows.items():
            row = as_row(spec)
            out.append("| `%s.%s` | %s | %s | %s |" % (heading, key, row.type.__name__, _default_text(row),
                                                     row.help.replace("|", "\\|")))
    return out


def toml_lines(header, rows, values, width=31):
    """`header` then `key = value  # help` for each key in `values` (in row order)."""
    out = [header]
    for key, spec in rows.items():
        if key not in values:
            continue
        text = "%s = %s" % (key, toml_value(values[key]))
        out.append("%-*s # %s" % (width - 1, text, as_row(spec).help) if len(text) < width - 1
                   else "%s  # %s" % (text, as_row(spec).help))
    return out

"""The one TOML reader of the project (gateway config, consent file, node.toml, key files).

TOML is UTF-8 only: tomllib raises UnicodeDecodeError, not TOMLDecodeError, on a stray byte, and
both must become the same one-line error rather than a traceback.
"""

try:
    import tomllib
except ImportError:  # Python < 3.11 (pyproject pulls tomli in there)
    import tomli as tomllib


class TomlFileError(ValueError):
    """`str()` is "<path>: cannot read (why)" or "<path>: not valid TOML (why)"; `path`, `unreadable`
    and `detail` let a caller word it its own way."""

    def __init__(self, path, unreadable, detail):
        self.path = path
        self.unreadable = unreadable
        self.detail = detail
        super().__init__("%s: %s (%s)" % (path, "cannot read" if unreadable else "not valid TOML", detail))


def load(path):
    """The TOML document at `path` as a dict; TomlFileError for a missing, unreadable or bad file."""
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except OSError as e:
        raise TomlFileError(path, True, e.strerror or e)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise TomlFileError(path, False, e)

"""The CBOR errors and item types that codecs/cbor.py (encode) and cbor_decode.py share."""


class CBORError(ValueError):
    """Base class: a value that cannot be encoded, or bytes that are not well-formed CBOR."""


class CBOREncodeError(CBORError):
    """A value the deterministic encoder cannot write, or a buffer that is too small."""


class CBORDecodeError(CBORError):
    """Truncated or malformed CBOR."""


class Tag:
    """A tagged value: Tag(1, 1363896240) is an epoch time."""

    def __init__(self, tag, value):
        self.tag = tag
        self.value = value

    def __eq__(self, other):
        return isinstance(other, Tag) and self.tag == other.tag and self.value == other.value

    def __hash__(self):  # a map key may be tagged (RFC 8949 3.1); __eq__ alone made it unhashable
        return hash((self.tag, self.value))

    def __repr__(self):
        return "Tag(%d, %r)" % (self.tag, self.value)


class Simple:
    """A simple value other than false/true/null (e.g. undefined is Simple(23))."""

    def __init__(self, value):
        self.value = value

    def __eq__(self, other):
        return isinstance(other, Simple) and self.value == other.value

    def __hash__(self):
        return hash(("simple", self.value))

    def __repr__(self):
        return "Simple(%d)" % self.value


UNDEFINED = Simple(23)
_MAX_DEPTH = 32

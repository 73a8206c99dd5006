"""The demo's one error type: a failed step, told to the user in one line."""


class DemoError(Exception):
    """A demo step failed; the message is what the user sees."""

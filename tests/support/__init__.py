"""Test support: brokers, pseudo-terminals, fakes, subscribers and waits, shared by the suite.

Helpers, not tests: nothing here is collected."""

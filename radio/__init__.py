"""Airtime, regional limits, duty-cycle budget and module line protocols (portable core)."""

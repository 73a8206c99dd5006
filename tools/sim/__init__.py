"""Documented physical models that generate sensor traces with known ground truth.

Used when recorded datasets (`../shared/datasets/`) are absent: every trace is seeded and
deterministic, uses only the standard library, and carries its truth next to its samples.
See `firmware/algorithms/README.md` for the model equations and parameters.
"""

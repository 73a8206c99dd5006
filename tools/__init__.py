"""lpwa.tools: what people run on a host: the `lpwa` command line (`cli/`), benchmarks (`bench/`),
simulated worlds for nodes (`sim/`), the real-MicroPython harness (`mpy/`) and the demo (`demo/`).

`lpwa` itself is a namespace package with no folder; every top-level folder is `lpwa.<folder>`.
"""

__version__ = "0.1.0"

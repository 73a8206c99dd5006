"""On-node sensor algorithms: streaming, fixed RAM, integer hot paths, identical results under
MicroPython and CPython. See README.md in this folder for the methods and measured results."""

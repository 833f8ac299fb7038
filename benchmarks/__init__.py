"""Runnable benchmarks: ``python -m benchmarks NAME [options]`` (``python -m benchmarks`` lists).

Each benchmark measures a comparison within one run (a ratio, or figures at several
sizes) and prints machine information with the figures, since the machines are shared
and absolute timings vary between runs.
"""

"""Test bench parts that need no hardware: a virtual card for vpcd and a pcscd supervisor.

They live in the package (not in tests/) because ``make demo`` and the benchmarks use them too.
Nothing here imports pyscard at module level.
"""

"""The load runs of ``scripts/load.py``, one module per workload."""

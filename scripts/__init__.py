"""Tools around toytls: benchmarks, load runs, the record fuzzer.

A package, so the scripts import each other and ``loadruns`` without
touching ``sys.path``. Run them from the project's root as modules::

    python -m scripts.bench
    python -m scripts.budget
    python -m scripts.load
    python -m scripts.fuzz_records --smoke 20000

``bench.py`` and ``fuzz_records.py`` import nothing beside them, so
``python scripts/bench.py`` works as well.
"""

"""Trials per hour of the random search with 1 and with 2 CPU workers
(:mod:`kfkd.search.benchmark`)::

    python experiments/benchmark_search.py [--trials 6] [--limit N] [--space tiny]
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from kfkd.search.benchmark import main  # noqa: E402

if __name__ == "__main__":
    main()

"""Trials per hour of the random search with 1 and with 2 CPU workers.

Both runs use the same fixed-work trials (the ``tiny`` space: 2 epochs each,
no time budget) on the same faces, so the ratio is the speed-up from running
trials as parallel jobs (1 worker gets both cores' BLAS threads, 2 workers one
each)::

    python experiments/benchmark_search.py [--trials 6] [--limit N] [--space tiny]
"""
import argparse
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from kfkd import search  # noqa: E402
from kfkd.data import resolve_data_dir  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--trials", type=int, default=6)
    p.add_argument("--limit", type=int, default=None,
                   help="use only the first N faces (default: all)")
    p.add_argument("--space", default="tiny")
    p.add_argument("--data-dir")
    args = p.parse_args(argv)
    space = search.load_space(args.space)
    resolve_data_dir(args.data_dir)  # one clear line if the data is missing
    rates = {}
    with tempfile.TemporaryDirectory() as out:
        for workers in (1, 2):
            rates[workers] = search.trials_per_hour(
                space, args.trials, ["cpu"] * workers, out, args.data_dir,
                args.limit)
            print("%d worker(s): %6.1f trials/hour" % (workers, rates[workers]),
                  flush=True)
    print("speed-up with 2 workers: %.2fx (space %s, %d trials, %s faces)"
          % (rates[2] / rates[1], space.name, args.trials,
             args.limit or "all"))


if __name__ == "__main__":
    main()

"""Trials per hour of the random search with 1 and with 2 CPU workers.

Both runs use the same trials (the ``tiny`` space: 2 epochs each, or 1 for a
trial pruned at its rung; no time budget) on the same faces, so the ratio is
the speed-up from running trials as parallel jobs (1 worker gets both cores'
BLAS threads, 2 workers one each); which trials are pruned may differ
between the runs, as trials finish in another order.  ``python experiments/benchmark_search.py [--trials 6] [--limit N]
[--space tiny]`` runs :func:`main`.
"""
import argparse
import os
import tempfile
import time

from ..data import resolve_data_dir
from .driver import Driver
from .space import load_space

__all__ = ["trials_per_hour", "main"]


def trials_per_hour(space, n_trials, devices, out_dir, data_dir=None,
                    limit=None, minutes=None, seed=0):
    """Run a fresh study of ``n_trials`` on ``devices``; its trials per hour.

    Wall-clock time of the whole search (worker start-up and Theano compile
    included), so it measures what a user waits for.

    Returns
    -------
    float
    """
    name = "bench-%d-%s" % (len(devices), os.getpid())
    started = time.time()
    Driver(space, name, n_trials, devices, out_dir, None, data_dir, limit,
           minutes, seed, verbose=False).run()
    return n_trials / ((time.time() - started) / 3600.0)


def build_parser():
    """The benchmark's command line."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--trials", type=int, default=6)
    p.add_argument("--limit", type=int, default=None,
                   help="use only the first N faces (default: all)")
    p.add_argument("--space", default="tiny")
    p.add_argument("--data-dir")
    return p


def main(argv=None):
    """Print trials per hour with 1 and 2 CPU workers and the speed-up.

    Returns
    -------
    dict
        ``{workers: trials per hour}``.
    """
    args = build_parser().parse_args(argv)
    space = load_space(args.space)
    resolve_data_dir(args.data_dir)  # one clear line if the data is missing
    rates = {}
    with tempfile.TemporaryDirectory() as out:
        for workers in (1, 2):
            rates[workers] = trials_per_hour(
                space, args.trials, ["cpu"] * workers, out, args.data_dir,
                args.limit)
            print("%d worker(s): %6.1f trials/hour" % (workers, rates[workers]),
                  flush=True)
    print("speed-up with 2 workers: %.2fx (space %s, %d trials, %s faces)"
          % (rates[2] / rates[1], space.name, args.trials,
             args.limit or "all"))
    return rates

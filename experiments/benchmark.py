"""Speed of each net: compile time, training and inference throughput.

    python experiments/benchmark.py [--nets net1,net2,net6,breeze]
        [--batches 3] [--batch-size 128] [--data-dir D]

Per net (default hyperparameters), on real faces of training.csv and in one
run (:func:`kfkd.benchmark.benchmark`): parameter count, seconds to compile
the training and prediction functions, training throughput (images/s of
forward + backward + Nesterov update, batch 128, over ``--batches``
mini-batches after one warm-up), that throughput as a ratio to net6's in the
same run (``x ref``), median batch-1 latency (ms) and batch-256 inference
throughput (images/s).  Prints the 1-minute load average before and after:
the figures depend on what else the machine runs.
"""
import argparse
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from kfkd import benchmark  # noqa: E402
from kfkd.data import find_file, load_training  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nets", default="net1,net2,net6,breeze",
                        help="comma-separated nets (net6, the reference, is "
                        "always measured)")
    parser.add_argument("--batches", type=int, default=3,
                        help="timed mini-batches per measurement")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--data-dir", help="default: $KFKD_DATA_DIR")
    args = parser.parse_args(argv)

    faces = load_training(find_file("training.csv", args.data_dir),
                          verbose=False).subset(slice(0, 512))
    print("load average (1 min) at start: %.2f on %d cores"
          % (os.getloadavg()[0], os.cpu_count()))
    print("%d real faces; training batch %d, %d timed batches after 1 "
          "warm-up\n" % (len(faces), args.batch_size, args.batches))
    rows = benchmark.benchmark(
        args.nets.split(","), faces, reference="net6",
        batches=args.batches, batch_size=args.batch_size,
        progress=lambda r: print("  measured %s (%.0f s to compile)"
                                 % (r["net"], r["compile_s"]), flush=True))
    print()
    print(benchmark.format_table(rows))
    print("\nx ref: training throughput / net6's in this run")
    print("load average (1 min) at end: %.2f" % os.getloadavg()[0])


if __name__ == "__main__":
    main()

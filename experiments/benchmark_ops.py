"""Forward + backward time of kfkd's C ops against the stock ops.

Every max-pool, dropout and batch-norm layer of each net, batch 128, float32:
    python experiments/benchmark_ops.py [--nets breeze net6] [--repeat 10]
Prints ms per call (best wall, mean CPU of ``--repeat``) and speedups.
"""
import argparse

from kfkd.ops.speed import compare


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nets", nargs="+", default=["breeze", "net6"])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args(argv)
    compare(args.nets, args.batch, args.repeat)


if __name__ == "__main__":
    main()

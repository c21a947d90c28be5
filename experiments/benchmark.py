"""Speed of each net: compile time, training and inference throughput.

    python experiments/benchmark.py [--nets net1,net2,net6,breeze]
        [--batches 3] [--batch-size 128] [--data-dir D]
        [--peer torch] [--threads N] [--profile]

The same as ``kfkd benchmark`` (:func:`kfkd.benchmark.run` says what is
measured and printed; ``--peer torch`` adds each net's PyTorch twin,
:mod:`kfkd.peer`).
"""
import os
import sys

# Runnable from a checkout without ``pip install -e .``.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from kfkd.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["benchmark"] + sys.argv[1:]))

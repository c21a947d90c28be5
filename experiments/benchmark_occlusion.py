"""Seconds per occlusion heat map, and the edge energy each censor adds per
unit of detail removed, at scale 1 and at matched strength.

    python experiments/benchmark_occlusion.py [--model M] [--data-dir D]
        [--faces 2] [--patch 12] [--stride 2] [--batch-size 256]
        [--energy-faces 32] [--energy-stride 4] [--skip-timing]

The same as ``kfkd benchmark-occlusion ARGS``
(:mod:`kfkd.occlusion.benchmark`).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

from kfkd.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["benchmark-occlusion"] + sys.argv[1:]))

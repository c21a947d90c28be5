"""What subnormal floats in Adam's accumulators cost a training step.

    OMP_NUM_THREADS=1 python experiments/benchmark_denormals.py [--net net6]
        [--engine stock] [--steps 10] [--batch-size 32] [--data-dir D]

The same as ``kfkd benchmark-subnormals``
(:func:`kfkd.benchmark.run_subnormals`): Adam steps of the net (its initial
weights, real faces) timed with every optimiser accumulator at zero and at
the smallest float32 subnormal, without and with subnormals flushed to zero
(kfkd.denormals); seconds per step and the slowdown.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

from kfkd.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["benchmark-subnormals"] + sys.argv[1:]))

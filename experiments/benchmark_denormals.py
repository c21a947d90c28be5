"""What subnormal floats in Adam's accumulators cost a training step.

    OMP_NUM_THREADS=1 python experiments/benchmark_denormals.py [--net net6]
        [--engine stock] [--steps 10] [--batch-size 32] [--data-dir D]

Times Adam steps of the net (its initial weights, real faces) with every
optimiser accumulator at zero and at the smallest float32 subnormal, without
and with subnormals flushed to zero (kfkd.denormals), and prints seconds per
step and the slowdown (kfkd.benchmark.run_subnormals).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

from kfkd.benchmark import subnormals_main  # noqa: E402

if __name__ == "__main__":
    sys.exit(subnormals_main())

"""Breeze, stock vs fused batch norm, ``[steps]`` calls: train (batch 128)
and infer (256, BN folded or not) on real faces, img per wall s / CPU s
(:func:`kfkd.timing.batch_norm_rates`)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from kfkd import data  # noqa: E402
from kfkd.compat import theano  # noqa: E402
from kfkd.timing import batch_norm_rates  # noqa: E402

if __name__ == "__main__":
    faces = data.load_training(data.find_file("training.csv"), verbose=False)
    print("openmp=%s OMP_NUM_THREADS=%s load %.2f" % (theano.config.openmp,
          os.environ.get("OMP_NUM_THREADS"), os.getloadavg()[0]))
    steps = int((sys.argv + [4])[1])
    for fused in (False, True):  # kfkd's pool and dropout, either batch norm
        print("fused" if fused else "stock",
              batch_norm_rates(faces, steps, fused))

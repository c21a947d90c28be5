"""Batch norm forward + backward, stock BatchNormLayer against the fused ops:
``python experiments/benchmark_bnorm.py [repeats]``.  Breeze's batch-norm
inputs at batch 128: output and gradients w.r.t. input, gamma and beta;
CPU and wall ms per call (median of ``repeats``), CPU-time speedup.
"""
import os, sys, time  # noqa: E401
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from kfkd import compat, layers  # noqa: E402
import numpy as np, theano, theano.tensor as T  # noqa: E401,E402
from lasagne.layers import InputLayer, get_output  # noqa: E402

SHAPES = [(128, 16, 96, 96), (128, 32, 48, 48), (128, 64, 24, 24),
          (128, 128, 12, 12), (128, 256)]  # kfkd.nets.breeze's defaults


def per_call(kind, x, repeats):
    norm = kind(InputLayer((None,) + x.shape[1:]))
    out, var = get_output(norm), norm.input_layer.input_var
    fn = theano.function([var], T.grad((out * out).sum(),
                                       [var, norm.gamma, norm.beta]))
    times = np.zeros((repeats, 2))
    fn(x)  # warm-up
    for k in range(repeats):
        c, w = time.process_time(), time.perf_counter()
        fn(x)
        times[k] = time.process_time() - c, time.perf_counter() - w
    return 1e3 * np.median(times, axis=0)


if __name__ == "__main__":
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    print("openmp=%s OMP_NUM_THREADS=%s load %.2f\n%-19s %s" % (
        compat.theano.config.openmp, os.environ.get("OMP_NUM_THREADS"),
        os.getloadavg()[0], "shape", "stock cpu/wall ms  fused cpu/wall ms"))
    for shape in SHAPES:
        x = np.random.RandomState(0).rand(*shape).astype("float32")
        s, f = (per_call(k, x, repeats) for k in (layers.BatchNormLayer,
                                                  layers.FusedBatchNormLayer))
        print("%-19s %8.1f %8.1f %9.1f %8.1f  x%.2f CPU" % (
            shape, *s, *f, s[0] / f[0]))

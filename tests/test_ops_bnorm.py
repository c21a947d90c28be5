"""The fused batch-norm ops (kfkd.ops.bnorm), FusedBatchNormLayer and
fold_batch_norm: gradients by finite differences, agreement with the stock
BatchNormLayer and with the unfolded net on real faces."""
import os
import subprocess
import sys

import numpy as np
import pytest

from kfkd import compat  # noqa: F401  (configures Theano first)

import lasagne
import theano
import theano.tensor as T
from lasagne.layers import (Conv2DLayer, DenseLayer, InputLayer, get_all_layers,
                            get_output)

from kfkd import layers
from kfkd.ops.bnorm import batch_norm_train

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _inputs(shape, seed=0):
    rng = np.random.RandomState(seed)
    return [rng.randn(*shape) * 2 + 1, rng.rand(shape[1]) + 0.5,
            rng.randn(shape[1])], rng


@pytest.mark.parametrize("shape", [(4, 3, 2, 3), (5, 4)])
def test_verify_grad_of_output(shape):
    """d y / d (x, gamma, beta), float64, against finite differences."""
    values, rng = _inputs(shape)
    theano.gradient.verify_grad(
        lambda x, g, b: batch_norm_train(x, g, b, 1e-4)[0], values, rng=rng)


def test_verify_grad_of_statistics():
    """The batch mean and inv_std outputs are differentiable too (their
    symbolic derivative; run by the Python linker, no C to compile)."""
    values, rng = _inputs((4, 3, 2, 3), seed=1)
    theano.gradient.verify_grad(
        lambda x, g, b: T.concatenate(batch_norm_train(x, g, b, 1e-4)[1:]),
        values, rng=rng, mode="FAST_COMPILE")


def test_bad_input_is_refused():
    with pytest.raises(TypeError, match="float32 or float64 tensor"):
        batch_norm_train(T.vector(), T.vector(), T.vector())


# -- agreement with the stock layer on real faces (float32) -----------------
def _conv_features(faces, channels=4, seed=1):
    """``(N, channels, 96, 96)`` float32: random 3x3 filters ('same'
    padding) applied to real faces, the input a batch norm sees in breeze."""
    rng = np.random.RandomState(seed)
    filters = rng.randn(channels, 3, 3).astype("float32")
    padded = np.pad(faces[:, 0], ((0, 0), (1, 1), (1, 1)))
    rows, cols = faces.shape[2:]
    return np.stack([sum(w[i, j] * padded[:, i:i + rows, j:j + cols]
                         for i in range(3) for j in range(3))
                     for w in filters], axis=1)


def _train_step(features, normalise):
    """Output and gradients of a batch norm of ``features``, and its
    running averages after one training call."""
    rng = np.random.RandomState(2)
    channels = features.shape[1]
    inp = InputLayer((None,) + features.shape[1:])
    norm = normalise(inp, gamma=(rng.rand(channels) + 0.5).astype("float32"),
                     beta=rng.randn(channels).astype("float32"))
    out = get_output(norm)
    weights = rng.randn(*features.shape).astype("float32")
    grads = T.grad((out * weights).sum(),
                   [inp.input_var, norm.gamma, norm.beta])
    values = theano.function([inp.input_var], [out] + grads)(features)
    return values + [norm.mean.get_value(), norm.inv_std.get_value()]


@pytest.fixture(scope="module")
def stock_and_fused(training_data):
    features = _conv_features(training_data.images[:8])
    return (_train_step(features, layers.BatchNormLayer),
            _train_step(features, layers.FusedBatchNormLayer))


@pytest.mark.parametrize("k, what", enumerate([
    "output", "d input", "d gamma", "d beta",
    "running mean", "running inv_std"]))
def test_fused_layer_matches_stock(stock_and_fused, k, what):
    stock, fused = stock_and_fused[0][k], stock_and_fused[1][k]
    assert fused.dtype == stock.dtype == np.float32
    scale = np.abs(stock).max()
    assert scale > 0, what
    np.testing.assert_allclose(fused, stock, rtol=1e-5, atol=1e-5 * scale,
                               err_msg=what)


def test_fused_layer_has_the_stock_parameters():
    inp = InputLayer((None, 16, 12, 12))
    stock, fused = layers.BatchNormLayer(inp), layers.FusedBatchNormLayer(inp)

    def described(layer):
        return [(p.name, p.get_value().shape, sorted(tags))
                for p, tags in layer.params.items()]
    assert described(fused) == described(stock)


# -- folding into the layer below ----------------------------------------------
def test_fold_removes_every_batch_norm_of_the_reference(reference_net):
    norms = [l for l in get_all_layers(reference_net.layer)
             if isinstance(l, layers.BatchNormLayer)]
    # one per convolution (and dense layer) of the shipped net
    assert len(norms) == sum(isinstance(l, (Conv2DLayer, DenseLayer))
                             for l in get_all_layers(reference_net.layer)
                             if l.name != "output" and l.name != "heatmaps")
    assert norms
    folded = layers.fold_batch_norm(reference_net.layer)
    assert not any(isinstance(l, layers.BatchNormLayer)
                   for l in get_all_layers(folded))
    assert (lasagne.layers.get_all_params(folded)
            == lasagne.layers.get_all_params(reference_net.layer))


def test_fold_keeps_what_cannot_fold():
    inp = InputLayer((None, 3, 8, 8))
    norm = layers.BatchNormLayer(inp)  # nothing below to fold into
    assert layers.fold_batch_norm(norm) is norm


def test_folded_reference_predicts_as_before(reference_net, training_data):
    """The shipped model, folded, predicts 64 real faces to 1e-4 px."""
    net = reference_net.layer
    x = get_all_layers(net)[0].input_var
    unfolded = theano.function([x], get_output(net, deterministic=True))
    images = training_data.images[:64]
    folded = reference_net.predict_unit(images)
    assert np.abs(unfolded(images)).max() > 0.1
    np.testing.assert_allclose(folded * 48, unfolded(images) * 48, rtol=0,
                               atol=1e-4)


# -- the OpenMP build ----------------------------------------------------------
OPENMP_SCRIPT = """
from kfkd import compat
import numpy as np, theano, theano.tensor as T
from kfkd.ops.bnorm import batch_norm_train
x, w, g, b = T.tensor4(), T.tensor4(), T.vector(), T.vector()
y = batch_norm_train(T.exp(x), g, b)[0]
outs = [y] + T.grad((y * w).sum(), [x, g, b])
compiled = theano.function([x, w, g, b], outs)
python = theano.function([x, w, g, b], outs, mode="FAST_COMPILE")
rng = np.random.RandomState(0)
args = [rng.rand(3, 5, 7, 7).astype("float32"),
        rng.randn(3, 5, 7, 7).astype("float32"),
        rng.rand(5).astype("float32") + 0.5, rng.randn(5).astype("float32")]
for c, p in zip(compiled(*args), python(*args)):
    np.testing.assert_allclose(c, p, rtol=1e-5, atol=1e-5 * abs(p).max())
print(theano.config.openmp)
"""


def test_openmp_build_compiles_and_agrees():
    """With THEANO_FLAGS=openmp=True the Elemwise C (fixed by kfkd.compat)
    and the fused ops compile and agree with their Python versions."""
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS="2",
               THEANO_FLAGS="openmp=True,openmp_elemwise_minsize=10")
    result = subprocess.run([sys.executable, "-c", OPENMP_SCRIPT], env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split()[-1] == "True"

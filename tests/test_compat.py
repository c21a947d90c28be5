"""kfkd.compat: Theano configuration and every theano-pymc <-> Lasagne 0.1 shim,
checked by running them; and kfkd.layers.BatchNormLayer."""
import os
import subprocess
import sys

import numpy as np
import pytest

from kfkd import compat
from kfkd.compat import lasagne, theano

import theano.tensor as T  # noqa: E402  (after compat)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _flags(text):
    """'a=1,b=2' -> {'a': '1', 'b': '2'}."""
    return dict(item.split("=", 1) for item in text.split(",") if item)


def _run_python(code, extra_env=None):
    """Run ``code`` in a fresh interpreter with the repo importable."""
    env = dict(os.environ, PYTHONPATH=REPO)
    env.update(extra_env or {})
    return subprocess.run([sys.executable, "-c", code], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=120)


# -- shim 1: MRG_RandomStreams -------------------------------------------------
def test_mrg_random_streams_draws_a_dropout_mask():
    from theano.sandbox.rng_mrg import MRG_RandomStreams
    assert MRG_RandomStreams is theano.sandbox.rng_mrg.MRG_RandomStream
    srng = MRG_RandomStreams(seed=1234)
    mask = srng.binomial((200, 300), p=0.7, dtype=theano.config.floatX)
    draw = theano.function([], mask)
    first, second = draw(), draw()
    assert first.shape == (200, 300)
    assert first.dtype == np.float32
    assert set(np.unique(first)) == {0.0, 1.0}
    # 60000 Bernoulli(0.7) draws: the proportion is within ~8 sigma of 0.7
    assert abs(first.mean() - 0.7) < 0.015
    assert not np.array_equal(first, second)  # the stream advances


def test_lasagne_dropout_layer_uses_the_shim():
    from lasagne.layers import DropoutLayer, InputLayer, get_output
    lasagne.random.set_rng(np.random.RandomState(0))
    layer = DropoutLayer(InputLayer((100, 400)), p=0.25)
    x = T.matrix("x")
    fn = theano.function([x], get_output(layer, x))
    out = fn(np.ones((100, 400), np.float32))
    assert out.shape == (100, 400)
    # kept units are rescaled by 1 / (1 - p)
    np.testing.assert_allclose(np.unique(out), [0.0, 1 / 0.75], rtol=1e-6)
    assert abs((out == 0).mean() - 0.25) < 0.015
    det = theano.function([x], get_output(layer, x, deterministic=True))
    np.testing.assert_array_equal(det(np.ones((3, 400), np.float32)), 1.0)


# -- shim 2: downsample.max_pool_2d --------------------------------------------
def _numpy_max_pool(x, ds, st=None, padding=(0, 0), ignore_border=True):
    """Reference max-pooling of (N, C, H, W) over windows ``ds`` every ``st``.

    ``padding`` extends the borders without adding values to the max (a
    window's max is over the real pixels it covers).  With
    ``ignore_border=False`` (and ``st == ds``) a partial window at the end
    is kept.
    """
    st = ds if st is None else st
    (ph, pw), (h, w) = padding, x.shape[2:]
    padded = np.full(x.shape[:2] + (h + 2 * ph, w + 2 * pw), -np.inf)
    padded[:, :, ph:ph + h, pw:pw + w] = x
    if ignore_border:
        n_out = [(size + 2 * p - d) // s + 1 for size, p, d, s in
                 zip((h, w), padding, ds, st)]
    else:
        n_out = [-(-(size - d) // s) + 1 for size, d, s in zip((h, w), ds, st)]
    out = np.empty(x.shape[:2] + tuple(n_out))
    for i in range(n_out[0]):
        for j in range(n_out[1]):
            window = padded[:, :, i * st[0]:i * st[0] + ds[0],
                            j * st[1]:j * st[1] + ds[1]]
            out[:, :, i, j] = window.max(axis=(2, 3))
    return out


@pytest.mark.parametrize("ds, st, padding, ignore_border, shape", [
    ((2, 2), None, (0, 0), True, (2, 3, 10, 10)),
    ((2, 2), None, (0, 0), True, (2, 3, 11, 9)),     # odd sizes: border dropped
    ((2, 2), None, (0, 0), False, (2, 3, 11, 9)),    # odd sizes: partial window
    ((3, 3), (2, 2), (0, 0), True, (2, 2, 11, 12)),  # overlapping windows
    ((3, 3), (2, 2), (1, 1), True, (2, 2, 11, 12)),  # padded
    ((3, 2), (1, 2), (1, 0), True, (1, 2, 7, 8)),    # anisotropic
    ((2, 2), (3, 3), (0, 0), True, (1, 1, 10, 10)),  # stride > window
])
def test_max_pool_2d_matches_numpy(ds, st, padding, ignore_border, shape):
    from theano.tensor.signal import downsample
    x = np.random.RandomState(sum(shape)).randn(*shape).astype(np.float32)
    v = T.tensor4("x")
    pooled = downsample.max_pool_2d(v, ds=ds, ignore_border=ignore_border,
                                    st=st, padding=padding)
    got = theano.function([v], pooled)(x)
    expected = _numpy_max_pool(x, ds, st, padding, ignore_border)
    assert got.shape == expected.shape
    np.testing.assert_array_equal(got, expected.astype(np.float32))


def test_lasagne_maxpool_layer_goes_through_the_shim():
    from lasagne.layers import InputLayer, MaxPool2DLayer, get_output
    x = np.random.RandomState(3).randn(2, 4, 13, 13).astype(np.float32)
    layer = MaxPool2DLayer(InputLayer((None, 4, 13, 13)), pool_size=3,
                           stride=2, pad=1)
    v = T.tensor4("x")
    got = theano.function([v], get_output(layer, v))(x)
    assert got.shape[1:] == layer.output_shape[1:]
    np.testing.assert_array_equal(
        got, _numpy_max_pool(x, (3, 3), (2, 2), (1, 1)).astype(np.float32))


# -- shim 3: theano.gof --------------------------------------------------------
def test_gof_names_are_theano_graph_basic():
    import theano.gof
    import theano.graph.basic
    for name in ("Variable", "Constant", "Apply", "Node"):
        assert getattr(theano.gof, name) is getattr(theano.graph.basic, name)


def test_as_theano_expression_on_variable_and_array():
    from lasagne.utils import as_theano_expression
    v = T.matrix("v")
    assert as_theano_expression(v) is v
    array = np.arange(6, dtype=np.float32).reshape(2, 3)
    expr = as_theano_expression(array)
    assert isinstance(expr, theano.graph.basic.Variable)
    np.testing.assert_array_equal(expr.eval(), array)
    with pytest.raises(TypeError):
        as_theano_expression(object())


# -- shim 4: pkg_resources -----------------------------------------------------
def test_lasagne_version():
    assert lasagne.__version__ == "0.1"


def test_lasagne_imports_without_pkg_resources():
    # setuptools >= 82 has no pkg_resources: make it unimportable and check
    # that the shim (not a real pkg_resources) serves Lasagne's version.
    result = _run_python(
        "import sys\n"
        "sys.modules['pkg_resources'] = None\n"
        "from kfkd import compat\n"
        "import lasagne, pkg_resources\n"
        "print(lasagne.__version__)\n"
        "print(pkg_resources.__doc__)\n")
    assert result.returncode == 0, result.stderr
    version, doc = result.stdout.splitlines()[:2]
    assert version == "0.1"
    assert doc.startswith("kfkd shim")


# -- Theano configuration ------------------------------------------------------
def test_theano_flags_defaults(monkeypatch):
    monkeypatch.setenv("KFKD_THEANO_CACHE", "/tmp/kfkd-test-cache")
    flags = _flags(compat.theano_flags({}))
    assert flags["floatX"] == "float32"
    assert flags["allow_gc"] == "False"
    assert flags["openmp"] == "False"
    assert flags["device"] == "cpu"
    assert flags["base_compiledir"] == "/tmp/kfkd-test-cache"
    assert flags["blas__ldflags"] == compat.blas_ldflags()


def test_default_compiledir(monkeypatch):
    monkeypatch.delenv("KFKD_THEANO_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", "/tmp/xdg")
    assert compat.default_compiledir() == os.path.join("/tmp/xdg", "kfkd",
                                                       "theano")


@pytest.mark.parametrize("spelling", ["blas.ldflags", "blas__ldflags"])
def test_user_theano_flags_win(spelling):
    user = "floatX=float64,%s=-lmyblas -lm,optimizer=fast_compile" % spelling
    flags = _flags(compat.theano_flags({"THEANO_FLAGS": user}))
    assert flags["floatX"] == "float64"
    assert flags["blas__ldflags"] == "-lmyblas -lm"
    assert "blas.ldflags" not in flags  # one key, not two conflicting ones
    assert flags["optimizer"] == "fast_compile"
    assert flags["allow_gc"] == "False"  # untouched defaults stay


def test_theano_is_configured_after_import():
    assert theano.config.floatX == "float32"
    assert theano.config.allow_gc is False
    assert theano.config.openmp is False
    assert theano.config.device == "cpu"


def test_user_flag_wins_in_a_fresh_process():
    result = _run_python(
        "from kfkd import compat\n"
        "print(compat.theano.config.allow_gc, compat.theano.config.floatX)\n",
        {"THEANO_FLAGS": "allow_gc=True"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "float32"]


def test_check_device():
    compat.check_device("cpu")
    problem = compat.gpu_problem("cuda0")
    if problem is None:
        pytest.skip("this machine has a GPU Theano can activate")
    with pytest.raises(compat.DeviceUnavailableError, match="cuda0.*missing"):
        compat.check_device("cuda0")
    with pytest.raises(compat.DeviceUnavailableError, match="cuda.*missing"):
        compat.check_device("cuda")


# -- kfkd.layers.BatchNormLayer ------------------------------------------------
def _bn_input():
    """(32, 3, 6, 6) float32 with channel means 5, -2, 0 and scales 3, .5, 1."""
    rng = np.random.RandomState(7)
    x = rng.randn(32, 3, 6, 6)
    x = x * np.array([3.0, 0.5, 1.0])[:, None, None] + \
        np.array([5.0, -2.0, 0.0])[:, None, None]
    return x.astype(np.float32)


def test_batch_norm_training_mode_normalises_and_updates_running_averages():
    from lasagne.layers import InputLayer, get_output
    from kfkd.layers import BatchNormLayer
    layer = BatchNormLayer(InputLayer((None, 3, 6, 6)), alpha=0.1)
    v = T.tensor4("x")
    fn = theano.function([v], get_output(layer, v, deterministic=False))
    x = _bn_input()
    out = fn(x)
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0, atol=1e-4)
    np.testing.assert_allclose(out.std(axis=(0, 2, 3)), 1, atol=1e-3)
    # running averages moved from (0, 1) by alpha towards the batch statistics
    mean = x.astype(np.float64).mean(axis=(0, 2, 3))
    inv_std = 1 / np.sqrt(x.astype(np.float64).var(axis=(0, 2, 3)) + 1e-4)
    np.testing.assert_allclose(layer.mean.get_value(), 0.1 * mean, rtol=1e-4)
    np.testing.assert_allclose(layer.inv_std.get_value(), 0.9 + 0.1 * inv_std,
                               rtol=1e-4)
    fn(x)  # a second call moves them again
    np.testing.assert_allclose(layer.mean.get_value(), 0.19 * mean, rtol=1e-4)
    # mean and inv_std are neither trained nor regularised
    assert set(layer.get_params(trainable=True)) == {layer.beta, layer.gamma}
    assert layer.get_params(regularizable=True) == []


def test_batch_norm_deterministic_mode_uses_running_averages():
    from lasagne.layers import InputLayer, get_output
    from kfkd.layers import BatchNormLayer
    layer = BatchNormLayer(InputLayer((None, 3, 6, 6)))
    running_mean = np.array([1.0, -2.0, 0.5], np.float32)
    running_inv_std = np.array([0.5, 2.0, 1.0], np.float32)
    gamma = np.array([2.0, 1.0, 0.5], np.float32)
    beta = np.array([0.0, 1.0, -1.0], np.float32)
    layer.mean.set_value(running_mean)
    layer.inv_std.set_value(running_inv_std)
    layer.gamma.set_value(gamma)
    layer.beta.set_value(beta)
    v = T.tensor4("x")
    fn = theano.function([v], get_output(layer, v, deterministic=True))
    x = _bn_input()
    shape = (1, 3, 1, 1)
    expected = ((x - running_mean.reshape(shape))
                * (gamma * running_inv_std).reshape(shape)
                + beta.reshape(shape))
    np.testing.assert_allclose(fn(x), expected, rtol=1e-5, atol=1e-5)
    # inference leaves the running averages alone
    np.testing.assert_array_equal(layer.mean.get_value(), running_mean)
    np.testing.assert_array_equal(layer.inv_std.get_value(), running_inv_std)


def test_batch_norm_helper_moves_bias_and_nonlinearity():
    from lasagne.layers import DenseLayer, InputLayer, NonlinearityLayer
    from lasagne.nonlinearities import identity, rectify
    from kfkd.layers import BatchNormLayer, batch_norm
    dense = DenseLayer(InputLayer((None, 5)), 4, nonlinearity=rectify,
                       name="d")
    top = batch_norm(dense)
    assert isinstance(top, NonlinearityLayer) and top.nonlinearity is rectify
    assert isinstance(top.input_layer, BatchNormLayer)
    assert dense.b is None and dense.nonlinearity is identity
    assert set(lasagne.layers.get_all_params(top, regularizable=True)) == \
        {dense.W}

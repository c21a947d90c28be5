"""kfkd.ops.pool: arg-max max-pooling against Theano's pool_2d, on real faces.

Compiled functions are shared per module; verify_grad runs on tiny float64
inputs.
"""
import numpy as np
import pytest

from kfkd import compat  # noqa: F401
import lasagne
import theano
import theano.tensor as T
from theano.tensor.signal.pool import Pool, pool_2d

from kfkd.layers import ArgmaxPool2DLayer
from kfkd.ops.pool import ArgmaxPool, ArgmaxUnpool, argmax_pool_2d

#: (ws, stride, pad, ignore_border): the nets' 2x2 and the other variants
#: MaxPool2DLayer allows (partial windows, overlap, padding, gaps).
GEOMETRIES = [((2, 2), None, (0, 0), True), ((2, 2), None, (0, 0), False),
              ((3, 3), (2, 2), (1, 1), True), ((3, 2), (1, 2), (0, 0), False),
              ((2, 2), (3, 3), (0, 0), False)]


def _grad_pair(x, stock, custom, w):
    """d(sum(out * w))/dx through both poolings."""
    return [T.grad((out * w).sum(), x) for out in (stock, custom)]


@pytest.fixture(scope="module")
def faces(training_data):
    """8 real faces, (8, 1, 96, 96) float32 in [0, 1]."""
    return training_data.images[:8]


def _first_max_scatter(x, g):
    """numpy reference of the 2x2 arg-max pooling of ``x (N, C, H, W)``:
    (pooled, gradient scattering ``g`` to each window's first maximum,
    mask of the windows whose maximum is unique)."""
    n, c, h, w = x.shape
    win = x.reshape(n, c, h // 2, 2, w // 2, 2).transpose(0, 1, 2, 4, 3, 5)
    win = win.reshape(n, c, h // 2, w // 2, 4)
    best = win.max(-1)
    expect = np.zeros_like(win)
    np.put_along_axis(expect, np.argmax(win, -1)[..., None], g[..., None], -1)
    expect = expect.reshape(n, c, h // 2, w // 2, 2, 2)
    expect = expect.transpose(0, 1, 2, 4, 3, 5).reshape(x.shape)
    return best, expect, (win == best[..., None]).sum(-1) == 1


@pytest.fixture(scope="module")
def pool_fn():
    """float32 ``(x, g) -> (stock, custom, stock grad, custom grad)`` of a
    2x2 max-pool, ``g`` the output gradient."""
    x, g = T.tensor4("x"), T.tensor4("g")
    stock = pool_2d(x, (2, 2), ignore_border=True, mode="max")
    custom = argmax_pool_2d(x, (2, 2))
    return theano.function([x, g], [stock, custom]
                           + _grad_pair(x, stock, custom, g))


def _conv_relu(faces, filters=32, seed=0):
    """numpy: a random 3x3 valid convolution (bias 0.1) of ``faces``,
    rectified -> (N, filters, 94, 94) float32, as net6's conv1."""
    rng = np.random.RandomState(seed)
    w = rng.randn(filters, 3, 3).astype("float32") / 3
    patches = np.lib.stride_tricks.sliding_window_view(faces[:, 0], (3, 3),
                                                       axis=(1, 2))
    return np.maximum(np.einsum("nhwij,fij->nfhw", patches, w) + 0.1, 0)


@pytest.mark.parametrize("activations", [False, True])
def test_real_faces_pool_and_backprop_as_stock(faces, pool_fn, activations):
    """Raw faces (8-bit: many tied windows) and rectified convolutions of
    them (ties only where the face is flat or black): the values match
    pool_2d; the gradient matches MaxPoolGrad wherever a window's maximum
    is unique and goes to the first maximum where it is tied (MaxPoolGrad
    gives it to every tied input)."""
    x = _conv_relu(faces) if activations else faces
    n, c, h, w = x.shape
    g = np.random.RandomState(2).rand(n, c, h // 2, w // 2).astype("float32")
    stock, custom, g_stock, g_custom = pool_fn(x, g)
    best, expect, unique = _first_max_scatter(x, g)
    assert custom.dtype == np.float32 and custom.shape == best.shape
    np.testing.assert_allclose(custom, stock, rtol=1e-5, atol=0)
    np.testing.assert_array_equal(custom, best)
    np.testing.assert_allclose(g_custom, expect, rtol=1e-5, atol=0)
    won = np.repeat(np.repeat(unique, 2, 2), 2, 3)
    assert won.mean() > 0.5  # most windows have one maximum
    np.testing.assert_allclose(g_custom[won], g_stock[won], rtol=1e-5, atol=0)


@pytest.fixture(scope="module")
def geometry_fn():
    """float64 ``(x, *g) -> [stock, custom, custom.shape, stock grad, custom
    grad] per GEOMETRIES pooling``, ``g`` its output gradient."""
    x, outs, grads = T.tensor4("x", dtype="float64"), [], []
    for ws, stride, pad, ignore_border in GEOMETRIES:
        stock = pool_2d(x, ws, ignore_border, stride, pad, mode="max")
        custom = argmax_pool_2d(x, ws, stride, pad, ignore_border)
        grads.append(T.tensor4(dtype="float64"))
        outs += [stock, custom, custom.shape,
                 T.Lop(stock, x, grads[-1]), T.Lop(custom, x, grads[-1])]
    return theano.function([x] + grads, outs)


def test_every_geometry_matches_pool_2d(geometry_fn):
    rng = np.random.RandomState(3)
    x = rng.randn(3, 2, 7, 9)
    shapes = [Pool.out_shape(x.shape, ws, ignore_border, stride, pad)
              for ws, stride, pad, ignore_border in GEOMETRIES]
    out = geometry_fn(x, *(rng.randn(*shape) for shape in shapes))
    for k, geometry in enumerate(GEOMETRIES):
        stock, custom, shape, g_stock, g_custom = out[5 * k:5 * k + 5]
        assert custom.dtype == np.float64, geometry
        assert custom.shape == stock.shape == tuple(shape), geometry
        np.testing.assert_array_equal(custom, stock, err_msg=str(geometry))
        np.testing.assert_allclose(g_custom, g_stock, rtol=1e-12, atol=1e-12,
                                   err_msg=str(geometry))


@pytest.mark.parametrize("geometry", GEOMETRIES[::2])
def test_verify_grad_of_pool(geometry):
    rng = np.random.RandomState(4)
    theano.gradient.verify_grad(lambda v: argmax_pool_2d(v, *geometry),
                                [rng.randn(1, 2, 5, 6)], rng=rng)


def test_verify_grad_of_the_gradient():
    """ArgmaxUnpool is linear in gz; its gradient gathers at the arg-max."""
    rng = np.random.RandomState(5)
    x = rng.randn(1, 2, 6, 6)
    z, argmax = theano.function([], ArgmaxPool((2, 2))(x))()
    unpool = ArgmaxUnpool((2, 2))
    theano.gradient.verify_grad(
        lambda gz: unpool(T.constant(x), T.constant(argmax), gz),
        [rng.randn(*z.shape)], rng=rng)


def test_layer_is_a_drop_in_for_maxpool2dlayer():
    for kwargs in (dict(pool_size=2), dict(pool_size=3, stride=2, pad=1),
                   dict(pool_size=2, ignore_border=False)):
        stock = lasagne.layers.MaxPool2DLayer((None, 32, 47, 47), **kwargs)
        custom = ArgmaxPool2DLayer((None, 32, 47, 47), **kwargs)
        assert custom.output_shape == stock.output_shape
        assert custom.get_params() == []
        assert isinstance(custom, lasagne.layers.MaxPool2DLayer)


@pytest.mark.parametrize("kwargs, error", [
    (dict(ws=(2, 2), pad=(2, 0)), ValueError),
    (dict(ws=(2, 2), pad=(1, 1), ignore_border=False), ValueError),
    (dict(ws=(2, 0)), ValueError), (dict(ws=(2, 2, 2)), ValueError)])
def test_bad_geometry_is_refused(kwargs, error):
    with pytest.raises(error):
        ArgmaxPool(**kwargs)


def test_bad_inputs_are_refused():
    with pytest.raises(TypeError, match="4D float32 or float64"):
        ArgmaxPool((2, 2))(T.matrix())
    with pytest.raises(TypeError, match="4D float32 or float64"):
        ArgmaxPool((2, 2))(T.itensor4())
    with pytest.raises(TypeError, match="int32"):
        ArgmaxUnpool((2, 2))(T.tensor4(), T.tensor4(), T.tensor4())
    x, gz = T.tensor4(), T.tensor4()
    bad = theano.function([x, gz], ArgmaxUnpool((2, 2))(
        x, T.constant(np.full((1, 1, 1, 1), 9, "int32")), gz))
    with pytest.raises(IndexError, match="outside its window"):
        bad(np.zeros((1, 1, 2, 2), "float32"),
            np.ones((1, 1, 1, 1), "float32"))


def test_engines_compute_the_same_net(faces, reference_net):
    """The shipped reference net built with the stock and the custom engine
    (:data:`kfkd.nets.ENGINES`): the same parameters load into both and the
    deterministic outputs agree on real faces (different compiled
    functions: a tolerance, not equality)."""
    from kfkd import nets
    from kfkd.layers import BatchNormLayer, FusedBatchNormLayer
    norm = {"stock": BatchNormLayer, "custom": FusedBatchNormLayer}
    values = lasagne.layers.get_all_param_values(reference_net.layer)
    x = T.tensor4("x")
    outputs = []
    for engine in ("stock", "custom"):
        layer = nets.build(reference_net.net, engine=engine,
                           **reference_net.net_params)
        kinds = {type(l) for l in lasagne.layers.get_all_layers(layer)}
        classes = nets.ENGINES[engine]
        assert {classes["pool"], classes["dropout"], norm[engine]} <= kinds
        lasagne.layers.set_all_param_values(layer, values)
        out = lasagne.layers.get_output(layer, x, deterministic=True)
        outputs.append(theano.function([x], out)(faces))
    np.testing.assert_allclose(outputs[0], outputs[1], atol=1e-5)
    assert np.abs(outputs[0]).max() > 0.1     # a real prediction, not zeros

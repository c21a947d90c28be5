"""kfkd.ops.dropout: the Philox4x32-10 fused dropout, on real faces.

Compiled functions are shared per module; verify_grad runs on a tiny
float64 input.
"""
import numpy as np
import pytest

from kfkd import compat  # noqa: F401
import lasagne
import theano
import theano.tensor as T

from kfkd.layers import PhiloxDropoutLayer
from kfkd.ops.dropout import (PhiloxDropout, dropout_mask, keep_threshold,
                              philox4x32)

SEED = 123456789012  # wider than 32 bits: both key words matter


@pytest.fixture(scope="module")
def faces(training_data):
    """8 real faces, (8, 1, 96, 96) float32 in [0, 1]."""
    return training_data.images[:8]


@pytest.fixture(scope="module")
def drop_fn():
    """float32 ``(x, g, step) -> (y, dy/dx applied to g)``, p = 0.3."""
    x, g, step = T.tensor4("x"), T.tensor4("g"), T.lscalar("step")
    y = PhiloxDropout(0.3, SEED)(x, step)
    return theano.function([x, g, step], [y, T.Lop(y, x, g)])


def test_philox_reference_gives_random123_known_answers():
    """Philox4x32-10 known-answer vectors (Random123's kat_vectors)."""
    cases = [((0, 0, 0, 0), (0, 0),
              (0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8)),
             ((0xffffffff,) * 4, (0xffffffff,) * 2,
              (0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd)),
             ((0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344),
              (0xa4093822, 0x299f31d0),
              (0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1))]
    counters = np.array([c for c, _, _ in cases], dtype=np.uint32)
    for k, (_, key, expect) in enumerate(cases):
        assert philox4x32(counters, key)[k].tolist() == list(expect)


def test_real_faces_are_masked_and_rescaled_as_the_reference(faces,
                                                             drop_fn):
    g = np.random.RandomState(0).rand(*faces.shape).astype("float32")
    y, grad = drop_fn(faces, g, 5)
    mask = dropout_mask(faces.shape, 0.3, SEED, 5)
    assert y.dtype == np.float32 and y.shape == faces.shape
    np.testing.assert_allclose(y, faces * mask / np.float32(0.7), rtol=1e-6)
    np.testing.assert_allclose(grad, g * mask / np.float32(0.7), rtol=1e-6)


def _within_binomial(kept, n, keep, sigmas=5):
    return abs(kept - n * keep) < sigmas * np.sqrt(n * keep * (1 - keep))


def test_kept_fraction_is_binomial_overall_per_lane_and_per_step(drop_fn):
    ones = np.ones((16, 1, 96, 96), "float32")
    for step in (0, 1, 2 ** 40):
        kept = drop_fn(ones, ones, step)[0] > 0
        assert _within_binomial(kept.sum(), kept.size, 0.7), step
        lanes = kept.reshape(-1, 4)  # the 4 words of each Philox block
        for lane in range(4):
            assert _within_binomial(lanes[:, lane].sum(), len(lanes), 0.7)


def test_masks_repeat_for_a_seed_and_step_and_change_with_either(faces,
                                                                 drop_fn):
    x, g, step = T.tensor4("x"), T.tensor4("g"), T.lscalar("step")
    again = theano.function([x, step], PhiloxDropout(0.3, SEED)(x, step))
    other = theano.function([x, step], PhiloxDropout(0.3, SEED + 1)(x, step))
    ones = np.ones_like(faces)
    first = drop_fn(ones, ones, 5)[0] > 0
    np.testing.assert_array_equal(again(ones, 5) > 0, first)
    n, agree = first.size, 0.3 ** 2 + 0.7 ** 2  # independent masks' match
    for changed in (drop_fn(ones, ones, 6)[0] > 0, other(ones, 5) > 0):
        assert _within_binomial((changed == first).sum(), n, agree)


def test_verify_grad_float64():
    rng = np.random.RandomState(1)
    op = PhiloxDropout(0.5, SEED)
    theano.gradient.verify_grad(lambda v: op(v, np.int64(3)),
                                [rng.randn(2, 3, 5)], rng=rng)


def test_layer_draws_its_seed_as_dropoutlayer_and_steps_per_training_call():
    lasagne.random.set_rng(np.random.RandomState(7))
    lasagne.layers.DropoutLayer((None, 4), p=0.5)
    after_stock = lasagne.random.get_rng().randint(2 ** 30)
    lasagne.random.set_rng(np.random.RandomState(7))
    layer = PhiloxDropoutLayer((None, 4), p=0.5)
    assert lasagne.random.get_rng().randint(2 ** 30) == after_stock
    x = T.matrix("x")
    assert layer.get_output_for(x, deterministic=True) is x
    w = theano.shared(np.ones(4, "float32"))
    loss = T.sum(layer.get_output_for(x) * w)
    train = theano.function([x], loss, updates=lasagne.updates.sgd(
        loss, [w], 0.0))  # the trainer's updates; the step is not in them
    ones = np.ones((64, 4), "float32")
    losses = [train(ones) for _ in range(3)]
    assert int(layer.step.get_value()) == 3
    for step, loss in enumerate(losses):
        mask = dropout_mask(ones.shape, 0.5, layer.seed, step)
        np.testing.assert_allclose(loss, 2 * mask.sum(), rtol=1e-6)


@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5])
def test_bad_p_is_refused(p):
    with pytest.raises(ValueError, match="must be in"):
        PhiloxDropout(p, 1)
    with pytest.raises(ValueError, match="must be in"):
        PhiloxDropoutLayer((None, 4), p=p)


def test_bad_inputs_are_refused():
    assert keep_threshold(0.0) == 2 ** 32  # p = 0 keeps every element
    with pytest.raises(ValueError, match="seed"):
        PhiloxDropout(0.5, -1)
    with pytest.raises(TypeError, match="float32 or float64"):
        PhiloxDropout(0.5, 1)(T.imatrix(), np.int64(0))
    with pytest.raises(TypeError, match="int64 scalar"):
        PhiloxDropout(0.5, 1)(T.matrix(), T.ivector())

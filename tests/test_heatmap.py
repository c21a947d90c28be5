"""The heatmap net and its soft-argmax read-out (kfkd.layers.SoftArgmaxLayer):
the read-out against a NumPy reference, the net's shapes, sizes and start,
batch-norm folding and the warm start of a specialist.  No data; two small
compiled functions.  (Training on real faces: tests/test_train.py; the
PyTorch twin: tests/test_peer.py.)"""
import numpy as np
import pytest

from kfkd import compat  # noqa: F401  (configures Theano first)

import lasagne  # noqa: E402
import theano  # noqa: E402
import theano.tensor as T  # noqa: E402

from kfkd import nets  # noqa: E402
from kfkd.errors import UsageError  # noqa: E402
from kfkd.keypoints import KAGGLE_COLUMNS, KeypointSchema  # noqa: E402
from kfkd.layers import SoftArgmaxLayer, fold_batch_norm  # noqa: E402
from kfkd.model import Model  # noqa: E402
from kfkd.objective import init_output_bias, warm_start  # noqa: E402

floatX = theano.config.floatX

#: A score grid that is not square (a swapped x and y would show).
K, H, W = 3, 6, 8


def centres_px(n):
    """Centres of ``n`` equal cells across the 96 px frame, in pixels."""
    return (np.arange(n) + 0.5) * 96.0 / n


def soft_argmax_px(scores):
    """NumPy reference, float64: scores (N, K, H, W) -> maps, and the
    expected cell centres (N, 2K) ``x_0, y_0, ...`` in pixels."""
    n, k, h, w = scores.shape
    weights = np.exp(scores - scores.max(axis=(2, 3), keepdims=True))
    maps = weights / weights.sum(axis=(2, 3), keepdims=True)
    out = np.empty((n, 2 * k))
    out[:, 0::2] = (maps * centres_px(w)).sum(axis=(2, 3))
    out[:, 1::2] = (maps * centres_px(h)[:, None]).sum(axis=(2, 3))
    return maps, out


def px(unit):
    return 48.0 * np.asarray(unit, np.float64) + 48.0


@pytest.fixture(scope="module")
def soft_argmax():
    """``fn(scores, g) -> (output, maps, d sum(output * g) / d scores)``."""
    scores, g = T.tensor4("scores"), T.matrix("g")
    layer = SoftArgmaxLayer((None, K, H, W))
    out = layer.get_output_for(scores)
    return theano.function([scores, g], [out, layer.get_maps_for(scores),
                                         T.grad((out * g).sum(), scores)])


def run(fn, scores):
    scores = np.asarray(scores, floatX)
    return fn(scores, np.zeros((len(scores), 2 * K), floatX))


def test_soft_argmax_matches_numpy(soft_argmax):
    rng = np.random.RandomState(0)
    scores = rng.normal(0, 3, (4, K, H, W))
    g = rng.normal(0, 1, (4, 2 * K))
    out, maps, grad = soft_argmax(scores.astype(floatX), g.astype(floatX))
    want_maps, want = soft_argmax_px(scores.astype(floatX).astype(float))
    assert out.shape == (4, 2 * K)
    np.testing.assert_allclose(maps, want_maps, rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(maps.sum(axis=(2, 3)), 1, atol=1e-5)
    np.testing.assert_allclose(px(out), want, rtol=0, atol=1e-3)
    # d x_k / d s_kij = p_kij (c_j - x_k): the max's subtraction adds nothing
    unit = (want - 48) / 48
    cx, cy = (centres_px(W) - 48) / 48, (centres_px(H)[:, None] - 48) / 48
    gx, gy = g[:, 0::2, None, None], g[:, 1::2, None, None]
    want_grad = want_maps * (
        gx * (cx - unit[:, 0::2, None, None])
        + gy * (cy - unit[:, 1::2, None, None]))
    np.testing.assert_allclose(grad, want_grad, rtol=0, atol=1e-5)


def test_a_peaked_map_gives_its_cells_centre(soft_argmax):
    # channel k peaks at a different cell each (the corners and one
    # inside), on top of scores large enough to overflow a naive exp
    cells = [(0, 0), (H - 1, W - 1), (2, 5)]
    scores = np.full((1, K, H, W), 1e4)
    for k, (i, j) in enumerate(cells):
        scores[0, k, i, j] += 60
    out = px(run(soft_argmax, scores)[0][0])
    want = np.ravel([(centres_px(W)[j], centres_px(H)[i]) for i, j in cells])
    np.testing.assert_allclose(out, want, rtol=0, atol=1e-3)
    assert want[:2].tolist() == [6.0, 8.0]  # cell (0, 0): 12 x 16 px


def test_a_uniform_map_gives_the_frame_centre(soft_argmax):
    out, maps, _ = run(soft_argmax, np.full((2, K, H, W), 7.5))
    np.testing.assert_allclose(out, 0, atol=1e-6)
    np.testing.assert_allclose(maps, 1.0 / (H * W), rtol=1e-5)


def test_mirrored_scores_mirror_the_keypoints(soft_argmax):
    """x -> 96 - x (unit x -> -x) under kfkd's flip, y unchanged."""
    scores = np.random.RandomState(1).normal(0, 2, (3, K, H, W))
    out = run(soft_argmax, scores)[0]
    mirrored = run(soft_argmax, scores[..., ::-1])[0]
    np.testing.assert_allclose(mirrored[:, 0::2], -out[:, 0::2], atol=1e-6)
    np.testing.assert_allclose(mirrored[:, 1::2], out[:, 1::2], atol=1e-6)


def test_soft_argmax_layer_shapes():
    layer = SoftArgmaxLayer((None, 58, 12, 12))
    assert layer.output_shape == (None, 116)
    assert layer.get_params() == []
    np.testing.assert_allclose(px(layer.grid_x), centres_px(12), atol=1e-4)
    for shape in [(None, 15, 12), (None, 15, None, 12)]:
        with pytest.raises(ValueError, match="known H and W"):
            SoftArgmaxLayer(shape)


# -- the net ------------------------------------------------------------------
def test_heatmap_layers_size_and_start():
    out = nets.build("heatmap")
    maps = out.input_layer
    assert isinstance(out, SoftArgmaxLayer) and out.name == "output"
    assert lasagne.layers.get_output_shape(out, (5, 1, 96, 96)) == (5, 30)
    assert maps.name == "heatmaps" and maps.output_shape == (None, 15, 12, 12)
    # the docstring's figures: 3x3 convs 1-12-24-48-96 and three 96-96
    # (no bias: batch norm), 4 BN values per channel, a bias-free 96 -> 15
    assert lasagne.layers.count_params(out) == (
        9 * (12 + 12 * 24 + 24 * 48 + 48 * 96 + 3 * 96 * 96)
        + 4 * (12 + 24 + 48 + 4 * 96) + 96 * 15) == 306684
    assert nets.receptive_field(maps) == (86, 8)
    macs = nets.multiply_accumulates(out)
    assert macs == 54950400
    assert 1.5 < macs / nets.multiply_accumulates(nets.build("breeze")) < 2.5
    # zero 1x1 weights: uniform maps, the frame centre; no bias to set
    assert maps.b is None and not np.any(maps.W.get_value())
    values = lasagne.layers.get_all_param_values(out)
    init_output_bias(out, np.full((2, 30), 60.0))
    for got, before in zip(lasagne.layers.get_all_param_values(out), values):
        np.testing.assert_array_equal(got, before)


def test_heatmap_sizes_and_hyperparameters():
    assert nets.build("heatmap", n_outputs=116).input_layer.output_shape == (
        None, 58, 12, 12)  # IMM's 58 points
    assert nets.build("heatmap", pools=2).input_layer.output_shape == (
        None, 15, 24, 24)
    assert nets.check_params("heatmap", {"width": 32}) == {"width": 32}
    with pytest.raises(UsageError, match="n_outputs=31 must be even"):
        nets.build("heatmap", n_outputs=31)
    with pytest.raises(UsageError, match="pools=6 must be 1-5"):
        nets.build("heatmap", pools=6)
    with pytest.raises(UsageError, match=r"dropout=1.0 must be in \[0, 1\)"):
        nets.check_params("heatmap", {"dropout": 1.0, "width": 8})


def _randomised(layer, seed=0):
    """Every parameter of ``layer``'s net set to seeded values that keep
    batch-norm inverse deviations positive."""
    rng = np.random.RandomState(seed)
    for param in lasagne.layers.get_all_params(layer):
        value = rng.uniform(0.5, 1.5, param.get_value().shape) if \
            param.name == "inv_std" else rng.normal(0, 0.5, param.get_value(
            ).shape)
        param.set_value(value.astype(floatX))
    return layer


def test_untrained_net_predicts_the_centre_and_folds_its_batch_norms():
    lasagne.random.set_rng(np.random.RandomState(0))
    net = nets.build("heatmap", width=2, pools=2, convs=1)
    x = lasagne.layers.get_all_layers(net)[0].input_var
    fn = theano.function([x], [
        lasagne.layers.get_output(layer, deterministic=True)
        for layer in (net, fold_batch_norm(net))])
    images = np.random.RandomState(0).uniform(0, 1, (3, 1, 96, 96))
    images = images.astype(floatX)
    for out in fn(images):  # zero 1x1 weights: 48 px for every keypoint
        np.testing.assert_allclose(px(out), 48.0, atol=1e-4)
    _randomised(net)
    out, folded = fn(images)
    assert np.ptp(px(out)) > 1  # not the centre any more
    np.testing.assert_allclose(folded, out, rtol=0, atol=1e-4)


def test_warm_start_of_a_specialist_takes_its_keypoints_maps():
    schema = KeypointSchema(KAGGLE_COLUMNS)
    base = Model("heatmap", {"width": 4}, schema,
                 layer=_randomised(nets.build("heatmap", width=4)))
    names = ["right_eye_center", "left_eye_center", "nose_tip"]
    group = KeypointSchema(["%s_%s" % (n, a) for n in names for a in "xy"])
    layer = nets.build("heatmap", n_outputs=6, width=4)
    assert warm_start(layer, base, group) == "all, output units of the columns"
    index = [schema.names.index(n) for n in names]
    np.testing.assert_array_equal(layer.input_layer.W.get_value(),
                                  base.layer.input_layer.W.get_value()[index])
    for got, want in zip(
            lasagne.layers.get_all_param_values(layer.input_layer.input_layer),
            lasagne.layers.get_all_param_values(
                base.layer.input_layer.input_layer)):
        np.testing.assert_array_equal(got, want)
    # other keypoints: the maps start fresh (at zero), the rest is copied
    other = nets.build("heatmap", n_outputs=2, width=4)
    assert warm_start(other, base, KeypointSchema(["chin_x", "chin_y"])) == \
        "all but output"
    assert not np.any(other.input_layer.W.get_value())
    np.testing.assert_array_equal(
        lasagne.layers.get_all_param_values(other)[0],
        lasagne.layers.get_all_param_values(base.layer)[0])

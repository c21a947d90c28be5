"""The PyTorch twins of kfkd's nets (kfkd.peer) are the same nets.

torch is not a kfkd dependency: the tests that need it are skipped, with the
reason, where it is not installed.  The command-line checks run everywhere.
"""
import importlib.util
import os
import sys

import numpy as np
import pytest

from kfkd import compat  # noqa: F401  (configures Theano first)

import lasagne  # noqa: E402
import theano  # noqa: E402

from kfkd import nets, peer  # noqa: E402
from kfkd.errors import UsageError  # noqa: E402
from kfkd.fileio import read_json  # noqa: E402
from kfkd.model import default_model_dir  # noqa: E402

needs_torch = pytest.mark.skipif(
    importlib.util.find_spec("torch") is None,
    reason="torch is not installed (not a kfkd dependency): "
    "pip install torch==%s" % peer.TORCH_VERSION)

#: Real faces each forward pass is compared on.
FACES = 4
#: Largest |kfkd - twin| allowed, in the [-1, 1] output scale (float32).
TOLERANCE = 1e-4
#: The shipped reference model's net is compared with its trained weights
#: instead (test_reference_model_twin), sharing the suite's compiled
#: function; vgglite's layers are breeze's (its twin's shapes and count are
#: checked) and compiling its five convolutions costs ~40 s cold.
REFERENCE_NET = None
for _root, _dirs, _files in os.walk(default_model_dir()):  # any kind of
    _dirs.sort()                # model folder: its first single net's name
    if "model.json" in _files:
        REFERENCE_NET = read_json(os.path.join(_root, "model.json"))["net"]
        break
FORWARD_NETS = sorted(set(nets.NETS) - {REFERENCE_NET, "vgglite"})
#: A one-block leakybn is compared forward: its layer kinds (LeakyReLU,
#: batch norm after it, dense, dropout; pools are the other nets'), fewer
#: to compile; so are a narrow, shallow heatmap (its 1x1 convolution and
#: soft-argmax read-out) and breeze.
FORWARD_PARAMS = {"leakybn": {"blocks": 1, "dense_units": 16},
                  "heatmap": {"width": 4, "pools": 2, "convs": 1},
                  "breeze": {"width": 4, "depth": 2, "dense_units": 16}}


def _twin_outputs(twin, images):
    _, predict_fn = twin.copy_weights().functions()
    return predict_fn(images)


def _randomised(name, seed=0):
    """Net ``name`` with every parameter that starts constant (biases,
    batch-norm averages, zero output weights) moved to seeded random values,
    so that every copy is checked."""
    lasagne.random.set_rng(np.random.RandomState(seed))
    layer = nets.build(name, **FORWARD_PARAMS.get(name, {}))
    rng = np.random.RandomState(seed)
    for param in lasagne.layers.get_all_params(layer):
        value = param.get_value()
        if np.all(value == value.flat[0]):
            noise = rng.uniform(-0.1, 0.1, value.shape)
            param.set_value((value + noise).astype(value.dtype))
    return layer


@needs_torch
@pytest.mark.parametrize("name", sorted(nets.NETS))
def test_twin_has_the_nets_parameter_count_and_output_shape(name):
    import torch

    layer = nets.build(name)
    twin = peer.twin(layer)
    assert twin.count_params() == lasagne.layers.count_params(layer)
    out = twin.module.eval()(torch.zeros(2, 1, 96, 96))
    assert tuple(out.shape) == (2,) + lasagne.layers.get_output_shape(
        layer)[1:]


@needs_torch
@pytest.mark.parametrize("name", FORWARD_NETS)
def test_twin_computes_the_same_outputs(name, training_data):
    layer = _randomised(name)
    input_var = lasagne.layers.get_all_layers(layer)[0].input_var
    predict = theano.function(
        [input_var], lasagne.layers.get_output(layer, deterministic=True))
    images = training_data.images[:FACES]
    expected = predict(images)
    assert np.abs(expected).max() > 0.01  # not a trivially zero output
    np.testing.assert_allclose(_twin_outputs(peer.twin(layer), images),
                               expected, rtol=0, atol=TOLERANCE)


@needs_torch
def test_reference_model_twin(reference_net, training_data):
    """The trained reference net (batch norm with learnt running
    averages)."""
    images = reference_net.preprocess(training_data.images[:FACES])
    twin = peer.twin(reference_net.layer)
    np.testing.assert_allclose(_twin_outputs(twin, images),
                               reference_net.predict_unit(images),
                               rtol=0, atol=TOLERANCE)


@needs_torch
@pytest.mark.parametrize("memory_format", sorted(peer.MEMORY_FORMATS))
def test_twin_training_step_learns(memory_format, training_data):
    """One Nesterov step on real faces lowers the loss on those faces."""
    from kfkd.objective import masked_targets

    twin = peer.twin(_randomised("net1")).copy_weights()
    train_fn, _ = twin.functions(learning_rate=0.01,
                                 memory_format=memory_format)
    faces = training_data.subset(slice(0, 32))
    targets, mask = masked_targets(faces.keypoints)
    losses = [train_fn(faces.images, targets, mask) for _ in range(3)]
    assert losses[-1] < losses[0]


@needs_torch
def test_unknown_layer_is_named():
    layer = lasagne.layers.InputLayer((None, 1, 96, 96), name="input")
    layer = lasagne.layers.FeaturePoolLayer(layer, 1, name="maxout")
    with pytest.raises(UsageError, match="maxout.*FeaturePoolLayer"):
        peer.twin(layer)


def test_peer_without_torch_is_one_line(kfkd_fails, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch fails
    kfkd_fails(["benchmark", "--nets", "net1", "--peer", "torch"],
               names=["--peer torch", "pip install torch==2.13.0"])


def test_unknown_benchmark_net_is_one_line(kfkd_fails):
    kfkd_fails(["benchmark", "--nets", "net1,nope"], names=["--nets", "nope"])

"""Fast synthetic unit tests of the training core: the layering (no Theano
below the Theano boundary), the predictor protocol and the one loader, the
weights file, the masked targets and the net output shapes.  No data."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from kfkd.errors import ModelError
from kfkd.groups import SpecialistModel, load_specialists
from kfkd.keypoints import KeypointSchema
from kfkd.predictor import ModelNotFoundError, Predictor
from kfkd.weights import read_npz_headers, read_weights, write_weights

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOSE = KeypointSchema(["nose_tip_x", "nose_tip_y"])
EYES = KeypointSchema(["left_eye_center_x", "left_eye_center_y",
                       "right_eye_center_x", "right_eye_center_y"])


@pytest.mark.parametrize("module", ["kfkd.config", "kfkd.checks",
                                    "kfkd.predictor", "kfkd.groups",
                                    "kfkd.weights", "kfkd.metrics",
                                    "kfkd.cli"])
def test_lower_layers_import_no_theano(module):
    code = ("import sys, %s; print(sorted(m for m in ('theano', 'lasagne') "
            "if m in sys.modules))" % module)
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO,
                         capture_output=True, text=True, check=True,
                         env=dict(os.environ, PYTHONPATH=REPO))
    assert out.stdout.strip() == "[]"


class Constant(Predictor):
    """A predictor of the same keypoints for every face."""

    def __init__(self, schema, value):
        self.schema, self.value = schema, np.asarray(value, np.float32)

    def predict(self, images, batch_size=256):
        return np.tile(self.value, (len(images), 1))

    def describe(self):
        return {"value": self.value.tolist()}


class Faces(object):
    """What Predictor.metrics reads of a KeypointData."""

    def __init__(self, keypoints):
        self.keypoints = np.asarray(keypoints, np.float64)
        self.images = np.zeros((len(self.keypoints), 1, 96, 96), np.float32)

    def __len__(self):
        return len(self.keypoints)


def test_predictor_metrics_by_hand():
    truth = Faces([[50., 50.], [47., np.nan]])
    metrics = Constant(NOSE, [50., 54.]).metrics(truth, extra={"x": 1})
    # errors: (0, 4) on face 1, 3 on face 2 (y unlabelled)
    assert metrics["val_rmse_px"] == pytest.approx(np.sqrt(25 / 3.))
    assert metrics["per_keypoint_rmse_px"] == {
        "nose_tip": pytest.approx(np.sqrt(25 / 3.))}
    assert metrics["lookup_rmse_px"] == pytest.approx(np.sqrt(25 / 3.))
    assert (metrics["n_faces"], metrics["x"]) == (2, 1)


def test_specialist_model_assembles_columns_and_scores():
    schema = KeypointSchema(list(EYES.columns) + list(NOSE.columns))
    model = SpecialistModel([("nose", Constant(NOSE, [48., 60.])),
                             ("eyes", Constant(EYES, [30., 40., 66., 40.]))],
                            schema)
    out = model.predict(np.zeros((3, 1, 96, 96), np.float32))
    np.testing.assert_array_equal(out[0], [30., 40., 66., 40., 48., 60.])
    metrics = model.metrics(Faces(out.astype(np.float64)))
    assert metrics["val_rmse_px"] == 0.0


def test_specialist_model_refuses_a_column_twice():
    with pytest.raises(ValueError, match="each column once"):
        SpecialistModel([("a", Constant(NOSE, [0., 0.])),
                         ("b", Constant(NOSE, [0., 0.]))], NOSE)


def _specialists_folder(tmp_path, groups):
    folder = tmp_path / "specialists"
    folder.mkdir()
    (folder / "specialists.json").write_text(json.dumps({
        "format": "kfkd-specialists/1",
        "keypoint_columns": [c for _, s in groups for c in s.columns],
        "groups": {g: {"folder": g, "keypoint_columns": list(s.columns)}
                   for g, s in groups}}))
    return str(folder)


def test_load_specialists_loads_each_group_with_the_given_loader(tmp_path):
    folder = _specialists_folder(tmp_path, [("nose", NOSE), ("eyes", EYES)])
    loaded = []

    def load_group(path):
        loaded.append(os.path.basename(path))
        return Constant(NOSE if path.endswith("nose") else EYES, [0.] * (
            2 if path.endswith("nose") else 4))

    model = load_specialists(folder, load_group)
    assert loaded == ["nose", "eyes"]
    assert model.folder == os.path.abspath(folder)
    assert list(model.schema.columns) == list(NOSE.columns) + list(
        EYES.columns)


def test_load_specialists_names_a_group_predicting_other_columns(tmp_path):
    folder = _specialists_folder(tmp_path, [("nose", NOSE)])
    with pytest.raises(ModelError, match="group 'nose'"):
        load_specialists(folder, lambda path: Constant(EYES, [0.] * 4))


def test_weights_round_trip_and_shape_check(tmp_path):
    path = str(tmp_path / "model.npz")
    values = [np.ones((3, 2), np.float32), np.zeros(2, np.float32)]
    write_weights(path, values)
    headers = read_npz_headers(path)
    assert headers["param_000"][0] == (3, 2)
    got = read_weights(path, [(3, 2), (2,)])
    for a, b in zip(got, values):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ModelError, match="param_000.*shape"):
        read_weights(path, [(2, 3), (2,)])
    with pytest.raises(ModelError, match="dtype"):
        read_weights(path, [(3, 2), (2,)], dtype="float64")


def test_model_not_found_is_a_model_error_and_file_not_found():
    assert issubclass(ModelNotFoundError, ModelError)
    assert issubclass(ModelNotFoundError, FileNotFoundError)


# -- the Theano side (imports Theano; compiles nothing) -----------------------
def test_masked_targets_and_trainer_params():
    from kfkd.config import TrainingConfig
    from kfkd.train import Trainer, masked_targets  # the Theano boundary

    targets, mask = masked_targets(np.array([[0., 48., np.nan, 96.]]))
    np.testing.assert_array_equal(targets, [[-1., 0., 0., 1.]])
    np.testing.assert_array_equal(mask, [[1., 1., 0., 1.]])
    trainer = Trainer(TrainingConfig(net="net1", batch_size=16))
    assert (trainer.net, trainer.batch_size) == ("net1", 16)
    assert trainer.get_params() == trainer.config.to_training()
    assert Trainer(net="net1").augmenter is None  # as before: none by default


@pytest.mark.parametrize("net", ["net1", "net2", "net6", "breeze", "heatmap"])
def test_net_output_shapes(net):
    import lasagne  # the Theano boundary

    from kfkd import nets

    layer = nets.build(net, n_outputs=8)
    assert lasagne.layers.get_output_shape(layer, (5, 1, 96, 96)) == (5, 8)


@pytest.mark.parametrize("net, params", [
    # 5 convs 64-128-256-512-512 (3x3, BN gamma/beta/mean/inv_std instead
    # of bias) and a 512 -> 30 output
    ("vgglite", 9 * (64 + 64 * 128 + 128 * 256 + 256 * 512 + 512 * 512)
     + 4 * (64 + 128 + 256 + 512 + 512) + 512 * 30 + 30),
    # 12 bias-free convs, 4 BN parameters per channel, 12 x 12 x 512 -> 512
    ("leakybn", 9 * (32 + 32 * 32 + 32 * 64 + 64 * 64 + 64 * 96 + 96 * 96
                     + 96 * 128 + 128 * 128 + 128 * 256 + 256 * 256
                     + 256 * 512 + 512 * 512)
     + 4 * 2 * (32 + 64 + 96 + 128 + 256 + 512)
     + 12 * 12 * 512 * 512 + 512 + 512 * 30 + 30),
])
def test_published_nets_parameter_counts_and_output_shapes(net, params):
    """The counts the write-ups' layer lists give (the docstrings' figures),
    and the output shape (test_net_output_shapes for these nets)."""
    import lasagne  # the Theano boundary

    from kfkd import nets

    layer = nets.build(net)
    assert lasagne.layers.count_params(layer) == params
    assert lasagne.layers.get_output_shape(layer, (5, 1, 96, 96)) == (5, 30)


@pytest.mark.parametrize("argv, names", [
    (["--stage", "pseudo", "--out", "x"], ["--from"]),
    (["--stage", "base", "--out", "x"], ["--config"]),
    (["--stage", "base", "--from", "m", "--out", "x"], ["--from"]),
], ids=["pseudo-without-from", "base-without-config", "base-with-from"])
def test_reference_stage_usage_errors_are_one_line(argv, names, capsys):
    from kfkd.recipe import main  # the Theano boundary (it loads models)

    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("train_reference: error: ")
    for name in names:
        assert name in err[0]

"""Warm start, pseudo-labelling and Nouri's specialists (kfkd.train,
kfkd.pseudo, kfkd.specialists), with a tiny breeze on ~480 real faces."""
import os

import numpy as np
import pytest

from kfkd import compat  # noqa: F401  (configures Theano first)

import lasagne  # noqa: E402

from kfkd.augment import Augmenter  # noqa: E402
from kfkd.data import KeypointData  # noqa: E402
from kfkd.fileio import read_json  # noqa: E402
from kfkd.keypoints import FRAME, KeypointSchema, to_unit  # noqa: E402
from kfkd.model import Model, load_model  # noqa: E402
from kfkd.pseudo import (continuation_config, pseudo_label,  # noqa: E402
                         train_pseudo)
from kfkd.groups import (FORMAT, SPECIALIST_GROUPS,  # noqa: E402
                         SpecialistModel, check_groups, group_schema,
                         select_group)
from kfkd.specialists import train_specialists  # noqa: E402
from kfkd.config import TrainingConfig  # noqa: E402
from kfkd.metrics import rmse  # noqa: E402
from kfkd.train import Trainer  # noqa: E402


def trainer_from_config(flat, verbose=True):
    """A Trainer of flat config keys."""
    return Trainer(TrainingConfig.from_flat(flat), verbose=verbose)

#: Tiny breeze, with batch norm so that its running averages (parameters
#: that are not trainable) are part of what a warm start must copy.
TINY = {"net": "breeze", "net.depth": 2, "net.width": 4,
        "net.dense_units": 16, "batch_size": 32, "learning_rate": 2e-3,
        "seed": 0}
GROUPS = dict(SPECIALIST_GROUPS)
#: Tolerance (px) between two predictions of the same weights made by
#: different calls: batch composition, BLAS build and thread count change
#: float32 summation order (seen: 7.6e-6 px).  A wrong weight, a missed
#: batch-norm average or a column mix-up moves predictions by >> 0.01 px.
PX_ATOL = 1e-4


def _values(layer):
    return lasagne.layers.get_all_param_values(layer)


@pytest.fixture(scope="module")
def faces(first_faces_split):
    """480 real faces split 384 / 96 (seed 0); ~30% fully labelled."""
    return first_faces_split(480)


@pytest.fixture(scope="module")
def base(faces):
    """The general model: the tiny breeze after one epoch."""
    train, val = faces
    config = dict(TINY, max_epochs=1, flip=True, rotation=5.0)
    return trainer_from_config(config, verbose=False).fit(train, val)


# -- warm start ---------------------------------------------------------------
def test_warm_start_copies_every_parameter_before_any_update(faces, base):
    train, val = faces
    trainer = trainer_from_config(dict(TINY, max_epochs=0, learning_rate=1.0),
                                  verbose=False)
    cold = trainer.fit(train, val)
    warm = trainer.fit(train, val, init_model=base)
    base_values = _values(base.layer)
    assert len(_values(warm.layer)) == len(base_values) > 8
    for got, want in zip(_values(warm.layer), base_values):
        np.testing.assert_array_equal(got, want)
    # not vacuous: a fresh net differs from the trained one somewhere,
    # batch-norm running averages included
    assert any(not np.array_equal(a, b)
               for a, b in zip(_values(cold.layer), base_values))
    np.testing.assert_allclose(warm.predict(val.images),
                               base.predict(val.images), rtol=0, atol=PX_ATOL)
    assert trainer.init_val_rmse_px_ == pytest.approx(
        base.metrics(val)["val_rmse_px"], rel=1e-6)
    assert warm.training["init_model"]["copied"] == "all"


def test_warm_start_of_a_specialist_takes_the_output_units_of_its_group(
        faces, base):
    train, val = faces
    schema = group_schema(GROUPS["eye_corners"])
    group_train, group_val = select_group(train, schema), select_group(val,
                                                                       schema)
    trainer = trainer_from_config(dict(TINY, max_epochs=0), verbose=False)
    model = trainer.fit(group_train, group_val, init_model=base)
    got, want = _values(model.layer), _values(base.layer)
    for a, b in zip(got[:-2], want[:-2]):
        np.testing.assert_array_equal(a, b)
    cols = [base.schema.column_index(c) for c in schema.columns]
    assert len(set(cols)) == 8 and cols != list(range(8))
    np.testing.assert_array_equal(got[-2], want[-2][:, cols])
    np.testing.assert_array_equal(got[-1], want[-1][cols])
    # the specialist starts at the base's predictions of its columns
    np.testing.assert_allclose(model.predict(group_val.images),
                               base.predict(group_val.images)[:, cols],
                               rtol=0, atol=PX_ATOL)
    assert model.training["init_model"]["copied"] == (
        "all, output units of the columns")


def test_warm_start_of_other_columns_keeps_a_fresh_output_layer(faces,
                                                                base):
    train, val = faces
    schema = group_schema(GROUPS["eye_corners"])
    renamed = KeypointSchema(["spot%d_%s" % (i, a) for i in range(4)
                              for a in "xy"])  # columns the base lacks
    group_train, group_val = (
        KeypointData(d.images, d.keypoints, renamed)
        for d in (select_group(train, schema), select_group(val, schema)))
    trainer = trainer_from_config(dict(TINY, max_epochs=0), verbose=False)
    model = trainer.fit(group_train, group_val, init_model=base)
    W, b = _values(model.layer)[-2:]
    assert W.shape == (16, 8) and not W.any()  # breeze's zero output weights
    mean_shape = np.nanmean(to_unit(group_train.keypoints), axis=0)
    np.testing.assert_allclose(b, mean_shape, rtol=1e-5)
    assert model.training["init_model"]["copied"] == "all but output"


def test_warm_start_refuses_another_net_or_exposure(faces, base):
    train, val = faces
    for config in (dict(TINY, **{"net.width": 8}),
                   dict(TINY, **{"net.dropout_dense": 0.5}),  # not a shape
                   {"net": "net1", "net.hidden": 16}):
        with pytest.raises(ValueError, match="cannot warm-start"):
            trainer_from_config(dict(config, max_epochs=0), verbose=False).fit(
                train, val, init_model=base)
    with pytest.raises(ValueError, match="exposure"):
        trainer_from_config(dict(TINY, exposure="clahe", max_epochs=0),
                            verbose=False).fit(train, val, init_model=base)


def test_config_from_training_round_trips(base):
    config = TrainingConfig.from_training(base.training)
    assert Trainer(config).get_params() == base.training
    slow = continuation_config(base, lr_factor=0.1, overrides={"patience": 3})
    assert slow["learning_rate"] == pytest.approx(2e-4)
    assert slow["patience"] == 3 and slow["rotation"] == 5.0


# -- pseudo-labelling ---------------------------------------------------------
def test_pseudo_label_fills_exactly_the_missing_coordinates(faces, base):
    train, _ = faces
    before = train.keypoints.copy()
    completed, pseudo = pseudo_label(base, train)
    np.testing.assert_array_equal(pseudo, np.isnan(before))
    assert 0 < pseudo.mean() < 1  # real rows with and without gaps
    assert np.isfinite(completed.keypoints).all()
    np.testing.assert_array_equal(completed.keypoints[~pseudo],
                                  before[~pseudo])
    predictions = np.clip(base.predict(train.images), 0, FRAME)
    # pseudo_label predicts only the faces with gaps (another batch
    # composition than all of train): equal up to float32 summation order
    np.testing.assert_allclose(completed.keypoints[pseudo],
                               predictions[pseudo], rtol=0, atol=PX_ATOL)
    np.testing.assert_array_equal(train.keypoints, before)  # not mutated
    assert completed.images is train.images
    assert completed.schema == train.schema


def test_train_pseudo_validates_on_true_labels(faces, base, tmp_path):
    train, val = faces
    val_before = val.keypoints.copy()
    config = continuation_config(base, overrides={"max_epochs": 1})
    model, metrics = train_pseudo(base, train, val, config,
                                  out_dir=str(tmp_path), verbose=False)
    np.testing.assert_array_equal(val.keypoints, val_before)
    assert np.isnan(val.keypoints).any()
    assert metrics["val_rmse_px"] == pytest.approx(
        rmse(model.predict(val.images), val.keypoints))
    assert metrics["base_val_rmse_px"] == pytest.approx(
        base.metrics(val)["val_rmse_px"])
    assert metrics["init_val_rmse_px"] == pytest.approx(
        metrics["base_val_rmse_px"], rel=1e-6)
    assert metrics["n_pseudo_coordinates"] == int(np.isnan(
        train.keypoints).sum())
    saved = read_json(os.path.join(str(tmp_path), "metrics.json"))
    assert saved["val_rmse_px"] == pytest.approx(metrics["val_rmse_px"])
    spec = read_json(os.path.join(str(tmp_path), "model.json"))
    assert spec["training"]["pseudo_labels"]["n_pseudo_faces"] == int(
        np.isnan(train.keypoints).any(axis=1).sum())
    assert spec["training"]["learning_rate"] == pytest.approx(2e-4)


# -- specialist groups --------------------------------------------------------
def test_groups_cover_the_15_keypoints_once():
    schema = KeypointSchema.kaggle()
    check_groups(SPECIALIST_GROUPS, schema)
    names = [n for _, group in SPECIALIST_GROUPS for n in group]
    assert sorted(names) == sorted(schema.names) and len(names) == 15
    with pytest.raises(ValueError, match="missing"):
        check_groups(SPECIALIST_GROUPS[1:], schema)
    with pytest.raises(ValueError, match="repeated"):
        check_groups(SPECIALIST_GROUPS + (("again", ("nose_tip",)),), schema)


@pytest.mark.parametrize("group, pairs", [
    ("eye_centers", ((0, 1),)), ("nose_tip", ()),
    ("mouth_corners_top_lip", ((0, 1),)), ("mouth_bottom_lip", ()),
    ("eye_corners", ((0, 1), (2, 3))), ("eyebrows", ((0, 1), (2, 3)))])
def test_group_flip_pairs(group, pairs):
    schema = group_schema(GROUPS[group])
    assert schema.flip_pairs == pairs
    for i, j in pairs:
        assert schema.names[i].replace("left", "right") == schema.names[j]


def test_augmenter_mirrors_within_a_group(faces):
    train, _ = faces
    schema = group_schema(GROUPS["eye_centers"])
    group = select_group(train, schema)
    assert len(group) == len(train)  # eye centres are always labelled
    out, kp = Augmenter(flip=1.0, schema=schema).transform(
        group.images[:8], group.keypoints[:8], 0)
    np.testing.assert_array_equal(out, group.images[:8, ..., ::-1])
    # new left eye = mirrored old right eye
    np.testing.assert_allclose(kp[:, 0], FRAME - group.keypoints[:8, 2],
                               atol=1e-5)
    np.testing.assert_allclose(kp[:, 1], group.keypoints[:8, 3])


def test_select_group_keeps_faces_with_the_group_labelled(faces):
    train, _ = faces
    schema = group_schema(GROUPS["eyebrows"])
    group = select_group(train, schema)
    cols = [train.schema.column_index(c) for c in schema.columns]
    assert len(group) == int(train.mask[:, cols].any(axis=1).sum())
    assert 0 < len(group) < len(train)
    assert group.keypoints.shape == (len(group), 8)
    assert group.mask.any(axis=1).all()


# -- training and assembling the specialists ----------------------------------
@pytest.fixture(scope="module")
def specialists(faces, base, tmp_path_factory):
    train, val = faces
    folder = str(tmp_path_factory.mktemp("specialists"))
    config = dict(TINY, flip=True)
    model, metrics = train_specialists(base, train, val, config, folder,
                                       epochs=1, verbose=False)
    return model, metrics, folder


def test_train_specialists_writes_a_loadable_specialist_model(faces, base,
                                                              specialists):
    train, val = faces
    model, metrics, folder = specialists
    spec = read_json(os.path.join(folder, "specialists.json"))
    assert spec["format"] == FORMAT
    assert list(spec["groups"]) == [g for g, _ in SPECIALIST_GROUPS]
    loaded = load_model(folder)
    assert isinstance(loaded, SpecialistModel)
    assert loaded.schema == base.schema
    np.testing.assert_allclose(loaded.predict(val.images),
                               model.predict(val.images), rtol=0,
                               atol=PX_ATOL)
    assert metrics["val_rmse_px"] == pytest.approx(
        rmse(loaded.predict(val.images), val.keypoints))
    assert loaded.metrics(val)["val_rmse_px"] == pytest.approx(
        metrics["val_rmse_px"])
    for group, names in SPECIALIST_GROUPS:
        report = metrics["specialists"][group]
        cols = [train.schema.column_index("%s_%s" % (n, a))
                for n in names for a in "xy"]
        assert report["n_train"] == int(train.mask[:, cols].any(1).sum())
        assert report["epochs"] == 1
        sub = load_model(os.path.join(folder, group))
        assert isinstance(sub, Model)
        assert sub.training["init_model"]["copied"] == (
            "all, output units of the columns")
        assert sub.training["augment"]["schema"] == list(
            group_schema(names).columns)


def test_specialist_columns_come_from_their_specialist(faces, specialists):
    _, val = faces
    _, _, folder = specialists
    loaded = load_model(folder)
    predictions = loaded.predict(val.images[:16])
    for group, names in SPECIALIST_GROUPS:
        sub = load_model(os.path.join(folder, group))
        assert sub.schema.names == tuple(names)
        cols = [loaded.schema.column_index(c) for c in sub.schema.columns]
        np.testing.assert_allclose(predictions[:, cols],
                                   sub.predict(val.images[:16]), rtol=0,
                                   atol=PX_ATOL)


def test_specialist_model_needs_every_column_once(specialists):
    model, _, _ = specialists
    pairs = list(model.specialists.items())
    with pytest.raises(ValueError, match="each column once"):
        SpecialistModel(pairs[1:], model.schema)
    with pytest.raises(ValueError, match="each column once"):
        SpecialistModel(pairs + [("again", pairs[0][1])], model.schema)
    with pytest.raises(ValueError, match="repeated group"):
        SpecialistModel(pairs + pairs[:1], model.schema)

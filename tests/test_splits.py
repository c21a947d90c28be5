"""The grouped validation split (kfkd.people, kfkd.splits), the split a
model records, and flip test-time augmentation (kfkd.predictor)."""
import gzip
import json
import os

import numpy as np
import pytest

from kfkd import cli
from kfkd.data import find_file
from kfkd.errors import ModelError
from kfkd.keypoints import KeypointSchema
from kfkd.people import (aligned_faces, group_faces, nearest_correlation,
                         pair_scores)
from kfkd.predictor import FlipAverage, Predictor, with_tta
from kfkd.splits import (DEFAULT_SPLIT, group_split, load_split,
                         recorded_split, split_sizes)
from kfkd.transforms import flip_horizontal

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# -- grouping ------------------------------------------------------------------
def test_grouping_is_deterministic_and_numbered_by_first_face(training_data):
    faces = training_data.subset(slice(0, 400))
    groups = group_faces(faces)
    np.testing.assert_array_equal(groups, group_faces(faces))
    assert groups.shape == (400,) and groups[0] == 0
    first = [np.flatnonzero(groups == g)[0] for g in range(groups.max() + 1)]
    assert first == sorted(first)  # every number used, in order
    assert 20 < len(first) < 400  # faces grouped, not all in one


def test_alignment_undoes_a_shift(training_data):
    """A face and its copy moved by (-2, +3) px, keypoints too, align to
    the same crop."""
    face = training_data.subset([0])
    moved = np.roll(face.images, (3, -2), axis=(2, 3))
    keypoints = face.keypoints.copy()
    keypoints[:, 0::2] -= 2
    keypoints[:, 1::2] += 3
    crops = aligned_faces(np.concatenate([face.images, moved]),
                          np.concatenate([face.keypoints, keypoints]),
                          face.schema)
    assert crops.shape == (2, 64, 64) and crops.dtype == np.float32
    inner = slice(8, -8)  # away from the rolled-in border
    np.testing.assert_allclose(crops[0, inner, inner], crops[1, inner, inner],
                               atol=1e-3)


def test_alignment_names_a_row_without_its_anchors(training_data):
    faces = training_data.subset(slice(0, 5))
    keypoints = faces.keypoints.copy()
    keypoints[3, faces.schema.column_index("nose_tip_y")] = np.nan
    with pytest.raises(ValueError, match="row 4 has no left_eye_center"):
        aligned_faces(faces.images, keypoints, faces.schema)
    with pytest.raises(ValueError, match="cannot align.*nose_tip"):
        aligned_faces(faces.images, keypoints[:, :4],
                      KeypointSchema(faces.schema.columns[:4]))


def test_faces_without_anchors_are_groups_of_their_own(training_data):
    faces = training_data.subset(slice(0, 60))
    faces.keypoints = faces.keypoints.copy()
    faces.keypoints[[5, 40], faces.schema.column_index("left_eye_center_x")] \
        = np.nan
    groups = group_faces(faces)
    assert (groups == groups[5]).sum() == (groups == groups[40]).sum() == 1
    rest = np.setdiff1d(np.arange(60), [5, 40])
    np.testing.assert_array_equal(  # the others grouped as without them
        np.unique(groups[rest], return_inverse=True)[1],
        np.unique(group_faces(faces.subset(rest)), return_inverse=True)[1])
    faces.keypoints[2:] = np.nan  # two faces left to align: none grouped
    assert len(set(group_faces(faces))) == 60


def test_pair_scores_are_symmetric_with_a_zero_diagonal():
    x = np.random.RandomState(0).randn(60, 8)
    z = pair_scores(np.corrcoef(x))
    np.testing.assert_allclose(z, z.T)
    assert (np.diag(z) == 0).all() and np.isfinite(z).all()
    with pytest.raises(ValueError, match="too few to group"):
        pair_scores(np.eye(2))


def test_nearest_correlation_finds_a_copy(training_data):
    faces = training_data.images[:6]
    nearest = nearest_correlation(faces[:2], faces[1:])
    assert nearest.shape == (2,)
    assert nearest[1] == pytest.approx(1.0, abs=1e-5)  # itself
    assert -1 <= nearest[0] < 1


# -- splitting by groups -----------------------------------------------------------
def test_group_split_keeps_groups_whole_seeded_near_the_fraction():
    rng = np.random.RandomState(0)
    groups = np.repeat(np.arange(300), rng.randint(1, 16, 300))
    rng.shuffle(groups)
    train, val = group_split(groups, 0.2, seed=42)
    assert not set(groups[train]) & set(groups[val])
    np.testing.assert_array_equal(np.sort(np.concatenate([train, val])),
                                  np.arange(len(groups)))
    n_val = split_sizes(len(groups), 0.2)[1]
    assert n_val <= len(val) < n_val + 15  # overshoot: less than a group
    again = group_split(groups, 0.2, seed=42)
    np.testing.assert_array_equal(again[1], val)
    assert set(group_split(groups, 0.2, seed=43)[1]) != set(val)
    with pytest.raises(ValueError, match="leave no training face"):
        group_split([7, 7, 7, 7, 7], 0.2)


def test_the_default_split_is_grouped_whole_groups_a_fifth(split):
    train, val = split
    assert DEFAULT_SPLIT == "grouped"
    assert val.split == train.split == {"method": "grouped", "seed": 42,
                                        "val_fraction": 0.2, "limit": None}
    assert not set(train.groups) & set(val.groups)
    assert 0.19 < len(val) / (len(train) + len(val)) < 0.21
    assert len(set(train.groups) | set(val.groups)) > 300


def test_load_split_with_limit_uses_the_whole_files_groups(data_dir,
                                                           tmp_path):
    with gzip.open(find_file("training.csv", data_dir), "rb") as f:
        head = b"".join(f.readline() for _ in range(121))  # 120 faces
    (tmp_path / "training.csv").write_bytes(head)
    train, val = load_split(str(tmp_path), limit=100, verbose=False)
    assert len(train) + len(val) == 100 and len(val) >= 20
    assert not set(train.groups) & set(val.groups)
    assert val.split["limit"] == 100 and val.split["method"] == "grouped"
    with pytest.raises(ValueError, match="split method must be one of"):
        load_split(str(tmp_path), verbose=False, method="people")


# -- the split a model records -----------------------------------------------------
def _shipped_specs():
    """The JSON files of the shipped model (``models/reference``) that
    record a split: its own (``ensemble.json``, ``specialists.json`` or
    ``model.json``) first, then every ``model.json`` below it."""
    top = os.path.join(REPO, "models", "reference")
    paths = [os.path.join(top, name) for name in (
        "ensemble.json", "specialists.json", "model.json")
        if os.path.isfile(os.path.join(top, name))][:1]
    for root, dirs, files in os.walk(top):
        dirs.sort()
        if root != top and "model.json" in files:
            paths.append(os.path.join(root, "model.json"))
    return [(p, json.load(open(p))) for p in paths]


def test_a_model_json_without_split_means_random():
    specs = _shipped_specs()
    assert specs[-1][0].endswith("model.json")
    # the shipped model, and every net in it, was trained on the default
    # (grouped) split ...
    for path, spec in specs:
        assert recorded_split(spec["training"]) == {
            "method": "grouped", "val_fraction": 0.2, "seed": 42,
            "limit": None}, path
    # ... models trained before the grouping record none
    spec = specs[-1][1]  # a single net's model.json
    del spec["training"]["split"]
    assert recorded_split(spec["training"]) == {
        "method": "random", "val_fraction": 0.2, "seed": 42, "limit": None}
    recorded = {"method": "grouped", "val_fraction": 0.25, "seed": 1,
                "limit": 300}
    assert recorded_split({"split": recorded}) == recorded
    for bad in ({"method": "people"}, {"method": "grouped", "seed": "x"},
                "grouped", {"method": "random", "val_fraction": 2.0}):
        with pytest.raises(ModelError, match="'training.split'"):
            recorded_split({"split": bad})


def test_evaluate_takes_the_models_split_unless_told(
        reference_model, split, monkeypatch, capsys):
    calls = []
    few = split[0].subset(slice(0, 4)), split[1].subset(slice(0, 6))

    def load_split(**kwargs):
        calls.append(kwargs)
        return few

    monkeypatch.setattr("kfkd.cli.load_split", load_split)
    monkeypatch.setattr("kfkd.model.load_model",
                        lambda folder=None: reference_model)
    # as a model trained before the grouped split (no split recorded)
    monkeypatch.delitem(reference_model.training, "split", raising=False)
    assert cli.main(["evaluate"]) == 0
    assert cli.main(["evaluate", "--split", "grouped", "--tta", "flip",
                     "--val-fraction", "0.3"]) == 0
    assert [(c["method"], c["val_fraction"]) for c in calls] == [
        ("random", 0.2), ("grouped", 0.3)]
    out = capsys.readouterr().out
    assert "validation faces: 6 (random split)" in out
    assert ("validation faces: 6 (grouped split, flip test-time "
            "augmentation)") in out


@pytest.mark.parametrize("argv, option", [
    (["evaluate", "--split", "people"], "--split"),
    (["predict", "--out", "x.csv", "--tta", "rotate"], "--tta")])
def test_an_unknown_split_or_tta_is_one_line(argv, option, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and option in err


# -- flip test-time augmentation -------------------------------------------------
class _Asymmetric(Predictor):
    """A synthetic predictor that is not mirror-symmetric: the mean shape
    moved right by the brightness of the image's left half."""

    schema = KeypointSchema.kaggle()
    training = {"split": {"method": "grouped"}}

    def predict(self, images, batch_size=256):
        shape = np.tile(np.linspace(20, 70, 30, dtype=np.float32),
                        (len(images), 1))
        shape[:, 0::2] += 10 * images[:, 0, :, :48].mean(axis=(1, 2))[:, None]
        return shape


def _mirror_back(predictor, images):
    """``predictor``'s keypoints of the mirrored faces, mirrored back."""
    mirrored = flip_horizontal(images, None)[0]
    return flip_horizontal(mirrored, predictor.predict(mirrored),
                           predictor.schema)[1]


def test_flip_average_is_the_mean_with_the_mirrored_prediction():
    images = np.random.RandomState(0).rand(3, 1, 96, 96).astype(np.float32)
    plain = _Asymmetric()
    tta = with_tta(plain, "flip")
    out = tta.predict(images)
    assert out.shape == (3, 30) and out.dtype == np.float32
    np.testing.assert_allclose(
        out, (plain.predict(images) + _mirror_back(plain, images)) / 2,
        atol=1e-5)
    assert not np.allclose(plain.predict(images), _mirror_back(plain, images))
    assert tta.training == plain.training  # the rest is the predictor's
    assert with_tta(plain, "none") is plain and with_tta(plain) is plain
    with pytest.raises(ValueError, match="tta must be one of"):
        with_tta(plain, "rotate")
    with pytest.raises(ModelError, match="not saved"):
        FlipAverage(plain).save("/nonexistent")


def test_flip_average_of_the_reference_model_is_mirror_symmetric(
        reference_model, split):
    """The real net's keypoints of a mirrored face, mapped back, differ
    from its keypoints of the face; with the flip average they agree."""
    images = split[1].images[:4]
    plain = reference_model.predict(images)
    asymmetry = np.abs(_mirror_back(reference_model, images) - plain).max()
    tta = FlipAverage(reference_model)
    averaged = tta.predict(images)
    np.testing.assert_allclose(_mirror_back(tta, images), averaged,
                               atol=1e-3)
    assert asymmetry > 1e-2  # so the agreement above is the averaging's
    assert np.abs(averaged - plain).max() <= asymmetry / 2 + 1e-4

"""Tests of kfkd.submission on the real test.csv and lookup tables.

The predictions are the reference model's (the ``reference_model`` fixture:
models/reference, or $KFKD_MODEL).  Each submission is read back from disk
and checked row by row against the predictions, with an independent
per-row mapping written here in plain Python.
"""
import gzip
import os

import numpy as np
import pandas as pd
import pytest

from kfkd import cli
from kfkd.data import DataError, find_file, load_lookup, load_test
from kfkd.keypoints import FRAME, KeypointSchema
from kfkd.metrics import lookup_rmse, rmse
from kfkd.submission import (SubmissionError, build_submission,
                             lookup_requests, make_submission,
                             write_submission)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KAGGLE_DIR = os.path.join(REPO, "..", "shared", "data", "kaggle-original")
N_SLICE = 20


# -- fixtures ----------------------------------------------------------------
@pytest.fixture(scope="module")
def test_lines(data_dir):
    """Header and data lines of the real test.csv(.gz), as text."""
    path = find_file("test.csv", data_dir)
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", newline="") as f:
        lines = f.read().splitlines()
    assert lines[0] == "ImageId,Image" and len(lines) == 1059
    return lines


@pytest.fixture(scope="module")
def lookup(data_dir):
    return load_lookup(find_file("IdLookupTable.csv", data_dir), verbose=False)


@pytest.fixture(scope="module")
def test_predictions(reference_model, test_data):
    """The reference model's predictions for all 1058 test faces, pixels."""
    return reference_model.predict(test_data.images)


@pytest.fixture
def slice_files(tmp_path, test_lines, lookup):
    """test.csv of the first 20 real test faces and their lookup rows."""
    test_path = tmp_path / "test.csv"
    test_path.write_text("\n".join(test_lines[:N_SLICE + 1]) + "\n")
    lookup_path = tmp_path / "IdLookupTable.csv"
    rows = lookup[lookup.ImageId <= N_SLICE].assign(Location="")
    rows.to_csv(lookup_path, index=False)
    return str(test_path), str(lookup_path), rows.drop(columns="Location")


def expected_locations(lookup, image_ids, predictions, schema):
    """The lookup answered one row at a time (independent of the module)."""
    face_of = {int(i): k for k, i in enumerate(image_ids)}
    return np.array([
        min(max(float(predictions[face_of[int(image_id)],
                                  schema.columns.index(name)]), 0.0), FRAME)
        for image_id, name in zip(lookup.ImageId, lookup.FeatureName)])


def read_back(path):
    with open(path, newline="") as f:
        header = f.readline()
    return header, pd.read_csv(path)


# -- the real data paths -----------------------------------------------------
def test_slice_submission_matches_predictions(slice_files, tmp_path,
                                              reference_model, test_data,
                                              monkeypatch, capsys):
    """kfkd submit on 20 real faces: every Location is the clipped prediction."""
    test_path, lookup_path, rows = slice_files
    out = tmp_path / "submission.csv"
    # The CLI's load_model() is the fixture's (saves a second Theano compile).
    monkeypatch.setattr("kfkd.model.load_model", lambda folder=None:
                        reference_model)
    status = cli.main(["submit", "--test-csv", test_path, "--lookup",
                       lookup_path, "--out", str(out)])
    assert status == 0
    printed = capsys.readouterr().out
    assert "%d rows" % len(rows) in printed and "for 20 images" in printed
    header, frame = read_back(out)
    assert header == "RowId,Location\n"
    assert len(frame) == len(rows) > N_SLICE * 8
    assert (frame.RowId.values == rows.RowId.values).all()
    predictions = reference_model.predict(test_data.images[:N_SLICE])
    want = expected_locations(rows, test_data.image_ids[:N_SLICE],
                              predictions, reference_model.schema)
    np.testing.assert_allclose(frame.Location.values, want, atol=5.1e-5)


def test_full_shared_submission(tmp_path, lookup, test_data, test_predictions,
                                reference_model):
    """1058 test faces, 15834 lookup rows: RowIds 1..15834 in order."""
    schema = reference_model.schema
    frame = build_submission(lookup, test_data.image_ids, test_predictions,
                             schema)
    out = str(tmp_path / "submission.csv")
    write_submission(out, frame, lookup)
    header, back = read_back(out)
    assert header == "RowId,Location\n"
    assert len(back) == len(lookup) == 15834
    assert (back.RowId.values == np.arange(1, 15835)).all()
    assert np.isfinite(back.Location).all()
    assert back.Location.between(0, FRAME).all()
    want = expected_locations(lookup, test_data.image_ids, test_predictions,
                              schema)
    np.testing.assert_allclose(back.Location.values, want, atol=5.1e-5)
    # Kaggle's pattern: 30 values for some faces, 8 for the others.
    assert set(lookup.groupby("ImageId").size()) == {8, 30}


def test_clipping_to_the_frame(lookup, test_data, test_predictions,
                               reference_model):
    """Predictions outside the 96x96 frame are clipped to [0, 96]."""
    shifted = test_predictions.copy()
    shifted[0::2] += 200.0   # faces 1, 3, ...: far right / below
    shifted[1::2] -= 200.0   # faces 2, 4, ...: far left / above
    frame = build_submission(lookup, test_data.image_ids, shifted,
                             reference_model.schema)
    odd = lookup.ImageId.values % 2 == 1
    assert (frame.Location.values[odd] == FRAME).all()
    assert (frame.Location.values[~odd] == 0).all()


@pytest.fixture(scope="module")
def genuine_lookup():
    try:
        path = find_file("IdLookupTable.csv", KAGGLE_DIR)
    except FileNotFoundError as e:
        pytest.skip("no genuine Kaggle lookup table: %s" % e)
    return path, load_lookup(path, verbose=False)


def test_genuine_lookup_table(tmp_path, genuine_lookup, test_lines, test_data,
                              test_predictions, reference_model):
    """Kaggle's own IdLookupTable (27124 rows) with a 1783-face test.csv."""
    lookup_path, lookup = genuine_lookup
    assert len(lookup) == 27124 and lookup.ImageId.nunique() == 1783
    # ImageIds 1..1783, reusing the real faces in turn (face content does not
    # matter for the mapping; the model's predictions repeat with them).
    source = np.arange(1783) % len(test_data)
    test_path = tmp_path / "test.csv"
    with open(test_path, "w") as f:
        f.write("ImageId,Image\n")
        for image_id, k in enumerate(source, start=1):
            f.write("%d,%s\n" % (image_id, test_lines[k + 1].split(",", 1)[1]))
    test = load_test(str(test_path), verbose=False)
    assert (test.image_ids == np.arange(1, 1784)).all()
    assert np.array_equal(test.images, test_data.images[source])
    predictions = test_predictions[source]

    frame = build_submission(lookup, test.image_ids, predictions,
                             reference_model.schema, lookup_path,
                             str(test_path))
    out = str(tmp_path / "submission.csv")
    write_submission(out, frame, lookup)
    header, back = read_back(out)
    assert header == "RowId,Location\n"
    assert len(back) == 27124
    assert (back.RowId.values == lookup.RowId.values).all()
    assert (back.RowId.values == np.arange(1, 27125)).all()
    want = expected_locations(lookup, test.image_ids, predictions,
                              reference_model.schema)
    np.testing.assert_allclose(back.Location.values, want, atol=5.1e-5)
    # Kaggle's SampleSubmission has the same RowIds in the same order.
    sample = pd.read_csv(find_file("SampleSubmission.csv", KAGGLE_DIR))
    assert list(sample.columns) == ["RowId", "Location"]
    assert (sample.RowId.values == back.RowId.values).all()


# -- malformed inputs: a clear message and no file ---------------------------
def _lookup_with(rows, case):
    rows = rows.copy()
    if case == "missing_ids":
        extra = rows[rows.ImageId == 1].assign(ImageId=N_SLICE + 3)
        extra2 = rows[rows.ImageId == 2].assign(ImageId=N_SLICE + 7)
        rows = pd.concat([rows, extra, extra2], ignore_index=True)
        rows["RowId"] = np.arange(1, len(rows) + 1)
    elif case == "unknown_feature":
        rows.loc[6, "FeatureName"] = "left_ear_x"
    elif case == "duplicate_rowid":
        rows.loc[9, "RowId"] = rows.RowId[4]
    return rows


LOOKUP_CASES = {
    "missing_ids": ["IdLookupTable.csv", "2 ImageIds", "missing from",
                    "test.csv", "23, 27", "row %d"],
    "unknown_feature": ["IdLookupTable.csv", "row 7 (line 8)",
                        "column 'FeatureName'",
                        "unknown FeatureName 'left_ear_x'"],
    "duplicate_rowid": ["IdLookupTable.csv", "row 10 (line 11)",
                        "column 'RowId'", "RowId 5 repeats an earlier row"],
}


@pytest.mark.parametrize("existing", [False, True],
                         ids=["no_output", "existing_output"])
@pytest.mark.parametrize("case", sorted(LOOKUP_CASES))
def test_bad_lookup_fails_cleanly(case, existing, slice_files, tmp_path,
                                  reference_model, monkeypatch, capsys):
    """kfkd submit: one line on stderr, exit 2, output absent or untouched."""
    test_path, _, rows = slice_files
    bad = _lookup_with(rows, case)
    lookup_path = tmp_path / "IdLookupTable.csv"
    bad.assign(Location="").to_csv(lookup_path, index=False)
    out = tmp_path / "submission.csv"
    if existing:
        out.write_text("previous submission\n")
    monkeypatch.setattr("kfkd.model.load_model", lambda folder=None:
                        reference_model)
    status = cli.main(["submit", "--test-csv", test_path, "--lookup",
                       str(lookup_path), "--out", str(out)])
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("kfkd submit: error: ")
    expected = [s % (len(rows) + 1) if "%" in s else s
                for s in LOOKUP_CASES[case]]
    for part in expected:
        assert part in err, (part, err)
    if existing:
        assert out.read_text() == "previous submission\n"
    else:
        assert not out.exists()
    assert sorted(os.listdir(tmp_path)) == sorted(
        ["test.csv", "IdLookupTable.csv"] + (["submission.csv"] if existing
                                             else []))

    # The same faults in a lookup DataFrame given to build_submission.
    test = load_test(test_path, verbose=False)
    predictions = np.full((N_SLICE, 30), 48.0, np.float32)
    with pytest.raises(SubmissionError) as info:
        build_submission(bad, test.image_ids, predictions,
                         reference_model.schema, "IdLookupTable.csv",
                         "test.csv")
    for part in expected:
        assert part in str(info.value), (part, str(info.value))


def test_duplicate_rowid_is_a_data_error(slice_files, tmp_path):
    """Reading such a lookup file already fails, naming the file and row."""
    bad = _lookup_with(slice_files[2], "duplicate_rowid")
    path = tmp_path / "IdLookupTable.csv"
    bad.assign(Location="").to_csv(path, index=False)
    with pytest.raises(DataError, match=r"row 10 \(line 11\).*RowId 5 "
                       "repeats an earlier row"):
        load_lookup(str(path), verbose=False)


class _Broken(object):
    """The reference model with its output damaged after prediction."""

    def __init__(self, model, damage):
        self.model, self.damage, self.schema = model, damage, model.schema

    def predict(self, images):
        return self.damage(self.model.predict(images))


def _nan_at_face_4(p):
    p = p.copy()
    p[3, 21] = np.nan   # ImageId 4, nose_tip_y
    return p


MODEL_CASES = {
    "nan_prediction": (_nan_at_face_4, [
        "IdLookupTable.csv", "ImageId 4, nose_tip_y is nan",
        "1 requested predictions are not finite"]),
    "inf_prediction": (lambda p: np.where(np.arange(30) == 0, np.inf, p), [
        "ImageId 1, left_eye_center_x is inf",
        "%d requested predictions are not finite" % N_SLICE]),
    "too_few_faces": (lambda p: p[:-1], [
        "predictions have shape (19, 30), expected (20, 30)",
        "20 test image ids x 30 keypoint columns"]),
    "too_few_columns": (lambda p: p[:, :28], [
        "predictions have shape (20, 28), expected (20, 30)"]),
}


@pytest.mark.parametrize("existing", [False, True],
                         ids=["no_output", "existing_output"])
@pytest.mark.parametrize("case", sorted(MODEL_CASES))
def test_bad_predictions_fail_cleanly(case, existing, slice_files, tmp_path,
                                      reference_model):
    test_path, lookup_path, _ = slice_files
    damage, parts = MODEL_CASES[case]
    out = tmp_path / "submission.csv"
    if existing:
        out.write_text("previous submission\n")
    with pytest.raises(SubmissionError) as info:
        make_submission(_Broken(reference_model, damage), test_path,
                        lookup_path, str(out), verbose=False)
    for part in parts:
        assert part in str(info.value), (part, str(info.value))
    if existing:
        assert out.read_text() == "previous submission\n"
    else:
        assert not out.exists()
    assert not [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]


def _tamper(frame, case):
    frame = frame.copy()
    if case == "row_count":
        return frame.iloc[:-1]
    if case == "duplicate_rowid":
        frame.loc[5, "RowId"] = frame.RowId[2]
    elif case == "rowid_gap":
        frame.loc[5, "RowId"] = len(frame) + 10
    elif case == "nan_location":
        frame.loc[8, "Location"] = np.nan
    elif case == "inf_location":
        frame.loc[8, "Location"] = -np.inf
    elif case == "outside_frame":
        frame.loc[8, "Location"] = 96.5
    elif case == "columns":
        frame = frame.rename(columns={"Location": "location"})
    return frame


WRITE_CASES = {
    "row_count": ["%d rows, but the lookup table has %d"],
    "duplicate_rowid": ["row 6 (line 7)", "RowId 3 repeats an earlier row"],
    "rowid_gap": ["row 6 (line 7)", "RowIds must be"],
    "nan_location": ["row 9 (line 10)", "column 'Location'", "nan"],
    "inf_location": ["row 9 (line 10)", "-inf"],
    "outside_frame": ["row 9 (line 10)", "96.5 is not a number in [0, 96]"],
    "columns": ["columns RowId,location, expected RowId,Location"],
}


@pytest.mark.parametrize("case,with_lookup", [
    (case, with_lookup) for case in sorted(WRITE_CASES)
    for with_lookup in (True, False)
    if with_lookup or case != "row_count"])  # a row count needs the lookup
def test_write_submission_validates_first(case, with_lookup, slice_files,
                                          tmp_path, test_predictions,
                                          test_data, reference_model):
    rows = slice_files[2]
    frame = build_submission(rows, test_data.image_ids, test_predictions,
                             reference_model.schema)
    out = tmp_path / "submission.csv"
    out.write_text("previous submission\n")
    with pytest.raises(SubmissionError) as info:
        write_submission(str(out), _tamper(frame, case),
                         rows if with_lookup else None)
    message = str(info.value)
    assert message.startswith("%s (not written)" % out)
    for part in WRITE_CASES[case]:
        part = part % (len(rows) - 1, len(rows)) if "%" in part else part
        assert part in message, (part, message)
    assert out.read_text() == "previous submission\n"


# -- the competition metric --------------------------------------------------
def test_lookup_rmse_by_hand():
    """Two faces: one fully labelled, one with Kaggle's 8 values; a third
    with no label (NaN predictions there are never requested)."""
    schema = KeypointSchema.kaggle()
    keypoints = np.full((3, 30), np.nan)
    keypoints[0] = 40.0
    eight = [schema.column_index(c) for c in (
        "left_eye_center_x", "left_eye_center_y", "right_eye_center_x",
        "right_eye_center_y", "nose_tip_x", "nose_tip_y",
        "mouth_center_bottom_lip_x", "mouth_center_bottom_lip_y")]
    keypoints[1, eight] = 90.0
    predictions = np.full((3, 30), np.nan)
    predictions[0] = 41.0                 # 30 errors of 1 px
    predictions[1] = 90.0                 # 7 errors of 0 px ...
    predictions[1, eight[4]] = 100.0      # ... and 100 clipped to 96: 6 px
    requests = lookup_requests(keypoints, schema)
    assert len(requests) == 38
    assert (requests.RowId.values == np.arange(1, 39)).all()
    assert list(requests.ImageId) == [1] * 30 + [2] * 8
    assert list(requests.FeatureName[30:]) == [schema.columns[j]
                                               for j in eight]
    hand = np.sqrt((30 * 1.0 ** 2 + 6.0 ** 2) / 38)
    assert lookup_rmse(predictions, keypoints, schema) == pytest.approx(
        hand, rel=1e-12)
    # Without clipping the same coordinates would score more.
    assert rmse(predictions[:2], keypoints[:2]) == pytest.approx(
        np.sqrt((30 + 10.0 ** 2) / 38))
    with pytest.raises(ValueError, match="no labelled coordinate"):
        lookup_rmse(predictions[2:], keypoints[2:], schema)


def test_lookup_rmse_reported_by_evaluate(split, reference_model,
                                          monkeypatch, capsys):
    """kfkd evaluate prints the competition metric of the validation split."""
    _, val = split
    requests = lookup_requests(val.keypoints, reference_model.schema)
    assert len(requests) == int(val.mask.sum())
    assert set(requests.groupby("ImageId").size()) <= set(range(1, 31))
    predictions = reference_model.predict(val.images)
    value = lookup_rmse(predictions, val.keypoints, reference_model.schema)
    # Clipping to the frame can only bring a prediction nearer the truth.
    assert value <= rmse(predictions, val.keypoints) + 1e-9
    assert 0 < value < FRAME

    calls = []

    def load_split(**kwargs):
        calls.append(kwargs)
        return split

    monkeypatch.setattr("kfkd.cli.load_split", load_split)  # cli imports it
    monkeypatch.setattr("kfkd.model.load_model", lambda folder=None:
                        reference_model)
    assert cli.main(["evaluate"]) == 0
    assert len(calls) == 1 and calls[0].get("limit") is None
    lines = [l for l in capsys.readouterr().out.splitlines()
             if l.startswith("Kaggle metric")]
    assert lines == ["Kaggle metric (RMSE over %d lookup-style rows, clipped "
                     "to [0, 96]): %.4f px" % (len(requests), value)]

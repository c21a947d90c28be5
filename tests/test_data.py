"""kfkd.data on the real files, and on a corpus of malformed files made from
real rows of training.csv / test.csv / IdLookupTable.csv."""
import gzip
import os
import subprocess
import sys

import numpy as np
import pytest

from kfkd.data import (DataError, DataNotFoundError, find_file, load_lookup,
                       load_test, load_training, resolve_data_dir)
from kfkd.splits import SPLIT_SEED, VAL_FRACTION, load_split, train_val_split
from kfkd.keypoints import KAGGLE_COLUMNS

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KAGGLE_ORIGINAL = os.path.join(REPO, "..", "shared", "data", "kaggle-original")

ALWAYS_LABELLED = ("left_eye_center", "right_eye_center", "nose_tip",
                   "mouth_center_bottom_lip")
FLIP_PAIRS = {
    ("left_eye_center", "right_eye_center"),
    ("left_eye_inner_corner", "right_eye_inner_corner"),
    ("left_eye_outer_corner", "right_eye_outer_corner"),
    ("left_eyebrow_inner_end", "right_eyebrow_inner_end"),
    ("left_eyebrow_outer_end", "right_eyebrow_outer_end"),
    ("mouth_left_corner", "mouth_right_corner"),
}


# -- the real files ------------------------------------------------------------
def test_training_file(training_data):
    data = training_data
    assert len(data) == 3146
    assert data.images.shape == (3146, 1, 96, 96)
    assert data.images.dtype == np.float32
    assert data.images.min() >= 0 and data.images.max() <= 1
    assert data.images.max() == 1 and data.images.min() == 0
    # grey levels / 255: integers again when scaled back
    grey = data.images[:50] * 255
    np.testing.assert_allclose(grey, np.round(grey), atol=1e-3)
    assert data.keypoints.shape == (3146, 30)
    assert data.keypoints.dtype == np.float32
    labelled = data.keypoints[data.mask]
    assert labelled.min() >= 0 and labelled.max() <= 96
    assert data.schema.columns == KAGGLE_COLUMNS
    assert data.genuine is None  # a stand-in, not Kaggle's training.csv


def test_labelling_pattern(training_data):
    mask = training_data.mask
    assert int(mask.all(axis=1).sum()) == 929
    # x and y are labelled together
    np.testing.assert_array_equal(mask[:, 0::2], mask[:, 1::2])
    names = training_data.schema.names
    always = {names[k] for k in range(len(names)) if mask[:, 2 * k].all()}
    assert always == set(ALWAYS_LABELLED)
    # every other row has exactly those 4 keypoints
    partial = ~mask.all(axis=1)
    assert (mask[partial].sum(axis=1) == 2 * len(ALWAYS_LABELLED)).all()


def test_flip_pairs_from_column_names(training_data):
    schema = training_data.schema
    pairs = {(schema.names[i], schema.names[j]) for i, j in schema.flip_pairs}
    assert len(schema.flip_pairs) == 6
    assert pairs == FLIP_PAIRS
    # flipping columns twice is the identity; unpaired keypoints stay
    flip = schema.flip_columns
    np.testing.assert_array_equal(flip[flip], np.arange(30))
    for name in ("nose_tip", "mouth_center_top_lip", "mouth_center_bottom_lip"):
        k = schema.names.index(name)
        assert schema.flip_index[k] == k


def test_test_file(test_data):
    assert len(test_data) == 1058
    assert test_data.images.shape == (1058, 1, 96, 96)
    assert test_data.images.dtype == np.float32
    assert 0 <= test_data.images.min() and test_data.images.max() <= 1
    assert test_data.image_ids.dtype == np.int64
    np.testing.assert_array_equal(test_data.image_ids, np.arange(1, 1059))


def test_lookup_file(data_dir, test_data, capsys):
    lookup = load_lookup(find_file("IdLookupTable.csv", data_dir))
    assert "recognised" not in capsys.readouterr().out
    assert len(lookup) == 15834
    assert list(lookup.columns) == ["RowId", "ImageId", "FeatureName"]
    np.testing.assert_array_equal(lookup.RowId, np.arange(1, 15835))
    assert set(lookup.ImageId) <= set(test_data.image_ids)
    assert set(lookup.FeatureName) <= set(KAGGLE_COLUMNS)


def test_genuine_kaggle_lookup_is_recognised(capsys):
    path = os.path.join(KAGGLE_ORIGINAL, "IdLookupTable.csv.gz")
    lookup = load_lookup(path)
    out = capsys.readouterr().out
    assert "recognised" in out and "genuine IdLookupTable.csv" in out
    assert len(lookup) == 27124
    assert lookup.ImageId.nunique() == 1783
    assert set(lookup.FeatureName) <= set(KAGGLE_COLUMNS)
    # verbose=False stays quiet
    load_lookup(path, verbose=False)
    assert capsys.readouterr().out == ""


# -- plain and gzip, LF and CRLF load identically --------------------------------
def _head_bytes(data_dir, name, n_lines):
    """The first ``n_lines`` lines of a real file, bytes as stored."""
    with gzip.open(find_file(name, data_dir), "rb") as f:
        return b"".join(f.readline() for _ in range(n_lines))


@pytest.mark.parametrize("name, loader", [("training.csv", load_training),
                                          ("test.csv", load_test)])
def test_plain_gzip_and_crlf_variants_load_identically(data_dir, tmp_path,
                                                       name, loader):
    raw = _head_bytes(data_dir, name, 41)
    plain = tmp_path / name
    plain.write_bytes(raw)
    zipped = tmp_path / (name + ".gz")
    zipped.write_bytes(gzip.compress(raw))
    crlf = tmp_path / ("crlf_" + name)
    crlf.write_bytes(raw.replace(b"\n", b"\r\n"))
    loaded = [loader(str(p), verbose=False) for p in (plain, zipped, crlf)]
    assert len(loaded[0]) == 40
    for other in loaded[1:]:
        np.testing.assert_array_equal(other.images, loaded[0].images)
        if name == "training.csv":
            np.testing.assert_array_equal(other.keypoints, loaded[0].keypoints)
        else:
            np.testing.assert_array_equal(other.image_ids, loaded[0].image_ids)


# -- the malformed corpus ------------------------------------------------------
@pytest.fixture(scope="module")
def real_rows(data_dir):
    """Header and first 5 data rows of each real file, as lists of fields."""
    out = {}
    for name, n in (("training.csv", 6), ("test.csv", 6),
                    ("IdLookupTable.csv", 6)):
        lines = _head_bytes(data_dir, name, n).decode().splitlines()
        out[name] = [line.split(",") for line in lines]
    return out


def _csv(rows):
    return "".join(",".join(r) + "\n" for r in rows)


def _edit_pixel(rows, row, index, value):
    """Copy of ``rows`` with pixel ``index`` (0-based) of data row ``row``
    replaced by ``value``."""
    rows = [list(r) for r in rows]
    pixels = rows[row][-1].split()
    pixels[index] = value
    rows[row][-1] = " ".join(pixels)
    return rows


def _edit_field(rows, row, column, value):
    rows = [list(r) for r in rows]
    rows[row][rows[0].index(column)] = value
    return rows


def _drop_column(rows, column):
    k = rows[0].index(column)
    return [r[:k] + r[k + 1:] for r in rows]


def _swap_columns(rows, a, b):
    i, j = rows[0].index(a), rows[0].index(b)
    out = []
    for r in rows:
        r = list(r)
        r[i], r[j] = r[j], r[i]
        out.append(r)
    return out


def _pixel_count(rows, row, n):
    rows = [list(r) for r in rows]
    pixels = rows[row][-1].split()
    rows[row][-1] = " ".join((pixels * 2)[:n])
    return rows


def _truncated_in_pixels(rows):
    text = _csv(rows)
    return text[:len(text) - len(rows[-1][-1]) // 2]


def _truncated_in_coordinates(rows):
    text = _csv(rows)
    last = ",".join(rows[-1]) + "\n"
    return text[:len(text) - len(last)] + ",".join(rows[-1][:9])


# name: (real file, make(rows) -> text or bytes, file suffix,
#        expected row (data row, 1-based) or None, column or None, message part)
CORPUS = {
    "missing_column": (
        "training.csv", lambda r: _csv(_drop_column(r, "nose_tip_y")), ".csv",
        None, "nose_tip_y", "missing column"),
    "missing_image_column": (
        "training.csv", lambda r: _csv(_drop_column(r, "Image")), ".csv",
        None, "Image", "missing column"),
    "misordered_columns": (
        "training.csv",
        lambda r: _csv(_swap_columns(r, "nose_tip_x", "nose_tip_y")), ".csv",
        None, "nose_tip_x", "misordered column"),
    "extra_column": (
        "training.csv",
        lambda r: _csv([r[0] + ["comment"]] + [x + ["0"] for x in r[1:]]),
        ".csv", None, "comment", "extra column"),
    "renamed_column": (
        "training.csv",
        lambda r: _csv([[c.replace("nose_tip_x", "nose_x") for c in r[0]]]
                       + r[1:]), ".csv", None, "nose_tip_x",
        "unexpected column 'nose_x'"),
    "9215_pixels": (
        "training.csv", lambda r: _csv(_pixel_count(r, 3, 9215)), ".csv",
        3, "Image", "9215 pixels, expected 9216"),
    "9217_pixels": (
        "training.csv", lambda r: _csv(_pixel_count(r, 3, 9217)), ".csv",
        3, "Image", "9217 pixels, expected 9216"),
    "fractional_pixel": (
        "training.csv", lambda r: _csv(_edit_pixel(r, 3, 99, "12.5")), ".csv",
        3, "Image", "pixel 100 is '12.5'"),
    "text_pixel": (
        "training.csv", lambda r: _csv(_edit_pixel(r, 3, 99, "abc")), ".csv",
        3, "Image", "pixel 100 is 'abc'"),
    "pixel_256": (
        "training.csv", lambda r: _csv(_edit_pixel(r, 3, 9215, "256")), ".csv",
        3, "Image", "pixel 9216 is '256'"),
    "pixel_minus_1": (
        "training.csv", lambda r: _csv(_edit_pixel(r, 3, 0, "-1")), ".csv",
        3, "Image", "pixel 1 is '-1'"),
    "coordinate_above_96": (
        "training.csv", lambda r: _csv(_edit_field(r, 3, "nose_tip_x", "96.5")),
        ".csv", 3, "nose_tip_x", "outside [0, 96]"),
    "coordinate_negative": (
        "training.csv",
        lambda r: _csv(_edit_field(r, 3, "left_eye_center_y", "-0.25")),
        ".csv", 3, "left_eye_center_y", "outside [0, 96]"),
    "coordinate_not_a_number": (
        "training.csv",
        lambda r: _csv(_edit_field(r, 3, "mouth_center_bottom_lip_x", "4x.1")),
        ".csv", 3, "mouth_center_bottom_lip_x", "'4x.1' is not a number"),
    "coordinate_nan": (
        "training.csv", lambda r: _csv(_edit_field(r, 3, "nose_tip_y", "nan")),
        ".csv", 3, "nose_tip_y", "'nan' is not a number"),
    "coordinate_python_only_syntax": (  # float('1_0') == 10.0; not CSV
        "training.csv", lambda r: _csv(_edit_field(r, 3, "nose_tip_y", "1_0")),
        ".csv", 3, "nose_tip_y", "'1_0' is not a number"),
    "empty_file": (
        "training.csv", lambda r: "", ".csv", None, None, "empty file"),
    "whitespace_only": (
        "training.csv", lambda r: "\n\n  \n", ".csv", None, None, "empty file"),
    "header_only": (
        "training.csv", lambda r: _csv(r[:1]), ".csv", None, None,
        "no data rows"),
    "truncated_in_pixels": (
        "training.csv", _truncated_in_pixels, ".csv", 5, "Image",
        "pixels, expected 9216 (96x96) (truncated file?)"),
    "truncated_in_coordinates": (
        "training.csv", _truncated_in_coordinates, ".csv", 5,
        "right_eye_inner_corner_y", "9 fields, expected 31 (truncated row?)"),
    "gzip_truncated_mid_stream": (
        "training.csv",
        lambda r: gzip.compress(_csv(r).encode())[:20000], ".csv.gz", None,
        None, "truncated or corrupt gzip file"),
    "stray_comma": (
        "training.csv",
        lambda r: _csv(_edit_field(r, 3, "nose_tip_x", "48,5")), ".csv", 3,
        None, "32 fields, expected 31"),
    "blank_line_inside": (
        "training.csv",
        lambda r: _csv(r[:3]) + "\n" + _csv(r[3:]), ".csv", 3, None,
        "blank line"),
    "not_utf8": (
        "training.csv",
        lambda r: _csv(r).encode().replace(b"nose_tip_x", b"nose_tip_\xff"),
        ".csv", None, None, "not UTF-8"),
    "test_repeated_image_id": (
        "test.csv", lambda r: _csv(_edit_field(r, 3, "ImageId", "2")), ".csv",
        3, "ImageId", "ImageId 2 repeats an earlier row"),
    "test_fractional_image_id": (
        "test.csv", lambda r: _csv(_edit_field(r, 4, "ImageId", "4.0")),
        ".csv", 4, "ImageId", "'4.0' is not a positive integer"),
    "test_bad_pixel": (
        "test.csv", lambda r: _csv(_edit_pixel(r, 2, 4000, "300")), ".csv",
        2, "Image", "pixel 4001 is '300'"),
    "lookup_non_integer_row_id": (
        "IdLookupTable.csv", lambda r: _csv(_edit_field(r, 3, "RowId", "3a")),
        ".csv", 3, "RowId", "'3a' is not a positive integer"),
    "lookup_repeated_row_id": (
        "IdLookupTable.csv", lambda r: _csv(_edit_field(r, 5, "RowId", "1")),
        ".csv", 5, "RowId", "RowId 1 repeats an earlier row"),
    "lookup_empty_feature_name": (
        "IdLookupTable.csv",
        lambda r: _csv(_edit_field(r, 2, "FeatureName", "")), ".csv", 2,
        "FeatureName", "empty FeatureName"),
}

LOADERS = {"training.csv": load_training, "test.csv": load_test,
           "IdLookupTable.csv": load_lookup}


def test_corpus_is_large_enough():
    assert len(CORPUS) >= 12


@pytest.mark.parametrize("case", sorted(CORPUS))
def test_malformed_file_raises_data_error(case, real_rows, tmp_path,
                                          monkeypatch):
    name, make, suffix, row, column, message = CORPUS[case]
    content = make(real_rows[name])
    path = tmp_path / (name.replace(".csv", "") + "_" + case + suffix)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    monkeypatch.chdir(tmp_path)  # a stray relative write would land here
    with pytest.raises(DataError) as info:
        LOADERS[name](str(path), verbose=False)
    text = str(info.value)
    assert text.startswith(str(path) + ", ") or text.startswith(
        str(path) + ": "), text
    assert message in text, text
    assert "\n" not in text
    assert info.value.path == str(path)
    if row is not None:
        assert "row %d (line %d)" % (row, row + 1) in text, text
        assert info.value.row == row
    else:
        assert info.value.row is None and "row " not in text
    if column is not None:
        assert "column %r" % column in text, text
        assert info.value.column == column
    # nothing written: only the input is there
    assert sorted(os.listdir(tmp_path)) == [path.name]


def test_missing_file_is_data_not_found(tmp_path):
    with pytest.raises(DataNotFoundError, match="no such file"):
        load_training(str(tmp_path / "training.csv"))


# -- split ---------------------------------------------------------------------
def test_train_val_split_is_seeded_disjoint_and_covering():
    tr, va = train_val_split(3146, 0.2, seed=42)
    tr2, va2 = train_val_split(3146, 0.2, seed=42)
    np.testing.assert_array_equal(tr, tr2)
    np.testing.assert_array_equal(va, va2)
    assert len(va) == round(0.2 * 3146)
    assert not set(tr) & set(va)
    np.testing.assert_array_equal(np.sort(np.concatenate([tr, va])),
                                  np.arange(3146))
    assert (np.diff(tr) > 0).all() and (np.diff(va) > 0).all()
    _, va3 = train_val_split(3146, 0.2, seed=43)
    assert set(va3) != set(va)
    with pytest.raises(ValueError):
        train_val_split(10, 1.0)


def test_load_split_random_matches_train_val_split(data_dir, tmp_path):
    """The old random split, by option (tests/test_splits.py: grouped)."""
    (tmp_path / "training.csv").write_bytes(
        _head_bytes(data_dir, "training.csv", 101))  # 100 real faces
    faces = load_training(str(tmp_path / "training.csv"), verbose=False)
    train, val = load_split(str(tmp_path), limit=80, verbose=False,
                            method="random")
    tr, va = train_val_split(80, VAL_FRACTION, SPLIT_SEED)
    assert (len(train), len(val)) == (64, 16)
    np.testing.assert_array_equal(train.keypoints, faces.keypoints[tr])
    np.testing.assert_array_equal(val.images, faces.images[va])
    assert val.split == train.split == {"method": "random", "val_fraction":
                                        VAL_FRACTION, "seed": SPLIT_SEED,
                                        "limit": 80}
    assert val.groups is None
    again = load_split(str(tmp_path), limit=80, verbose=False,
                       method="random")[1]
    np.testing.assert_array_equal(again.keypoints, val.keypoints)


# -- finding the data ----------------------------------------------------------
def test_resolve_data_dir_without_anything(monkeypatch):
    monkeypatch.delenv("KFKD_DATA_DIR", raising=False)
    with pytest.raises(DataNotFoundError) as info:
        resolve_data_dir(None)
    text = str(info.value)
    assert "kaggle competitions download" in text and "\n" not in text


def test_resolve_data_dir_missing_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("KFKD_DATA_DIR", raising=False)
    missing = str(tmp_path / "nowhere")
    with pytest.raises(DataNotFoundError) as info:
        resolve_data_dir(missing)
    text = str(info.value)
    assert missing in text and "kaggle competitions download" in text
    assert "\n" not in text
    monkeypatch.setenv("KFKD_DATA_DIR", missing)
    with pytest.raises(DataNotFoundError, match="does not exist"):
        resolve_data_dir()


def test_find_file(data_dir, tmp_path):
    assert find_file("training.csv", data_dir).endswith("training.csv.gz")
    (tmp_path / "test.csv").write_text("ImageId,Image\n")
    assert find_file("test.csv", str(tmp_path)) == str(tmp_path / "test.csv")
    with pytest.raises(DataNotFoundError, match="kaggle competitions download"):
        find_file("training.csv", str(tmp_path))


def test_cli_reports_missing_data_in_one_line(tmp_path):
    env = dict(os.environ, PYTHONPATH=REPO)
    result = subprocess.run(
        [sys.executable, "-m", "kfkd", "evaluate", "--data-dir",
         "/nonexistent"], env=env, cwd=str(tmp_path), capture_output=True,
        text=True, timeout=120)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "/nonexistent" in lines[0]
    assert "kaggle competitions download" in lines[0]
    assert result.stdout == ""
    assert os.listdir(tmp_path) == []

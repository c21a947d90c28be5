"""Reliability of the ``kfkd`` command against bad arguments and data files.

Each row is one bad invocation; :func:`conftest.kfkd_fails` asserts exit
status 2, one line ``kfkd CMD: error: ...`` naming the option, file, row or
column (and the value) at fault, and that no output was written and every
file already there is byte for byte as it was.  Numeric options are checked
as they are parsed (:func:`kfkd.checks.in_range`), so these rows load no data
and compile nothing; the data-file rows read a few small files made in
``tmp_path``.

Placeholders in ``argv`` and ``names``: ``{out}`` an absent output folder,
``{csv}`` an absent output file, ``{file}`` an existing file, ``{dir}`` an
existing folder ``existing.avi`` (holding a file), ``{missing}`` a path in a missing folder,
``{data}`` a folder of malformed data files (made by :func:`_data_files`).
"""
import os

import pytest

from kfkd.checks import in_range
from kfkd.keypoints import KAGGLE_COLUMNS

PIXELS = " ".join(["128"] * 9216)
BIG = "12345678901234567890"  # 20 digits, more than int64 holds


def _write(path, lines):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def _data_files(root):
    """Small malformed (and well-formed) Kaggle-format files under root."""
    coords = ",".join(["40.0"] * len(KAGGLE_COLUMNS))
    header = ",".join(KAGGLE_COLUMNS + ("Image",))
    _write(os.path.join(root, "test.csv"), [
        "ImageId,Image", "1," + PIXELS, "2," + PIXELS])
    _write(os.path.join(root, "bigid", "test.csv"), [
        "ImageId,Image", BIG + "," + PIXELS])
    _write(os.path.join(root, "lookup_bigrow.csv"), [
        "RowId,ImageId,FeatureName,Location",
        "1,1,left_eye_center_x,", BIG + ",1,left_eye_center_y,"])
    _write(os.path.join(root, "lookup_bigimage.csv"), [
        "RowId,ImageId,FeatureName,Location", "1,%s,left_eye_center_x," % BIG])
    _write(os.path.join(root, "lookup_badcolumn.csv"), [
        "RowId,ImageId,Feature,Location", "1,1,left_eye_center_x,"])
    rows = [coords + "," + PIXELS] * 4
    _write(os.path.join(root, "badvalue", "training.csv"),
           [header] + rows[:2] + [coords.replace("40.0", "abc", 1) + ","
                                  + PIXELS] + rows[2:])
    _write(os.path.join(root, "badpixels", "training.csv"),
           [header] + rows[:3] + [coords + "," + PIXELS[:1000]])
    _write(os.path.join(root, "outside", "training.csv"),
           [header, coords.replace("40.0", "1e308", 1) + "," + PIXELS])


T = ["train", "--out", "{out}"]
S = ["search", "--out", "{out}", "--data-dir", "{data}"]
ROWS = [
    # -- kfkd train: every numeric option, checked as parsed ---------------
    ("train-batch-size-negative", T + ["--batch-size", "-4"],
     ["--batch-size", "-4"]),
    ("train-batch-size-zero", T + ["--batch-size", "0"], ["--batch-size", "0"]),
    ("train-batch-size-text", T + ["--batch-size", "many"],
     ["--batch-size", "many"]),
    ("train-limit-negative", T + ["--limit", "-190"], ["--limit", "-190"]),
    ("train-limit-zero", T + ["--limit", "0"], ["--limit", "0"]),
    ("train-limit-one-face", T + ["--limit", "1"], ["--limit", "1"]),
    ("train-epochs-zero", T + ["--epochs", "0"], ["--epochs", "0"]),
    ("train-epochs-negative", T + ["--epochs", "-1"], ["--epochs", "-1"]),
    ("train-max-minutes-negative", T + ["--max-minutes", "-1"],
     ["--max-minutes", "-1"]),
    ("train-lr-zero", T + ["--lr", "0"], ["--lr", "0"]),
    ("train-cosine-time-without-minutes", T + ["--lr-schedule",
                                               "cosine-time"],
     ["cosine-time", "max-minutes"]),
    # -- kfkd figures: lanes -------------------------------------------------
    ("figures-lane-not-k-of-n", ["figures", "--out", "{out}", "--lane", "2"],
     ["--lane", "'2'", "K/N"]),
    ("figures-lane-k-too-big", ["figures", "--out", "{out}", "--lane", "2/2"],
     ["--lane", "'2/2'", "0 to N-1"]),
    ("figures-lane-with-redraw", ["figures", "--out", "{out}", "--redraw",
                                  "--lane", "0/2"], ["--lane", "--redraw"]),
    ("figures-lane-with-draw-finished", ["figures", "--out", "{out}",
                                         "--draw-finished", "--lane", "0/2"],
     ["--lane", "--draw-finished"]),
    ("figures-seeds-zero", ["figures", "--out", "{out}", "--seeds", "0"],
     ["--seeds 0", "1 or more"]),
    ("train-resume-with-overwrite", T + ["--resume", "--overwrite"],
     ["--resume", "--overwrite"]),
    ("train-lr-negative", T + ["--lr", "-1"], ["--lr", "-1"]),
    ("train-lr-nan", T + ["--lr", "nan"], ["--lr", "nan"]),
    ("train-lr-end-negative", T + ["--lr-end", "-0.1"], ["--lr-end", "-0.1"]),
    ("train-momentum-one", T + ["--momentum", "1"], ["--momentum", "1"]),
    ("train-l2-negative", T + ["--l2=-1e-4"], ["--l2", "-1e-4"]),
    ("train-patience-negative", T + ["--patience", "-1"],
     ["--patience", "-1"]),
    ("train-seed-negative", T + ["--seed", "-1"], ["--seed", "-1"]),
    ("train-seed-beyond-32-bits", T + ["--seed", str(2 ** 32)],
     ["--seed", str(2 ** 32)]),
    ("train-scale-above-one", T + ["--scale", "1.5"], ["--scale", "1.5"]),
    ("train-rotation-huge", T + ["--rotation", "1e308"],
     ["--rotation", "1e308"]),
    ("train-rotation-nan", T + ["--rotation", "nan"], ["--rotation", "nan"]),
    ("train-rotation-inf", T + ["--rotation", "inf"], ["--rotation", "inf"]),
    ("train-shift-negative", T + ["--shift", "-3"], ["--shift", "-3"]),
    ("train-shift-huge", T + ["--shift", "1e9"], ["--shift", "1e9"]),
    ("train-brightness-negative", T + ["--brightness", "-0.1"],
     ["--brightness", "-0.1"]),
    ("train-contrast-above-one", T + ["--contrast", "2"], ["--contrast", "2"]),
    ("train-val-fraction-zero", T + ["--val-fraction", "0"],
     ["--val-fraction", "0"]),
    ("train-val-fraction-one", T + ["--val-fraction", "1"],
     ["--val-fraction", "1"]),
    ("train-val-fraction-above-one", T + ["--val-fraction", "1.5"],
     ["--val-fraction", "1.5"]),
    ("train-update-unknown", T + ["--update", "sgd"], ["--update", "sgd"]),
    ("train-unknown-option", T + ["--frobnicate"], ["--frobnicate"]),
    ("train-out-missing", ["train"], ["--out"]),
    ("train-out-is-a-file", ["train", "--out", "{file}"], ["--out", "{file}"]),
    # -- kfkd train: the net and its hyperparameters (kfkd.nets) -----------
    ("train-param-not-an-integer", T + ["--param", "depth=abc"],
     ["--param", "depth", "abc"]),
    ("train-param-unknown", T + ["--param", "unknown=1"],
     ["--param", "unknown"]),
    ("train-param-no-value", T + ["--param", "depth"], ["--param", "depth"]),
    ("train-net-unknown", T + ["--net", "foo"], ["--net", "foo"]),
    # -- kfkd search: the plain numeric options ----------------------------
    ("search-workers-zero", S + ["--workers", "0"], ["--workers", "0"]),
    ("search-workers-negative", S + ["--workers", "-1"], ["--workers", "-1"]),
    ("search-trials-negative", S + ["--trials", "-3"], ["--trials", "-3"]),
    ("search-trials-zero", S + ["--trials", "0"], ["--trials", "0"]),
    ("search-minutes-negative", S + ["--minutes-per-trial", "-5"],
     ["--minutes-per-trial", "-5"]),
    ("search-minutes-zero", S + ["--minutes-per-trial", "0"],
     ["--minutes-per-trial", "0"]),
    ("search-minutes-nan", S + ["--minutes-per-trial", "nan"],
     ["--minutes-per-trial", "nan"]),
    ("search-limit-negative", S + ["--limit", "-190"], ["--limit", "-190"]),
    ("search-seed-text", S + ["--seed", "x"], ["--seed", "x"]),
    ("search-out-is-a-file", ["search", "--out", "{file}"],
     ["--out", "{file}"]),
    ("plot-search-unknown-option", ["plot-search", "--out", "{out}",
                                    "--trials", "3"], ["--trials"]),
    # -- kfkd evaluate / predict / submit ----------------------------------
    ("evaluate-val-fraction-above-one", ["evaluate", "--val-fraction", "1.5"],
     ["--val-fraction", "1.5"]),
    ("evaluate-limit-negative", ["evaluate", "--limit", "-5"],
     ["--limit", "-5"]),
    ("predict-out-is-a-folder", ["predict", "--out", "{dir}"],
     ["--out", "{dir}", "folder"]),
    ("predict-out-in-missing-folder", ["predict", "--out", "{missing}"],
     ["--out", "{missing}"]),
    ("submit-out-is-a-folder", ["submit", "--out", "{dir}"],
     ["--out", "{dir}"]),
    ("submit-out-in-missing-folder", ["submit", "--out", "{missing}"],
     ["--out", "{missing}"]),
    # -- kfkd detect / video -----------------------------------------------
    ("detect-no-photo", ["detect", "--out", "{out}"], ["PHOTO"]),
    ("detect-out-is-a-file", ["detect", "{file}", "--out", "{file}"],
     ["--out", "{file}"]),
    ("video-out-unknown-format", ["video", "{file}", "--out", "{out}.mkv"],
     ["--out", ".mkv"]),
    ("video-out-is-a-folder", ["video", "{file}", "--out", "{dir}"],
     ["--out", "{dir}", "folder"]),
    ("video-out-in-missing-folder", ["video", "{file}", "--out",
                                     "{missing}.mp4"], ["--out", "{missing}"]),
    # -- malformed data files: DataError naming file, row and column -------
    ("test-csv-20-digit-image-id", ["predict", "--csv",
                                    "{data}/bigid/test.csv", "--out", "{csv}"],
     ["{data}/bigid/test.csv", "row 1", "ImageId", BIG]),
    ("lookup-20-digit-row-id", [
        "submit", "--test-csv", "{data}/test.csv", "--lookup",
        "{data}/lookup_bigrow.csv", "--out", "{csv}"],
     ["lookup_bigrow.csv", "row 2", "RowId", BIG]),
    ("lookup-20-digit-image-id", [
        "submit", "--test-csv", "{data}/test.csv", "--lookup",
        "{data}/lookup_bigimage.csv", "--out", "{csv}"],
     ["lookup_bigimage.csv", "row 1", "ImageId"]),
    ("lookup-bad-column", [
        "submit", "--test-csv", "{data}/test.csv", "--lookup",
        "{data}/lookup_badcolumn.csv", "--out", "{csv}"],
     ["lookup_badcolumn.csv", "FeatureName"]),
    ("training-csv-not-a-number", ["evaluate", "--data-dir",
                                   "{data}/badvalue"],
     ["badvalue/training.csv", "row 3", KAGGLE_COLUMNS[0], "abc"]),
    ("training-csv-truncated-row", ["train", "--out", "{out}", "--data-dir",
                                    "{data}/badpixels", "--epochs", "1"],
     ["badpixels/training.csv", "row 4", "Image"]),
    ("training-csv-coordinate-outside", ["evaluate", "--data-dir",
                                         "{data}/outside"],
     ["outside/training.csv", "row 1", KAGGLE_COLUMNS[0]]),
]


@pytest.mark.parametrize("argv,names", [pytest.param(a, n, id=i)
                                        for i, a, n in ROWS])
def test_bad_invocation_fails_in_one_line(kfkd_fails, tmp_path, argv, names):
    places = {"out": tmp_path / "out", "csv": tmp_path / "out.csv",
              "file": tmp_path / "existing.txt",
              "dir": tmp_path / "existing.avi",  # a folder
              "missing": tmp_path / "no_such_folder" / "out",
              "data": tmp_path / "data"}
    places["file"].write_text("an earlier result, to be kept\n")
    places["dir"].mkdir()
    (places["dir"] / "kept.txt").write_text("kept\n")
    _data_files(str(places["data"]))

    def fill(text):
        return text.format(**places)

    kfkd_fails([fill(a) for a in argv], names=[fill(n) for n in names],
               untouched=list(places.values())
               + [places["missing"].with_suffix(".mp4")])


def test_at_least_thirty_rows():
    assert len(ROWS) >= 30 and len({r[0] for r in ROWS}) == len(ROWS)


@pytest.mark.parametrize("text,value", [("1", 1), ("7", 7)])
def test_positive_int_accepts(text, value):
    assert in_range(int, 1)(text) == value


def test_in_range_bounds_are_exact():
    fraction = in_range(float, 0, 1, lo_open=True, hi_open=True)
    assert fraction("0.2") == 0.2 and fraction("1e-9") == 1e-9
    for text in ("0", "1", "-0.0", "nan", "inf"):
        with pytest.raises(Exception):
            fraction(text)
    degrees = in_range(float, 0, 180)
    assert degrees("0") == 0 and degrees("180") == 180


def test_help_still_works(capsys):
    from kfkd.cli import main
    with pytest.raises(SystemExit) as e:
        main(["--help"])
    assert e.value.code == 0
    assert "train" in capsys.readouterr().out

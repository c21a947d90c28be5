"""Bad model folders: one line naming the file and field, exit 2, nothing
written, the bad folder untouched (issue #10, defects 1, 4, 7, 8).

Each row corrupts, in ``tmp_path``, a copy of a single net's folder: the
shipped reference model's first net (the ``reference_net`` fixture;
``models/reference/member_0`` of the shipped ensemble); the ``ensemble_``
rows corrupt a copy of an ensemble's folder (the shipped model's, or, where
the shipped model is not an ensemble, one of its first net twice): its
``ensemble.json`` or a member inside it.  The reader
(:func:`kfkd.model.load_model`) must refuse it before any prediction is
written, and ``kfkd train --out`` must refuse an output folder it would
lose, before data loads or anything compiles.
"""
import json
import os
import shutil
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from conftest import REPO


def _spec(folder):
    return os.path.join(folder, "model.json"), os.path.join(folder,
                                                            "model.npz")


def _edit_spec(edit):
    def corrupt(folder):
        path, _ = _spec(folder)
        spec = json.load(open(path))
        edit(spec)
        json.dump(spec, open(path, "w"))
    return corrupt


def _write(name, text):
    def corrupt(folder):
        with open(os.path.join(folder, name), "w") as f:
            f.write(text)
    return corrupt


def _arrays(folder):
    with np.load(_spec(folder)[1], allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


def _edit_npz(edit, compressed=False):
    def corrupt(folder):
        arrays = _arrays(folder)
        edit(arrays)
        save = np.savez_compressed if compressed else np.savez
        with open(_spec(folder)[1], "wb") as f:
            save(f, **arrays)
    return corrupt


def _truncate(folder):
    path = _spec(folder)[1]
    data = open(path, "rb").read()
    open(path, "wb").write(data[:len(data) // 2])


def _flip_bytes(folder):
    """Corrupt data inside an array, sizes intact (CRC check fails)."""
    path = _spec(folder)[1]
    with zipfile.ZipFile(path) as z:
        info = z.getinfo("param_026.npy")
    data = bytearray(open(path, "rb").read())
    start = info.header_offset + 30 + len(info.filename) + 200
    data[start:start + 8] = b"\xff" * 8
    open(path, "wb").write(bytes(data))


def _set(key, value):
    return _edit_spec(lambda spec: spec.__setitem__(key, value))


def _drop(key):
    return _edit_spec(lambda spec: spec.pop(key))


def _remove(name):
    return lambda folder: os.unlink(os.path.join(folder, name))


def _nan(arrays):
    arrays["param_026"][3] = np.nan


def _inf(arrays):
    arrays["param_000"][0, 0, 0, 0] = np.inf


# (id, corrupt(folder), strings the error line must name)
BAD_FOLDERS = [
    ("json_truncated", lambda f: open(_spec(f)[0], "r+").truncate(100),
     ["model.json", "not valid JSON"]),
    ("json_a_list", _write("model.json", "[1, 2, 3]"),
     ["model.json", "JSON object", "list"]),
    ("json_not_utf8", lambda f: open(_spec(f)[0], "wb").write(b"\xff\xfe{"),
     ["model.json"]),
    ("json_missing", _remove("model.json"), ["model.json", "no such file"]),
    ("json_is_a_folder", lambda f: (os.unlink(_spec(f)[0]),
                                    os.mkdir(_spec(f)[0])),
     ["model.json"]),
    ("format_other", _set("format", "kfkd-model/99"),
     ["model.json", "'format'", "kfkd-model/99"]),
    ("net_params_missing", _drop("net_params"),
     ["model.json", "'net_params'", "missing"]),
    ("net_params_a_list", _set("net_params", [1]),
     ["model.json", "'net_params'", "an object"]),
    ("net_unknown", _set("net", "foo"), ["model.json", "'net'", "foo"]),
    ("net_a_number", _set("net", 5), ["model.json", "'net'", "5"]),
    ("net_param_wrong_type", _set("net_params", {"width": "abc"}),
     ["model.json", "'net_params'", "width", "abc"]),
    ("net_param_unknown", _set("net_params", {"colour": 1}),
     ["model.json", "'net_params'", "colour"]),
    ("net_param_out_of_range", _set("net_params", {"width": -3}),
     ["model.json", "width", "-3"]),
    ("columns_not_a_list", _set("keypoint_columns", "nose_tip_x"),
     ["model.json", "'keypoint_columns'"]),
    ("columns_empty", _set("keypoint_columns", []),
     ["model.json", "'keypoint_columns'"]),
    ("exposure_unknown", _set("preprocessing", {"exposure": "sepia"}),
     ["model.json", "'preprocessing'", "sepia"]),
    ("training_a_string", _set("training", "fast"),
     ["model.json", "'training'"]),
    ("npz_missing", _remove("model.npz"), ["model.npz", "no such file"]),
    ("npz_not_a_zip", _write("model.npz", "hello"),
     ["model.npz", "not a zip"]),
    ("npz_truncated", _truncate, ["model.npz"]),
    ("npz_corrupt_data", _flip_bytes, ["model.npz", "param_026"]),
    ("npz_wrong_shape", _edit_npz(lambda a: a.__setitem__(
        "param_003", np.zeros((7, 2), np.float32))),
     ["model.npz", "param_003", "(7, 2)"]),
    ("npz_missing_key", _edit_npz(lambda a: a.pop("param_026")),
     ["model.npz", "missing", "param_026"]),
    ("npz_extra_key", _edit_npz(lambda a: a.__setitem__(
        "param_999", np.zeros(1, np.float32))),
     ["model.npz", "unexpected", "param_999"]),
    ("npz_float64", _edit_npz(lambda a: a.__setitem__(
        "param_026", a["param_026"].astype(np.float64))),
     ["model.npz", "param_026", "float64"]),
    ("npz_nan_weights", _edit_npz(_nan),
     ["model.npz", "param_026", "non-finite"]),
    ("npz_inf_weights", _edit_npz(_inf),
     ["model.npz", "param_000", "non-finite"]),
    ("npz_pickled_object", _edit_npz(lambda a: a.__setitem__(
        "param_026", np.array([{"a": 1}], dtype=object))),
     ["model.npz", "param_026"]),
    ("history_not_csv", lambda f: open(os.path.join(f, "history.csv"),
                                       "wb").write(b"\x00\xff\xfe\"\n\"a"),
     ["history.csv"]),
    ("specialists_json_truncated", _write("specialists.json", '{"format'),
     ["specialists.json", "not valid JSON"]),
    ("specialists_group_escapes", _write("specialists.json", json.dumps({
        "format": "kfkd-specialists/1", "keypoint_columns": ["a_x", "a_y"],
        "groups": {"g": {"folder": "../..", "keypoint_columns": []}}})),
     ["specialists.json", "'g'", "folder"]),
]


def _in(member, corrupt):
    """``corrupt`` applied to an ensemble's member folder ``member``."""
    return lambda folder: corrupt(os.path.join(folder, member))


# (id, corrupt(ensemble folder), strings the error line must name): its own
# file and its members, through every command (tests/test_ensemble.py
# checks each field of ensemble.json, through evaluate)
BAD_ENSEMBLES = [
    ("ensemble_json_truncated", lambda f: open(os.path.join(
        f, "ensemble.json"), "r+").truncate(30),
     ["ensemble.json", "not valid JSON"]),
    ("ensemble_json_missing_member", lambda f: shutil.rmtree(os.path.join(
        f, "member_1")),
     ["ensemble.json", "member 1", "member_1", "does not exist"]),
    ("ensemble_member_net_unknown", _in("member_0", _set("net", "foo")),
     ["member_0", "model.json", "'net'", "foo"]),
    ("ensemble_member_npz_missing", _in("member_1", _remove("model.npz")),
     ["member_1", "model.npz", "no such file"]),
    ("ensemble_member_inf_weights", _in("member_1", _edit_npz(_inf)),
     ["member_1", "model.npz", "param_000", "non-finite"]),
]


@pytest.fixture
def net_folder(reference_net):
    """The folder of the shipped model's first single net (a model.json and
    model.npz): never modified, copied to be corrupted."""
    return reference_net.folder


@pytest.fixture(scope="module")
def ensemble_folder(reference_model, reference_net, tmp_path_factory):
    """The shipped model's folder if it is an ensemble, else an ensemble of
    its first net twice saved in a temporary folder: never modified."""
    from kfkd.ensemble import EnsembleModel
    if isinstance(reference_model, EnsembleModel):
        return reference_model.folder
    return EnsembleModel([reference_net, reference_net]).save(
        str(tmp_path_factory.mktemp("ensemble") / "ensemble"))


@pytest.fixture
def bad_folder(tmp_path, request):
    """``bad_folder(corrupt, kind='net')``: a corrupted copy of the single
    net's folder (``net``) or of the ensemble's (``ensemble``)."""
    def make(corrupt, kind="net"):
        folder = str(tmp_path / "bad")
        shutil.copytree(request.getfixturevalue(kind + "_folder"), folder)
        corrupt(folder)
        return folder
    return make


@pytest.mark.parametrize("command", ["evaluate", "predict", "submit"])
@pytest.mark.parametrize(
    "kind, corrupt, names",
    [pytest.param("net", c, n, id=i) for i, c, n in BAD_FOLDERS]
    + [pytest.param("ensemble", c, n, id=i) for i, c, n in BAD_ENSEMBLES])
def test_bad_model_folder(command, kind, corrupt, names, bad_folder,
                          tmp_path, tiny_data, kfkd_fails):
    folder = bad_folder(corrupt, kind)
    out = tmp_path / "out.csv"
    argv = [command, "--model", folder, "--data-dir", tiny_data]
    if command in ("predict", "submit"):
        argv += ["--out", out]
    kfkd_fails(argv, names=names, untouched=[folder, out])


def test_no_such_model_folder(tmp_path, kfkd_fails):
    out = tmp_path / "p.csv"
    kfkd_fails(["predict", "--model", tmp_path / "nowhere", "--out", out],
               names=["nowhere", "no such model folder"], untouched=[out])


# -- kfkd train --out: refused before data loads or anything compiles ----------
def _train(out, *extra):
    return ["train", "--net", "net1", "--epochs", 1, "--limit", 60,
            "--out", out] + list(extra)


@pytest.mark.parametrize("make, names", [
    pytest.param(lambda p, folder: shutil.copytree(folder("net"), p),
                 ["--out", "holds a model", "model.json", "--overwrite"],
                 id="holds_a_model"),
    pytest.param(lambda p, folder: shutil.copytree(folder("ensemble"), p),
                 ["--out", "holds a model", "ensemble.json", "--overwrite"],
                 id="holds_an_ensemble"),
    pytest.param(lambda p, folder: (os.mkdir(p), open(os.path.join(
        p, "notes.txt"), "w").write("mine")),
                 ["--out", "is not empty", "notes.txt"], id="unrelated_file"),
    pytest.param(lambda p, folder: open(p, "w").write("a file"),
                 ["--out", "is a file"], id="a_regular_file"),
    pytest.param(lambda p, folder: (os.rmdir(os.path.dirname(p)), open(
        os.path.dirname(p), "w").write("a file")),
                 ["--out", "is a file, not a folder"], id="parent_a_file"),
])
def test_train_refuses_out(make, names, tmp_path, kfkd_fails, request):
    out = str(tmp_path / "parent" / "model")
    os.makedirs(os.path.dirname(out))
    make(out, lambda kind: request.getfixturevalue(kind + "_folder"))
    # before data loads: a data folder that does not exist is never reached
    kfkd_fails(_train(out, "--data-dir", tmp_path / "no-data"), names=names,
               untouched=[str(tmp_path / "parent")])


@pytest.mark.parametrize("make, out, names", [
    pytest.param(lambda root: os.makedirs(root / "m" / "photos"), "m",
                 ["--out", "holds the folder photos, not a model"],
                 id="overwrite_foreign_subfolder"),
    pytest.param(lambda root: None, ".",
                 ["--out .", "current folder"], id="overwrite_current_folder"),
])
def test_train_overwrite_never_replaces_more_than_a_model(
        make, out, names, tmp_path, kfkd_fails, monkeypatch):
    monkeypatch.chdir(tmp_path)
    make(tmp_path)
    kfkd_fails(_train(out, "--overwrite", "--data-dir", tmp_path / "no-data"),
               names=names, untouched=[str(tmp_path)])


@pytest.mark.parametrize("kind", ["net", "ensemble"])
def test_train_overwrite_skips_the_check(kind, tmp_path, kfkd_fails,
                                         request):
    """--overwrite passes the output check over a single net's folder or an
    ensemble's (its members' sub-folders are models): the next error is
    the data's."""
    out = str(tmp_path / "model")
    shutil.copytree(request.getfixturevalue(kind + "_folder"), out)
    kfkd_fails(_train(out, "--overwrite", "--data-dir", tmp_path / "no-data"),
               names=["no-data"], untouched=[out])


# -- defect 8: a small file holding a huge array is refused unread -------------
BIG = """
import resource, sys
from kfkd.errors import ModelError
from kfkd.model import load_model
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    load_model(sys.argv[1])
except ModelError as e:
    print(e)
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)
"""


def test_compressed_huge_array_is_refused_before_allocating(bad_folder):
    def huge(arrays):  # 1 GiB of zeros, a few MB compressed
        arrays["param_000"] = np.zeros((16384, 16384), np.float32)
    folder = bad_folder(_edit_npz(huge, compressed=True))
    assert os.path.getsize(os.path.join(folder, "model.npz")) < 20e6
    out = subprocess.run([sys.executable, "-c", BIG, folder],
                         env=dict(os.environ, PYTHONPATH=REPO),
                         capture_output=True, text=True, timeout=300)
    message, grown_mb = out.stdout.strip().splitlines()
    assert "model.npz" in message and "param_000" in message
    assert "(16384, 16384)" in message
    assert int(grown_mb) < 200, "loading grew memory by %s MB" % grown_mb


# -- defect 4: finite weights whose predictions overflow -----------------------
@pytest.mark.parametrize("kind, member", [("net", None),
                                          ("ensemble", "member_0")])
@pytest.mark.parametrize("command", ["evaluate", "predict", "submit"])
def test_non_finite_predictions_are_refused(command, kind, member,
                                            bad_folder, tmp_path, tiny_data,
                                            kfkd_fails):
    """An output bias of 3e38 (finite) puts keypoints at 48 * 3e38 = inf
    pixels: every command refuses, before writing anything; in an
    ensemble, one such member is enough, and the line names it."""
    def overflow(arrays):
        arrays["param_026"][:] = 3e38
    corrupt = _edit_npz(overflow)
    folder = bad_folder(_in(member, corrupt) if member else corrupt, kind)
    out = tmp_path / "out.csv"
    argv = [command, "--model", folder, "--data-dir", tiny_data]
    if command != "evaluate":
        argv += ["--out", out]
    kfkd_fails(argv, names=[os.path.join(folder, member) if member
                            else folder, "non-finite keypoints"],
               untouched=[folder, out])

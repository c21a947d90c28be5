"""The ensemble model type (:mod:`kfkd.ensemble`, ``kfkd ensemble``).

Two members without training: the shipped model's first net and the same
folder loaded again with every weight scaled by a seeded factor in
[0.97, 1.03] (``lasagne.layers.set_all_param_values``), saved in a
temporary folder; both record the shipped model's grouped split.  One
``kfkd ensemble`` run on the real data (632 validation faces, two
members); every other use of the ensemble (evaluate, predict, submit,
occlusion maps, the photo pipeline, the figures' architecture) runs on a
few faces.
"""
import json
import os
import shutil

import numpy as np
import pytest

#: Real faces the predictions are compared on.
FACES = 16


# -- members and an ensemble folder, made once --------------------------------
@pytest.fixture(scope="module")
def members(reference_net, tmp_path_factory):
    """(first, second): the shipped model's first net and its perturbed
    copy, loaded back from its saved folder (``folder`` set)."""
    import lasagne
    from kfkd.model import load_model

    copy = load_model(reference_net.folder)
    rng = np.random.RandomState(0)
    lasagne.layers.set_all_param_values(copy.layer, [
        (v * rng.uniform(0.97, 1.03, v.shape)).astype(v.dtype)
        for v in lasagne.layers.get_all_param_values(copy.layer)])
    folder = str(tmp_path_factory.mktemp("members") / "perturbed")
    copy.save(folder)
    return reference_net, load_model(folder)


@pytest.fixture(scope="module")
def ensemble(members):
    from kfkd.ensemble import EnsembleModel
    return EnsembleModel(members)


@pytest.fixture(scope="module")
def ensemble_folder(ensemble, tmp_path_factory):
    """The ensemble saved (no metrics): a folder never modified by tests
    (copy it to corrupt it)."""
    return ensemble.save(str(tmp_path_factory.mktemp("saved") / "ensemble"))


@pytest.fixture(scope="module")
def faces(training_data):
    return training_data.images[:FACES]


def _tiny_net(columns):
    """An untrained net1 of 8 hidden units for ``columns`` (built, never
    compiled: for saving, loading and ``single_nets``)."""
    from kfkd.keypoints import KeypointSchema
    from kfkd.model import Model
    return Model("net1", {"hidden": 8}, KeypointSchema(columns))


def _specialists(schema):
    """Nouri's six groups, each an untrained tiny net1."""
    from kfkd.groups import SPECIALIST_GROUPS, SpecialistModel, group_schema
    return SpecialistModel([
        (g, _tiny_net(group_schema(names).columns))
        for g, names in SPECIALIST_GROUPS], schema)


# -- the model ----------------------------------------------------------------
def test_prediction_is_the_members_mean(ensemble, members, faces):
    first, second = (m.predict(faces) for m in members)
    assert np.abs(first - second).max() > 0.05  # two different members
    got = ensemble.predict(faces)
    assert got.dtype == np.float32 and got.shape == (FACES, 30)
    np.testing.assert_allclose(got, (first.astype(np.float64) + second) / 2,
                               rtol=0, atol=1e-4)
    np.testing.assert_allclose(ensemble.predict(faces, batch_size=5), got,
                               rtol=0, atol=1e-5)


def test_flip_tta_of_an_ensemble_is_the_mean_of_the_members(ensemble,
                                                             members, faces):
    from kfkd.predictor import with_tta
    from kfkd.model import single_nets
    flipped = with_tta(ensemble, "flip")
    want = np.mean([with_tta(m, "flip").predict(faces) for m in members], 0)
    np.testing.assert_allclose(flipped.predict(faces), want, rtol=0,
                               atol=1e-4)
    assert flipped.training == ensemble.training
    assert single_nets(flipped) == list(members)


def test_save_and_load_round_trip(ensemble, ensemble_folder, members, faces,
                                  reference_net):
    from kfkd.ensemble import FORMAT, EnsembleModel
    from kfkd.model import Model, load_model
    assert sorted(os.listdir(ensemble_folder)) == [
        "ensemble.json", "member_0", "member_1"]
    spec = json.load(open(os.path.join(ensemble_folder, "ensemble.json")))
    assert spec["format"] == FORMAT
    assert spec["keypoint_columns"] == list(reference_net.schema.columns)
    assert spec["members"] == [
        {"folder": "member_%d" % k, "source": m.folder, "net": m.net}
        for k, m in enumerate(members)]
    assert spec["training"] == {"combination": "mean", "split":
                                reference_net.training["split"]}
    loaded = load_model(ensemble_folder)
    assert isinstance(loaded, EnsembleModel)
    assert loaded.folder == os.path.abspath(ensemble_folder)
    assert [type(m) for m in loaded.members] == [Model, Model]
    assert [m.folder for m in loaded.members] == [
        os.path.join(loaded.folder, "member_%d" % k) for k in range(2)]
    assert loaded.describe() == ensemble.describe()
    np.testing.assert_allclose(loaded.predict(faces), ensemble.predict(faces),
                               rtol=0, atol=1e-5)


def test_single_nets_and_labels(ensemble, members, reference_net, tmp_path):
    from kfkd.ensemble import EnsembleModel
    from kfkd.fileio import check_output_folder
    from kfkd.groups import SpecialistModel
    from kfkd.model import load_model, net_label, single_nets
    assert single_nets(reference_net) == [reference_net]
    assert single_nets(ensemble) == list(members)
    assert net_label(ensemble) == "ensemble of heatmap + heatmap"
    specialists = _specialists(reference_net.schema)
    assert single_nets(specialists) == list(
        specialists.specialists.values())
    assert net_label(specialists) == "6 specialists (net1)"
    mixed = EnsembleModel([specialists, reference_net])
    assert len(single_nets(mixed)) == 7
    assert single_nets(mixed)[-1] is reference_net
    assert net_label(mixed) == "ensemble of 6 specialists (net1) + heatmap"
    # a specialist member is a specialist folder inside the ensemble's
    folder = mixed.save(str(tmp_path / "mixed"))
    assert os.path.isfile(os.path.join(folder, "member_0",
                                       "specialists.json"))
    loaded = load_model(folder)
    assert isinstance(loaded.members[0], SpecialistModel)
    assert [m.net for m in single_nets(loaded)] == ["net1"] * 6 + ["heatmap"]
    check_output_folder(folder, overwrite=True)  # replaceable whole
    with pytest.raises(Exception, match="holds a model.*ensemble.json"):
        check_output_folder(folder)
    with pytest.raises(TypeError):
        single_nets(object())


def test_the_model_refuses_bad_members(members, ensemble):
    from kfkd.ensemble import EnsembleModel
    with pytest.raises(ValueError, match="at least 2 members, got 1"):
        EnsembleModel(members[:1])
    with pytest.raises(ValueError, match="same keypoint columns"):
        EnsembleModel([members[0], _tiny_net(["nose_tip_x", "nose_tip_y"])])
    with pytest.raises(ValueError, match="itself an ensemble"):
        EnsembleModel([members[0], ensemble])


def test_architecture_draws_the_first_net(ensemble, tmp_path):
    from kfkd.report.groups.architecture import architecture
    info = architecture(str(tmp_path), model=ensemble)["layers"]
    assert info["net"] == "heatmap" and info["n_nets"] == 2
    assert info["model_kind"] == "ensemble of heatmap + heatmap"
    assert sum(l["n_params"] for l in info["layers"]) == \
        ensemble.members[0].describe()["n_params"]


# -- every command takes an ensemble ------------------------------------------
def test_evaluate_predict_submit_take_an_ensemble(
        ensemble_folder, ensemble, tiny_data, first_faces_split, monkeypatch,
        tmp_path, capsys):
    from kfkd import cli
    from kfkd.data import load_test
    calls, val = [], first_faces_split(60)[1]

    def load_split(**kwargs):
        calls.append(kwargs)
        return None, val
    monkeypatch.setattr("kfkd.cli.load_split", load_split)
    assert cli.main(["evaluate", "--model", ensemble_folder,
                     "--tta", "flip"]) == 0
    assert calls[0]["method"] == "grouped"  # the members' split
    assert "flip test-time augmentation" in capsys.readouterr().out
    out = str(tmp_path / "preds.csv")
    assert cli.main(["predict", "--model", ensemble_folder, "--csv",
                     os.path.join(tiny_data, "test.csv"), "--out", out]) == 0
    written = np.loadtxt(out, delimiter=",", skiprows=1)[:, 1:]
    test = load_test(os.path.join(tiny_data, "test.csv"), verbose=False)
    np.testing.assert_allclose(written, ensemble.predict(test.images),
                               atol=1e-3)
    assert cli.main(["submit", "--model", ensemble_folder, "--data-dir",
                     tiny_data, "--out", str(tmp_path / "sub.csv")]) == 0


def test_occlusion_and_pipeline_take_an_ensemble(ensemble, faces, tmp_path):
    import cv2
    from kfkd.occlusion.maps import occlusion_maps
    from kfkd.pipeline import KeypointPipeline
    maps = occlusion_maps(ensemble, faces[:1], patch=24, stride=24)
    assert np.isfinite(np.asarray(maps.displacement)).all()
    photo = cv2.imread(os.path.join(os.environ["KFKD_DATA_DIR"], "..",
                                    "photos", "biden.jpg"))
    found = KeypointPipeline(ensemble).candidates(photo)
    assert found and found[0].keypoints.shape == (15, 2)


# -- kfkd ensemble, end to end on the real data -------------------------------
def test_kfkd_ensemble_end_to_end(members, data_dir, tmp_path, capsys):
    from kfkd import cli
    from kfkd.ensemble import EnsembleModel
    from kfkd.model import load_model
    out = str(tmp_path / "ens")
    sources = [m.folder for m in members]
    assert cli.main(["ensemble"] + sources + ["--out", out, "--data-dir",
                                              data_dir]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("member 0 %s (heatmap): validation RMSE"
                               % sources[0])
    assert lines[2].startswith("ensemble of heatmap + heatmap: validation "
                               "RMSE")
    assert "632 faces, grouped split" in lines[2]
    metrics = json.load(open(os.path.join(out, "metrics.json")))
    assert metrics["n_faces"] == 632
    assert [m["folder"] for m in metrics["members"]] == sources
    rmses = [m["val_rmse_px"] for m in metrics["members"]]
    # the member as shipped scores what its training recorded
    recorded = json.load(open(os.path.join(sources[0], "metrics.json")))
    assert rmses[0] == pytest.approx(recorded["val_rmse_px"], rel=1e-3)
    # the RMSE of a mean is at most the mean of the RMSEs (a norm)
    assert metrics["val_rmse_px"] <= np.mean(rmses) + 1e-6
    for k in range(2):
        member = json.load(open(os.path.join(out, "member_%d" % k,
                                             "metrics.json")))
        own = os.path.join(sources[k], "metrics.json")
        if os.path.isfile(own):  # its training record travels with it
            assert member == dict(json.load(open(own)), ensemble_measured=(
                metrics["members"][k]))
        else:
            assert member == metrics["members"][k]
        assert metrics["members"][k]["val_rmse_px"] == rmses[k]
    assert "best_epoch" in json.load(open(os.path.join(
        out, "member_0", "metrics.json")))
    model = load_model(out)
    assert isinstance(model, EnsembleModel)
    assert model.training["split"]["method"] == "grouped"
    assert model.sources == sources


# -- bad inputs: one line, exit 2, nothing written ----------------------------
def _other_split(folder):
    path = os.path.join(folder, "model.json")
    spec = json.load(open(path))
    spec["training"]["split"]["method"] = "random"
    json.dump(spec, open(path, "w"))


@pytest.mark.parametrize("make, names", [
    pytest.param(lambda a, b, ens, t: ([a], []),
                 ["at least 2 model folders", "got 1"], id="one_member"),
    pytest.param(lambda a, b, ens, t: ([a, a], []),
                 ["given twice"], id="same_member_twice"),
    pytest.param(lambda a, b, ens, t: ([a, os.path.join(t, "nowhere")], []),
                 ["nowhere", "no such folder"], id="missing_member"),
    pytest.param(lambda a, b, ens, t: (os.mkdir(os.path.join(t, "empty")),
                                       [a, os.path.join(t, "empty")], [])[1:],
                 ["empty", "holds no model"], id="member_not_a_model"),
    pytest.param(lambda a, b, ens, t: ([a, ens], []),
                 ["is an ensemble", "members' folders"],
                 id="member_an_ensemble"),
    pytest.param(lambda a, b, ens, t: ([a, b], ["--out", ens]),
                 ["--out", "holds a model", "ensemble.json", "--overwrite"],
                 id="out_holds_a_model"),
    pytest.param(lambda a, b, ens, t: ([a, b], ["--out", b, "--overwrite"]),
                 ["--out", "member model folder"], id="out_is_a_member"),
    pytest.param(lambda a, b, ens, t: ([a, b], ["--out", os.path.dirname(
        b), "--overwrite"]), ["--out", "holds) the member"],
                 id="out_holds_a_member"),
    pytest.param(lambda a, b, ens, t: (shutil.copytree(b, os.path.join(
        t, "random")), _other_split(os.path.join(t, "random")),
        [a, os.path.join(t, "random")], [])[2:],
                 ["different splits", "random", "honest"],
                 id="members_on_different_splits"),
    pytest.param(lambda a, b, ens, t: ([a, b], ["--split", "random"]),
                 ["--split random", "grouped split"],
                 id="split_option_not_the_members"),
])
def test_kfkd_ensemble_refuses(make, names, members, ensemble_folder,
                               tmp_path, kfkd_fails):
    a, b = (m.folder for m in members)
    models, extra = make(a, b, ensemble_folder, str(tmp_path))
    if "--out" not in extra:
        extra = extra + ["--out", str(tmp_path / "out")]
    out = extra[extra.index("--out") + 1]
    # before data loads: a data folder that does not exist is never reached
    line = kfkd_fails(["ensemble"] + models + extra + [
        "--data-dir", tmp_path / "no-data"], names=names,
        untouched=[out, a, b])
    if "different splits" in line:  # names both member folders
        assert a in line and models[1] in line


def _edit_json(edit):
    def corrupt(folder):
        path = os.path.join(folder, "ensemble.json")
        spec = json.load(open(path))
        edit(spec)
        json.dump(spec, open(path, "w"))
    return corrupt


def _other_columns(folder):
    shutil.rmtree(os.path.join(folder, "member_1"))
    _tiny_net(["nose_tip_x", "nose_tip_y", "mouth_center_bottom_lip_x",
               "mouth_center_bottom_lip_y"]).save(os.path.join(folder,
                                                               "member_1"))


def _nested(folder):
    shutil.rmtree(os.path.join(folder, "member_1"))
    shutil.copytree(folder, os.path.join(folder + ".copy"))
    shutil.move(folder + ".copy", os.path.join(folder, "member_1"))


# (id, corrupt(folder), strings the error line must name)
BAD_ENSEMBLES = [
    ("json_truncated", lambda f: open(os.path.join(f, "ensemble.json"),
                                      "r+").truncate(30),
     ["ensemble.json", "not valid JSON"]),
    ("format_other", _edit_json(lambda s: s.update(format="kfkd-ensemble/9")),
     ["ensemble.json", "'format'", "kfkd-ensemble/9"]),
    ("columns_missing", _edit_json(lambda s: s.pop("keypoint_columns")),
     ["ensemble.json", "'keypoint_columns'"]),
    ("members_not_a_list", _edit_json(lambda s: s.update(members="m")),
     ["ensemble.json", "'members'", "at least 2"]),
    ("one_member", _edit_json(lambda s: s.update(members=s["members"][:1])),
     ["ensemble.json", "'members'", "at least 2", "got 1"]),
    ("folder_escapes", _edit_json(lambda s: s["members"][1].update(
        folder="../member_0")), ["ensemble.json", "member 1", "'folder'"]),
    ("folder_twice", _edit_json(lambda s: s["members"][1].update(
        folder="member_0")), ["ensemble.json", "member 1", "twice"]),
    ("member_folder_missing", lambda f: shutil.rmtree(os.path.join(
        f, "member_1")),
     ["ensemble.json", "member 1", "member_1", "does not exist"]),
    ("member_other_columns", _other_columns,
     ["ensemble.json", "member_1", "predicts 4 columns",
      "'keypoint_columns'"]),
    ("member_malformed", lambda f: open(os.path.join(
        f, "member_1", "model.json"), "r+").truncate(50),
     ["member_1", "model.json", "not valid JSON"]),
    ("member_an_ensemble", _nested,
     ["ensemble.json", "member_1", "is an ensemble"]),
]


@pytest.mark.parametrize("corrupt, names",
                         [pytest.param(c, n, id=i) for i, c, n in
                          BAD_ENSEMBLES])
def test_bad_ensemble_folder(corrupt, names, ensemble_folder, tmp_path,
                             kfkd_fails):
    folder = str(tmp_path / "bad")
    shutil.copytree(ensemble_folder, folder)
    corrupt(folder)
    kfkd_fails(["evaluate", "--model", folder, "--data-dir",
                tmp_path / "no-data"], names=names, untouched=[folder])


def test_training_from_an_ensemble_names_its_members(ensemble_folder,
                                                     tmp_path, kfkd_fails,
                                                     capsys):
    """``kfkd train --config`` and ``experiments/train_reference.py
    --config``/``--from`` take a single net's folder: an ensemble's (the
    shipped models/reference) is refused, in one line naming its members'
    folders, before data loads; a member's folder is a config."""
    from kfkd import recipe
    from kfkd.config import read_flat
    members = [os.path.join(ensemble_folder, "member_%d" % k)
               for k in range(2)]
    kfkd_fails(["train", "--config", ensemble_folder, "--out",
                tmp_path / "out", "--data-dir", tmp_path / "no-data"],
               names=["--config %s" % ensemble_folder, "is an ensemble"]
               + ["%s (heatmap)" % m for m in members],
               untouched=[tmp_path / "out", ensemble_folder])
    assert read_flat(members[1])["net"] == "heatmap"
    for argv in (["--stage", "base", "--config", ensemble_folder],
                 ["--stage", "continue", "--from", ensemble_folder]):
        capsys.readouterr()
        assert recipe.main(argv + ["--out", str(tmp_path / "out"),
                                   "--data-dir", str(tmp_path / "no-data")]
                           ) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1, err
        assert err.startswith("train_reference: error: %s %s: " % (
            argv[2], ensemble_folder)), err
        assert all(m in err for m in members), err
    assert not os.path.exists(str(tmp_path / "out"))

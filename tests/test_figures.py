"""kfkd.report: every figure group on the real data with the smoke budget,
its saved data, and redrawing from that data alone."""
import glob
import json
import os
import shlex

import numpy as np
import pandas as pd
import pytest

from kfkd import report
from kfkd.report import GROUPS, runs, store
from kfkd.report.groups import ablations

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

#: Data files each group must write beside its figures (relative to out).
DATA = {
    "samples": ["samples/samples.npz", "samples/labels.json"],
    "augment": ["augment/augment.npz", "augment/augment.json",
                "augment/exposure.npz"],
    "training": ["training/summary.csv", "training/budget.json",
                 "training.md"],
    "ablations": ["ablations/summary.csv", "ablations/spread.csv",
                  "ablations.csv", "ablations.md"],
    "depth": ["depth/summary.csv", "depth/spread.csv", "depth/budget.json",
              "depth.md"],
    "search": ["search/results.csv", "search/study.json", "search.md",
               "search/long/results.csv", "search/long/study.json",
               "search_long.md"],
    "architecture": ["architecture/layers.json"],
    "predictions": ["predictions/metrics.json", "predictions/per_face.csv",
                    "predictions/best_worst.npz"],
    "occlusion": ["occlusion/occlusion_edge_free.npz",
                  "occlusion/occlusion_edge_free.json"] + [
        "occlusion/compare_%s.npz" % c for c in
        ("black", "grey", "noise", "blur", "edge_free")] + [
        "occlusion/matched.json", "occlusion/edge_energy.md",
        "occlusion/matched_grey.npz", "occlusion/matched_edge_free.npz"],
    "split": ["split/groups.npz", "split/groups.json"],
}
FIGURES = {
    "samples": ["samples/sample_faces", "samples/label_counts"],
    "augment": ["augment/augmentation", "augment/exposure"],
    "training": ["training/training_curves"],
    "ablations": ["ablations/ablation_curves"],
    "depth": ["depth/depth_study"],
    "search": ["search/importances",       # + surfaces_<x>_<y>: see below
               "search/long/importances"],
    "architecture": ["architecture/architecture"],
    "predictions": ["predictions/best_worst", "predictions/per_keypoint"],
    "occlusion": ["occlusion/overview_edge_free", "occlusion/compare_censors",
                  "occlusion/face0_edge_free", "occlusion/face1_edge_free"],
    "split": ["split/groups", "split/nearest"],
}


@pytest.fixture(scope="module")
def made(smoke_figures):
    """All groups with the smoke budget (conftest's session fixture, shared
    with tests/test_notebooks.py); (out folder, manifest, PNG bytes)."""
    return smoke_figures


def test_budget_presets():
    assert set(report.BUDGETS) == {"smoke", "quick", "full"}
    for b in report.BUDGETS.values():
        json.dumps(b.to_dict())
        # a stride larger than the 12 px patch would leave pixels uncovered
        assert b.occlusion_stride <= 12 and b.compare_stride <= 12
        assert set(b.nets) <= {"net1", "net2", "net6", "breeze", "heatmap"}
        assert set(b.nets) <= set(runs.NET_TRAIN_ARGS)
    quick, full = report.BUDGETS["quick"], report.BUDGETS["full"]
    assert quick.nets == ("net1", "net2", "net6", "breeze")
    assert full.nets == quick.nets + ("heatmap",)
    assert quick.net_minutes < full.net_minutes
    # the real budgets of issue #15: 3 seeds, depth 2-6 at >= 15 minutes on
    # all faces, occlusion at stride 2 on >= 16 faces, censors on >= 8
    assert full.seeds >= 3 and full.limit is None
    assert full.depths == (2, 3, 4, 5, 6) and full.ablation_minutes >= 15
    assert full.occlusion_stride == 2 and full.occlusion_faces >= 16
    assert full.compare_faces >= 8
    # the search: the main job's default study and one of >= 100 trials
    assert (full.search_space, full.search_trials) == ("default", 40)
    assert full.search_long[1] >= 100
    assert report.get_budget(quick) is quick
    with pytest.raises(ValueError, match="unknown budget"):
        report.get_budget("huge")
    with pytest.raises(ValueError, match="unknown figure group"):
        report.reproduce("/nonexistent", "smoke", ["samples", "movies"])


def test_breeze_depth_matches_the_net():
    """The depth study names breeze's default depth without importing the
    nets (redrawing must not import Theano)."""
    from kfkd import nets
    from kfkd.report.groups import depth
    assert depth.BREEZE_DEPTH == nets.default_params("breeze")["depth"]


def test_every_group_writes_figures_and_data(made):
    out, manifest, _ = made
    assert list(manifest["groups"]) == list(GROUPS)
    for group in GROUPS:
        written = set(manifest["groups"][group]["written"])
        for rel in DATA[group]:
            assert rel in written and os.path.getsize(
                os.path.join(out, rel)) > 0, rel
        for prefix in FIGURES[group]:
            for ext in ("png", "pdf"):
                assert "%s.%s" % (prefix, ext) in written
        assert manifest["groups"][group]["budget"] == "smoke"
    assert json.load(open(os.path.join(out, "manifest.json"))) == manifest
    # .npz files are readable without pickle
    for path in glob.glob(os.path.join(out, "**", "*.npz"), recursive=True):
        with np.load(path, allow_pickle=False) as z:
            assert z.files


def test_split_data(made, split):
    """The groups behind the default split: every face in one, the example
    groups' faces on one side, validation faces less alike to training
    than with a random split."""
    out = made[0]
    train, val = split
    summary = json.load(open(os.path.join(out, "split", "groups.json")))
    assert summary["n_faces"] == len(train) + len(val) == 3146
    assert summary["n_val"] == len(val) and summary["split"] == val.split
    sizes = {int(k): v for k, v in summary["group_sizes"].items()}
    assert sum(k * v for k, v in sizes.items()) == 3146
    assert sum(sizes.values()) == summary["n_groups"]
    # the leak the grouped split removes, counted both ways
    assert summary["n_val_in_random_train"] > len(val) / 2
    assert summary["n_random_val_in_train"] > len(val) / 2
    with np.load(os.path.join(out, "split", "groups.npz")) as z:
        group, side = z["group"], z["validation"]
        assert z["sizes"].sum() == 3146
    for g in summary["examples"]:
        assert len(set(side[group == g])) == 1  # no group on both sides
    median = summary["median_nearest_correlation"]
    assert (median["grouped split: validation"]
            < median["random split: validation"])


def test_samples_data(made, split):
    out = made[0]
    train, val = split
    with np.load(os.path.join(out, "samples", "samples.npz")) as z:
        kind, kp, index = z["kind"], z["keypoints"], z["index"]
        np.testing.assert_array_equal(z["images"], train.images[index])
    np.testing.assert_array_equal(kp, train.keypoints[index])
    assert np.isfinite(kp[kind == "full"]).all()
    partial = kp[kind == "partial"]
    assert np.isnan(partial).any(axis=1).all()
    assert np.isfinite(partial).any(axis=1).all()
    labels = json.load(open(os.path.join(out, "samples", "labels.json")))
    both = np.isfinite(np.concatenate([train.keypoints, val.keypoints]))
    assert labels["n_faces"] == len(both) == 3146
    assert labels["n_fully_labelled"] == int(both.all(axis=1).sum())
    assert (labels["n_fully_labelled"] + labels["n_partly_labelled"]
            == int(both.any(axis=1).sum()))
    counts = labels["labelled_faces_per_keypoint"]
    assert counts["left_eye_center"] == int(both[:, 0].sum())


def test_augmentation_data_moves_keypoints_with_the_face(made):
    from kfkd.augment import equalize_exposure, flip_horizontal
    out = made[0]
    with np.load(os.path.join(out, "augment", "augment.npz")) as z:
        titles, images, kp = list(z["titles"]), z["images"], z["keypoints"]
    assert titles[:2] == ["original", "flip"] and len(titles) == 12
    flipped, moved = flip_horizontal(images[:1], kp[:1])
    np.testing.assert_allclose(images[1], flipped[0], atol=1e-6)
    np.testing.assert_allclose(kp[1], moved[0], atol=1e-5)
    # a rotation about the frame centre keeps every keypoint's distance to it
    rot = titles.index("rotation +10 deg")
    r0 = np.hypot(kp[0, 0::2] - 48, kp[0, 1::2] - 48)
    r1 = np.hypot(kp[rot, 0::2] - 48, kp[rot, 1::2] - 48)
    np.testing.assert_allclose(r0, r1, atol=1e-3)
    assert not np.allclose(kp[rot], kp[0])
    with np.load(os.path.join(out, "augment", "exposure.npz")) as e:
        np.testing.assert_array_equal(e["clahe"], equalize_exposure(
            e["original"], "clahe"))
        assert (e["white_share"][:-1] >= e["white_share"][1:]).all()
        assert e["white_share"][0] > 0.2      # really over-exposed faces


def _check_runs(summary, folder, names, limit):
    from kfkd import cli
    assert list(summary.name) == list(names)
    for _, row in summary.iterrows():
        history = pd.read_csv(os.path.join(
            folder, "%s.history.csv" % runs.run_file(row["run"])))
        assert len(history) == row["epochs"] >= 1
        assert row["val_rmse_px"] == pytest.approx(history.val_rmse_px.min())
        best = history.iloc[int(row["best_epoch"]) - 1]
        assert row["train_loss"] == pytest.approx(best.train_loss)
        assert row["stopped_by"] in ("max_epochs", "patience", "max_minutes")
        argv = shlex.split(row["command"])
        assert argv[:2] == ["kfkd", "train"]
        args = cli.build_parser().parse_args(argv[1:])
        assert args.limit == limit and args.max_epochs == 2
        assert row["n_train"] + row["n_val"] == limit


def _configs(frame):
    from kfkd import cli
    from kfkd.config import TrainingConfig
    return [TrainingConfig.from_args(cli.build_parser().parse_args(
        shlex.split(c)[1:])) for c in frame.command]


def test_training_and_ablation_data(made):
    out = made[0]
    smoke = report.BUDGETS["smoke"]
    summary = pd.read_csv(os.path.join(out, "training", "summary.csv"))
    _check_runs(summary, os.path.join(out, "training"), smoke.nets,
                smoke.limit)
    summary = pd.read_csv(os.path.join(out, "ablations", "summary.csv"))
    names = [a[0] for a in runs.ABLATIONS]
    _check_runs(summary, os.path.join(out, "ablations"),
                names * smoke.seeds, smoke.limit)
    configs = _configs(summary)
    base, no_dropout, no_augment, no_penalty, no_bn, exposure = [
        c.to_flat() for c in configs]
    assert base["l2"] == 1e-6 and base["l1"] == 1e-9 and "flip" in base
    assert base["lr_schedule"] == "cosine-time" and base["exposure"] is None
    assert no_dropout["net.dropout_conv"] == no_dropout[
        "net.dropout_dense"] == 0
    assert "flip" not in no_augment and no_penalty["l1"] == no_penalty[
        "l2"] == 0
    assert no_bn["net.batch_norm"] is False and exposure["exposure"] == "clahe"
    # each variant changes only what it names
    for config, (_, _, extra) in zip(configs[1:], runs.ABLATIONS[1:]):
        assert config != configs[0], extra
    spread = pd.read_csv(os.path.join(out, "ablations", "spread.csv"))
    assert list(spread.name) == names and (spread.n == smoke.seeds).all()
    assert spread.verdict[0] == "baseline"
    # the Markdown table shows the CSV's numbers
    ablations = pd.read_csv(os.path.join(out, "ablations.csv"))
    table = open(os.path.join(out, "ablations.md")).read()
    rows = [l for l in table.splitlines() if l.startswith("| ")][1:]
    assert len(rows) == len(names)
    for line, (_, r) in zip(rows, ablations.iterrows()):
        assert line.startswith("| %s |" % r["name"])
        assert "| %.3f |" % r["mean"] in line
    assert "Budget `smoke`" in table


def test_depth_study_shares_the_ablation_baseline(made):
    """The depth study's run at the baseline's depth is the ablations'
    baseline run (same arguments, same folder: trained once); the other
    depths differ from it only in --param depth."""
    out = made[0]
    smoke = report.BUDGETS["smoke"]
    depth = pd.read_csv(os.path.join(out, "depth", "summary.csv"))
    ablations = pd.read_csv(os.path.join(out, "ablations", "summary.csv"))
    assert list(depth.depth) == list(smoke.depths) * smoke.seeds
    base = depth.loc[depth.depth == 2].iloc[0]  # smoke's base: depth=2
    first = ablations.iloc[0]
    assert base["run"] == first["run"] == "breeze/seed0"
    assert base["val_rmse_px"] == first["val_rmse_px"]
    assert base["command"] == first["command"]
    other = depth.loc[depth.depth != 2].iloc[0]
    a, b = [c.to_flat() for c in _configs(pd.DataFrame([base, other]))]
    assert {k for k in a if a[k] != b.get(k)} == {"net.depth"}
    spread = pd.read_csv(os.path.join(out, "depth", "spread.csv"))
    assert list(spread.depth) == list(smoke.depths)
    assert (spread.n_params > 0).all()
    table = open(os.path.join(out, "depth.md")).read()
    for _, r in spread.iterrows():
        assert "| %d | %.3f |" % (r["depth"], r["mean"]) in table


def _run_and_a_missing_one(row):
    """From a summary row: its run for :func:`kfkd.report.runs.run_set`
    (the ``kfkd train`` arguments without ``--out`` and ``--data-dir``),
    the same with ``--seed 7`` (never trained) and those arguments."""
    argv = shlex.split(row["command"])[2:]
    argv = argv[argv.index("--out") + 2:]
    argv = argv[:argv.index("--data-dir")]
    run = (row["name"], argv, {"seed": 0}, row["run"])
    missing = ("other", argv[:-2] + ["--seed", "7"], {"seed": 7},
               "other/seed7")
    return run, missing, argv


def test_finished_runs_are_taken_and_lanes_share_the_rest(made, tmp_path,
                                                          data_dir):
    """A finished run is not trained again; a lane trains only its share
    and writes nothing while another lane's runs are missing; a folder
    without a finished run's record is not taken."""
    import shutil
    out = made[0]
    runs_dir = os.path.join(os.path.dirname(out), "runs", "figures",
                            "smoke", "ablations")
    summary = pd.read_csv(os.path.join(out, "ablations", "summary.csv"))
    row = summary.iloc[0]
    run, missing, argv = _run_and_a_missing_one(row)
    folder = str(tmp_path / "group")
    # lane 0 of 2: its run (index 0) is finished and taken; index 1 is lane
    # 1's and missing: nothing is written, nothing trained
    written, left = runs.run_set(folder, [run, missing], runs_dir, data_dir,
                                 False, lane=(0, 2))
    assert (written, left) == ([], 1) and not os.path.exists(folder)
    written, left = runs.run_set(folder, [run], runs_dir, data_dir, False)
    assert left == 0
    again = pd.read_csv(os.path.join(folder, "summary.csv")).iloc[0]
    for key in ("val_rmse_px", "best_epoch", "epochs", "n_params",
                "command", "stopped_by"):
        assert again[key] == row[key], key
    # an interrupted run (no stopped_by) or another config is not finished
    copy = str(tmp_path / "copy")
    shutil.copytree(os.path.join(runs_dir, row["run"]), copy)
    full = ["--out", copy] + argv + ["--data-dir", data_dir]
    n_train, n_val = int(row["n_train"]), int(row["n_val"])
    assert runs.finished_run("x", full, copy, n_train, n_val) is not None
    other = full[:-2] + ["--l2", "0.5", "--data-dir", data_dir]
    assert runs.finished_run("x", other, copy, n_train, n_val) is None
    metrics = json.load(open(os.path.join(copy, "metrics.json")))
    del metrics["stopped_by"]
    json.dump(metrics, open(os.path.join(copy, "metrics.json"), "w"))
    assert runs.finished_run("x", full, copy, n_train, n_val) is None


def test_records_resume_on_a_fresh_checkout_and_partial_draws(
        made, tmp_path, data_dir, monkeypatch):
    """Every finished run has a record (its folder without weights) beside
    the figures; an empty runs folder takes the recorded runs instead of
    training them; ``partial`` draws from the finished runs only and says
    how many the budget has."""
    out = made[0]
    summary = pd.read_csv(os.path.join(out, "ablations", "summary.csv"))
    records = runs.records_folder(out, report.get_budget("smoke"),
                                  "ablations")
    for run in summary["run"]:
        assert sorted(os.listdir(os.path.join(records, run))) == sorted(
            runs.RECORD_FILES)
    row = summary.iloc[0]
    run, missing, argv = _run_and_a_missing_one(row)

    def no_training(*args, **kwargs):
        raise AssertionError("a recorded run was trained again")
    monkeypatch.setattr(runs, "train_run", no_training)
    empty_runs = str(tmp_path / "fresh-runs")
    folder = str(tmp_path / "group")
    written, left = runs.run_set(folder, [run], empty_runs, data_dir, False,
                                 records=records)
    assert left == 0 and not os.path.exists(empty_runs)
    again = pd.read_csv(os.path.join(folder, "summary.csv")).iloc[0]
    assert again["val_rmse_px"] == row["val_rmse_px"]
    assert again["best_epoch"] == row["best_epoch"]
    # the same command, its --out in this runs folder
    old_out = shlex.split(row["command"])
    old_out = old_out[old_out.index("--out") + 1]
    assert again["command"] == row["command"].replace(
        old_out, os.path.join(empty_runs, row["run"]))
    # partial: the recorded run is drawn, the other counted, none trained
    partial = str(tmp_path / "partial")
    smoke = report.get_budget("smoke")
    written = runs.write_runs(partial, smoke, [run, missing], empty_runs,
                              data_dir, False, records=records, partial=True)
    assert written
    drawn = pd.read_csv(os.path.join(partial, "summary.csv"))
    assert list(drawn["run"]) == [row["run"]]
    budget = json.load(open(os.path.join(partial, "budget.json")))
    assert budget["runs_planned"] == 2
    assert "1 of the budget's 2 runs" in runs.runs_note(drawn, budget)
    assert runs.runs_note(summary, dict(budget, runs_planned=len(
        summary))) == ""
    # nothing finished: nothing written
    assert runs.write_runs(str(tmp_path / "none"), smoke, [missing],
                           empty_runs, data_dir, False, records=records,
                           partial=True) == []


def test_search_data(made):
    out = made[0]
    study = json.load(open(os.path.join(out, "search", "study.json")))
    assert study["source"] == "ran" and study["space"] == "tiny"
    results = pd.read_csv(os.path.join(out, "search", "results.csv"))
    done = results[results.state == "COMPLETE"]
    assert len(done) == study["n_complete"] >= 1
    assert study["best"]["val_rmse_px"] == pytest.approx(
        done.val_rmse_px.min())
    pngs = glob.glob(os.path.join(out, "search", "surfaces_*.png"))
    assert len(pngs) == len(study["surfaces"])
    # the longer study beside it: its own seed and folder, with the main
    # job's command that makes (or resumes) it
    name, trials, seed = report.BUDGETS["smoke"].search_long
    long = json.load(open(os.path.join(out, "search", "long",
                                       "study.json")))
    assert long["study"] == name and long["n_trials"] == trials
    assert long["command"] == (
        "python experiments/grid_search.py --trials %d --space tiny "
        "--study %s --seed %d --limit 150 --minutes-per-trial 0.1"
        % (trials, name, seed))
    assert long["study_dir"].endswith(name)
    pngs = glob.glob(os.path.join(out, "search", "long", "surfaces_*.png"))
    assert len(pngs) == len(long["surfaces"])
    studies = made[1]["groups"]["search"]["studies"]
    assert [s["study"] for s in studies] == [study["study"], name]
    assert studies[1]["best_rmse_px"] == long["best"]["val_rmse_px"]


def test_search_without_longer_study_removes_the_old_one(made, tmp_path,
                                                         data_dir):
    """A budget without a longer study takes the finished first study and
    leaves no longer study of another budget in its folder."""
    import dataclasses
    import shutil
    from kfkd.report.groups import search as search_group
    out, root = made[0], os.path.dirname(made[0])
    copy = str(tmp_path / "figures")
    shutil.copytree(os.path.join(out, "search"),
                    os.path.join(copy, "search"))
    shutil.copy(os.path.join(out, "search_long.md"), copy)
    budget = dataclasses.replace(report.BUDGETS["smoke"], search_long=())
    found = search_group.search_surfaces(
        copy, budget, study_dir=os.path.join(root, "no-study"),
        runs_dir=os.path.join(root, "runs"), data_dir=data_dir,
        verbose=False)
    assert not os.path.exists(os.path.join(copy, "search", "long"))
    assert not os.path.exists(os.path.join(copy, "search_long.md"))
    assert [s["study"] for s in found["studies"]] == ["figures-smoke"]
    before = json.load(open(os.path.join(out, "search", "study.json")))
    assert found["study"]["best"] == before["best"]


def test_predictions_data(made, reference_net, split):
    out = made[0]
    metrics = json.load(open(os.path.join(out, "predictions",
                                          "metrics.json")))
    assert metrics["model"] is not None
    assert metrics["n_faces"] == len(split[1])  # the grouped split's
    assert metrics["val_rmse_px"] < metrics["mean_shape_rmse_px"]
    per_face = pd.read_csv(os.path.join(out, "predictions", "per_face.csv"))
    # the overall RMSE is the per-face RMSEs pooled over labelled coordinates
    n = 2 * per_face.labelled_keypoints
    pooled = np.sqrt((per_face.rmse_px ** 2 * n).sum() / n.sum())
    assert pooled == pytest.approx(metrics["val_rmse_px"], rel=1e-5)
    with np.load(os.path.join(out, "predictions", "best_worst.npz")) as z:
        rmse, row, index = z["rmse"], z["row"], z["val_index"]
        err = z["predictions"].astype(np.float64) - z["truth"]
    np.testing.assert_allclose(rmse, np.sqrt(np.nanmean(err ** 2, axis=1)))
    np.testing.assert_allclose(rmse, per_face.rmse_px.values[index])
    assert rmse[row == "best"].max() <= rmse[row == "worst"].min()
    assert rmse[row == "best"].min() == pytest.approx(per_face.rmse_px.min())
    assert rmse[row == "worst"].max() == pytest.approx(per_face.rmse_px.max())
    layers = json.load(open(os.path.join(out, "architecture",
                                         "layers.json")))
    assert layers["net"] == reference_net.net  # the first net of the model
    assert sum(l["n_params"] for l in layers["layers"]) == \
        reference_net.describe()["n_params"]
    assert layers["layers"][0]["output_shape"] == [1, 96, 96]
    assert layers["layers"][-1]["output_shape"] == [30]


def test_occlusion_data(made):
    from kfkd.occlusion import load_occlusion_maps
    out = made[0]
    smoke = report.BUDGETS["smoke"]
    maps = load_occlusion_maps(os.path.join(out, "occlusion",
                                            "occlusion_edge_free.npz"))
    assert len(maps) == smoke.occlusion_faces
    assert maps.stride == smoke.occlusion_stride and maps.patch == 12
    assert np.isfinite(maps.displacement).all()
    summary = json.load(open(os.path.join(out, "occlusion",
                                          "occlusion_edge_free.json")))
    assert set(summary["compare"]) == {"black", "grey", "noise", "blur",
                                       "edge_free"}
    assert summary["maps"]["n_faces"] == smoke.occlusion_faces
    # the censors at matched strength, scaled on the calibration faces
    matched = json.load(open(os.path.join(out, "occlusion", "matched.json")))
    assert matched["faces"] == smoke.calibration_faces
    assert {r["censor"] for r in matched["rows"]} >= {"grey", "edge_free"}
    grey = load_occlusion_maps(os.path.join(out, "occlusion",
                                            "matched_grey.npz"))
    assert len(grey) == smoke.matched_faces
    assert grey.stride == smoke.matched_stride
    written = made[1]["groups"]["occlusion"]["written"]
    assert "occlusion/compare_censors_matched.png" in written  # PNG only


def test_redraw_needs_neither_model_nor_data(made, monkeypatch):
    """--redraw draws every figure again from the saved files alone, pixel
    for pixel (PNG bytes) the same, and the same PDF bytes (no creation
    date), so a redraw leaves a checkout unmodified."""
    out, _, pngs = made
    pdfs = {path: open(path, "rb").read() for path in glob.glob(
        os.path.join(out, "**", "*.pdf"), recursive=True)}
    assert pdfs
    import kfkd.model

    def forbidden(*args, **kwargs):
        raise AssertionError("redraw must not load a model or data")

    monkeypatch.setattr(kfkd.model, "load_model", forbidden)
    monkeypatch.setattr(store, "load_split", forbidden)
    monkeypatch.setattr(store, "split", forbidden)
    for path in pngs:
        os.unlink(path)
    report.reproduce(out, "smoke", GROUPS, redraw=True, verbose=False)
    for path, data in list(pngs.items()) + list(pdfs.items()):
        assert open(path, "rb").read() == data, path


def test_redraw_of_missing_data_names_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="summary.csv"):
        ablations.ablations(str(tmp_path), "smoke", redraw=True)
    assert not glob.glob(str(tmp_path / "**" / "*.png"), recursive=True)


def test_shipped_figures_are_the_full_budget():
    """figures/manifest.json: every group of the shipped figures was made
    with the full budget, with the command that remakes it; the groups
    with training runs record their runs, seeds and minutes, and each run
    (a summary row) has its record in figures/runs/full (or is one of the
    training curves, trained before records were kept)."""
    manifest = json.load(open(os.path.join(REPO, "figures",
                                           "manifest.json")))
    assert set(manifest["groups"]) == set(GROUPS)
    for group, entry in manifest["groups"].items():
        assert entry["budget"] == "full", group
        if group == "search":  # the main job's study and a longer one
            for sub, trials in (("", 40), ("long", 100)):
                study = json.load(open(os.path.join(
                    REPO, "figures", "search", sub, "study.json")))
                assert study["n_trials"] >= trials and study["n_complete"] >= 3
                assert study["command"].startswith(
                    "python experiments/grid_search.py"), sub
            assert [s["command"] for s in entry["studies"]] == [
                "python experiments/grid_search.py",
                "python experiments/grid_search.py --trials 100 --study long "
                "--seed 1"]
        assert "--budget full --only %s" % group in entry["command"], group
    for group in ("ablations", "depth"):
        entry = manifest["groups"][group]
        assert entry["runs"] >= 1 and entry["training_minutes"] > 0
        assert entry["runs_planned"] >= entry["runs"]
        summary = pd.read_csv(os.path.join(REPO, "figures", group,
                                           "summary.csv"))
        assert len(summary) == entry["runs"]
        for run in summary["run"]:
            record = os.path.join(REPO, "figures", "runs", "full",
                                  "ablations", run)
            assert sorted(os.listdir(record)) == sorted(runs.RECORD_FILES)


def test_readme_shows_the_saved_figure_data():
    """The README's results tables are the ones in figures/ (made by
    python experiments/reproduce_figures.py), line for line."""
    readme = open(os.path.join(REPO, "README.md")).read()
    for name in ("training.md", "ablations.md", "depth.md", "search.md",
                 "search_long.md"):
        table = open(os.path.join(REPO, "figures", name)).read()
        for line in table.splitlines():
            if line.startswith("|"):
                assert line in readme, "%s: %s" % (name, line)
    metrics = json.load(open(os.path.join(REPO, "figures", "predictions",
                                          "metrics.json")))
    assert "%.2f px" % metrics["val_rmse_px"] in readme

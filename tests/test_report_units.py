"""kfkd.report on hand-made inputs: fast, no data, no model, no Theano."""
import argparse
import inspect
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from kfkd import report
from kfkd.fileio import write_json
from kfkd.report import command, runs, store
from kfkd.report.architecture_plots import architecture_boxes
from kfkd.report.budget import BUDGETS, Budget, get_budget
from kfkd.report.faces_plots import per_keypoint_figure, sample_faces_figure
from kfkd.report.groups import GROUPS, REGISTRY
from kfkd.plotting import save_figure

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_markdown_table_formats_cells_by_string_or_callable():
    frame = pd.DataFrame({"name": ["a", "b"], "rmse": [1.23456, 2.0],
                          "epochs": [10, 3], "best_epoch": [7, 3]})
    table = store.markdown_table(
        frame, {"name": "run", "rmse": "RMSE (px)", "epochs": "epochs"},
        {"rmse": "%.2f", "epochs": runs.epochs_cell})
    assert table.splitlines() == [
        "| run | RMSE (px) | epochs |", "|---|---|---|",
        "| a | 1.23 | 10 (best 7) |", "| b | 2.00 | 3 (best 3) |"]


def test_get_budget_by_name_or_as_is_and_unknown_names_the_known():
    assert get_budget("smoke") is BUDGETS["smoke"]
    custom = Budget(**dict(BUDGETS["smoke"].to_dict(), name="mine"))
    assert get_budget(custom) is custom
    d = custom.to_dict()
    assert isinstance(d["nets"], list) and d["name"] == "mine"
    with pytest.raises(ValueError, match="unknown budget 'huge'.*full, "
                       "quick, smoke"):
        get_budget("huge")


def test_budget_note_says_faces_and_minutes():
    note = runs.budget_note({"name": "quick", "limit": 800,
                             "net_minutes": 1.2}, "net_minutes")
    assert "first 800 faces" in note and "1.2 min per run" in note
    note = runs.budget_note({"name": "full", "limit": None,
                             "net_minutes": 120.0, "patience": 25},
                            "net_minutes")
    assert "all of training.csv" in note and "120 min per run at most" in note
    assert "after 25 epochs without a better validation loss" in note


def test_poster_budget_text_says_the_cap_and_the_patience(tmp_path):
    from kfkd.report import poster
    for group, budget in (("training", {"name": "full", "limit": None,
                                        "net_minutes": 120.0,
                                        "patience": 25}),
                          ("ablations", {"name": "quick", "limit": 800,
                                         "ablation_minutes": 1.5,
                                         "seeds": 3})):
        (tmp_path / group).mkdir()
        write_json(str(tmp_path / group / "budget.json"), budget)
    files = {"training_curves": str(tmp_path / "training" / "c.png"),
             "ablation_curves": str(tmp_path / "ablations" / "c.png"),
             "depth": str(tmp_path / "depth" / "d.png")}  # no budget.json
    assert poster._budget_text(files) == (
        "Nets: budget 'full', all faces, 120 min per run at most, "
        "patience 25, 1 seed; ablations: budget 'quick', first 800 faces, "
        "1.5 min per run at most, 3 seeds.")


def test_slug_and_budget_args_are_kfkd_train_arguments():
    assert runs.slug("no L1/L2") == "no_L1_L2"
    args = runs.budget_args(BUDGETS["smoke"], 0.2, 2)
    assert args == ["--max-minutes", "0.2", "--epochs", "2", "--patience",
                    "5", "--limit", "150"]
    assert "--limit" not in runs.budget_args(BUDGETS["full"], 25.0, 1000)


def test_a_run_its_smaller_cap_did_not_stop_is_finished_under_a_larger(
        tmp_path):
    """A run early stopping ended under --max-minutes 120 is the finished
    run of the same settings under 360 (its command then the 360 one); one
    that 120 stopped, or a smaller cap, or other settings, is not."""
    from kfkd.config import TrainingConfig

    folder = str(tmp_path / "net2")

    def argv(minutes, *more):
        return ["--out", folder, "--net", "net2", "--epochs", "1000",
                "--patience", "25", "--max-minutes", minutes] + list(more)

    os.makedirs(folder)
    training = TrainingConfig.from_args(
        runs._parse_train_args(argv("120.0"))).to_training()
    write_json(os.path.join(folder, "model.json"),
               {"training": training, "n_params": 10})
    pd.DataFrame({"epoch": [1, 2], "train_loss": [0.5, 0.4],
                  "val_loss": [0.3, 0.35], "val_rmse_px": [2.0, 2.1],
                  "seconds": [60.0, 120.0]}).to_csv(
        os.path.join(folder, "history.csv"), index=False)

    def finished(stopped_by, args):
        write_json(os.path.join(folder, "metrics.json"), {
            "val_rmse_px": 2.0, "best_epoch": 1, "epochs": 2, "n_faces": 5,
            "stopped_by": stopped_by})
        return runs.finished_run("net2", args, folder, 20, 5)

    row, history = finished("patience", argv("360.0"))
    assert "--max-minutes 360.0" in row["command"]
    assert (row["val_rmse_px"], row["minutes"], len(history)) == (2.0, 2.0, 2)
    assert finished("patience", argv("120.0")) is not None
    assert finished("max_minutes", argv("360.0")) is None  # goes on
    assert finished("max_minutes", argv("120.0")) is not None
    assert finished("patience", argv("60.0")) is None
    assert finished("patience", argv("360.0", "--seed", "1")) is None


def test_save_figure_writes_png_and_pdf_and_no_temporary_file(tmp_path):
    fig = per_keypoint_figure(["a", "b"], [1.0, None], overall=1.0)
    written = save_figure(fig, str(tmp_path / "sub" / "fig"))
    assert written == [str(tmp_path / "sub" / "fig.png"),
                       str(tmp_path / "sub" / "fig.pdf")]
    assert open(written[0], "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    assert open(written[1], "rb").read(5) == b"%PDF-"
    assert sorted(os.listdir(tmp_path / "sub")) == ["fig.pdf", "fig.png"]


def test_npz_round_trip_and_need_names_the_missing_file(tmp_path):
    path = store.save_npz(str(tmp_path / "a.npz"), x=np.arange(3.0),
                          kind=np.array(["full", "partial"]))
    d = store.load_npz(path)
    assert d["x"].tolist() == [0.0, 1.0, 2.0]
    assert d["kind"].tolist() == ["full", "partial"]
    store.need(path)
    with pytest.raises(FileNotFoundError, match="b.npz.*without --redraw"):
        store.need(path, str(tmp_path / "b.npz"))


def test_the_registry_is_the_groups_behind_one_protocol():
    assert GROUPS == report.GROUPS == (
        "samples", "augment", "training", "ablations", "depth", "search",
        "architecture", "predictions", "occlusion", "split")
    for name, module in REGISTRY.items():
        assert module.NAME == name
        params = inspect.signature(module.run).parameters
        assert list(params)[:3] == ["out_dir", "budget", "redraw"], name
        assert params["context"].kind is inspect.Parameter.VAR_KEYWORD


def test_a_group_redraws_from_hand_made_files(tmp_path):
    """The samples group draws from its saved files alone (no data)."""
    folder = tmp_path / "samples"
    folder.mkdir()
    rng = np.random.RandomState(0)
    keypoints = rng.uniform(10, 80, (4, 30))
    keypoints[2:, :4] = np.nan
    store.save_npz(str(folder / "samples.npz"),
                   images=rng.uniform(0, 1, (4, 1, 96, 96)),
                   keypoints=keypoints, index=np.array([3, 9, 4, 7]),
                   kind=np.array(["full"] * 2 + ["partial"] * 2))
    write_json(str(folder / "labels.json"), {
        "n_faces": 10, "n_fully_labelled": 2, "n_partly_labelled": 8,
        "labelled_faces_per_keypoint": {"left_eye_center": 10,
                                        "nose_tip": 4}})
    result = REGISTRY["samples"].run(str(tmp_path), "smoke", True,
                                     data_dir="/nonexistent")
    assert sorted(os.path.basename(p) for p in result["written"]) == [
        "label_counts.pdf", "label_counts.png", "sample_faces.pdf",
        "sample_faces.png"]
    assert result["labels"]["n_faces"] == 10


def test_sample_faces_figure_blanks_the_cells_of_a_short_row():
    images = np.zeros((3, 1, 96, 96))
    keypoints = np.full((3, 30), 48.0)
    fig = sample_faces_figure(images, keypoints, [
        ("two", np.array([0, 1])), ("one", np.array([2]))], ["a", "b", "c"])
    axes = fig.axes
    assert len(axes) == 4
    assert [ax.axison for ax in axes] == [True, True, True, False]
    assert [ax.get_title() for ax in axes[:3]] == ["a", "b", "c"]


def test_architecture_boxes_fold_batch_norm_and_nonlinearity():
    layers = [
        {"type": "InputLayer", "name": None, "output_shape": [1, 96, 96]},
        {"type": "Conv2DLayer", "name": None, "output_shape": [8, 94, 94],
         "num_filters": 8, "filter_size": [3, 3], "nonlinearity": "linear"},
        {"type": "BatchNormLayer", "name": None,
         "output_shape": [8, 94, 94]},
        {"type": "NonlinearityLayer", "name": None,
         "output_shape": [8, 94, 94], "nonlinearity": "rectify"},
        {"type": "DenseLayer", "name": "output", "output_shape": [30],
         "num_units": 30, "nonlinearity": "linear"}]
    assert architecture_boxes(layers) == [
        ("input", "1 x 96 x 96", "InputLayer"),
        ("conv 3x3, 8 filters + BN + ReLU", "8 x 94 x 94", "conv"),
        ("output: 30 linear units", "30", "output")]


def test_the_command_line_keeps_the_scripts_options():
    args = command.build_parser().parse_args(
        ["--quick", "--redraw", "--only", "samples,augment", "--no-poster"])
    assert args.quick and args.redraw and args.no_poster
    assert args.only == "samples,augment" and args.budget is None
    parser = argparse.ArgumentParser(prog="kfkd")
    command.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["figures", "--budget", "smoke"])
    assert args.command == "figures" and args.budget == "smoke"
    with pytest.raises(SystemExit):
        command.build_parser().parse_args(["--budget", "huge"])


def test_drawing_does_not_import_theano():
    """The report's drawing side stays below the Theano boundary."""
    code = ("import sys, kfkd.report, kfkd.report.command; "
            "print(sorted(m for m in ('theano', 'lasagne', 'kfkd.model', "
            "'kfkd.train') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                         text=True, check=True, cwd=REPO,
                         env=dict(os.environ, PYTHONPATH=REPO))
    assert out.stdout.strip() == "[]"

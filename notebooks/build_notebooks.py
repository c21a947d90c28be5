"""Write the four notebooks (nbformat v4, no outputs) from the cells below.

    python notebooks/build_notebooks.py

The notebooks are thin: every figure and number comes from
:mod:`kfkd.report`.  Settings come from the environment:

KFKD_BUDGET        smoke | quick (default) | full  (:data:`kfkd.report.BUDGETS`)
KFKD_FIGURES_DIR   where figures and their data go (default runs/notebooks)
KFKD_REDRAW        1: only redraw from the data already in KFKD_FIGURES_DIR
                   (e.g. KFKD_FIGURES_DIR=figures KFKD_REDRAW=1 shows the
                   shipped figures without training)
KFKD_STUDY_DIR     the stored random-search study (default runs/default)
"""
import os

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = os.path.dirname(os.path.abspath(__file__))

SETUP = '''\
import glob
import os
import sys

import pandas as pd
from IPython.display import Image, Markdown, display

REPO = os.path.dirname(os.path.abspath(""))   # the notebook runs in notebooks/
if REPO not in sys.path:
    sys.path.insert(0, REPO)
from kfkd import report
from kfkd.report import groups, store

budget = report.get_budget(os.environ.get("KFKD_BUDGET", "quick"))
out = os.environ.get("KFKD_FIGURES_DIR",
                     os.path.join(REPO, "runs", "notebooks"))
redraw = os.environ.get("KFKD_REDRAW") == "1"
show = lambda *path: display(Image(os.path.join(out, *path)))
print("budget %s, figures in %s%s" % (budget.name, out,
                                       " (redraw only)" if redraw else ""))'''

NOTEBOOKS = {
    "01_data_exploration.ipynb": [
        new_markdown_cell(
            "# 01 Data exploration\n\n"
            "Kaggle's Facial Keypoints Detection data: 96x96 grey faces "
            "with up to 15 keypoints (30 coordinates, pixels). Most faces "
            "are only partly labelled. Then the augmentation that moves "
            "image and keypoints together, and exposure correction of "
            "over-exposed faces. Everything is computed by `kfkd.report`; "
            "settings: see `notebooks/build_notebooks.py`."),
        new_code_cell(SETUP),
        new_markdown_cell("## Labelled faces"),
        new_code_cell(
            'samples = groups.samples.sample_faces(out, budget, redraw=redraw)\n'
            'labels = samples["labels"]\n'
            'print("%(n_faces)d faces: %(n_fully_labelled)d fully, "\n'
            '      "%(n_partly_labelled)d partly labelled" % labels)\n'
            'show("samples", "sample_faces.png")'),
        new_code_cell(
            'show("samples", "label_counts.png")\n'
            'pd.Series(labels["labelled_faces_per_keypoint"], '
            'name="labelled faces").to_frame()'),
        new_markdown_cell(
            "## Keypoint positions\n\nWhere each keypoint lies in the "
            "frame (pixels), over the training split."),
        new_code_cell(
            'if not redraw:\n'
            '    from kfkd.splits import load_split\n'
            '    train, val = load_split(verbose=False)\n'
            '    display(pd.DataFrame(train.keypoints, columns=train.schema.'
            'columns)\n'
            '            .describe().T[["count", "mean", "std", "min", '
            '"max"]].round(1))'),
        new_markdown_cell("## Augmentation and exposure correction"),
        new_code_cell(
            'groups.augment.augmentation_examples(out, budget, redraw=redraw)\n'
            'show("augment", "augmentation.png")'),
        new_code_cell('show("augment", "exposure.png")'),
    ],
    "02_training_and_ablations.ipynb": [
        new_markdown_cell(
            "# 02 Training and ablations\n\n"
            "Training curves (train and validation loss per epoch) of "
            "Nouri's net1, net2, net6 and breeze, then breeze with "
            "dropout, augmentation and L1/L2 switched off in turn. Each run "
            "is a `kfkd train` command (recorded in the tables), with the "
            "budget's time limit."),
        new_code_cell(SETUP),
        new_markdown_cell("## The nets"),
        new_code_cell(
            'curves = groups.training.training_curves(\n'
            '    out, budget, redraw=redraw, verbose=False,\n'
            '    runs_dir=os.path.join(out, "runs", "training"))\n'
            'show("training", "training_curves.png")\n'
            'curves["summary"][["name", "n_params", "epochs", "best_epoch", '
            '"train_loss",\n'
            '                   "val_loss", "val_rmse_px", "minutes", '
            '"command"]]'),
        new_markdown_cell("## Ablations"),
        new_code_cell(
            'groups.ablations.ablations(out, budget, redraw=redraw, '
            'verbose=False,\n'
            '                           runs_dir=os.path.join(out, "runs", '
            '"ablations"))\n'
            'show("ablations", "ablation_curves.png")\n'
            'display(Markdown(open(os.path.join(out, "ablations.md")).'
            'read()))'),
    ],
    "03_grid_search.ipynb": [
        new_markdown_cell(
            "# 03 Random grid search: analysis and 3D surfaces\n\n"
            "The study of the main job (`make search`, stored in "
            "`runs/default`) if it has at least 3 complete trials; "
            "otherwise a small study of the budget's space is run first. "
            "Its trials, the settings that matter, and the 3D surfaces of "
            "validation RMSE."),
        new_code_cell(SETUP),
        new_code_cell(
            'study_dir = os.environ.get("KFKD_STUDY_DIR") or '
            'store.DEFAULT_STUDY_DIR\n'
            'result = groups.search.search_surfaces(\n'
            '    out, budget, redraw=redraw, study_dir=study_dir, '
            'verbose=False,\n'
            '    runs_dir=os.path.join(out, "runs"))\n'
            'study = result["study"]\n'
            'print("study %(study)s (%(source)s, space %(space)s): "\n'
            '      "%(n_complete)d of %(n_trials)d trials complete" % study)\n'
            'study["best"]'),
        new_markdown_cell("## Trials, best first"),
        new_code_cell(
            'trials = pd.read_csv(os.path.join(out, "search", '
            '"results.csv"))\n'
            'done = trials[trials.state == "COMPLETE"].sort_values('
            '"val_rmse_px")\n'
            'settings = [k for p in study["surfaces"] for k in p]\n'
            'done[["number", "val_rmse_px", "best_epoch", "epochs", '
            '"seconds"]\n'
            '     + sorted(set(settings))]'),
        new_markdown_cell(
            "## Which settings go with a low RMSE?\n\nSpearman rank "
            "correlation of each numeric setting with validation RMSE over "
            "the complete trials (few trials: read it as a hint)."),
        new_code_cell(
            'numeric = done.select_dtypes("number").drop(\n'
            '    columns=["number", "sample_index", "pid"], errors="ignore")\n'
            'numeric = numeric.loc[:, numeric.nunique() > 1]\n'
            'if len(done) < 3 or "val_rmse_px" not in numeric:\n'
            '    # pruned trials stop at a lower rung: their RMSE is not '
            'comparable\n'
            '    print("%d complete trial(s): too few for a rank '
            'correlation" % len(done))\n'
            'else:\n'
            '    display(numeric.corr(method="spearman")["val_rmse_px"]\n'
            '            .drop("val_rmse_px").sort_values())'),
        new_markdown_cell("## 3D surfaces"),
        new_code_cell(
            'for path in sorted(glob.glob(os.path.join(out, "search", '
            '"surfaces_*.png"))):\n'
            '    display(Image(path))'),
    ],
    "04_occlusion.ipynb": [
        new_markdown_cell(
            "# 04 Occlusion sensitivity\n\n"
            "Slide a patch over validation faces and measure how far the "
            "reference model's keypoints move (Zeiler & Fergus 2014), "
            "with the edge-free censor, then all censors compared "
            "(`kfkd.occlusion`). Uses the shipped reference model "
            "(`models/reference`, or `$KFKD_MODEL`)."),
        new_code_cell(SETUP),
        new_code_cell(
            'result = groups.occlusion.occlusion(out, budget, redraw=redraw,\n'
            '                                  verbose=False)\n'
            'summary = result["summary"]\n'
            'print("model %s: %d faces, patch %d px, stride %d px" % (\n'
            '    summary["model"], summary["maps"]["n_faces"],\n'
            '    summary["maps"]["patch_px"], summary["maps"]["stride_px"]))\n'
            'show("occlusion", "overview_edge_free.png")'),
        new_code_cell('show("occlusion", "face0_edge_free.png")'),
        new_markdown_cell(
            "## Censors compared\n\n`focus_8px`: the share of the map "
            "within 8 px of a predicted keypoint (`focus_8px_uniform`: what "
            "a uniform map would score)."),
        new_code_cell(
            'show("occlusion", "compare_censors.png")\n'
            'pd.DataFrame(summary["compare"]).T[["mean_aggregate_px", '
            '"focus_8px",\n'
            '                                    "focus_8px_uniform", '
            '"seconds"]]'),
    ],
}


def build(folder=HERE):
    """Write the notebooks into ``folder``; returns their paths."""
    paths = []
    for name, cells in NOTEBOOKS.items():
        for k, cell in enumerate(cells):     # stable ids: no churn in diffs
            cell["id"] = "%s-%02d" % (name[:2], k)
        nb = new_notebook(cells=cells, metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3",
                           "language": "python"},
            "language_info": {"name": "python"}})
        path = os.path.join(folder, name)
        nbformat.validate(nb)
        nbformat.write(nb, path)
        paths.append(path)
    return paths


if __name__ == "__main__":
    for p in build():
        print("wrote", p)

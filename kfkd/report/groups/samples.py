"""The ``samples`` figure group: fully and partly labelled training faces
and the labels per keypoint."""
import os

import numpy as np

from ...fileio import read_json, write_json
from .. import store
from ..faces_plots import label_counts_figure, sample_faces_figure
from ...plotting import save_figure

__all__ = ["NAME", "run", "sample_faces"]

#: The group's name (:data:`kfkd.report.groups.GROUPS`).
NAME = "samples"


def sample_faces(out_dir, budget="quick", redraw=False, data_dir=None,
                 n=6, seed=0):
    """Fully and partly labelled training faces, and labels per keypoint.

    Writes ``samples/samples.npz`` (``images (2n, 1, 96, 96)``,
    ``keypoints (2n, 30)`` pixels, ``index`` into the training split,
    ``kind`` 'full' / 'partial'), ``samples/labels.json`` (faces, fully
    labelled faces, labelled faces per keypoint, over all of training.csv)
    and the figures ``sample_faces`` and ``label_counts``.

    Parameters
    ----------
    out_dir : str
    budget : str or Budget
        Unused (the same faces whatever the budget); for a uniform API.
    redraw : bool
        Draw from the saved files only.
    data_dir : str, optional
    n : int
        Faces per row.
    seed : int
        Picks the faces at random among each kind.

    Returns
    -------
    dict
        ``written``: the paths written; ``labels``: labels.json's contents.
    """
    folder = store.folder(out_dir, "samples")
    npz, js = (os.path.join(folder, f) for f in ("samples.npz",
                                                 "labels.json"))
    written = []
    if not redraw:
        train, val = store.split(data_dir)
        labelled = np.isfinite(train.keypoints)
        full = np.flatnonzero(labelled.all(axis=1))
        partial = np.flatnonzero(labelled.any(axis=1) & ~labelled.all(axis=1))
        rng = np.random.RandomState(seed)
        picks = [np.sort(rng.choice(full, n, replace=False)),
                 np.sort(rng.choice(partial, n, replace=False))]
        index = np.concatenate(picks)
        written.append(store.save_npz(
            npz, images=train.images[index], keypoints=train.keypoints[index],
            index=index, kind=np.array(["full"] * n + ["partial"] * n)))
        both = np.concatenate([labelled, np.isfinite(val.keypoints)])
        per_keypoint = both.reshape(len(both), -1, 2).all(axis=2).sum(axis=0)
        labels = {
            "source": "training.csv (training and validation splits)",
            "n_faces": int(len(both)),
            "n_fully_labelled": int(both.all(axis=1).sum()),
            "n_partly_labelled": int((both.any(axis=1)
                                      & ~both.all(axis=1)).sum()),
            "labelled_faces_per_keypoint": dict(zip(
                train.schema.names, map(int, per_keypoint))),
        }
        write_json(js, labels)
        written.append(js)
    store.need(npz, js)
    d, labels = store.load_npz(npz), read_json(js)
    kinds = d["kind"]
    titles = ["#%d (%d/%d)" % (i, np.isfinite(kp[0::2]).sum(), len(kp) // 2)
              for i, kp in zip(d["index"], d["keypoints"])]
    rows = [("fully labelled\n(%d faces)" % labels["n_fully_labelled"],
             np.flatnonzero(kinds == "full")),
            ("partly labelled\n(%d faces)" % labels["n_partly_labelled"],
             np.flatnonzero(kinds == "partial"))]
    written += save_figure(sample_faces_figure(
        d["images"], d["keypoints"], rows, titles),
        os.path.join(folder, "sample_faces"))
    counts = labels["labelled_faces_per_keypoint"]
    written += save_figure(label_counts_figure(
        list(counts), list(counts.values()), labels["n_faces"]),
        os.path.join(folder, "label_counts"))
    return {"written": written, "labels": labels}


def run(out_dir, budget, redraw, data_dir=None, **context):
    """The group protocol (:mod:`kfkd.report.groups`)."""
    return sample_faces(out_dir, budget, redraw, data_dir)

"""The ``split`` figure group: the groups of likely the same person behind
the grouped validation split (:mod:`kfkd.people`), and how alike its
validation faces are to the training faces, beside a random split's and
the test faces'."""
import os

import numpy as np

from ...data import find_file, load_test
from ...fileio import read_json, write_json
from ...people import nearest_correlation
from ...plotting import save_figure
from ...splits import train_val_split
from .. import store
from ..faces_plots import group_examples_figure, nearest_face_figure

__all__ = ["NAME", "run", "split_groups"]

#: The group's name (:data:`kfkd.report.groups.GROUPS`).
NAME = "split"

#: The comparisons of the nearest-face figure, in its legend's order.
NEAREST = ("random split: validation", "grouped split: validation",
           "test.csv (other people)")


def _examples(groups, is_val, n_rows, per_row, seed):
    """Indices of the faces of ``n_rows`` example groups: the largest, then
    groups of at least 2 faces drawn at random (``seed``), half of them
    from the validation side; at most ``per_row`` faces of each."""
    sizes = np.bincount(groups)
    largest = int(np.argmax(sizes))
    side = np.zeros(len(sizes), bool)
    side[groups[is_val]] = True
    rng = np.random.RandomState(seed)
    picked = [largest]
    for on_val, n in ((True, (n_rows - 1) // 2),
                      (False, n_rows - 1 - (n_rows - 1) // 2)):
        pool = np.flatnonzero((sizes >= 2) & (side == on_val))
        picked += [int(g) for g in rng.choice(pool[pool != largest], n,
                                              replace=False)]
    return [(g, np.flatnonzero(groups == g)[:per_row]) for g in picked]


def _compute(folder, data_dir, n_rows, per_row, seed):
    """Group the faces (the default split's), save the examples and the
    nearest-face correlations; -> the paths written."""
    train, val = store.split(data_dir)
    order = np.argsort(np.concatenate([train.rows, val.rows]))  # file order
    images = np.concatenate([train.images, val.images])[order]
    groups = np.concatenate([train.groups, val.groups])[order]
    is_val = np.isin(np.arange(len(order)), val.rows)
    examples = _examples(groups, is_val, n_rows, per_row, seed)
    index = np.concatenate([idx for _, idx in examples])
    # the random split of the same faces (the shipped model's, before)
    tr, va = train_val_split(len(images), val.split["val_fraction"],
                             val.split["seed"])
    test = load_test(find_file("test.csv", data_dir), verbose=False)
    nearest = [nearest_correlation(images[va], images[tr]),
               nearest_correlation(val.images, train.images),
               nearest_correlation(test.images, train.images)]
    npz = store.save_npz(
        os.path.join(folder, "groups.npz"), images=images[index],
        group=groups[index], validation=is_val[index],
        sizes=np.bincount(groups), **{"nearest%d" % k: v
                                      for k, v in enumerate(nearest)})
    sizes = np.bincount(groups)
    summary = {
        "n_faces": int(len(groups)), "n_groups": int(len(sizes)),
        "group_sizes": {str(k): int(c) for k, c in
                        enumerate(np.bincount(sizes)) if c},
        "split": val.split, "n_train": len(train), "n_val": len(val),
        "n_val_groups": int(len(np.unique(val.groups))),
        "n_val_in_random_train": int(np.isin(val.rows, tr).sum()),
        # and the other way: a grouped-split model has trained on these
        "n_random_val_in_train": int(np.isin(va, train.rows).sum()),
        "median_nearest_correlation": {
            label: float(np.median(v)) for label, v in zip(NEAREST, nearest)},
        "examples": [int(g) for g, _ in examples],
    }
    js = os.path.join(folder, "groups.json")
    write_json(js, summary)
    return [npz, js]


def split_groups(out_dir, budget="quick", redraw=False, data_dir=None,
                 n_rows=6, per_row=12, seed=0):
    """Example groups of the grouped split, the group sizes, and each
    validation (and test) face's correlation with its nearest training face.

    Writes ``split/groups.npz`` (the example faces ``images (F, 1, 96,
    96)``, their ``group`` and ``validation`` side, ``sizes`` of all groups,
    ``nearest0..2`` the correlations of :data:`NEAREST`), ``split/
    groups.json`` (faces, groups, the group-size histogram, the split and
    its sizes, how many of its validation faces are training faces of the
    random split, the median nearest-face correlations) and the figures
    ``groups`` and ``nearest``.

    Parameters
    ----------
    out_dir : str
    budget : str or Budget
        Unused (nothing is trained); for a uniform API.
    redraw : bool
        Draw from the saved files only.
    data_dir : str, optional
    n_rows, per_row : int
        Example groups, and faces shown of each.
    seed : int
        Picks the example groups.

    Returns
    -------
    dict
        ``written``: the paths written; ``summary``: groups.json's contents.
    """
    folder = store.folder(out_dir, NAME)
    written = [] if redraw else _compute(folder, data_dir, n_rows, per_row,
                                         seed)
    npz, js = (os.path.join(folder, f) for f in ("groups.npz", "groups.json"))
    store.need(npz, js)
    d, summary = store.load_npz(npz), read_json(js)
    rows = [("group %d\n(%d faces)" % (g, d["sizes"][g]),
             np.flatnonzero(d["group"] == g)) for g in summary["examples"]]
    titles = ["validation" if v else "training" for v in d["validation"]]
    written += save_figure(group_examples_figure(d["images"], rows, titles),
                           os.path.join(folder, "groups"))
    written += save_figure(nearest_face_figure(d["sizes"], {
        label: d["nearest%d" % k] for k, label in enumerate(NEAREST)}),
        os.path.join(folder, "nearest"))
    return {"written": written, "summary": summary}


def run(out_dir, budget, redraw, data_dir=None, **context):
    """The group protocol (:mod:`kfkd.report.groups`)."""
    return split_groups(out_dir, budget, redraw, data_dir)

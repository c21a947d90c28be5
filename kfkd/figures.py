"""The paper's figures, each from a real run, its data saved beside it.

One function per figure group; each writes into ``<out_dir>/<group>/`` the
data it computed (CSV, JSON, ``.npz`` without pickle) and then draws its
figures (PNG and PDF, :func:`kfkd.plots.save_figure`) *from those saved
files*, so that ``redraw=True`` draws the same figures again without
training, a model or the data.

=============  ==========================  =====================================
group          function                    what it shows
=============  ==========================  =====================================
samples        :func:`sample_faces`        fully and partly labelled training
                                           faces; labels per keypoint
augment        :func:`augmentation_        one face before/after each transform;
               examples`                   exposure correction of over-exposed
                                           faces
training       :func:`training_curves`     train/validation loss per epoch of
                                           net1, net2, net6 and breeze
ablations      :func:`ablations`           breeze with dropout, augmentation,
                                           L1/L2 switched off; the table
search         :func:`search_surfaces`     3D validation-RMSE surfaces of a
                                           stored random-search study
architecture   :func:`architecture`        the reference model's layer stack
predictions    :func:`predictions_best_    predicted vs labelled keypoints on
               worst`                      the best and worst validation faces;
                                           RMSE per keypoint
occlusion      :func:`occlusion`           occlusion heat maps and the censor
                                           comparison (:mod:`kfkd.occlusion`)
=============  ==========================  =====================================

Every training run is exactly a ``kfkd train`` command (built and parsed by
:func:`kfkd.cli.build_parser`), recorded with its results, so each number
can be reproduced on its own.  How long the runs are is set by a
:class:`Budget` (:data:`BUDGETS`: ``smoke`` for tests and notebooks,
``quick``, ``full``).

Examples
--------
>>> from kfkd import figures
>>> sorted(figures.BUDGETS)
['full', 'quick', 'smoke']
>>> figures.GROUPS[:3]
('samples', 'augment', 'training')
"""
import dataclasses
import glob
import os
import shlex
import time

import numpy as np
import pandas as pd

from .fileio import read_json, write_json

__all__ = ["Budget", "BUDGETS", "get_budget", "GROUPS", "ABLATIONS",
           "NET_TRAIN_ARGS", "ABLATION_BASE_ARGS", "sample_faces",
           "augmentation_examples", "training_curves", "ablations",
           "search_surfaces", "architecture", "describe_layers",
           "predictions_best_worst", "occlusion", "reproduce",
           "markdown_table", "DEFAULT_STUDY_DIR", "REPO"]

#: The repository folder (figures/, runs/ and models/ live here).
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

#: The main job's study (``make search`` / ``python experiments/grid_search.py``).
DEFAULT_STUDY_DIR = os.path.join(REPO, "runs", "default")

#: Figure groups in the order :func:`reproduce` runs them.
GROUPS = ("samples", "augment", "training", "ablations", "search",
          "architecture", "predictions", "occlusion")


@dataclasses.dataclass(frozen=True)
class Budget(object):
    """How much computing the figure runs get.

    Attributes
    ----------
    name : str
    limit : int or None
        Training runs use the first ``limit`` faces of training.csv (split
        80/20 as always, :func:`kfkd.data.load_split`); None: all 3146.
    nets : tuple of str
        The nets of the training curves.
    net_minutes : float
        Budget of each net's run (``kfkd train --max-minutes``).
    net_max_epochs : int
    ablation_params : tuple of str
        ``NAME=VALUE`` net hyperparameters of the ablated breeze (``--param``).
    ablation_minutes : float
    ablation_max_epochs : int
    patience : int
        Early-stopping patience (epochs) of all runs.
    search_space : str
        Space of the study run when no stored study exists.
    search_trials : int
    search_minutes : float
        Per-trial budget of that study.
    search_limit : int or None
        Faces for its trials.
    occlusion_faces, occlusion_stride : int
        Validation faces and stride (px) of the edge-free heat maps.
    compare_faces, compare_stride : int
        The same for the censor comparison (five censors).
    best_worst : int
        Faces in each row of the best/worst predictions.
    """

    name: str
    limit: object
    nets: tuple
    net_minutes: float
    net_max_epochs: int
    ablation_params: tuple
    ablation_minutes: float
    ablation_max_epochs: int
    patience: int
    search_space: str
    search_trials: int
    search_minutes: float
    search_limit: object
    occlusion_faces: int
    occlusion_stride: int
    compare_faces: int
    compare_stride: int
    best_worst: int = 6

    def to_dict(self):
        """JSON-ready dict of the settings."""
        d = dataclasses.asdict(self)
        d["nets"], d["ablation_params"] = list(self.nets), list(
            self.ablation_params)
        return d


#: Presets: ``smoke`` (tests, notebooks under test: seconds per run),
#: ``quick`` (the whole reproduction in at most ~15 minutes on 2 cores) and
#: ``full`` (real budgets: hours).
BUDGETS = {
    "smoke": Budget("smoke", limit=150, nets=("net1", "net2"),
                    net_minutes=0.2, net_max_epochs=2,
                    ablation_params=("depth=2", "width=4", "dense_units=16"),
                    ablation_minutes=0.2, ablation_max_epochs=2, patience=5,
                    search_space="tiny", search_trials=2, search_minutes=0.1,
                    search_limit=150, occlusion_faces=2, occlusion_stride=12,
                    compare_faces=2, compare_stride=12, best_worst=3),
    "quick": Budget("quick", limit=800, nets=("net1", "net2", "net6",
                                               "breeze"),
                    net_minutes=1.2, net_max_epochs=200,
                    ablation_params=("width=8", "dense_units=64"),
                    ablation_minutes=1.0, ablation_max_epochs=200,
                    patience=20, search_space="tiny", search_trials=4,
                    search_minutes=0.2, search_limit=300, occlusion_faces=4,
                    occlusion_stride=6, compare_faces=4, compare_stride=8),
    "full": Budget("full", limit=None, nets=("net1", "net2", "net6",
                                              "breeze"),
                   net_minutes=25.0, net_max_epochs=1000, ablation_params=(),
                   ablation_minutes=20.0, ablation_max_epochs=1000,
                   patience=25, search_space="default", search_trials=8,
                   search_minutes=3.5, search_limit=None, occlusion_faces=8,
                   occlusion_stride=2, compare_faces=4, compare_stride=4),
}


def get_budget(budget):
    """A :class:`Budget` from its name (or a Budget, returned as is).

    Raises
    ------
    ValueError
        Unknown name.
    """
    if isinstance(budget, Budget):
        return budget
    if budget not in BUDGETS:
        raise ValueError("unknown budget %r; known: %s"
                         % (budget, ", ".join(sorted(BUDGETS))))
    return BUDGETS[budget]


#: ``kfkd train`` arguments of each net's training curve (beyond the
#: budget's).  net1 as in Nouri (2014): Nesterov momentum, learning rate
#: 0.01, momentum 0.9, no augmentation (Adam at 2e-3 makes its 9216 x 100
#: hidden layer diverge); the others with the command's defaults (Adam
#: 2e-3, batch 32, flips, rotation 10 deg, shift 3 px, scale 5%).
NET_TRAIN_ARGS = {
    "net1": ["--update", "nesterov", "--lr", "0.01", "--momentum", "0.9",
             "--no-augment"],
    "net2": [], "net6": [], "breeze": []}

#: The ablation baseline: breeze with dropout (its defaults), augmentation
#: (the command's defaults) and small L1 and L2 penalties.
ABLATION_BASE_ARGS = ["--net", "breeze", "--l1", "1e-9", "--l2", "1e-6"]

#: (variant, what changes, extra ``kfkd train`` arguments).
ABLATIONS = (
    ("breeze", "dropout, augmentation, L1 1e-9 + L2 1e-6", []),
    ("no dropout", "dropout 0 (conv and dense)",
     ["--param", "dropout_conv=0", "--param", "dropout_dense=0"]),
    ("no augmentation", "no flips, rotations, shifts, scaling",
     ["--no-augment"]),
    ("no L1/L2", "L1 = L2 = 0", ["--l1", "0", "--l2", "0"]),
)


# -- shared helpers ------------------------------------------------------------

_SPLITS = {}


def _split(data_dir=None, limit=None):
    """(train, val) of :func:`kfkd.data.load_split`, cached per process."""
    from .data import load_split, resolve_data_dir
    key = (os.path.abspath(resolve_data_dir(data_dir)), limit)
    if key not in _SPLITS:
        _SPLITS[key] = load_split(data_dir, limit=limit, verbose=False)
    return _SPLITS[key]


def _model(model):
    """A loaded model: ``model`` itself, its folder, or the default one."""
    if model is None or isinstance(model, str):
        from .model import load_model
        return load_model(model)
    return model


def _folder(out_dir, group):
    path = os.path.join(out_dir, group)
    os.makedirs(path, exist_ok=True)
    return path


def _save_npz(path, **arrays):
    from .fileio import atomic_write
    with atomic_write(path, "wb") as f:
        np.savez_compressed(f, **arrays)
    return path


def _load_npz(path):
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def _write_csv(path, frame):
    from .fileio import atomic_write
    with atomic_write(path, newline="") as f:
        frame.to_csv(f, index=False)
    return path


def _rel(path):
    """``path`` relative to the repository when inside it (for commands)."""
    if not path:
        return None
    path = os.path.abspath(path)
    return os.path.relpath(path, REPO) if path.startswith(REPO + os.sep) \
        else path


def _missing(path):
    raise FileNotFoundError("%s: no such file; run the figure group without "
                            "--redraw first" % path)


def _need(*paths):
    for p in paths:
        if not os.path.isfile(p):
            _missing(p)


# -- samples -------------------------------------------------------------------

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
    from . import plots
    folder = _folder(out_dir, "samples")
    npz, js = (os.path.join(folder, f) for f in ("samples.npz",
                                                 "labels.json"))
    written = []
    if not redraw:
        train, val = _split(data_dir)
        labelled = np.isfinite(train.keypoints)
        full = np.flatnonzero(labelled.all(axis=1))
        partial = np.flatnonzero(labelled.any(axis=1) & ~labelled.all(axis=1))
        rng = np.random.RandomState(seed)
        picks = [np.sort(rng.choice(full, n, replace=False)),
                 np.sort(rng.choice(partial, n, replace=False))]
        index = np.concatenate(picks)
        written.append(_save_npz(
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
    _need(npz, js)
    d, labels = _load_npz(npz), read_json(js)
    kinds = d["kind"]
    titles = ["#%d (%d/%d)" % (i, np.isfinite(kp[0::2]).sum(), len(kp) // 2)
              for i, kp in zip(d["index"], d["keypoints"])]
    rows = [("fully labelled\n(%d faces)" % labels["n_fully_labelled"],
             np.flatnonzero(kinds == "full")),
            ("partly labelled\n(%d faces)" % labels["n_partly_labelled"],
             np.flatnonzero(kinds == "partial"))]
    written += plots.save_figure(plots.sample_faces_figure(
        d["images"], d["keypoints"], rows, titles),
        os.path.join(folder, "sample_faces"))
    counts = labels["labelled_faces_per_keypoint"]
    written += plots.save_figure(plots.label_counts_figure(
        list(counts), list(counts.values()), labels["n_faces"]),
        os.path.join(folder, "label_counts"))
    return {"written": written, "labels": labels}


# -- augmentation and exposure -------------------------------------------------

#: (title, transform parameters) shown by :func:`augmentation_examples`;
#: parameters as :meth:`kfkd.augment.Augmenter.sample_params` returns them.
AUGMENT_EXAMPLES = (
    ("flip", {"flip": True}),
    ("rotation +10 deg", {"angle": 10.0}),
    ("shift (+3, -3) px", {"shift": (3.0, -3.0)}),
    ("scale 1.05", {"scale": 1.05}),
    ("brightness +0.15", {"brightness": 0.15}),
    ("contrast x0.6", {"contrast": 0.6}),
)


def _one_face_params(flip=False, angle=0.0, scale=1.0, shift=(0.0, 0.0),
                     contrast=1.0, brightness=0.0):
    return {"flip": np.array([flip]), "angle": np.array([angle]),
            "scale": np.array([scale]), "shift": np.array([shift], float),
            "contrast": np.array([contrast]),
            "brightness": np.array([brightness])}


def augmentation_examples(out_dir, budget="quick", redraw=False,
                          data_dir=None, n_random=5, n_exposure=6, seed=0):
    """One face before and after each transform; exposure correction.

    The transforms are those of :class:`kfkd.augment.Augmenter`, one at a
    time at the strengths ``kfkd train`` uses by default (flip, rotation
    10 deg, shift 3 px, scale 5%; brightness and contrast, off by default,
    at visible strengths), then ``n_random`` random draws of the default
    training augmenter.  Exposure: the ``n_exposure`` training faces with
    the largest share of near-white pixels (grey level >= 0.9), corrected
    by :func:`kfkd.augment.equalize_exposure` ('clahe' and 'hist').

    Writes ``augment/augment.npz`` (``images (M, 1, 96, 96)``,
    ``keypoints (M, 30)``, ``titles``), ``augment/augment.json`` (the face,
    the transform parameters), ``augment/exposure.npz`` (``original``,
    ``clahe``, ``hist``, ``index``, ``white_share``) and the figures
    ``augmentation`` and ``exposure``.

    Returns
    -------
    dict
        ``written``.
    """
    from . import plots
    folder = _folder(out_dir, "augment")
    paths = [os.path.join(folder, f) for f in (
        "augment.npz", "augment.json", "exposure.npz")]
    written = []
    if not redraw:
        from .augment import Augmenter, equalize_exposure
        train, _ = _split(data_dir)
        full = np.flatnonzero(np.isfinite(train.keypoints).all(axis=1))
        face = int(full[0])
        image, kp = train.images[face:face + 1], train.keypoints[face:face + 1]
        every = Augmenter(flip=True, rotation=10, shift=3, scale=0.05,
                          brightness=0.15, contrast=0.4)
        titles, images, keypoints, params = ["original"], [image[0]], [kp[0]], []
        for title, p in AUGMENT_EXAMPLES:
            out, moved = every.apply(image, kp, _one_face_params(**p))
            titles.append(title)
            images.append(out[0])
            keypoints.append(moved[0])
            params.append({"title": title, "params": {
                k: list(v) if isinstance(v, tuple) else v
                for k, v in p.items()}})
        default = Augmenter(flip=True, rotation=10, shift=3, scale=0.05)
        rng = np.random.RandomState(seed)
        for k in range(n_random):
            drawn = default.sample_params(1, rng)
            out, moved = default.apply(image, kp, drawn)
            titles.append("random %d" % (k + 1))
            images.append(out[0])
            keypoints.append(moved[0])
            params.append({"title": titles[-1], "params": {
                key: np.asarray(v).ravel().tolist()
                for key, v in drawn.items()}})
        written.append(_save_npz(paths[0], images=np.array(images),
                                 keypoints=np.array(keypoints),
                                 titles=np.array(titles)))
        write_json(paths[1], {
            "face": face, "source": "training split, first fully labelled "
            "face", "transforms": params,
            "random_augmenter": {k: v for k, v in default.get_params().items()
                                 if k != "schema"}})
        written.append(paths[1])
        white = (train.images >= 0.9).mean(axis=(1, 2, 3))
        worst = np.argsort(white)[::-1][:n_exposure]
        originals = train.images[worst]
        written.append(_save_npz(
            paths[2], original=originals,
            clahe=equalize_exposure(originals, "clahe"),
            hist=equalize_exposure(originals, "hist"), index=worst,
            white_share=white[worst]))
    _need(*paths)
    d = _load_npz(paths[0])
    from .keypoints import KeypointSchema
    left = np.array([n.startswith("left") for n in KeypointSchema.kaggle().names])
    examples = [(str(t), im, kp) for t, im, kp in zip(
        d["titles"], d["images"], d["keypoints"])]
    written += plots.save_figure(plots.augmentation_figure(examples, left),
                                 os.path.join(folder, "augmentation"))
    e = _load_npz(paths[2])
    rows = [("original", e["original"]), ("CLAHE", e["clahe"]),
            ("histogram\nequalised", e["hist"])]
    titles = ["#%d: %.0f%% >= 0.9" % (i, 100 * w)
              for i, w in zip(e["index"], e["white_share"])]
    written += plots.save_figure(plots.exposure_figure(rows, titles),
                                 os.path.join(folder, "exposure"))
    return {"written": written}


# -- training runs ---------------------------------------------------------------

def _budget_args(budget, minutes, max_epochs):
    args = ["--max-minutes", repr(float(minutes)), "--epochs",
            str(int(max_epochs)), "--patience", str(int(budget.patience))]
    if budget.limit is not None:
        args += ["--limit", str(int(budget.limit))]
    return args


def _train_run(name, argv, model_dir, data_dir=None, verbose=True):
    """Run ``kfkd train --out model_dir ARGV`` in this process.

    Returns
    -------
    row : dict
        name, command, validation RMSE (best epoch), train and validation
        loss at the best epoch, epochs, minutes, parameters, faces.
    history : list of dict
        Per epoch (:data:`kfkd.train.HISTORY_COLUMNS`).
    """
    from . import cli
    from .train import trainer_from_config

    argv = ["--out", _rel(model_dir)] + list(argv)
    if data_dir is not None:
        argv += ["--data-dir", data_dir]
    args = cli.build_parser().parse_args(["train"] + argv)
    config = cli.train_config(args)
    train, val = _split(data_dir, args.limit)
    trainer = trainer_from_config(config, verbose=verbose)
    started = time.time()
    model = trainer.fit(train, val, out_dir=model_dir)
    history = trainer.history_
    best = history[trainer.best_epoch_ - 1]
    import lasagne
    return {
        "name": name,
        "val_rmse_px": float(best["val_rmse_px"]),
        "train_loss": float(best["train_loss"]),
        "val_loss": float(best["val_loss"]),
        "best_epoch": int(trainer.best_epoch_),
        "epochs": len(history),
        "minutes": float(history[-1]["seconds"]) / 60.0,
        "wall_minutes": (time.time() - started) / 60.0,
        "n_params": int(lasagne.layers.count_params(model.layer)),
        "n_train": len(train), "n_val": len(val),
        "command": "kfkd train " + " ".join(shlex.quote(a) for a in argv),
    }, history


def _run_set(folder, runs, runs_dir, data_dir, verbose):
    """Train ``runs`` [(name, argv, extra row fields)], save their
    histories and ``summary.csv`` in ``folder``."""
    from .train import HISTORY_COLUMNS
    rows, written = [], []
    for name, argv, extra in runs:
        model_dir = os.path.join(runs_dir, _slug(name))
        row, history = _train_run(name, argv, model_dir, data_dir, verbose)
        row.update(extra)
        rows.append(row)
        path = os.path.join(folder, "%s.history.csv" % _slug(name))
        written.append(_write_csv(path, pd.DataFrame(
            history, columns=list(HISTORY_COLUMNS))))
    written.append(_write_csv(os.path.join(folder, "summary.csv"),
                              pd.DataFrame(rows)))
    return written


def _slug(name):
    return "".join(c if c.isalnum() else "_" for c in name).strip("_")


def _histories(folder):
    summary = pd.read_csv(os.path.join(folder, "summary.csv"))
    out = {}
    for name in summary.name:
        path = os.path.join(folder, "%s.history.csv" % _slug(name))
        _need(path)
        out[name] = pd.read_csv(path)
    return summary, out


def _curves_group(folder, budget, runs, runs_dir, data_dir, verbose, title,
                  figure):
    """Train ``runs`` (:func:`_run_set`; ``None``: redraw only), record the
    budget in ``folder/budget.json``, then draw the loss curves of the saved
    histories as ``folder/<figure>`` (``title % budget name``).

    Returns
    -------
    written : list of str
    summary : DataFrame
        ``folder/summary.csv``.
    budget_dict : dict
        ``folder/budget.json``: the budget of the saved runs.

    Raises
    ------
    FileNotFoundError
        Redrawing without the saved files.
    """
    from . import plots
    written = []
    if runs is not None:
        written += _run_set(folder, runs, runs_dir, data_dir, verbose)
        write_json(os.path.join(folder, "budget.json"), budget.to_dict())
        written.append(os.path.join(folder, "budget.json"))
    _need(os.path.join(folder, "summary.csv"),
          os.path.join(folder, "budget.json"))
    summary, histories = _histories(folder)
    budget_dict = read_json(os.path.join(folder, "budget.json"))
    written += plots.save_figure(plots.training_curves_figure(
        histories, title % budget_dict["name"]),
        os.path.join(folder, figure))
    return written, summary, budget_dict


def markdown_table(frame, columns, formats=None):
    """A Markdown table of ``frame``'s ``columns`` {column: header}.

    ``formats``: {column: format string or callable} for the cells.

    Examples
    --------
    >>> f = pd.DataFrame({"a": ["x"], "b": [1.23456]})
    >>> print(markdown_table(f, {"a": "name", "b": "RMSE"}, {"b": "%.2f"}))
    | name | RMSE |
    |---|---|
    | x | 1.23 |
    """
    formats = formats or {}
    lines = ["| " + " | ".join(columns.values()) + " |",
             "|" + "---|" * len(columns)]
    for _, row in frame.iterrows():
        cells = []
        for c in columns:
            fmt = formats.get(c, "%s")
            cells.append(fmt(row) if callable(fmt) else fmt % row[c])
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _epochs_cell(row):
    return "%d (best %d)" % (row["epochs"], row["best_epoch"])


def _budget_note(budget_dict, minutes_key):
    limit = budget_dict.get("limit")
    faces = ("all of training.csv" if limit in (None, "") else
             "the first %d faces of training.csv" % int(limit))
    return ("Budget `%s`: %s (80/20 train/validation split), %.4g min per "
            "run (`kfkd train --max-minutes`)."
            % (budget_dict["name"], faces, budget_dict[minutes_key]))


def training_curves(out_dir, budget="quick", redraw=False, data_dir=None,
                    runs_dir=None, verbose=True):
    """Train/validation loss per epoch of each net of ``budget.nets``.

    Each net is trained by ``kfkd train --net NAME`` with the command's
    defaults (:data:`NET_TRAIN_ARGS`) under the budget; the models go to
    ``runs_dir/<net>``.  Writes ``training/<net>.history.csv``,
    ``training/summary.csv`` (one row per net: validation RMSE, losses,
    epochs, minutes, parameters, the command), ``training/budget.json``,
    ``training.md`` (the table, Markdown) and the figure
    ``training/training_curves``.

    Returns
    -------
    dict
        ``written``, ``summary`` (DataFrame).
    """
    budget = get_budget(budget)
    folder = _folder(out_dir, "training")
    runs = None
    if not redraw:
        runs_dir = runs_dir or os.path.join(REPO, "runs", "figures",
                                            budget.name)
        runs = [(net, ["--net", net] + NET_TRAIN_ARGS.get(net, []) +
                 _budget_args(budget, budget.net_minutes,
                              budget.net_max_epochs), {})
                for net in budget.nets]
    written, summary, budget_dict = _curves_group(
        folder, budget, runs, runs_dir, data_dir, verbose,
        "Training curves: train and validation loss per epoch (budget %s)",
        "training_curves")
    table = markdown_table(summary, {
        "name": "net", "n_params": "parameters", "epochs": "epochs",
        "train_loss": "train loss", "val_loss": "valid loss",
        "val_rmse_px": "validation RMSE (px)", "minutes": "minutes"}, {
        "n_params": lambda r: format(int(r["n_params"]), ","),
        "epochs": _epochs_cell, "train_loss": "%.5f", "val_loss": "%.5f",
        "val_rmse_px": "%.3f", "minutes": "%.1f"})
    md = os.path.join(out_dir, "training.md")
    _write_text(md, table + "\n\n" + _budget_note(budget_dict, "net_minutes")
                + "\n")
    written.append(md)
    return {"written": written, "summary": summary}


def _write_text(path, text):
    from .fileio import atomic_write
    with atomic_write(path) as f:
        f.write(text)
    return path


def ablations(out_dir, budget="quick", redraw=False, data_dir=None,
              runs_dir=None, verbose=True):
    """breeze with dropout, augmentation and L1/L2 switched off in turn.

    The variants are :data:`ABLATIONS` on top of
    :data:`ABLATION_BASE_ARGS` and the budget's ``ablation_params``, each a
    ``kfkd train`` run.  Writes ``ablations/<variant>.history.csv``,
    ``ablations/summary.csv``, ``ablations/budget.json``, the table as
    ``ablations.csv`` and ``ablations.md`` (rows: variants; columns as
    Nouri's 2014 tutorial table: epochs, train loss, valid loss, plus the
    validation RMSE in pixels and the minutes) and the figure
    ``ablations/ablation_curves``.

    Returns
    -------
    dict
        ``written``, ``summary`` (DataFrame).
    """
    budget = get_budget(budget)
    folder = _folder(out_dir, "ablations")
    runs = None
    if not redraw:
        runs_dir = runs_dir or os.path.join(REPO, "runs", "figures",
                                            budget.name, "ablations")
        base = list(ABLATION_BASE_ARGS)
        for p in budget.ablation_params:
            base += ["--param", p]
        base += _budget_args(budget, budget.ablation_minutes,
                             budget.ablation_max_epochs)
        runs = [(name, base + extra, {"change": change})
                for name, change, extra in ABLATIONS]
    written, summary, budget_dict = _curves_group(
        folder, budget, runs, runs_dir, data_dir, verbose,
        "Ablations of breeze (budget %s)", "ablation_curves")
    table = summary[["name", "change", "epochs", "best_epoch", "train_loss",
                     "val_loss", "val_rmse_px", "minutes", "command"]]
    written.append(_write_csv(os.path.join(out_dir, "ablations.csv"), table))
    md = markdown_table(table, {
        "name": "variant", "change": "change", "epochs": "epochs",
        "train_loss": "train loss", "val_loss": "valid loss",
        "val_rmse_px": "validation RMSE (px)", "minutes": "minutes"}, {
        "epochs": _epochs_cell, "train_loss": "%.5f", "val_loss": "%.5f",
        "val_rmse_px": "%.3f", "minutes": "%.1f"})
    params = budget_dict.get("ablation_params") or []
    note = _budget_note(budget_dict, "ablation_minutes") + (
        " breeze with `%s`." % " ".join("--param " + p for p in params)
        if params else " breeze at its defaults.")
    path = os.path.join(out_dir, "ablations.md")
    _write_text(path, md + "\n\n" + note + "\n")
    written.append(path)
    return {"written": written, "summary": summary}


# -- random search ---------------------------------------------------------------

def _stored_study(study_dir, min_complete=3):
    """(study, space) of the study stored in ``study_dir``, or None when
    there is none there or it has fewer than ``min_complete`` complete
    trials."""
    import optuna

    from . import search
    if not study_dir or not os.path.isfile(os.path.join(study_dir,
                                                        "journal.log")):
        return None
    storage = search.open_storage(None, study_dir)
    names = optuna.get_all_study_names(storage)
    name = os.path.basename(os.path.normpath(study_dir))
    if name not in names:            # never create a study in someone's storage
        if len(names) != 1:
            return None
        name = names[0]
    study = optuna.load_study(study_name=name, storage=storage)
    frame = search.results_frame(study)
    if not len(frame) or (frame.state == "COMPLETE").sum() < min_complete:
        return None
    attrs = study.user_attrs
    try:
        space = search.load_space(attrs.get("space", ""))
    except FileNotFoundError:       # a path from another machine
        space = search.load_space(attrs.get("space_name", name))
    return study, space


def search_surfaces(out_dir, budget="quick", redraw=False, study_dir=None,
                    runs_dir=None, data_dir=None, verbose=True):
    """The 3D validation-RMSE surfaces of a random-search study.

    The study is the one stored in ``study_dir`` (default: the main job's
    ``runs/default``) if it has at least 3 complete trials; otherwise a
    study of ``budget.search_trials`` trials of ``budget.search_space`` is
    run (:class:`kfkd.search.Driver`, resumable) into
    ``runs_dir/figures-<budget>/``.  Writes ``search/results.csv``
    (:func:`kfkd.search.results_frame`), ``search/study.json`` (study,
    space, surfaces, log-scaled keys, best trial) and the figures
    ``search/surfaces_<x>_<y>`` (:func:`kfkd.plots.search_surfaces`).

    Returns
    -------
    dict
        ``written``, ``study`` (study.json's contents).
    """
    from . import plots
    budget = get_budget(budget)
    folder = _folder(out_dir, "search")
    csv_path, js = (os.path.join(folder, f) for f in ("results.csv",
                                                      "study.json"))
    written = []
    if not redraw:
        from . import search
        found = _stored_study(study_dir or DEFAULT_STUDY_DIR)
        source = "stored"
        if found is None:
            source = "ran"
            runs_dir = runs_dir or os.path.join(REPO, "runs")
            name = "figures-%s" % budget.name
            space = search.load_space(budget.search_space)
            search.Driver(space, name, budget.search_trials,
                          search.default_devices(), runs_dir,
                          data_dir=data_dir, limit=budget.search_limit,
                          minutes=budget.search_minutes, seed=0,
                          verbose=verbose).run()
            study_dir = os.path.join(runs_dir, name)
            found = _stored_study(study_dir, min_complete=1)
            if found is None:
                raise RuntimeError("the search study %s completed no trial"
                                   % study_dir)
        else:
            study_dir = study_dir or DEFAULT_STUDY_DIR
        study, space = found
        frame = search.results_frame(study)
        written.append(_write_csv(csv_path, frame))
        done = frame[frame.state == "COMPLETE"]
        best = done.loc[done.val_rmse_px.idxmin()]
        write_json(js, {
            "study": study.study_name, "study_dir": _rel(study_dir),
            "source": source, "space": space.name,
            "surfaces": [list(p) for p in space.surfaces],
            "log_keys": sorted(search.log_scaled_keys(study)),
            "n_trials": int(len(frame)), "n_complete": int(len(done)),
            "best": {"number": int(best.number),
                     "val_rmse_px": float(best.val_rmse_px),
                     "config": study.trials[int(best.number)].user_attrs.get(
                         "config")},
            "budget": budget.to_dict() if source == "ran" else None})
        written.append(js)
    _need(csv_path, js)
    info = read_json(js)
    for old in glob.glob(os.path.join(folder, "surfaces_*")):
        os.unlink(old)             # surfaces of another study
    written += plots.search_surfaces(
        pd.read_csv(csv_path), [tuple(p) for p in info["surfaces"]],
        set(info["log_keys"]), os.path.join(folder, "surfaces"))
    return {"written": written, "study": info}


# -- the reference model: architecture, predictions, occlusion -----------------

def describe_layers(layer):
    """The layers of a Lasagne net, input first, as JSON-ready dicts.

    Returns
    -------
    list of dict
        ``type``, ``name``, ``output_shape`` (without the batch axis),
        ``n_params`` (all parameters, batch-norm averages included) and,
        where they apply, ``num_filters``, ``filter_size``, ``pool_size``,
        ``p`` (dropout), ``num_units``, ``nonlinearity``.
    """
    import lasagne
    out = []
    for l in lasagne.layers.get_all_layers(layer):
        d = {"type": type(l).__name__, "name": l.name,
             "output_shape": [int(s) for s in l.output_shape[1:]],
             "n_params": int(sum(p.get_value().size for p in l.get_params()))}
        for attr in ("num_filters", "num_units", "p"):
            if hasattr(l, attr):
                d[attr] = float(getattr(l, attr)) if attr == "p" else int(
                    getattr(l, attr))
        for attr in ("filter_size", "pool_size"):
            if hasattr(l, attr):
                d[attr] = [int(s) for s in np.atleast_1d(getattr(l, attr))]
        f = getattr(l, "nonlinearity", None)
        if f is not None:
            d["nonlinearity"] = getattr(f, "__name__", str(f))
        out.append(d)
    return out


def architecture(out_dir, budget="quick", redraw=False, model=None):
    """The reference model's layer stack (from the built net).

    Writes ``architecture/layers.json`` (:func:`describe_layers`, with the
    model's net, hyperparameters and folder) and the figure
    ``architecture/architecture``.

    Returns
    -------
    dict
        ``written``, ``layers`` (layers.json's contents).
    """
    from . import plots
    folder = _folder(out_dir, "architecture")
    js = os.path.join(folder, "layers.json")
    written = []
    if not redraw:
        model = _model(model)
        write_json(js, {"net": model.net, "net_params": model.net_params,
                        "model": _rel(model.folder or ""),
                        "layers": describe_layers(model.layer)})
        written.append(js)
    _need(js)
    info = read_json(js)
    written += plots.save_figure(plots.architecture_figure(
        info["layers"], "%s %s" % (info["net"], ", ".join(
            "%s=%s" % kv for kv in sorted(info["net_params"].items())))),
        os.path.join(folder, "architecture"))
    return {"written": written, "layers": info}


def predictions_best_worst(out_dir, budget="quick", redraw=False, model=None,
                           data_dir=None):
    """The reference model's predictions on the validation faces.

    Predicts all validation faces of :func:`kfkd.data.load_split`, ranks
    them by their RMSE over labelled coordinates, and shows the
    ``budget.best_worst`` best and worst.  Writes
    ``predictions/metrics.json`` (:meth:`kfkd.model.Model.metrics`, the
    model folder, its training epochs and seconds, the mean-shape
    baseline), ``predictions/per_face.csv``
    (validation index, labelled keypoints, RMSE in pixels),
    ``predictions/best_worst.npz`` (``images``, ``truth``, ``predictions``,
    ``rmse``, ``val_index``, ``row``) and the figures
    ``predictions/best_worst`` and ``predictions/per_keypoint``.

    Returns
    -------
    dict
        ``written``, ``metrics``.
    """
    from . import plots
    from .train import rmse_px
    budget = get_budget(budget)
    folder = _folder(out_dir, "predictions")
    paths = [os.path.join(folder, f) for f in (
        "metrics.json", "per_face.csv", "best_worst.npz")]
    written = []
    if not redraw:
        model = _model(model)
        train, val = _split(data_dir)
        predictions = model.predict(val.images)
        metrics = model.metrics(val, predictions=predictions)
        mean_shape = np.nanmean(train.keypoints, axis=0)
        trained = {}
        if model.folder and os.path.isfile(os.path.join(model.folder,
                                                        "metrics.json")):
            trained = {k: v for k, v in read_json(os.path.join(
                model.folder, "metrics.json")).items()
                if k in ("best_epoch", "epochs", "seconds")}
        metrics.update({
            "training": trained,
            "model": _rel(model.folder or ""), "net": model.net,
            "mean_shape_rmse_px": rmse_px(np.broadcast_to(
                mean_shape, val.keypoints.shape), val.keypoints),
            "command": "kfkd evaluate --model %s" % _rel(model.folder or "")})
        write_json(paths[0], metrics)
        written.append(paths[0])
        err2 = (predictions.astype(np.float64) - val.keypoints) ** 2
        labelled = np.isfinite(err2).any(axis=1)
        per_face = np.full(len(val), np.nan)
        per_face[labelled] = np.sqrt(np.nanmean(err2[labelled], axis=1))
        written.append(_write_csv(paths[1], pd.DataFrame({
            "val_index": np.arange(len(val)),
            "labelled_keypoints": np.isfinite(val.keypoints[:, 0::2]).sum(1),
            "rmse_px": per_face})))
        k = budget.best_worst
        order = np.flatnonzero(labelled)[np.argsort(per_face[labelled],
                                                    kind="stable")]
        pick = np.concatenate([order[:k], order[::-1][:k]])
        written.append(_save_npz(
            paths[2], images=val.images[pick], truth=val.keypoints[pick],
            predictions=predictions[pick], rmse=per_face[pick],
            val_index=pick, row=np.array(["best"] * k + ["worst"] * k)))
    _need(*paths)
    d, metrics = _load_npz(paths[2]), read_json(paths[0])
    rows = [("best %d" % (d["row"] == "best").sum(),
             np.flatnonzero(d["row"] == "best")),
            ("worst %d" % (d["row"] == "worst").sum(),
             np.flatnonzero(d["row"] == "worst"))]
    titles = ["val #%d" % i for i in d["val_index"]]
    written += plots.save_figure(plots.predictions_figure(
        d["images"], d["truth"], d["predictions"], d["rmse"], rows, titles),
        os.path.join(folder, "best_worst"))
    per_keypoint = metrics["per_keypoint_rmse_px"]
    written += plots.save_figure(plots.per_keypoint_figure(
        list(per_keypoint), list(per_keypoint.values()),
        metrics["val_rmse_px"], metrics.get("mean_shape_rmse_px")),
        os.path.join(folder, "per_keypoint"))
    return {"written": written, "metrics": metrics}


def occlusion(out_dir, budget="quick", redraw=False, model=None,
              data_dir=None, censor="edge_free", patch=12, verbose=True):
    """Occlusion heat maps of validation faces and the censor comparison.

    Heat maps (:func:`kfkd.occlusion.occlusion_maps`) of the first
    ``budget.occlusion_faces`` validation faces with ``censor`` at stride
    ``budget.occlusion_stride``, and the aggregate maps of every censor of
    :data:`kfkd.occlusion.CENSORS` on the first ``budget.compare_faces`` at
    ``budget.compare_stride``.  Writes into ``occlusion/`` the same files as
    ``kfkd occlusion`` (:mod:`kfkd.occlusion.run`: ``occlusion_<censor>.npz``
    / ``.json``, ``compare_<censor>.npz``; figures ``face<i>_<censor>``,
    ``overview_<censor>``, ``compare_censors``), so either can redraw the
    other's.

    Returns
    -------
    dict
        ``written``, ``summary`` (the JSON's contents).
    """
    from .occlusion import run as occ_run
    budget = get_budget(budget)
    folder = _folder(out_dir, "occlusion")
    written = []
    if not redraw:
        model = _model(model)
        train, val = _split(data_dir)
        written += occ_run.compute_maps(
            model, val, float(train.images.mean()), folder, censor, patch,
            budget.occlusion_faces, budget.occlusion_stride,
            budget.compare_faces, budget.compare_stride, progress=verbose,
            extra={"model": _rel(model.folder or ""),
                   "budget": budget.to_dict()})
    _need(os.path.join(folder, "occlusion_%s.npz" % censor),
          os.path.join(folder, "occlusion_%s.json" % censor))
    written += occ_run.draw_folder(folder, censor)
    return {"written": written,
            "summary": read_json(os.path.join(folder, "occlusion_%s.json"
                                              % censor))}


# -- all of them -------------------------------------------------------------------

def reproduce(out_dir=None, budget="quick", groups=GROUPS, redraw=False,
              data_dir=None, model=None, study_dir=None, runs_dir=None,
              verbose=True):
    """Run the figure groups; write ``manifest.json`` (files, seconds).

    Parameters
    ----------
    out_dir : str, optional
        Default: the repository's ``figures/``.
    budget : str or Budget
    groups : sequence of str
        Names in :data:`GROUPS`.
    redraw : bool
        Draw from the saved data only (no data, model or training needed).
    data_dir, model, study_dir, runs_dir
        See the group functions (``runs_dir``: where training runs and a
        fallback study are kept; default ``runs/``).
    verbose : bool
        Progress bars and one line per group.

    Returns
    -------
    dict
        The manifest: per group its budget, seconds and written files (groups
        not rerun are kept from an earlier manifest), the settings of the
        budgets used and the seconds of this call.

    Raises
    ------
    ValueError
        An unknown group or budget.
    """
    budget = get_budget(budget)
    out_dir = out_dir or os.path.join(REPO, "figures")
    unknown = set(groups) - set(GROUPS)
    if unknown:
        raise ValueError("unknown figure group(s) %s; known: %s" % (
            ", ".join(sorted(unknown)), ", ".join(GROUPS)))
    runs = runs_dir or os.path.join(REPO, "runs")
    calls = {
        "samples": lambda: sample_faces(out_dir, budget, redraw, data_dir),
        "augment": lambda: augmentation_examples(out_dir, budget, redraw,
                                                 data_dir),
        "training": lambda: training_curves(
            out_dir, budget, redraw, data_dir,
            os.path.join(runs, "figures", budget.name), verbose),
        "ablations": lambda: ablations(
            out_dir, budget, redraw, data_dir,
            os.path.join(runs, "figures", budget.name, "ablations"),
            verbose),
        "search": lambda: search_surfaces(out_dir, budget, redraw, study_dir,
                                          runs, data_dir, verbose),
        "architecture": lambda: architecture(out_dir, budget, redraw, model),
        "predictions": lambda: predictions_best_worst(
            out_dir, budget, redraw, model, data_dir),
        "occlusion": lambda: occlusion(out_dir, budget, redraw, model,
                                       data_dir, verbose=verbose),
    }
    if model is not None and not redraw:
        model = _model(model)
    path = os.path.join(out_dir, "manifest.json")
    manifest = {"groups": {}}
    if os.path.isfile(path):      # keep the groups not rerun
        manifest = read_json(path)
    started = time.time()
    for group in [g for g in GROUPS if g in groups]:
        t = time.time()
        result = calls[group]()
        seconds = time.time() - t
        manifest["groups"][group] = {
            "budget": budget.name, "seconds": round(seconds, 1),
            "written": sorted({_rel_to(p, out_dir)
                               for p in result["written"]})}
        if verbose:
            print("figures: %-12s %6.1f s, %d files" % (
                group, seconds, len(result["written"])), flush=True)
    manifest["last_call_seconds"] = round(time.time() - started, 1)
    manifest["budgets"] = {b: BUDGETS[b].to_dict() for b in sorted(
        {g["budget"] for g in manifest["groups"].values()}) if b in BUDGETS}
    if not redraw:
        write_json(path, manifest)
    return manifest


def _rel_to(path, folder):
    return os.path.relpath(os.path.abspath(path), os.path.abspath(folder))

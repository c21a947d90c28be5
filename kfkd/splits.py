"""The train / validation split of training.csv that every kfkd command uses.

Two methods, both seeded and deterministic, so that models, trials and
figures are compared on the same validation faces:

``grouped`` (the default)
    Faces that are likely the same person (:func:`kfkd.people.group_faces`:
    aligned on their eye centres and nose tip, compared by gradients,
    clustered) go to the same side (:func:`group_split`).  training.csv
    holds about 260 people, 8 to 15 frames of one video each, so a random
    split validates on people the net has seen.
``random``
    Rows drawn at random (:func:`train_val_split`); the split of models
    trained before the grouped one (a model.json without ``split``).

A split loaded by :func:`load_split` describes itself (``train.split``,
``val.split``: method, val_fraction, seed, limit); the trainer records it in
model.json, so that ``kfkd evaluate`` validates a model on the split it was
trained with (:func:`recorded_split`).  numpy and scipy only: no Theano here.

Examples
--------
>>> split_sizes(10, 0.2)
(8, 2)
>>> tr, va = group_split([0, 0, 1, 1, 2, 2, 3, 3, 4, 4], 0.2, seed=0)
>>> len(tr), len(va)
(8, 2)
"""
import json

import numpy as np

from .data import DataError, find_file, load_training
from .errors import ModelError
from .people import group_faces

__all__ = ["VAL_FRACTION", "SPLIT_SEED", "SPLITS", "DEFAULT_SPLIT",
           "split_sizes", "train_val_split", "group_split", "load_split",
           "recorded_split"]

#: The validation split every kfkd command uses unless told otherwise, so
#: that models are compared on the same faces.
VAL_FRACTION, SPLIT_SEED = 0.2, 42

#: Split methods (:func:`load_split`); the first is the default.
SPLITS = ("grouped", "random")
DEFAULT_SPLIT = SPLITS[0]

#: The split of a model whose model.json records none: models trained
#: before the grouped split were validated on the random one.
LEGACY_SPLIT = "random"


def split_sizes(n, val_fraction=VAL_FRACTION):
    """``(n_train, n_val)`` of :func:`train_val_split` for ``n`` faces.

    ``n_val = max(1, round(n * val_fraction))``; both must be >= 1.

    Raises
    ------
    ValueError
        ``val_fraction`` not in (0, 1), or ``n`` faces too few to leave a
        training and a validation face.

    Examples
    --------
    >>> split_sizes(10, 0.2)
    (8, 2)
    """
    if not 0 < val_fraction < 1:
        raise ValueError("val_fraction must be in (0, 1), got %r"
                         % (val_fraction,))
    n_val = max(1, int(round(n * val_fraction)))
    if n - n_val < 1:
        raise ValueError("%d face(s) leave no training face after a "
                         "validation share of %g" % (n, val_fraction))
    return n - n_val, n_val


def train_val_split(n, val_fraction=0.2, seed=42):
    """A seeded, deterministic split of ``range(n)`` into train / validation.

    Parameters
    ----------
    n : int
        Number of faces.
    val_fraction : float in (0, 1)
    seed : int

    Returns
    -------
    train_index, val_index : ndarray of int, sorted, disjoint, covering range(n)

    Examples
    --------
    >>> tr, va = train_val_split(10, 0.2, seed=0)
    >>> len(tr), len(va)
    (8, 2)
    """
    n_val = split_sizes(n, val_fraction)[1]
    order = np.random.RandomState(seed).permutation(n)
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def group_split(groups, val_fraction=0.2, seed=42):
    """A seeded split of faces into train / validation by whole groups.

    As scikit-learn's ``GroupShuffleSplit`` (no group on both sides, groups
    drawn at random), but ``val_fraction`` is a share of *faces*, not of
    groups: the groups, shuffled by ``seed``, go to validation one by one
    until it holds at least ``round(n * val_fraction)`` faces
    (:func:`split_sizes`), so it overshoots by less than one group.

    Parameters
    ----------
    groups : array-like, (N,) int
        Group of each face (:func:`kfkd.people.group_faces`).
    val_fraction : float in (0, 1)
    seed : int

    Returns
    -------
    train_index, val_index : ndarray of int, sorted, disjoint, covering
    range(N)

    Raises
    ------
    ValueError
        ``val_fraction`` not in (0, 1), or the groups too few to leave a
        training face.
    """
    groups = np.asarray(groups)
    n_val = split_sizes(len(groups), val_fraction)[1]
    names, inverse, sizes = np.unique(groups, return_inverse=True,
                                      return_counts=True)
    order = np.random.RandomState(seed).permutation(len(names))
    taken = np.searchsorted(np.cumsum(sizes[order]), n_val) + 1
    is_val = np.isin(inverse, order[:taken])
    if is_val.all():
        raise ValueError("%d group(s) of %d faces leave no training face "
                         "after a validation share of %g"
                         % (len(names), len(groups), val_fraction))
    return np.flatnonzero(~is_val), np.flatnonzero(is_val)


def load_split(data_dir=None, val_fraction=VAL_FRACTION, seed=SPLIT_SEED,
               limit=None, verbose=True, method=DEFAULT_SPLIT):
    """training.csv of ``data_dir``, split into train and validation faces.

    Parameters
    ----------
    data_dir : str, optional
        See :func:`kfkd.data.resolve_data_dir`.
    val_fraction : float
    seed : int
        Split seed (fixed by default so every model sees the same split).
    limit : int, optional
        Use only the first ``limit`` faces (for quick runs and tests); the
        groups are those of the whole file.
    method : {'grouped', 'random'}
        :data:`SPLITS`: by groups of likely the same person
        (:func:`group_split` of :func:`kfkd.people.group_faces`, about 2 s),
        or by rows (:func:`train_val_split`).

    Returns
    -------
    train, val : KeypointData
        Each with ``split``, the dict ``{'method', 'val_fraction', 'seed',
        'limit'}`` that loads it again (``load_split(**split)``),
        ``groups``, each face's group (None for the random split), and
        ``rows``, each face's data row in training.csv (0-based).

    Raises
    ------
    DataNotFoundError, DataError
        Also: too few faces (or groups) for the split, or (grouped) a file
        without the eye-centre and nose-tip columns the grouping aligns on.
    ValueError
        An unknown ``method``.
    """
    if method not in SPLITS:
        raise ValueError("split method must be one of %s, got %r"
                         % (", ".join(SPLITS), method))
    data = load_training(find_file("training.csv", data_dir), verbose=verbose)
    try:
        groups = group_faces(data) if method == "grouped" else None
        if limit is not None:
            data = data.subset(slice(0, limit))
        split_sizes(len(data), val_fraction)
        if groups is None:
            train_index, val_index = train_val_split(len(data), val_fraction,
                                                     seed)
        else:
            train_index, val_index = group_split(groups[:len(data)],
                                                 val_fraction, seed)
    except ValueError as e:
        raise DataError(data.path, "%s split: %s%s" % (
            method, e, " (--split random splits by rows)"
            if method == "grouped" else ""))
    train, val = data.subset(train_index), data.subset(val_index)
    for side, index in ((train, train_index), (val, val_index)):
        side.split = {"method": method, "val_fraction": val_fraction,
                      "seed": seed, "limit": limit}
        side.groups = None if groups is None else groups[index]
        side.rows = index
    return train, val


def recorded_split(training):
    """The :func:`load_split` arguments of the split a model was trained
    with, from its model.json's ``training`` (``split``).

    Parameters
    ----------
    training : dict
        A model's ``training`` (:attr:`kfkd.model.Model.training`).

    Raises
    ------
    ModelError
        ``split`` is malformed (naming the field).

    Returns
    -------
    dict
        ``method``, ``val_fraction``, ``seed``, ``limit``: those recorded,
        the defaults for the rest; ``method`` is :data:`LEGACY_SPLIT`
        ('random') when nothing is recorded (models trained before the
        grouped split).

    Examples
    --------
    >>> recorded_split({})["method"]
    'random'
    >>> recorded_split({"split": {"method": "grouped", "val_fraction": 0.1}})
    {'method': 'grouped', 'val_fraction': 0.1, 'seed': 42, 'limit': None}
    """
    split = (training or {}).get("split") or {"method": LEGACY_SPLIT}
    out = {"method": split.get("method", LEGACY_SPLIT),
           "val_fraction": split.get("val_fraction", VAL_FRACTION),
           "seed": split.get("seed", SPLIT_SEED),
           "limit": split.get("limit")} if isinstance(split, dict) else {}
    if (out.get("method") not in SPLITS
            or not isinstance(out["val_fraction"], float)
            or not 0 < out["val_fraction"] < 1
            or not isinstance(out["seed"], int)
            or not isinstance(out["limit"], (int, type(None)))):
        raise ModelError("field 'training.split' is %s, expected {'method': "
                         "%s, 'val_fraction': float in (0, 1), 'seed': int, "
                         "'limit': int or null}" % (
                             json.dumps(split)[:80], " or ".join(SPLITS)))
    return out

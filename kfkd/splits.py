"""The train / validation split of training.csv that every kfkd command uses.

Seeded and deterministic, so that models, trials and figures are compared on
the same validation faces (numpy only: no Theano here).

Examples
--------
>>> split_sizes(10, 0.2)
(8, 2)
"""
import numpy as np

from .data import DataError, find_file, load_training

__all__ = ["VAL_FRACTION", "SPLIT_SEED", "split_sizes", "train_val_split",
           "load_split"]

#: The validation split every kfkd command uses unless told otherwise, so
#: that models are compared on the same faces.
VAL_FRACTION, SPLIT_SEED = 0.2, 42


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


def load_split(data_dir=None, val_fraction=VAL_FRACTION, seed=SPLIT_SEED,
               limit=None, verbose=True):
    """training.csv of ``data_dir``, split into train and validation faces.

    Parameters
    ----------
    data_dir : str, optional
        See :func:`kfkd.data.resolve_data_dir`.
    val_fraction : float
    seed : int
        Split seed (fixed by default so every model sees the same split).
    limit : int, optional
        Use only the first ``limit`` faces (for quick runs and tests).

    Returns
    -------
    train, val : KeypointData

    Raises
    ------
    DataNotFoundError, DataError
    """
    data = load_training(find_file("training.csv", data_dir), verbose=verbose)
    if limit is not None:
        data = data.subset(slice(0, limit))
    try:
        split_sizes(len(data), val_fraction)
    except ValueError as e:
        raise DataError(data.path, str(e))
    train_index, val_index = train_val_split(len(data), val_fraction, seed)
    return data.subset(train_index), data.subset(val_index)

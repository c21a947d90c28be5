"""Missing keypoints in the training faces: the ways published systems dealt
with them.

Most faces of training.csv lack some of the 15 keypoints (only ~30% have
all of them).  ``kfkd train --missing`` chooses what the training faces
become before training; validation faces are never changed (validation
always scores the true labels only, :func:`kfkd.metrics.rmse`).

=======  =====================================================================
masked   keep every face, train on the labelled coordinates only (the
         masked loss, :func:`kfkd.objective.masked_mse`); kfkd's default
drop     keep only the faces with every keypoint labelled (Nouri's tutorial,
         ``df.dropna()``, and the capstone)
ffill    fill each missing coordinate with the same coordinate of the
         previous face in file order (the Keras report: pandas
         ``fillna(method='ffill')``); coordinates with no labelled face
         before them stay missing and masked
=======  =====================================================================

The third published way, pseudo-labelling the missing keypoints with a
trained model, is :mod:`kfkd.pseudo` (``experiments/train_reference.py
--stage pseudo``).

Examples
--------
>>> import numpy as np
>>> from kfkd.data import KeypointData
>>> from kfkd.keypoints import KeypointSchema
>>> schema = KeypointSchema(("a_x", "a_y"))
>>> faces = KeypointData(np.zeros((3, 1, 96, 96), np.float32),
...                      np.array([[1, 2], [np.nan, 3], [4, np.nan]],
...                               np.float32), schema)
>>> prepare(faces, "drop").keypoints
array([[1., 2.]], dtype=float32)
>>> prepare(faces, "ffill").keypoints
array([[1., 2.],
       [1., 3.],
       [4., 3.]], dtype=float32)
"""
import numpy as np

from .data import KeypointData
from .errors import UsageError

__all__ = ["STRATEGIES", "prepare", "describe"]

#: The strategies, kfkd's default first.
STRATEGIES = ("masked", "drop", "ffill")


def prepare(data, strategy):
    """The training faces ``data`` after the missing-label ``strategy``.

    Parameters
    ----------
    data : kfkd.data.KeypointData
        Training faces, keypoints ``(N, 2K)`` in pixels, NaN where
        unlabelled.  ``data.rows`` (the file rows, set by
        :func:`kfkd.splits.load_split`) gives the file order for
        ``ffill``; without it the order of ``data`` is taken.
    strategy : {'masked', 'drop', 'ffill'}
        See the module docstring.

    Returns
    -------
    kfkd.data.KeypointData
        ``data`` itself for ``masked``; for ``drop`` the complete faces
        (in their order); for ``ffill`` the same faces with keypoints
        filled.  ``rows``, ``groups`` and ``split`` follow the faces kept.

    Raises
    ------
    UsageError
        An unknown strategy, or ``drop`` leaves no face.
    """
    if strategy not in STRATEGIES:
        raise UsageError("--missing: %r is not one of %s"
                         % (strategy, ", ".join(STRATEGIES)))
    if strategy == "masked":
        return data
    if strategy == "drop":
        keep = np.flatnonzero(data.mask.all(axis=1))
        if not len(keep):
            raise UsageError("--missing drop: none of the %d training faces "
                             "has every keypoint labelled" % len(data))
        return _like(data, keep, data.keypoints[keep])
    return _like(data, np.arange(len(data)), _forward_fill(
        data.keypoints, data.rows))


def _forward_fill(keypoints, rows=None):
    """``keypoints`` with each NaN replaced by the column's last labelled
    value before it in the order of ``rows`` (file rows; default: as
    given)."""
    order = (np.argsort(rows, kind="stable") if rows is not None
             else np.arange(len(keypoints)))
    ordered = keypoints[order]
    labelled = ~np.isnan(ordered)
    # index of the last labelled row at or before each row, per column
    last = np.where(labelled, np.arange(len(ordered))[:, None], 0)
    np.maximum.accumulate(last, axis=0, out=last)
    filled = ordered[last, np.arange(ordered.shape[1])]
    filled[~np.maximum.accumulate(labelled, axis=0)] = np.nan
    out = np.empty_like(keypoints)
    out[order] = filled
    return out


def _like(data, index, keypoints):
    """The faces ``data[index]`` with ``keypoints``, keeping the split's
    bookkeeping."""
    out = KeypointData(data.images[index], keypoints, data.schema, data.path,
                       data.genuine)
    out.split = data.split
    for name in ("rows", "groups"):
        value = getattr(data, name)
        setattr(out, name, None if value is None else value[index])
    return out


def describe(data, strategy):
    """One line saying what ``strategy`` does to the training faces
    ``data`` (for ``kfkd train``'s log)."""
    complete = int(data.mask.all(axis=1).sum())
    if strategy == "drop":
        return ("--missing drop: training on the %d of %d faces with every "
                "keypoint labelled" % (complete, len(data)))
    if strategy == "ffill":
        return ("--missing ffill: filling %d missing coordinates of %d faces "
                "from the previous face in file order"
                % (int((~data.mask).sum()), len(data) - complete))
    return ("--missing masked: %d of %d faces complete, the loss uses the "
            "labelled coordinates" % (complete, len(data)))

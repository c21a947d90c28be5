"""Early stopping: the best epoch of a run by validation RMSE, its
parameter values, and when patience has run out (:class:`EarlyStopping`,
used by :class:`kfkd.train.Trainer` and carried over a resume by
:mod:`kfkd.resume`)."""
from . import compat  # noqa: F401  (configures Theano, shims Lasagne)

import lasagne
import numpy as np

__all__ = ["EarlyStopping"]


class EarlyStopping(object):
    """Stop when validation RMSE has not improved for ``patience`` epochs.

    Keeps a copy of the parameter values (including non-trainable ones, such
    as batch-norm running averages) at the best epoch, for
    :meth:`restore`.

    Parameters
    ----------
    patience : int
        Epochs without improvement tolerated.
    min_delta : float
        Improvement (pixels) that counts.

    Examples
    --------
    >>> stop = EarlyStopping(patience=2)
    >>> [stop.update(e, v, []) for e, v in enumerate([3., 2., 2.5, 2.4])]
    [False, False, False, True]
    >>> stop.best_epoch, stop.best_score
    (1, 2.0)
    """

    def __init__(self, patience=20, min_delta=0.0):
        self.patience, self.min_delta = patience, min_delta
        self.best_score, self.best_epoch, self.best_values = np.inf, -1, None

    def update(self, epoch, score, values):
        """Record epoch ``epoch``'s score; True when training should stop."""
        if score < self.best_score - self.min_delta:
            self.best_score, self.best_epoch = float(score), epoch
            self.best_values = [np.array(v, copy=True) for v in values]
        return epoch - self.best_epoch >= self.patience

    def restore(self, layer):
        """Set ``layer``'s net back to the best epoch's parameter values."""
        if self.best_values is not None:
            lasagne.layers.set_all_param_values(layer, self.best_values)

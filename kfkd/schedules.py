"""Training schedules: the learning rate (and momentum) of every epoch.

:func:`linear_schedule`, :func:`learning_rate_schedule` (``--lr-schedule
linear|cosine|constant``) and :func:`cosine_time_rate` (``cosine-time``:
the cosine over a run's minutes) give the rate epoch by epoch; the stepped
schedules below give stages of learning rate and batch size.

``kfkd train --schedule NAME`` trains in the stages of :data:`STAGED`
``[NAME]`` instead of the ``--lr``/``--lr-end`` linear schedule and the
fixed ``--batch-size``.  ``--epochs`` still bounds the run (and early
stopping may end it sooner); epochs past the last stage stay in it.

Examples
--------
>>> lr, batch = stepped(((1e-3, 32, 2), (1e-4, 64, 1)), 4)
>>> np.allclose(lr, [1e-3, 1e-3, 1e-4, 1e-4]), batch.tolist()
(True, [32, 32, 64, 64])
"""
import math

import numpy as np

from .errors import UsageError

__all__ = ["linear_schedule", "learning_rate_schedule", "cosine_time_rate",
           "STAGED", "stepped"]

#: name -> stages ``(learning_rate, batch_size, epochs)``.  ``vgglite``: a
#: capstone's schedule for its VGG16-inspired net
#: (:func:`kfkd.nets_published.vgglite`): Adam at 1e-3, 1e-4, 1e-5, and
#: within each rate the batch size 32, 64, 128, 15 epochs per step (135
#: epochs in all).
STAGED = {
    "vgglite": tuple((lr, batch, 15) for lr in (1e-3, 1e-4, 1e-5)
                     for batch in (32, 64, 128)),
}


def stepped(stages, n_epochs):
    """Per-epoch learning rates and batch sizes of ``stages``.

    Parameters
    ----------
    stages : sequence of (float, int, int)
        ``(learning_rate, batch_size, epochs)``, in training order, or a
        name of :data:`STAGED`.
    n_epochs : int
        Epochs to cover; past the stages' total the last stage holds.

    Returns
    -------
    learning_rate : ndarray, (n_epochs,) float32
    batch_size : ndarray, (n_epochs,) int

    Raises
    ------
    UsageError
        An unknown schedule name.
    """
    if isinstance(stages, str):
        if stages not in STAGED:
            raise UsageError("--schedule: %r is not one of %s"
                             % (stages, ", ".join(sorted(STAGED))))
        stages = STAGED[stages]
    lr = [s[0] for s in stages for _ in range(s[2])]
    batch = [s[1] for s in stages for _ in range(s[2])]
    pad = max(0, n_epochs - len(lr))
    return (np.array(lr + lr[-1:] * pad, np.float32)[:n_epochs],
            np.array(batch + batch[-1:] * pad, int)[:n_epochs])


def linear_schedule(start, stop, n_epochs):
    """Nouri's ``AdjustVariable``: ``start`` -> ``stop`` linearly over epochs.

    Returns
    -------
    ndarray, (n_epochs,) float32 (constant ``start`` when ``stop`` is None)
    """
    if stop is None:
        return np.full(n_epochs, start, dtype=np.float32)
    return np.linspace(start, stop, n_epochs).astype(np.float32)


def learning_rate_schedule(kind, start, stop, n_epochs):
    """The learning rate of every epoch, by schedule ``kind``.

    ``'linear'`` is :func:`linear_schedule` (constant when ``stop`` is
    None); ``'cosine'`` is the cosine annealing of Loshchilov & Hutter
    (2017, SGDR, eq. 5) without restarts, one cycle over the run:
    ``stop + (start - stop) * (1 + cos(pi * t / (n_epochs - 1))) / 2`` at
    epoch ``t`` (0-based), so the first epoch has ``start`` and the last
    ``stop`` (0 when None); ``'constant'`` is ``start`` throughout.  The
    rate changes between epochs, not between mini-batches.  ``'cosine-time'``
    is the same cosine over the wall time of a ``max_minutes`` budget
    instead of the epochs (:func:`cosine_time_rate`, applied epoch by epoch
    by :meth:`kfkd.train.Trainer.fit`); here it is ``start`` throughout.

    Parameters
    ----------
    kind : {'linear', 'cosine', 'cosine-time', 'constant'}
        :data:`kfkd.config.LR_SCHEDULES`.
    start : float
    stop : float or None
    n_epochs : int
        The run's ``max_epochs``: a run stopped earlier (by its patience or
        ``max_minutes``) never reaches ``stop``.

    Returns
    -------
    ndarray, (n_epochs,) float32

    Raises
    ------
    ValueError
        An unknown ``kind``.

    Examples
    --------
    >>> rates = learning_rate_schedule("cosine", 1.0, None, 5)
    >>> rates.astype(float).round(3).tolist()
    [1.0, 0.854, 0.5, 0.146, 0.0]
    """
    if kind == "linear":
        return linear_schedule(start, stop, n_epochs)
    if kind in ("constant", "cosine-time"):
        return linear_schedule(start, None, n_epochs)
    if kind != "cosine":
        raise ValueError("unknown learning-rate schedule %r" % (kind,))
    stop = 0.0 if stop is None else stop
    t = np.arange(n_epochs) / max(n_epochs - 1, 1)
    return (stop + (start - stop) * (1 + np.cos(np.pi * t)) / 2).astype(
        np.float32)


def cosine_time_rate(start, stop, elapsed, budget):
    """The learning rate of an epoch that starts ``elapsed`` seconds into a
    run of ``budget`` seconds: the cosine of :func:`learning_rate_schedule`
    with the fraction of the time budget spent in place of the fraction of
    the epochs (``stop`` when the budget is spent).

    Runs of nets of different speeds then all anneal to ``stop`` within the
    same minutes (a matched budget), which an epoch-planned cosine cut short
    by ``max_minutes`` never does.

    Parameters
    ----------
    start, stop : float
        First and final rate (``stop`` None: 0).
    elapsed, budget : float
        Seconds.

    Examples
    --------
    >>> [round(cosine_time_rate(1.0, None, t, 60.0), 3) for t in (0, 30, 60)]
    [1.0, 0.5, 0.0]
    """
    stop = 0.0 if stop is None else stop
    t = min(max(elapsed / float(budget), 0.0), 1.0)
    return stop + (start - stop) * (1 + math.cos(math.pi * t)) / 2

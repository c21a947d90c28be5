"""Stepped training schedules: stages of learning rate and batch size.

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
import numpy as np

from .errors import UsageError

__all__ = ["STAGED", "stepped"]

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

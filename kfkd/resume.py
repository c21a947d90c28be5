"""Resuming an interrupted training run where it stopped.

:meth:`kfkd.train.Trainer.fit` writes, after every epoch, the state of the
run beside the checkpoint in its model folder (:data:`STATE_FILE`, an
``.npz`` without pickle): every shared variable the compiled training
function reads or updates (the parameters, the optimiser's accumulators,
batch-norm running averages, the dropout step), the best epoch's
parameters, the shuffling generator's state, the per-epoch history and the
seconds trained.  The final save of a finished run replaces the folder
without it, except after a run stopped by its ``--max-minutes``: that one
keeps it, so that a larger cap can extend the run (:func:`cap_raised`).  A
folder holding it holds a run that can go on.  ``kfkd train --resume`` (and
the figure runs, :func:`kfkd.report.runs.train_run`) go on from the last
epoch saved: the learning rate of ``cosine-time``, the ``--max-minutes``
budget and early stopping's patience count the seconds and epochs trained
before the interruption.

No Theano here: the trainer hands over and takes back plain arrays.

Examples
--------
>>> import tempfile, numpy as np
>>> folder = tempfile.mkdtemp()
>>> state = TrainingState(training={"net": "net1"}, faces=(10, 2),
...     epoch=3, seconds=12.5, best_epoch=2, best_score=2.5,
...     shared=[np.zeros(2, np.float32)], best=[np.ones(2, np.float32)],
...     rng=np.random.RandomState(0).get_state(),
...     history=[{"epoch": e, "val_rmse_px": 3.0 - e} for e in (1, 2, 3)])
>>> save_state(folder, state)
>>> load_state(folder, {"net": "net1"}, (10, 2)).epoch
3
"""
import dataclasses
import json
import os

import numpy as np

from .fileio import atomic_path, read_json

__all__ = ["STATE_FILE", "TrainingState", "StateError", "save_state",
           "load_state", "has_state", "remove_state", "cap_raised",
           "capped_at", "capture_state", "restore_state"]

#: The state of an interrupted run, in its model folder.
STATE_FILE = "resume.npz"


class StateError(ValueError):
    """A saved training state that this run cannot go on from."""


@dataclasses.dataclass
class TrainingState(object):
    """Where a training run stands after an epoch.

    Attributes
    ----------
    training : dict
        The run's settings (``model.json``'s ``training``): a state is only
        resumed by a run with the same.
    faces : (int, int)
        Training and validation faces.
    epoch : int
        Epochs done.
    seconds : float
        Seconds of training so far (the ``seconds`` of the last history
        row).
    best_epoch : int
        0-based epoch of the best validation RMSE so far.
    best_score : float
        That RMSE, pixels.
    shared : list of ndarray
        Values of the training function's shared variables, in its order.
    best : list of ndarray
        The best epoch's parameter values (Lasagne's
        ``get_all_param_values`` order).
    rng : tuple
        ``numpy.random.RandomState.get_state()`` of the shuffling and
        augmentation generator.
    history : list of dict
        The per-epoch rows so far.
    split : dict or None
        The validation split (:func:`kfkd.splits.load_split`'s record:
        method, fraction, seed, limit), when the faces came with one.
    """
    training: dict
    faces: tuple
    epoch: int
    seconds: float
    best_epoch: int
    best_score: float
    shared: list
    best: list
    rng: tuple
    history: list
    split: dict = None


def has_state(folder):
    """True when ``folder`` holds the state of an interrupted run."""
    return os.path.isfile(os.path.join(folder, STATE_FILE))


def remove_state(folder):
    """Remove the state in ``folder``, if any: for a run that will not go
    on (a search trial stopped by the study's cap)."""
    path = os.path.join(folder, STATE_FILE)
    if os.path.isfile(path):
        os.remove(path)


def save_state(folder, state):
    """Write ``state`` to ``folder/resume.npz`` atomically (no pickle)."""
    name, keys, pos, has_gauss, cached = state.rng
    meta = {"training": state.training, "faces": list(state.faces),
            "epoch": int(state.epoch), "seconds": float(state.seconds),
            "best_epoch": int(state.best_epoch),
            "best_score": float(state.best_score),
            "rng": [name, int(pos), int(has_gauss), float(cached)],
            "history": state.history, "split": state.split,
            "n_shared": len(state.shared),
            "n_best": len(state.best)}
    arrays = {"meta": np.array(json.dumps(meta, sort_keys=True)),
              "rng_keys": np.asarray(keys)}
    arrays.update(("shared_%d" % i, np.asarray(v))
                  for i, v in enumerate(state.shared))
    arrays.update(("best_%d" % i, np.asarray(v))
                  for i, v in enumerate(state.best))
    path = os.path.join(folder, STATE_FILE)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)


def _same(a, b):
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def cap_raised(saved, training):
    """True when the settings ``training`` (model.json's ``training``) are
    ``saved`` with a larger ``max_minutes``, or none, and nothing else
    changed, and the cap is only a stop: not with ``lr_schedule``
    ``'cosine-time'``, which anneals over it.  A run of ``saved`` is then
    the run of ``training`` up to where the smaller cap stopped it: its
    state goes on under ``training`` (:func:`load_state`), and a run of
    ``saved`` that stopped before its cap (early stopping, the epochs) is
    the whole run of ``training`` (:func:`kfkd.report.runs.finished_run`).

    Examples
    --------
    >>> cap_raised({"net": "net6", "max_minutes": 120.0},
    ...            {"net": "net6", "max_minutes": 360.0})
    True
    >>> cap_raised({"net": "net6", "max_minutes": 120.0},
    ...            {"net": "net2", "max_minutes": 360.0})
    False
    """
    before, after = saved.get("max_minutes"), training.get("max_minutes")
    if before is None or "cosine-time" in (saved.get("lr_schedule"),
                                           training.get("lr_schedule")):
        return False
    if after is not None and after <= before:
        return False
    return _same(dict(saved, max_minutes=None),
                 dict(training, max_minutes=None))


def capped_at(folder):
    """The ``max_minutes`` that stopped the finished run in ``folder`` (its
    ``metrics.json`` records ``stopped_by: max_minutes``, its
    ``model.json`` the cap), or None: no such run there."""
    try:
        if read_json(os.path.join(folder, "metrics.json")).get(
                "stopped_by") != "max_minutes":
            return None
        return float(read_json(os.path.join(folder, "model.json"))[
            "training"]["max_minutes"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def load_state(folder, training, faces, split=None):
    """The state in ``folder`` of a run with settings ``training`` (or the
    same with a larger ``max_minutes``: :func:`cap_raised`) on ``faces``
    (training, validation; None: not checked) of the validation ``split``
    (None: not checked), or None when ``folder`` holds none.

    Raises
    ------
    StateError
        The state was saved by a run with other settings, faces or split,
        or the file is not a state (named in the message).
    """
    path = os.path.join(folder, STATE_FILE)
    if not os.path.isfile(path):
        return None
    try:
        with np.load(path, allow_pickle=False) as f:
            meta = json.loads(str(f["meta"]))
            shared = [f["shared_%d" % i] for i in range(meta["n_shared"])]
            best = [f["best_%d" % i] for i in range(meta["n_best"])]
            keys = f["rng_keys"]
    except (OSError, KeyError, ValueError) as e:
        raise StateError("%s: not a training state (%s)" % (path, e))
    if not (_same(meta["training"], training)
            or cap_raised(meta["training"], training)):
        changed = sorted(k for k in set(training) | set(meta["training"])
                         if not _same(training.get(k),
                                      meta["training"].get(k)))
        raise StateError("%s: saved by a run with other settings (%s)"
                         % (path, ", ".join(changed)))
    if faces is not None and list(meta["faces"]) != list(faces):
        raise StateError("%s: saved by a run on %d + %d faces, not %d + %d"
                         % ((path,) + tuple(meta["faces"]) + tuple(faces)))
    saved_split = meta.get("split")
    if split is not None and saved_split is not None and not _same(
            split, saved_split):
        raise StateError("%s: saved by a run on another split (%s, not %s)"
                         % (path, json.dumps(saved_split, sort_keys=True),
                            json.dumps(split, sort_keys=True)))
    name, pos, has_gauss, cached = meta["rng"]
    return TrainingState(
        training=meta["training"], faces=tuple(meta["faces"]),
        epoch=meta["epoch"], seconds=meta["seconds"],
        best_epoch=meta["best_epoch"], best_score=meta["best_score"],
        shared=shared, best=best, rng=(name, keys, pos, has_gauss, cached),
        history=meta["history"], split=saved_split)


def capture_state(training, faces, history, train_fn, stopper, rng,
                  split=None):
    """Where a run stands after its last epoch: a :class:`TrainingState`
    from its settings, faces, history rows, compiled training function
    (its shared variables, ``train_fn.get_shared()``), early stopping
    (:class:`kfkd.train.EarlyStopping`), generator and validation split
    (optional)."""
    return TrainingState(
        training=training, faces=faces, epoch=len(history),
        seconds=history[-1]["seconds"], best_epoch=stopper.best_epoch,
        best_score=stopper.best_score,
        shared=[v.get_value() for v in train_fn.get_shared()],
        best=list(stopper.best_values), rng=rng.get_state(),
        history=list(history), split=split)


def restore_state(state, train_fn, stopper, rng):
    """Set a run's training function, early stopping and generator back to
    ``state``; -> its history rows (``state.epoch`` of them).

    Raises
    ------
    StateError
        The state's shared variables do not fit ``train_fn``'s.
    """
    shared = train_fn.get_shared()
    if len(shared) != len(state.shared) or any(
            v.get_value().shape != a.shape
            for v, a in zip(shared, state.shared)):
        raise StateError("the saved training state does not fit this net's "
                         "training function")
    for v, a in zip(shared, state.shared):
        v.set_value(a)
    stopper.best_epoch, stopper.best_score = (state.best_epoch,
                                              state.best_score)
    stopper.best_values = state.best
    rng.set_state(state.rng)
    return [dict(row) for row in state.history]

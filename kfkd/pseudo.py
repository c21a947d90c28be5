"""Pseudo-labelling: a trained model fills the keypoints the labels miss.

About 70% of the training faces carry only 4 of the 15 keypoints (the
Kaggle pattern).  The masked loss (:func:`kfkd.objective.masked_mse`) already
uses every labelled coordinate; pseudo-labelling goes one step further
(Lee 2013, "Pseudo-Label: the simple and efficient semi-supervised learning
method for deep neural networks"): a trained model predicts the missing
coordinates of the *training* faces, and training continues, warm-started
from that model at a lower learning rate, on the completed set.

The validation faces are never pseudo-labelled: validation RMSE is always
measured on the true labels only, so a pseudo-labelled model is compared
with its base model on the same faces and the same coordinates.

Examples
--------
>>> completed, pseudo = pseudo_label(model, train)  # doctest: +SKIP
>>> np.isfinite(completed.keypoints).all(), pseudo.sum() == (~train.mask).sum()
... # doctest: +SKIP
(True, True)
"""
import numpy as np

from .config import TrainingConfig
from .data import KeypointData
from .keypoints import FRAME
from .train import Trainer

__all__ = ["pseudo_label", "continuation_config", "train_pseudo"]


def pseudo_label(model, data, batch_size=256):
    """Fill every missing coordinate of ``data`` with ``model``'s prediction.

    Parameters
    ----------
    model : kfkd.model.Model or kfkd.specialists.SpecialistModel
        Predicts (at least) every column of ``data.schema``.
    data : kfkd.data.KeypointData
        Faces ``(N, 1, 96, 96) float32 in [0, 1]``, keypoints ``(N, 2K)``
        pixels, NaN where unlabelled.
    batch_size : int
        Faces per prediction call.

    Returns
    -------
    completed : kfkd.data.KeypointData
        The same faces (the image array is shared, not copied); keypoints
        ``(N, 2K) float32`` pixels with no NaN: labelled coordinates
        unchanged, the others the model's predictions clipped to
        ``[0, 96]`` (the range :func:`kfkd.data.load_training` accepts).
    pseudo : ndarray, (N, 2K) bool
        True where a coordinate is a pseudo-label (``~data.mask``).

    Raises
    ------
    KeyError
        The model does not predict a column of ``data.schema``.
    """
    pseudo = ~data.mask
    columns = [model.schema.column_index(c) for c in data.schema.columns]
    keypoints = np.array(data.keypoints, dtype=np.float32, copy=True)
    rows = np.flatnonzero(pseudo.any(axis=1))
    if len(rows):
        predictions = model.predict(data.images[rows], batch_size)[:, columns]
        predictions = np.clip(predictions, 0, FRAME)
        filled = keypoints[rows]
        filled[pseudo[rows]] = predictions[pseudo[rows]]
        keypoints[rows] = filled
    completed = KeypointData(data.images, keypoints, data.schema,
                             data.path, data.genuine)
    return completed, pseudo


def continuation_config(model, lr_factor=0.1, overrides=None):
    """The flat config to continue training ``model`` at a lower rate.

    Parameters
    ----------
    model : kfkd.model.Model
        Its ``training`` settings (model.json) give the config
        (:meth:`kfkd.config.TrainingConfig.from_training`).
    lr_factor : float
        ``learning_rate`` (and ``learning_rate_end``, if set) are
        multiplied by it.
    overrides : dict, optional
        Flat-config keys set after the scaling (e.g. ``max_minutes``).

    Returns
    -------
    dict
        Flat keys (:meth:`kfkd.config.TrainingConfig.from_flat`).
    """
    config = TrainingConfig.from_training(model.training).to_flat()
    for key in ("learning_rate", "learning_rate_end"):
        if config.get(key) is not None:
            config[key] = config[key] * lr_factor
    config.update(overrides or {})
    return config


def train_pseudo(base_model, train, val, config, out_dir=None, verbose=True):
    """Pseudo-label ``train`` with ``base_model``, then continue training.

    Parameters
    ----------
    base_model : kfkd.model.Model
        The trained model that fills the gaps and that training starts
        from (all parameters copied: :func:`kfkd.objective.warm_start`).
    train, val : kfkd.data.KeypointData
        Training faces (pseudo-labelled) and validation faces (true labels
        only, never pseudo-labelled).
    config : dict or kfkd.config.TrainingConfig
        The training config (flat keys: :meth:`kfkd.config.TrainingConfig.
        from_flat`), same net as ``base_model`` (see
        :func:`continuation_config`).
    out_dir : str, optional
        Model folder to write (model, history, metrics.json).
    verbose : bool

    Returns
    -------
    model : kfkd.model.Model
        Its ``training`` settings record ``init_model`` and
        ``pseudo_labels`` (the base model, the counts of pseudo-labelled
        faces and coordinates).
    metrics : dict
        :meth:`kfkd.model.Model.metrics` on ``val`` plus ``base_val_rmse_px``
        (the base model's), ``init_val_rmse_px`` (the warm-started net's
        before any update: equal to it), ``best_epoch``, ``epochs``,
        ``seconds``, ``n_pseudo_coordinates``, ``n_pseudo_faces``.
    """
    completed, pseudo = pseudo_label(base_model, train)
    info = {"base_model": base_model.folder or repr(base_model),
            "n_pseudo_faces": int(pseudo.any(axis=1).sum()),
            "n_pseudo_coordinates": int(pseudo.sum()),
            "n_faces": len(train)}
    if not isinstance(config, TrainingConfig):
        config = TrainingConfig.from_flat(config)
    trainer = Trainer(config, verbose=verbose)
    model = trainer.fit(completed, val, out_dir=out_dir, init_model=base_model)
    model.training["pseudo_labels"] = info
    metrics = model.metrics(val, extra={
        "base_val_rmse_px": base_model.metrics(val)["val_rmse_px"],
        "init_val_rmse_px": trainer.init_val_rmse_px_,
        "best_epoch": trainer.best_epoch_,
        "epochs": len(trainer.history_),
        "seconds": trainer.train_seconds_,
        "compile_seconds": trainer.compile_seconds_,
        "n_pseudo_coordinates": info["n_pseudo_coordinates"],
        "n_pseudo_faces": info["n_pseudo_faces"]})
    if out_dir is not None:
        model.save(out_dir, metrics=metrics)
    return model, metrics

"""Train a keypoint net on IMM crops and test it on unseen people.

The task of a third write-up of this problem (a course project on the IMM
face database): a nose-tip detector and a full 58-point detector trained
on people 1-32 and tested on people 33-40.  Here both are kfkd's own
:class:`~kfkd.train.Trainer` and ``breeze`` net, on the pipeline's crops
(:mod:`kfkd.imm.crops`); the target's
:class:`~kfkd.keypoints.KeypointSchema` (:func:`kfkd.imm.points.
target_schema`) sets the net's outputs and the flip pairs, so the 58-point
model is the Kaggle code path with another schema.
"""
from .. import compat  # noqa: F401  (configures Theano, shims Lasagne)

import lasagne
import numpy as np

from ..augment import Augmenter
from ..config import TrainingConfig
from ..data import KeypointData
from ..train import Trainer
from .points import (TARGETS, error_table, inter_ocular, split_people,
                     target_schema)

__all__ = ["NET_PARAMS", "imm_config", "keypoint_data", "train_and_test"]

#: ``breeze`` at a modest size for 168 training photos: 4 blocks of 16-128
#: filters and a 128-unit head (0.70 M parameters for 58 points, half the
#: weights of ``kfkd train``'s default breeze, whose head has 256 units).
NET_PARAMS = {"depth": 4, "width": 16, "dense_units": 128}


def imm_config(target, max_minutes=None, max_epochs=150, seed=0,
               flip=True):
    """The training config and augmenter of ``kfkd imm-train``.

    Adam at 1e-3, batches of 16, at most ``max_epochs`` epochs (an epoch
    costs about 1 CPU second on 168 faces) or ``max_minutes`` wall-clock
    minutes, early stopping after 40 epochs without a better validation
    RMSE, and strong augmentation (few faces): flips
    (with the target's mirror pairs), rotation up to 10 degrees, shift up to
    4 px, scale up to 10 %, brightness 0.1 and contrast 0.2.

    Returns
    -------
    (kfkd.config.TrainingConfig, kfkd.augment.Augmenter)
    """
    config = TrainingConfig(net="breeze", net_params=dict(NET_PARAMS),
                            update="adam", learning_rate=1e-3,
                            batch_size=16, max_epochs=max_epochs,
                            max_minutes=max_minutes, patience=40, seed=seed,
                            augment=None)
    augmenter = Augmenter(flip=flip, rotation=10.0, shift=4.0, scale=0.1,
                          brightness=0.1, contrast=0.2,
                          schema=target_schema(target))
    return config, augmenter


def keypoint_data(crops, index, target):
    """The faces ``index`` of ``crops`` as :class:`~kfkd.data.KeypointData`
    of ``target`` (keypoints ``(n, 2K)`` float32 frame pixels)."""
    points = crops.points[index][:, list(TARGETS[target])]
    return KeypointData(crops.images[index],
                        points.reshape(len(points), -1).astype(np.float32),
                        target_schema(target), path="IMM")


def train_and_test(crops, target, config, augmenter, verbose=True):
    """Fit on people 1-28, early-stop on 29-32, test on 33-40.

    Parameters
    ----------
    crops : kfkd.imm.crops.ImmCrops
    target : str
        A key of :data:`kfkd.imm.points.TARGETS`.
    config, augmenter
        From :func:`imm_config`.

    Returns
    -------
    dict
        ``model`` (:class:`kfkd.model.Model`), ``test`` (indices into
        ``crops``), ``predictions`` ``(n, K, 2)`` frame pixels, ``table``
        (:func:`kfkd.imm.points.error_table`), ``mean_shape`` (its ``all``
        row for the baseline that predicts the training faces' mean
        points), ``per_face`` (name, nme),
        ``faces`` (train/val/test counts), ``params``, ``epochs``,
        ``best_epoch``, ``history`` (the trainer's), ``train_seconds``,
        ``compile_seconds``.
    """
    train, val, test = split_people(crops.persons)
    trainer = Trainer(config, augmenter=augmenter, verbose=verbose)
    model = trainer.fit(keypoint_data(crops, train, target),
                        keypoint_data(crops, val, target))
    test_data = keypoint_data(crops, test, target)
    pred = model.predict(test_data.images).reshape(len(test), -1, 2)
    diff = pred - test_data.keypoints.reshape(len(test), -1, 2)
    iod = inter_ocular(crops.points[test])
    scale = crops.squares[test, 2] / 96.0
    table = error_table(model.schema.names, diff, iod, scale)
    mean_shape = np.mean(crops.points[train][:, list(TARGETS[target])], 0)
    baseline = error_table(["all"], mean_shape - crops.points[test][
        :, list(TARGETS[target])], iod, scale)[-1]
    nme = np.hypot(diff[..., 0], diff[..., 1]).mean(axis=1) / iod
    return {"model": model, "test": test, "predictions": pred,
            "table": table, "mean_shape": baseline,
            "faces": {"train": len(train), "val": len(val),
                      "test": len(test)},
            "per_face": [{"photo": crops.names[i], "nme": float(e)}
                         for i, e in zip(test, nme)],
            "params": int(lasagne.layers.count_params(model.layer,
                                                      trainable=True)),
            "epochs": len(trainer.history_), "best_epoch": trainer.best_epoch_,
            "history": trainer.history_,
            "train_seconds": trainer.train_seconds_,
            "compile_seconds": trainer.compile_seconds_}

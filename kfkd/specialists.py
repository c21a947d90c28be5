"""Specialists: train one net per keypoint group (Nouri 2014).

Daniel Nouri's tutorial "Using convolutional neural nets to detect facial
keypoints" (2014), section "Specialists", trains six nets, one per group of
keypoints, each on the faces where its group is labelled, each
warm-started from a general net's weights except the output layer; their
outputs together make the 30 coordinates.  Here the output layer starts
from the general net's output units of the group's columns too.  A face labelled with only the
4 common keypoints thereby teaches the eye-centre, nose and bottom-lip
specialists with all its labels, and no specialist trades its keypoints off
against another group's.

:func:`train_specialists` trains them into a
:class:`kfkd.groups.SpecialistModel` (the groups, the assembled model and
its folder are in :mod:`kfkd.groups`, re-exported here);
:func:`kfkd.model.load_model` loads it back.
"""
import os
import shutil

from tqdm.auto import tqdm

from .config import TrainingConfig
from .fileio import STAGING
from .groups import (SPECIALIST_GROUPS, SpecialistModel, check_groups,
                     group_schema, select_group)
from .metrics import rmse
from .train import Trainer

__all__ = ["train_specialists"]


def train_specialists(base_model, train, val, config, out_dir,
                      minutes_per_specialist=None, epochs=None,
                      groups=SPECIALIST_GROUPS, verbose=True):
    """Train one specialist per group, warm-started from ``base_model``.

    Each specialist is trained on the faces of ``train`` where its group
    is labelled and early-stopped on the faces of ``val`` where it is
    labelled; it starts from ``base_model``'s parameters, its output layer
    from the base's output units of the group's columns
    (:func:`kfkd.objective.warm_start`), so that it starts at the base's
    predictions of its group (Nouri 2014 starts the output layer afresh).
    Augmentation flips with the group's own flip pairs
    (:func:`group_schema`).

    Parameters
    ----------
    base_model : kfkd.model.Model
        The general model (same net and hyperparameters as ``config``).
    train, val : kfkd.data.KeypointData
        Keypoints in ``base_model.schema``'s columns, NaN where unlabelled.
    config : dict or kfkd.config.TrainingConfig
        The training config (flat keys: :meth:`kfkd.config.TrainingConfig.
        from_flat`); recorded flat in specialists.json.
    out_dir : str
        The SpecialistModel folder to write (specialist ``g`` is
        checkpointed into ``g`` of a working folder beside ``out_dir``,
        ``<out_dir>.staging-<pid>-groups``, removed at the end; ``out_dir``
        itself changes once, at the end, from what it held to the complete
        SpecialistModel: :meth:`SpecialistModel.save`).
    minutes_per_specialist, epochs : float, int, optional
        Override the config's ``max_minutes`` and ``max_epochs``.
    groups : sequence of (str, sequence of str)
        Default Nouri's :data:`SPECIALIST_GROUPS`.
    verbose : bool

    Returns
    -------
    model : SpecialistModel
    metrics : dict
        :meth:`SpecialistModel.metrics` on all of ``val`` plus
        ``base_val_rmse_px`` (the base model's on the same faces) and
        ``specialists``: per group the faces trained and validated on, the
        group's validation RMSE before training (warm-started net with its
        mean-shape output) and after, ``best_epoch``, ``epochs``,
        ``seconds``.

    Raises
    ------
    ValueError
        Groups that do not cover the schema once; a group with no labelled
        training or validation face; a config for another net.
    """
    check_groups(groups, train.schema)
    if isinstance(config, TrainingConfig):
        config = config.to_flat()
    config = dict(config)
    if minutes_per_specialist is not None:
        config["max_minutes"] = minutes_per_specialist
    if epochs is not None:
        config["max_epochs"] = epochs
    work = "%s%s%d-groups" % (os.path.normpath(out_dir), STAGING,
                              os.getpid())
    try:
        specialists, report = _train_groups(
            base_model, train, val, config, work, groups, verbose)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    training = {"base_model": base_model.folder or repr(base_model),
                "config": config, "groups": [[g, list(n)] for g, n in groups]}
    if getattr(val, "split", None) is not None:  # for kfkd evaluate
        training["split"] = dict(val.split)
    model = SpecialistModel(specialists, train.schema, training=training)
    metrics = model.metrics(val, extra={
        "base_val_rmse_px": base_model.metrics(val)["val_rmse_px"],
        "seconds": sum(r["seconds"] for r in report.values()),
        "specialists": report})
    model.save(out_dir, metrics=metrics)
    return model, metrics


def _train_groups(base_model, train, val, config, work, groups, verbose):
    """Train the specialists, checkpointing group ``g`` in ``work/g``;
    -> ([(group, Model)], report)."""
    specialists, report = [], {}
    for group, names in groups:
        schema = group_schema(names)
        group_train, group_val = (select_group(train, schema),
                                  select_group(val, schema))
        if not len(group_train) or not len(group_val):
            raise ValueError("specialist %r: %d training and %d validation "
                             "faces with its keypoints labelled" % (
                                 group, len(group_train), len(group_val)))
        if verbose:
            tqdm.write("specialist %s (%s): %d training, %d validation faces"
                       % (group, ", ".join(names), len(group_train),
                          len(group_val)))
        trainer = Trainer(TrainingConfig.from_flat(config), verbose=verbose)
        if trainer.augmenter is not None:
            trainer.augmenter.set_params(schema=schema)
        model = trainer.fit(group_train, group_val,
                            out_dir=os.path.join(work, group),
                            init_model=base_model)
        specialists.append((group, model))
        report[group] = {
            "keypoints": list(names),
            "n_train": len(group_train), "n_val": len(group_val),
            "init_val_rmse_px": trainer.init_val_rmse_px_,
            "val_rmse_px": rmse(model.predict(group_val.images),
                                group_val.keypoints),
            "best_epoch": trainer.best_epoch_,
            "epochs": len(trainer.history_),
            "seconds": trainer.train_seconds_}
    return specialists, report

"""Specialists: one net per keypoint group (Nouri 2014).

Daniel Nouri's tutorial "Using convolutional neural nets to detect facial
keypoints" (2014), section "Specialists", trains six nets, one per group of
keypoints, each on the faces where its group is labelled, each
warm-started from a general net's weights except the output layer; their
outputs together make the 30 coordinates.  A face labelled with only the
4 common keypoints thereby teaches the eye-centre, nose and bottom-lip
specialists with all its labels, and no specialist trades its keypoints off
against another group's.

A :class:`SpecialistModel` has :class:`kfkd.model.Model`'s interface
(``predict``, ``schema``, ``metrics``, ``save``) and is saved as a folder:

==================  =========================================================
specialists.json    format tag, the assembled keypoint columns, and per group
                    its sub-folder, keypoint names and columns (written last)
<group>/            one standard model folder (:meth:`Model.save`) per group
metrics.json        validation metrics of the assembled model
==================  =========================================================

:func:`kfkd.model.load_model` loads either kind of folder.

Examples
--------
>>> [name for name, _ in SPECIALIST_GROUPS]  # doctest: +NORMALIZE_WHITESPACE
['eye_centers', 'nose_tip', 'mouth_corners_top_lip', 'mouth_bottom_lip',
 'eye_corners', 'eyebrows']
>>> group_schema(dict(SPECIALIST_GROUPS)["eye_corners"]).flip_pairs
((0, 1), (2, 3))
"""
import os
import shutil

import numpy as np

from .data import KeypointData
from .errors import ModelError
from .fileio import STAGING, atomic_folder, write_json
from .keypoints import KeypointSchema

__all__ = ["SPECIALIST_GROUPS", "FORMAT", "group_schema", "check_groups",
           "select_group", "SpecialistModel", "load_specialists",
           "train_specialists"]

#: Version tag written into specialists.json.
FORMAT = "kfkd-specialists/1"

#: Nouri's six groups (his ``SPECIALIST_SETTINGS``), by keypoint name:
#: (group name, keypoint names in output order).
SPECIALIST_GROUPS = (
    ("eye_centers", ("left_eye_center", "right_eye_center")),
    ("nose_tip", ("nose_tip",)),
    ("mouth_corners_top_lip", ("mouth_left_corner", "mouth_right_corner",
                               "mouth_center_top_lip")),
    ("mouth_bottom_lip", ("mouth_center_bottom_lip",)),
    ("eye_corners", ("left_eye_inner_corner", "right_eye_inner_corner",
                     "left_eye_outer_corner", "right_eye_outer_corner")),
    ("eyebrows", ("left_eyebrow_inner_end", "right_eyebrow_inner_end",
                  "left_eyebrow_outer_end", "right_eyebrow_outer_end")),
)


def group_schema(names):
    """The :class:`KeypointSchema` of a group of keypoints.

    Parameters
    ----------
    names : sequence of str
        Keypoint names, e.g. ``('left_eye_center', 'right_eye_center')``.

    Returns
    -------
    KeypointSchema
        Columns ``<name>_x, <name>_y`` in the order of ``names``; its flip
        pairs are the group's own (left/right partners within the group),
        so an :class:`kfkd.augment.Augmenter` given it mirrors the group's
        faces correctly.

    Raises
    ------
    ValueError
        A ``left_*`` keypoint of the group lacks its ``right_*`` partner.
    """
    return KeypointSchema(["%s_%s" % (name, axis) for name in names
                           for axis in "xy"])


def check_groups(groups, schema):
    """ValueError unless ``groups`` cover ``schema``'s keypoints exactly once.

    Parameters
    ----------
    groups : sequence of (str, sequence of str)
        As :data:`SPECIALIST_GROUPS`.
    schema : KeypointSchema
    """
    named = [name for _, names in groups for name in names]
    repeated = sorted({n for n in named if named.count(n) > 1})
    unknown = sorted(set(named) - set(schema.names))
    missing = [n for n in schema.names if n not in named]
    if repeated or unknown or missing:
        raise ValueError("specialist groups must cover the %d keypoints once: "
                         "repeated %s, unknown %s, missing %s" % (
                             len(schema), repeated, unknown, missing))


def select_group(data, schema):
    """The faces of ``data`` where ``schema``'s group is labelled.

    Parameters
    ----------
    data : kfkd.data.KeypointData
        Keypoints ``(N, 2K)`` pixels, NaN where unlabelled.
    schema : KeypointSchema
        The group (:func:`group_schema`); its columns must be in
        ``data.schema``.

    Returns
    -------
    KeypointData
        The faces with at least one labelled coordinate of the group
        (the masked loss ignores the others), keypoints ``(M, 2G)`` of the
        group's columns only, ``schema`` as schema.

    Raises
    ------
    KeyError
        A group column is not in ``data.schema``.
    """
    columns = [data.schema.column_index(c) for c in schema.columns]
    keypoints = data.keypoints[:, columns]
    rows = np.flatnonzero(np.isfinite(keypoints).any(axis=1))
    return KeypointData(data.images[rows], keypoints[rows], schema,
                        data.path, data.genuine)


class SpecialistModel(object):
    """Per-group models assembled into one keypoint predictor.

    Parameters
    ----------
    specialists : sequence of (str, kfkd.model.Model)
        Group name and its model; the models' columns together must be
        ``schema``'s, each once.
    schema : KeypointSchema
        The assembled output columns, in order.
    training : dict, optional
        How the specialists were trained (saved into specialists.json).

    Attributes
    ----------
    specialists : dict
        Group name -> Model, in group order.
    columns : dict
        Group name -> ndarray of int: the assembled columns its model's
        outputs fill.
    folder : str or None
        Set by :func:`load_specialists`.

    Raises
    ------
    ValueError
        Columns covered twice, or not at all; a repeated group name.
    """

    def __init__(self, specialists, schema, training=None):
        specialists = list(specialists)
        self.specialists = dict(specialists)
        if len(self.specialists) != len(specialists):
            raise ValueError("repeated group name in %s"
                             % [g for g, _ in specialists])
        self.schema, self.training = schema, dict(training or {})
        self.columns, covered = {}, np.zeros(schema.n_outputs, int)
        for group, model in self.specialists.items():
            self.columns[group] = np.array(
                [schema.column_index(c) for c in model.schema.columns])
            covered[self.columns[group]] += 1
        if (covered != 1).any():
            raise ValueError("specialists must predict each column once; "
                             "counts %s for %s" % (covered.tolist(),
                                                   list(schema.columns)))
        self.folder = None

    def __repr__(self):
        return "SpecialistModel(%s)" % ", ".join(
            "%s: %d outputs" % (g, m.schema.n_outputs)
            for g, m in self.specialists.items())

    def predict(self, images, batch_size=256):
        """Keypoints for faces, each column from its group's specialist.

        Parameters
        ----------
        images : ndarray, (N, 1, 96, 96) float32 in [0, 1]
        batch_size : int

        Returns
        -------
        ndarray, (N, 2K) float32, pixels in the 96x96 frame (not clipped)

        Raises
        ------
        ValueError
            ``images`` has another shape.
        """
        out = np.empty((len(images), self.schema.n_outputs), np.float32)
        for group, model in self.specialists.items():
            out[:, self.columns[group]] = model.predict(images, batch_size)
        return out

    def metrics(self, data, extra=None, predictions=None):
        """Validation metrics on ``data``: :meth:`kfkd.model.Model.metrics`."""
        from .model import Model
        return Model.metrics(self, data, extra=extra, predictions=predictions)

    def describe(self):
        """The specialists.json contents."""
        return {
            "format": FORMAT,
            "keypoint_columns": list(self.schema.columns),
            "groups": {g: {"folder": g, "keypoints": list(m.schema.names),
                           "keypoint_columns": list(m.schema.columns)}
                       for g, m in self.specialists.items()},
            "training": self.training,
        }

    def save(self, folder, metrics=None):
        """Write one model sub-folder per group, metrics.json and
        specialists.json.

        Through :func:`kfkd.fileio.atomic_folder`, as
        :meth:`kfkd.model.Model.save`: ``folder`` is always either its
        previous complete contents (or absent) or this complete model.
        Group ``g``'s metrics.json is ``metrics['specialists'][g]``, if
        given (as :func:`train_specialists` reports).
        """
        with atomic_folder(folder) as staging:
            reports = (metrics or {}).get("specialists", {})
            for group, model in self.specialists.items():
                model.write_files(os.path.join(staging, group),
                                  reports.get(group))
            if metrics is not None:
                write_json(os.path.join(staging, "metrics.json"), metrics)
            write_json(os.path.join(staging, "specialists.json"),
                       self.describe())
        return folder


def load_specialists(folder):
    """Load and validate a folder written by :meth:`SpecialistModel.save`.

    Returns
    -------
    SpecialistModel

    Raises
    ------
    ModelNotFoundError
        No specialists.json, or a group's model folder is missing.
    ModelError
        specialists.json malformed (not JSON, another format, a field
        missing or of the wrong type, a group folder outside ``folder``), a
        group's model malformed, or predicting other columns than
        specialists.json says; the message names the file and the field.
    """
    from .model import Model, ModelNotFoundError, load_model, read_json_file

    path = os.path.join(folder, "specialists.json")
    if not os.path.isfile(path):
        raise ModelNotFoundError("%s: no such file" % path)
    spec = read_json_file(path)
    if spec.get("format") != FORMAT:
        raise ModelError("%s: field 'format' is %r, expected %r"
                         % (path, spec.get("format"), FORMAT))
    groups, columns = spec.get("groups"), spec.get("keypoint_columns")
    if not isinstance(groups, dict) or not groups:
        raise ModelError("%s: field 'groups' must be a non-empty object"
                         % path)
    if not isinstance(columns, list) or not all(isinstance(c, str)
                                                for c in columns):
        raise ModelError("%s: field 'keypoint_columns' must be a list of "
                         "column names" % path)
    specialists = []
    for group, entry in groups.items():
        sub = entry.get("folder") if isinstance(entry, dict) else None
        if (not isinstance(sub, str) or sub in ("", ".", "..")
                or os.path.basename(sub) != sub
                or not isinstance(entry.get("keypoint_columns"), list)):
            raise ModelError("%s: group %r needs 'folder' (a sub-folder "
                             "name) and 'keypoint_columns'" % (path, group))
        model = load_model(os.path.join(folder, sub))
        if not isinstance(model, Model):
            raise ModelError("%s: group %r: %s is not a single model"
                             % (path, group, sub))
        if list(model.schema.columns) != entry["keypoint_columns"]:
            raise ModelError("%s: group %r: its model predicts %s, expected "
                             "%s" % (path, group, list(model.schema.columns),
                                     entry["keypoint_columns"]))
        specialists.append((group, model))
    try:
        model = SpecialistModel(specialists, KeypointSchema(columns),
                                training=spec.get("training"))
    except (ValueError, KeyError) as e:
        raise ModelError("%s: %s" % (path, e))
    model.folder = os.path.abspath(folder)
    return model


def train_specialists(base_model, train, val, config, out_dir,
                      minutes_per_specialist=None, epochs=None,
                      groups=SPECIALIST_GROUPS, verbose=True):
    """Train one specialist per group, warm-started from ``base_model``.

    Each specialist is trained on the faces of ``train`` where its group
    is labelled and early-stopped on the faces of ``val`` where it is
    labelled; it starts from ``base_model``'s parameters except the output
    layer (:func:`kfkd.train.warm_start`), whose bias is the group's mean
    shape (:func:`kfkd.train.init_output_bias`).  Augmentation flips with
    the group's own flip pairs (:func:`group_schema`).

    Parameters
    ----------
    base_model : kfkd.model.Model
        The general model (same net and hyperparameters as ``config``).
    train, val : kfkd.data.KeypointData
        Keypoints in ``base_model.schema``'s columns, NaN where unlabelled.
    config : dict
        Flat config for :func:`kfkd.train.trainer_from_config`.
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
    from tqdm.auto import tqdm

    from .train import rmse_px, trainer_from_config

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
        trainer = trainer_from_config(config, verbose=verbose)
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
            "val_rmse_px": rmse_px(model.predict(group_val.images),
                                   group_val.keypoints),
            "best_epoch": trainer.best_epoch_,
            "epochs": len(trainer.history_),
            "seconds": trainer.train_seconds_}
    return specialists, report

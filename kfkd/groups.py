"""Specialist keypoint groups (Nouri 2014) and the model assembled from them.

Daniel Nouri's tutorial "Using convolutional neural nets to detect facial
keypoints" (2014), section "Specialists", trains six nets, one per group of
keypoints (:data:`SPECIALIST_GROUPS`); their outputs together make the 30
coordinates.  This module holds the groups and the assembled
:class:`SpecialistModel` (a :class:`kfkd.predictor.Predictor`), saved as a
folder:

==================  =========================================================
specialists.json    format tag, the assembled keypoint columns, and per group
                    its sub-folder, keypoint names and columns (written last)
<group>/            one standard model folder (:meth:`Model.save`) per group
metrics.json        validation metrics of the assembled model
==================  =========================================================

:func:`kfkd.model.load_model` loads either kind of folder; the training is
in :mod:`kfkd.specialists`.  No Theano here.

Examples
--------
>>> [name for name, _ in SPECIALIST_GROUPS]  # doctest: +NORMALIZE_WHITESPACE
['eye_centers', 'nose_tip', 'mouth_corners_top_lip', 'mouth_bottom_lip',
 'eye_corners', 'eyebrows']
>>> group_schema(dict(SPECIALIST_GROUPS)["eye_corners"]).flip_pairs
((0, 1), (2, 3))
"""
import os

import numpy as np

from .data import KeypointData
from .errors import ModelError
from .fileio import atomic_folder, write_json
from .keypoints import KeypointSchema
from .predictor import Predictor, read_folder_json

__all__ = ["SPECIALIST_GROUPS", "FORMAT", "group_schema", "check_groups",
           "select_group", "SpecialistModel", "load_specialists"]

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


class SpecialistModel(Predictor):
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
        """Keypoints for faces (:meth:`kfkd.predictor.Predictor.predict`),
        each column from its group's specialist."""
        out = np.empty((len(images), self.schema.n_outputs), np.float32)
        for group, model in self.specialists.items():
            out[:, self.columns[group]] = model.predict(images, batch_size)
        return out

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
            self.write_files(staging, metrics)
        return folder

    def write_files(self, folder, metrics=None):
        """Write the model's files into ``folder`` (a staging folder, e.g.
        an ensemble member's: :meth:`kfkd.ensemble.EnsembleModel.save`)."""
        os.makedirs(folder, exist_ok=True)
        reports = (metrics or {}).get("specialists", {})
        for group, model in self.specialists.items():
            model.write_files(os.path.join(folder, group),
                              reports.get(group))
        if metrics is not None:
            write_json(os.path.join(folder, "metrics.json"), metrics)
        write_json(os.path.join(folder, "specialists.json"), self.describe())


def load_specialists(folder, load_group):
    """Load and validate a folder written by :meth:`SpecialistModel.save`.

    Called by :func:`kfkd.model.load_model` (which detects the folder by its
    specialists.json).

    Parameters
    ----------
    folder : str
    load_group : callable
        ``load_group(sub_folder) -> Model``: the single-model loader
        (:func:`kfkd.model.read_model`), for each group's sub-folder.

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
    path = os.path.join(folder, "specialists.json")
    spec = read_folder_json(path, FORMAT)
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
        model = load_group(os.path.join(folder, sub))
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

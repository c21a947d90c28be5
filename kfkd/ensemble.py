"""An ensemble of trained predictors shipped as one model folder.

The ensemble predicts the mean of its members' keypoints, coordinate by
coordinate, each member applying its own preprocessing.  The members are
either independently trained nets (the averaging of independently trained
nets; in this project, e.g. the heat-map net with breeze) or snapshots of
one training run (Huang et al. 2017, "Snapshot Ensembles: Train 1, get M
for free": the models at the ends of the cycles of a cyclic, cosine
learning rate).  Its folder:

==================  =========================================================
ensemble.json       format tag, the keypoint columns and per member its
                    sub-folder, original folder and net (written last)
member_<k>/         one model folder per member: a single net
                    (:meth:`kfkd.model.Model.save`) or a specialist model
                    (:meth:`kfkd.groups.SpecialistModel.save`)
metrics.json        validation metrics of the ensemble (``kfkd ensemble``)
==================  =========================================================

:func:`kfkd.model.load_model` loads it (:func:`load_ensemble`); ``kfkd
ensemble`` makes one from model folders.  No Theano here.

Examples
--------
>>> from kfkd.keypoints import KeypointSchema
>>> class Constant(Predictor):  # the same keypoints for every face
...     schema = KeypointSchema.kaggle()
...     def __init__(self, value):
...         self.value = value
...     def predict(self, images, batch_size=256):
...         return np.full((len(images), 30), self.value, np.float32)
>>> EnsembleModel([Constant(40.0), Constant(50.0)]).predict(
...     np.zeros((2, 1, 96, 96)))[:, 0].tolist()
[45.0, 45.0]
"""
import os

import numpy as np

from .errors import ModelError
from .fileio import atomic_folder, write_json
from .keypoints import KeypointSchema
from .predictor import ModelNotFoundError, Predictor, read_folder_json

__all__ = ["FORMAT", "MIN_MEMBERS", "EnsembleModel", "member_folder",
           "load_ensemble"]

#: Version tag written into ensemble.json.
FORMAT = "kfkd-ensemble/1"

#: The fewest members of an ensemble.
MIN_MEMBERS = 2


def member_folder(k):
    """The sub-folder of member ``k`` (0-based): ``'member_<k>'``."""
    return "member_%d" % k


def _common_split(members):
    """The members' recorded validation split (``training['split']``) if
    they all record the same one, else None."""
    splits = [(getattr(m, "training", None) or {}).get("split")
              for m in members]
    return splits[0] if all(s == splits[0] for s in splits) else None


class EnsembleModel(Predictor):
    """The mean of several predictors' keypoints (a
    :class:`kfkd.predictor.Predictor`).

    Parameters
    ----------
    members : sequence of Predictor
        At least :data:`MIN_MEMBERS`, all predicting the same keypoint
        columns in the same order: :class:`kfkd.model.Model` s or
        :class:`kfkd.groups.SpecialistModel` s (an ensemble is not a
        member: give its members instead).
    training : dict, optional
        How the ensemble was made (saved into ensemble.json); by default
        ``{'combination': 'mean', 'split': S}`` with ``S`` the members'
        common recorded validation split (omitted if they differ), which
        ``kfkd evaluate`` validates the ensemble on.
    sources : sequence of str or None, optional
        Each member's original folder (default: its ``folder``), recorded
        in ensemble.json.

    Attributes
    ----------
    members : list of Predictor
    schema : KeypointSchema
        The members' (the first member's) schema.
    training : dict
    sources : list of str or None
    folder : str or None
        Set by :func:`load_ensemble`.

    Raises
    ------
    ValueError
        Fewer than two members, a member that is an ensemble or has no
        ``predict`` and ``schema``, members predicting other columns than
        the first, or ``sources`` of another length.
    """

    def __init__(self, members, training=None, sources=None):
        members = list(members)
        if len(members) < MIN_MEMBERS:
            raise ValueError("an ensemble needs at least %d members, got %d"
                             % (MIN_MEMBERS, len(members)))
        for k, member in enumerate(members):
            if isinstance(member, EnsembleModel):
                raise ValueError("member %d is itself an ensemble; give its "
                                 "members instead" % k)
            if not (hasattr(member, "predict")
                    and isinstance(getattr(member, "schema", None),
                                   KeypointSchema)):
                raise ValueError("member %d (%r) is not a predictor" % (
                    k, member))
        columns = list(members[0].schema.columns)
        for k, member in enumerate(members[1:], 1):
            if list(member.schema.columns) != columns:
                raise ValueError(
                    "every member must predict the same keypoint columns: "
                    "member 0 predicts %d (%s, ...), member %d %d (%s, ...)"
                    % (len(columns), ", ".join(columns[:2]), k,
                       member.schema.n_outputs,
                       ", ".join(member.schema.columns[:2])))
        self.members, self.schema = members, members[0].schema
        if training is None:
            training = {"combination": "mean"}
            split = _common_split(members)
            if split is not None:
                training["split"] = split
        self.training = dict(training)
        self.sources = (list(sources) if sources is not None
                        else [m.folder for m in members])
        if len(self.sources) != len(members):
            raise ValueError("%d sources for %d members"
                             % (len(self.sources), len(members)))
        self.folder = None

    def __repr__(self):
        return "EnsembleModel(%s)" % ", ".join(repr(m) for m in self.members)

    @staticmethod
    def combine(predictions):
        """The ensemble's keypoints from its members' (the one place the
        mean is taken).

        Parameters
        ----------
        predictions : sequence of ndarray, each (N, 2K), pixels

        Returns
        -------
        ndarray, (N, 2K) float32, pixels
            The mean, coordinate by coordinate (summed in float64).
        """
        total = np.zeros(np.shape(predictions[0]), np.float64)
        for p in predictions:
            total += p
        return (total / len(predictions)).astype(np.float32)

    def predict(self, images, batch_size=256):
        """Keypoints for faces (:meth:`kfkd.predictor.Predictor.predict`):
        the mean of the members' predictions in pixels, ``(N, 2K)``
        float32; each member applies its own preprocessing."""
        return self.combine([m.predict(images, batch_size)
                             for m in self.members])

    # -- persistence -----------------------------------------------------
    def describe(self):
        """The ensemble.json contents."""
        return {
            "format": FORMAT,
            "keypoint_columns": list(self.schema.columns),
            "members": [{"folder": member_folder(k), "source": source,
                         "net": getattr(member, "net", None)}
                        for k, (member, source) in enumerate(
                            zip(self.members, self.sources))],
            "training": self.training,
        }

    def save(self, folder, metrics=None, member_metrics=None):
        """Write one model sub-folder per member (``member_<k>/``),
        metrics.json and, last, ensemble.json.

        Through :func:`kfkd.fileio.atomic_folder`, as
        :meth:`kfkd.model.Model.save`: ``folder`` is always either its
        previous complete contents (or absent) or this complete ensemble.
        Member ``k``'s metrics.json is ``member_metrics[k]`` if given (``kfkd
        ensemble`` passes the member's own metrics.json, so that its training
        record — best epoch, epochs, seconds, per-keypoint RMSE — travels
        with it), else ``metrics['members'][k]``, if given.

        Returns
        -------
        str
            ``folder``.

        Raises
        ------
        ValueError
            A member that cannot write its files into a folder (no
            ``write_files``); nothing is written.
        """
        for k, member in enumerate(self.members):
            if not hasattr(member, "write_files"):
                raise ValueError("member %d (%r) cannot be saved" % (
                    k, member))
        reports = list(member_metrics if member_metrics is not None else
                       (metrics or {}).get("members") or [])
        reports += [None] * (len(self.members) - len(reports))
        with atomic_folder(folder) as staging:
            for k, member in enumerate(self.members):
                member.write_files(os.path.join(staging, member_folder(k)),
                                   reports[k])
            if metrics is not None:
                write_json(os.path.join(staging, "metrics.json"), metrics)
            write_json(os.path.join(staging, "ensemble.json"),
                       self.describe())
        return folder


def load_ensemble(folder, load_member):
    """Read an ensemble's folder (as :meth:`EnsembleModel.save` writes it)
    and check it: :func:`kfkd.model.load_model` calls this for a folder
    holding an ensemble.json.

    Parameters
    ----------
    folder : str
    load_member : callable
        ``load_member(sub_folder) -> Predictor``: the loader of a member's
        folder, a single model or a specialist model
        (:func:`kfkd.model.load_model`; a member folder holding an
        ensemble.json is refused before it is called).

    Returns
    -------
    EnsembleModel
        With ``folder`` the folder's absolute path.

    Raises
    ------
    ModelNotFoundError
        No ensemble.json, or a member's folder is missing.
    ModelError
        ensemble.json malformed (not JSON, another format, a field missing
        or of the wrong type, fewer than two members, a member folder that
        is not a plain sub-folder name or is named twice), a member's model
        malformed, an ensemble, or predicting other columns than
        ensemble.json's ``keypoint_columns``; the message names the file
        and the field.
    """
    path = os.path.join(folder, "ensemble.json")
    spec = read_folder_json(path, FORMAT)
    columns, entries = spec.get("keypoint_columns"), spec.get("members")
    if (not isinstance(columns, list) or not columns
            or not all(isinstance(c, str) for c in columns)):
        raise ModelError("%s: field 'keypoint_columns' must be a non-empty "
                         "list of column names" % path)
    if not isinstance(entries, list) or len(entries) < MIN_MEMBERS:
        raise ModelError("%s: field 'members' must be a list of at least %d "
                         "members, got %s" % (path, MIN_MEMBERS, (
                             "%d" % len(entries) if isinstance(entries, list)
                             else type(entries).__name__)))
    training = spec.get("training", {})
    if not isinstance(training, dict):
        raise ModelError("%s: field 'training' must be an object" % path)
    members, sources, seen = [], [], set()
    for k, entry in enumerate(entries):
        where = "%s: field 'members', member %d" % (path, k)
        sub = entry.get("folder") if isinstance(entry, dict) else None
        if (not isinstance(sub, str) or sub in ("", ".", "..")
                or os.path.basename(sub) != sub or "\\" in sub):
            raise ModelError("%s: needs 'folder', a sub-folder name, got %s"
                             % (where, repr(sub)[:60]))
        if sub in seen:
            raise ModelError("%s: folder %r is named twice" % (where, sub))
        seen.add(sub)
        source = entry.get("source")
        if not isinstance(source, (str, type(None))):
            raise ModelError("%s: 'source' must be a folder name or null"
                             % where)
        if not os.path.isdir(os.path.join(folder, sub)):
            raise ModelNotFoundError("%s: folder %r does not exist" % (
                where, sub))
        if os.path.isfile(os.path.join(folder, sub, "ensemble.json")):
            raise ModelError("%s: folder %r is an ensemble; an ensemble's "
                             "members are single models" % (where, sub))
        member = load_member(os.path.join(folder, sub))
        if list(member.schema.columns) != columns:
            raise ModelError("%s: folder %r predicts %d columns (%s, ...), "
                             "expected 'keypoint_columns' (%d: %s, ...)" % (
                                 where, sub, member.schema.n_outputs,
                                 ", ".join(member.schema.columns[:2]),
                                 len(columns), ", ".join(columns[:2])))
        members.append(member)
        sources.append(source)
    try:
        KeypointSchema(columns)
        model = EnsembleModel(members, training=training, sources=sources)
    except (ValueError, KeyError) as e:
        raise ModelError("%s: %s" % (path, e))
    model.folder = os.path.abspath(folder)
    return model

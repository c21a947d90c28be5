"""What every trained keypoint predictor offers, and reading its folder's JSON.

A predictor is one of three kinds of model folder, all loaded by
:func:`kfkd.model.load_model` (which tells them apart by the folder's JSON)
and all offering the same protocol, :class:`Predictor`:

=====================================  ======================================
:class:`kfkd.model.Model`              one net (model.json + model.npz)
:class:`kfkd.groups.SpecialistModel`   one net per keypoint group
                                       (specialists.json + a model folder
                                       per group)
:class:`kfkd.ensemble.EnsembleModel`   the mean of several models'
                                       keypoints (ensemble.json + a model
                                       folder per member)
=====================================  ======================================

:func:`kfkd.model.single_nets` lists the single nets inside any of them
(what reads a net's layers takes the first).  The protocol:

=====================  =====================================================
``predict(images)``    ``(N, 1, 96, 96)`` faces -> ``(N, 2K)`` keypoints,
                       pixels
``schema``             the :class:`kfkd.keypoints.KeypointSchema` of the
                       ``2K`` output columns
``describe()``         the folder's description (model.json,
                       specialists.json or ensemble.json contents)
``metrics(data)``      validation RMSE overall, per keypoint and the
                       competition's (:mod:`kfkd.metrics`)
``save(folder)``       write the folder whole (:func:`kfkd.fileio.
                       atomic_folder`)
=====================  =====================================================

Test-time augmentation wraps a predictor (:func:`with_tta`,
:class:`FlipAverage`).  numpy only: no Theano here.
"""
import json
import os

import numpy as np

from .errors import ModelError
from .metrics import lookup_rmse, per_keypoint_rmse, rmse
from .transforms import flip_horizontal

__all__ = ["Predictor", "ModelNotFoundError", "read_json_file",
           "read_folder_json", "TTA", "FlipAverage", "with_tta"]

#: Test-time augmentations of :func:`with_tta` (``--tta``).
TTA = ("none", "flip")


class ModelNotFoundError(ModelError, FileNotFoundError):
    """The model folder, or its model.json / model.npz, does not exist."""


class Predictor(object):
    """Base of the keypoint predictors: :meth:`metrics` from :meth:`predict`.

    Subclasses set ``schema`` and ``folder`` (None until saved or loaded)
    and define :meth:`predict`, :meth:`describe` and :meth:`save`.
    """

    schema = None
    folder = None

    def predict(self, images, batch_size=256):
        """Keypoints for faces.

        Parameters
        ----------
        images : ndarray, (N, 1, 96, 96) float32 in [0, 1]
        batch_size : int
            Faces per call of the net.

        Returns
        -------
        ndarray, (N, 2K) float32, pixels in the 96x96 frame (not clipped)

        Raises
        ------
        ValueError
            ``images`` has another shape.
        ModelError
            A net predicts a non-finite coordinate (NaN or inf).
        """
        raise NotImplementedError

    def describe(self):
        """The JSON description written into the folder."""
        raise NotImplementedError

    def metrics(self, data, extra=None, predictions=None):
        """Validation metrics on ``data`` (a :class:`KeypointData`).

        ``predictions`` (pixels, ``(N, 2K)``), if given, are used instead of
        predicting ``data.images`` again.

        Returns
        -------
        dict
            ``val_rmse_px`` (all labelled coordinates),
            ``per_keypoint_rmse_px``, ``lookup_rmse_px`` (the competition
            metric, computed as Kaggle would: :func:`kfkd.metrics.
            lookup_rmse`), ``n_faces``, plus ``extra``.
        """
        if predictions is None:
            predictions = self.predict(data.images)
        out = {"val_rmse_px": rmse(predictions, data.keypoints),
               "per_keypoint_rmse_px": per_keypoint_rmse(
                   predictions, data.keypoints, self.schema.names),
               "lookup_rmse_px": lookup_rmse(predictions, data.keypoints,
                                             self.schema),
               "n_faces": len(data)}
        out.update(extra or {})
        return out


def read_json_file(path):
    """A JSON object from ``path``; ModelError (naming it) if it is not one."""
    try:
        with open(path, "rb") as f:
            spec = json.loads(f.read().decode("utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise ModelError("%s: cannot read: %s" % (
            path, getattr(e, "strerror", None) or e))
    except ValueError as e:
        raise ModelError("%s: not valid JSON (%s)" % (path, e))
    if not isinstance(spec, dict):
        raise ModelError("%s: expected a JSON object, got a %s"
                         % (path, type(spec).__name__))
    return spec


def read_folder_json(path, fmt):
    """The JSON object of a model folder of several models
    (specialists.json, ensemble.json), its format checked.

    Parameters
    ----------
    path : str
    fmt : str
        The ``format`` field expected, e.g. ``'kfkd-ensemble/1'``.

    Raises
    ------
    ModelNotFoundError
        No file at ``path``.
    ModelError
        Not a JSON object (:func:`read_json_file`), or another format.
    """
    if not os.path.isfile(path):
        raise ModelNotFoundError("%s: no such file" % path)
    spec = read_json_file(path)
    if spec.get("format") != fmt:
        raise ModelError("%s: field 'format' is %r, expected %r"
                         % (path, spec.get("format"), fmt))
    return spec


class FlipAverage(Predictor):
    """Flip test-time augmentation: the mean of a predictor's keypoints for
    a face and, mapped back, for its mirror image.

    The mirrored face's prediction is mirrored back by
    :func:`kfkd.transforms.flip_horizontal` (``x -> 96 - x``, ``left_*``
    and ``right_*`` columns swapped through the schema's flip pairs), the
    same mirror the training augmentation uses; the two are averaged
    coordinate by coordinate.  Nouri (2014) trains with these flips; the
    averaging is the usual test-time form of that symmetry.  Costs two
    predictions per face.

    Parameters
    ----------
    predictor : Predictor
        Its other attributes (``training``, ``net``, ...) are this
        object's too.

    Examples
    --------
    >>> from kfkd.keypoints import KeypointSchema
    >>> class Constant(Predictor):  # the same keypoints for every face
    ...     schema = KeypointSchema.kaggle()
    ...     def predict(self, images, batch_size=256):
    ...         return np.tile(np.arange(30, dtype=np.float32), (len(images), 1))
    >>> FlipAverage(Constant()).predict(np.zeros((2, 1, 96, 96)))[0, :4].tolist()
    [47.0, 2.0, 49.0, 2.0]
    """

    def __init__(self, predictor):
        self.predictor = predictor
        self.schema, self.folder = predictor.schema, predictor.folder

    def __getattr__(self, name):
        if name == "predictor":  # not set yet: no recursion
            raise AttributeError(name)
        return getattr(self.predictor, name)

    def __repr__(self):
        return "FlipAverage(%r)" % (self.predictor,)

    def predict(self, images, batch_size=256):
        """Keypoints for faces (:meth:`Predictor.predict`), ``(N, 2K)``
        float32 pixels: the mean of the plain and the mirrored-back
        predictions."""
        plain = self.predictor.predict(images, batch_size)
        mirrored = flip_horizontal(images, None)[0]
        back = flip_horizontal(mirrored, self.predictor.predict(
            mirrored, batch_size), self.schema)[1]
        return ((plain + back) / np.float32(2)).astype(np.float32)

    def describe(self):
        """The wrapped predictor's description, with ``tta: 'flip'``."""
        return dict(self.predictor.describe(), tta="flip")

    def save(self, folder, metrics=None):
        """Refused: test-time augmentation is an option of prediction, not
        part of a model folder (ModelError)."""
        raise ModelError("%s: a flip test-time augmentation is not saved; "
                         "save the model itself" % folder)


def with_tta(predictor, tta="none"):
    """``predictor`` with test-time augmentation ``tta`` (:data:`TTA`).

    Parameters
    ----------
    predictor : Predictor
    tta : {'none', 'flip'} or None
        'flip': :class:`FlipAverage`; 'none' or None: ``predictor`` itself.

    Raises
    ------
    ValueError
        An unknown ``tta``.
    """
    if tta in (None, "none"):
        return predictor
    if tta == "flip":
        return FlipAverage(predictor)
    raise ValueError("tta must be one of %s, got %r" % (", ".join(TTA), tta))

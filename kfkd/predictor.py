"""What every trained keypoint predictor offers, and reading its folder's JSON.

A predictor is a :class:`kfkd.model.Model` (one net) or a
:class:`kfkd.groups.SpecialistModel` (one net per keypoint group); both are
loaded by :func:`kfkd.model.load_model` and offer the same protocol,
:class:`Predictor`:

=====================  =====================================================
``predict(images)``    ``(N, 1, 96, 96)`` faces -> ``(N, 2K)`` keypoints,
                       pixels
``schema``             the :class:`kfkd.keypoints.KeypointSchema` of the
                       ``2K`` output columns
``describe()``         the folder's description (model.json or
                       specialists.json contents)
``metrics(data)``      validation RMSE overall, per keypoint and the
                       competition's (:mod:`kfkd.metrics`)
``save(folder)``       write the folder whole (:func:`kfkd.fileio.
                       atomic_folder`)
=====================  =====================================================

numpy only: no Theano here.
"""
import json

from .errors import ModelError
from .metrics import lookup_rmse, per_keypoint_rmse, rmse

__all__ = ["Predictor", "ModelNotFoundError", "read_json_file"]


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

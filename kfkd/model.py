"""A trained model: a self-describing folder, saved and loaded without pickle.

A model folder holds

==============  ==============================================================
model.npz       parameter arrays ``param_000``, ``param_001``, ... in
                ``lasagne.layers.get_all_params`` order (``allow_pickle=False``)
model.json      format, net name and hyperparameters, keypoint columns, the
                input and target normalisation, training settings, shapes
history.csv     one row per epoch (:data:`kfkd.train.HISTORY_COLUMNS`)
metrics.json    validation RMSE (pixels) overall and per keypoint, epochs,
                seconds
==============  ==============================================================

Examples
--------
>>> model = load_model()  # the shipped reference model  # doctest: +SKIP
>>> model.predict(images).shape  # (N, 30), pixels  # doctest: +SKIP
"""
from . import compat  # noqa: F401  (configures Theano, shims Lasagne)

import csv
import os

import lasagne
import numpy as np
import theano

from . import nets
from .fileio import atomic_write, read_json, write_json
from .keypoints import FRAME, KeypointSchema, to_pixels

__all__ = ["Model", "load_model", "FORMAT", "DEFAULT_MODEL_DIR",
           "default_model_dir", "per_keypoint_rmse"]

#: Version tag written into model.json.
FORMAT = "kfkd-model/1"

#: The reference model shipped with the repository.
DEFAULT_MODEL_DIR = os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "models", "reference")

NORMALISATION = {
    "input": "grey level / 255, (N, 1, 96, 96) float32 in [0, 1]",
    "target": "(pixels - 48) / 48, in [-1, 1]",
}


def default_model_dir():
    """``$KFKD_MODEL`` if set, else the shipped ``models/reference``."""
    return os.environ.get("KFKD_MODEL") or DEFAULT_MODEL_DIR


def per_keypoint_rmse(predictions_px, keypoints_px, schema):
    """RMSE in pixels per keypoint (x and y pooled), over labelled faces.

    Returns
    -------
    dict
        keypoint name -> RMSE (pixels), or None where nothing is labelled.
    """
    err2 = (np.asarray(predictions_px, np.float64) - keypoints_px) ** 2
    out = {}
    for k, name in enumerate(schema.names):
        cols = err2[:, 2 * k:2 * k + 2]
        out[name] = (float(np.sqrt(np.nanmean(cols)))
                     if np.isfinite(cols).any() else None)
    return out


class Model(object):
    """A Lasagne net with its description.

    Parameters
    ----------
    net : str
        Name in :data:`kfkd.nets.NETS`.
    net_params : dict
        Builder hyperparameters.
    schema : KeypointSchema
        The coordinates the output units stand for, in order.
    layer : Layer, optional
        The built output layer (built from ``net`` if omitted).
    training : dict, optional
        How it was trained (saved into model.json).
    history : list of dict, optional
        Per-epoch training history.
    preprocessing : dict, optional
        ``{'exposure': None | 'clahe' | 'hist'}``: applied to images before
        the net, in training and prediction alike.
    """

    def __init__(self, net, net_params, schema, layer=None, training=None,
                 history=None, preprocessing=None):
        self.net, self.net_params, self.schema = net, dict(net_params), schema
        self.layer = layer if layer is not None else nets.build(
            net, n_outputs=schema.n_outputs, **self.net_params)
        self.training, self.history = training or {}, history or []
        self.preprocessing = dict(preprocessing or {"exposure": None})
        self.folder = None  # set by load_model
        self._predict_fn = None

    def preprocess(self, images):
        """Apply the model's preprocessing to ``(N, 1, 96, 96)`` images."""
        method = self.preprocessing.get("exposure")
        if not method:
            return images
        from .augment import equalize_exposure
        return equalize_exposure(images, method=method)

    def __repr__(self):
        return "Model(%r, %r, %d outputs, %d parameters)" % (
            self.net, self.net_params, self.schema.n_outputs,
            lasagne.layers.count_params(self.layer))

    def predict_unit(self, images, batch_size=256):
        """Net outputs in [-1, 1] scale, ``(N, 2K) float32`` (no dropout)."""
        if self._predict_fn is None:
            input_var = lasagne.layers.get_all_layers(self.layer)[0].input_var
            self._predict_fn = theano.function(
                [input_var],
                lasagne.layers.get_output(self.layer, deterministic=True),
                name="predict")
        images = np.asarray(images, dtype=theano.config.floatX)
        if images.ndim != 4 or images.shape[1:] != (1, FRAME, FRAME):
            raise ValueError("images must be (N, 1, %d, %d), got %r"
                             % (FRAME, FRAME, images.shape))
        out = [self._predict_fn(images[i:i + batch_size])
               for i in range(0, len(images), batch_size)]
        return (np.concatenate(out) if out else
                np.empty((0, self.schema.n_outputs), np.float32))

    def predict(self, images, batch_size=256):
        """Keypoints for faces.

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
        return to_pixels(self.predict_unit(self.preprocess(images),
                                           batch_size))

    def metrics(self, data, extra=None, predictions=None):
        """Validation metrics on ``data`` (a :class:`KeypointData`).

        ``predictions`` (pixels, ``(N, 2K)``), if given, are used instead of
        predicting ``data.images`` again.

        Returns
        -------
        dict
            ``val_rmse_px`` (all labelled coordinates), ``per_keypoint_rmse_px``,
            ``lookup_rmse_px`` (the competition metric, computed as Kaggle
            would: :func:`kfkd.submission.lookup_rmse`), ``n_faces``, plus
            ``extra``.
        """
        from .submission import lookup_rmse
        from .train import rmse_px
        if predictions is None:
            predictions = self.predict(data.images)
        out = {"val_rmse_px": rmse_px(predictions, data.keypoints),
               "per_keypoint_rmse_px": per_keypoint_rmse(
                   predictions, data.keypoints, self.schema),
               "lookup_rmse_px": lookup_rmse(predictions, data.keypoints,
                                             self.schema),
               "n_faces": len(data)}
        out.update(extra or {})
        return out

    # -- persistence -----------------------------------------------------
    def describe(self):
        """The model.json contents."""
        values = lasagne.layers.get_all_param_values(self.layer)
        return {
            "format": FORMAT,
            "net": self.net,
            "net_params": self.net_params,
            "keypoint_columns": list(self.schema.columns),
            "normalisation": NORMALISATION,
            "preprocessing": self.preprocessing,
            "training": self.training,
            "param_shapes": [list(v.shape) for v in values],
            "n_params": int(sum(v.size for v in values)),
        }

    def save(self, folder, metrics=None):
        """Write model.npz, model.json, history.csv (and metrics.json).

        Each file is written atomically (:func:`kfkd.fileio.atomic_write`).
        """
        os.makedirs(folder, exist_ok=True)
        values = lasagne.layers.get_all_param_values(self.layer)
        with atomic_write(os.path.join(folder, "model.npz"), "wb") as f:
            np.savez(f, **{"param_%03d" % i: v for i, v in enumerate(values)})
        write_json(os.path.join(folder, "model.json"), self.describe())
        if self.history:
            from .train import HISTORY_COLUMNS
            with atomic_write(os.path.join(folder, "history.csv"),
                              newline="") as f:
                writer = csv.DictWriter(f, HISTORY_COLUMNS)
                writer.writeheader()
                writer.writerows(self.history)
        if metrics is not None:
            write_json(os.path.join(folder, "metrics.json"), metrics)
        return folder


def load_model(folder=None):
    """Load a model folder written by :meth:`Model.save`.

    A folder with a ``specialists.json`` is a
    :class:`kfkd.specialists.SpecialistModel` (one model sub-folder per
    keypoint group), loaded by :func:`kfkd.specialists.load_specialists`.

    Parameters
    ----------
    folder : str, optional
        Default :func:`default_model_dir` (the shipped reference model).

    Returns
    -------
    Model or kfkd.specialists.SpecialistModel
        With ``folder`` set to the folder's absolute path.

    Raises
    ------
    FileNotFoundError
        No model.json / model.npz in ``folder``.
    ValueError
        Unknown format, or parameter shapes that do not match the net.
    """
    folder = folder or default_model_dir()
    if os.path.isfile(os.path.join(folder, "specialists.json")):
        from .specialists import load_specialists
        return load_specialists(folder)
    spec_path = os.path.join(folder, "model.json")
    weights_path = os.path.join(folder, "model.npz")
    for path in (spec_path, weights_path):
        if not os.path.isfile(path):
            raise FileNotFoundError("%s: no such file (not a kfkd model "
                                    "folder?)" % path)
    spec = read_json(spec_path)
    if spec.get("format") != FORMAT:
        raise ValueError("%s: format %r, expected %r"
                         % (spec_path, spec.get("format"), FORMAT))
    schema = KeypointSchema(spec["keypoint_columns"])
    model = Model(spec["net"], spec["net_params"], schema,
                  training=spec.get("training"),
                  preprocessing=spec.get("preprocessing"))
    with np.load(weights_path, allow_pickle=False) as arrays:
        values = [arrays["param_%03d" % i] for i in range(len(arrays.files))]
    expected = [p.get_value().shape for p in
                lasagne.layers.get_all_params(model.layer)]
    got = [v.shape for v in values]
    if got != expected:
        raise ValueError("%s: parameter shapes %s do not match net %r %s"
                         % (weights_path, got, spec["net"], expected))
    lasagne.layers.set_all_param_values(model.layer, values)
    model.folder = os.path.abspath(folder)
    history_path = os.path.join(folder, "history.csv")
    if os.path.isfile(history_path):
        import pandas as pd
        model.history = pd.read_csv(history_path).to_dict("records")
    return model

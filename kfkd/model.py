"""A trained model: a self-describing folder, saved and loaded without pickle.

A model folder holds

==============  ==============================================================
model.npz       parameter arrays ``param_000``, ``param_001``, ... in
                ``lasagne.layers.get_all_params`` order (``allow_pickle=False``)
model.json      format, net name and hyperparameters, keypoint columns, the
                input and target normalisation, training settings, shapes
history.csv     one row per epoch (:data:`kfkd.config.HISTORY_COLUMNS`)
metrics.json    validation RMSE (pixels) overall and per keypoint, epochs,
                seconds
==============  ==============================================================

:func:`load_model` loads it, a specialist model's folder
(:mod:`kfkd.groups`) or an ensemble's (:mod:`kfkd.ensemble`): all three
are :class:`kfkd.predictor.Predictor` s.  :func:`single_nets` lists the
single nets inside any of them, :func:`net_label` names them.

Examples
--------
>>> model = load_model()  # the shipped reference model  # doctest: +SKIP
>>> model.predict(images).shape  # (N, 30), pixels  # doctest: +SKIP
"""
from . import compat  # noqa: F401  (configures Theano, shims Lasagne)

import csv
import json
import os
import shutil

import lasagne
import numpy as np
import pandas as pd
import theano

from . import nets
from .augment import equalize_exposure
from .config import HISTORY_COLUMNS, MODEL_FORMAT
from .errors import ModelError, UsageError
from .fileio import atomic_folder, write_json
from .ensemble import EnsembleModel, load_ensemble
from .groups import SpecialistModel, load_specialists
from .keypoints import FRAME, KeypointSchema, to_pixels
from .layers import fold_batch_norm
from .predictor import ModelNotFoundError, Predictor, read_json_file
from .weights import read_weights, write_weights

__all__ = ["Model", "load_model", "read_model", "FORMAT", "DEFAULT_MODEL_DIR",
           "default_model_dir", "read_spec", "single_nets", "net_label"]


#: Version tag written into model.json.
FORMAT = MODEL_FORMAT

#: The reference model shipped with the repository.
DEFAULT_MODEL_DIR = os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "models", "reference")

NORMALISATION = {
    "input": "grey level / 255, (N, 1, 96, 96) float32 in [0, 1]",
    "target": "(pixels - 48) / 48, in [-1, 1]",
}


#: Exposure corrections a model may name
#: (:func:`kfkd.augment.equalize_exposure`).
EXPOSURES = (None, "clahe", "hist")


def default_model_dir():
    """``$KFKD_MODEL`` if set, else the shipped ``models/reference``."""
    return os.environ.get("KFKD_MODEL") or DEFAULT_MODEL_DIR


class Model(Predictor):
    """A Lasagne net with its description (a :class:`kfkd.predictor.Predictor`).

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
    predict_fn : callable, optional
        The compiled prediction function of ``layer`` (unit-scale outputs,
        no dropout), if at hand (:meth:`kfkd.train.Trainer.
        compile_functions`); compiled on first use otherwise.
    """

    def __init__(self, net, net_params, schema, layer=None, training=None,
                 history=None, preprocessing=None, predict_fn=None):
        self.net, self.net_params, self.schema = net, dict(net_params), schema
        self.layer = layer if layer is not None else nets.build(
            net, n_outputs=schema.n_outputs, **self.net_params)
        self.training, self.history = training or {}, history or []
        self.preprocessing = dict(preprocessing or {"exposure": None})
        self.folder = None  # set by load_model
        self._predict_fn = predict_fn

    def preprocess(self, images):
        """Apply the model's preprocessing to ``(N, 1, 96, 96)`` images."""
        method = self.preprocessing.get("exposure")
        if not method:
            return images
        return equalize_exposure(images, method=method)

    def __repr__(self):
        return "Model(%r, %r, %d outputs, %d parameters)" % (
            self.net, self.net_params, self.schema.n_outputs,
            lasagne.layers.count_params(self.layer))

    def predict_unit(self, images, batch_size=256):
        """Net outputs in [-1, 1] scale, ``(N, 2K) float32`` (no dropout).

        Batch norms are folded into the layers below them
        (:func:`kfkd.layers.fold_batch_norm`).
        """
        if self._predict_fn is None:
            input_var = lasagne.layers.get_all_layers(self.layer)[0].input_var
            self._predict_fn = theano.function(
                [input_var],
                lasagne.layers.get_output(fold_batch_norm(self.layer),
                                          deterministic=True),
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
        """Keypoints for faces (:meth:`kfkd.predictor.Predictor.predict`):
        the net's outputs after the model's preprocessing, in pixels;
        ModelError if one is not finite."""
        unit = self.predict_unit(self.preprocess(images), batch_size)
        with np.errstate(over="ignore", invalid="ignore"):  # refused below
            out = to_pixels(unit)
        bad = ~np.isfinite(out)
        if bad.any():
            raise ModelError("model %s predicts non-finite keypoints for %d "
                             "of %d faces (first: face %d); nothing written"
                             % (self.folder or self.net, bad.any(axis=1).sum(),
                                len(out), np.flatnonzero(bad.any(axis=1))[0]))
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

    def save(self, folder, metrics=None, keep=()):
        """Write the model folder: model.npz, model.json, history.csv (and
        metrics.json).

        Through :func:`kfkd.fileio.atomic_folder`: the folder is written
        whole into a staging folder and swapped in for ``folder``, which is
        therefore always either its previous complete contents (or absent)
        or this complete model.  Anything else in ``folder`` is replaced,
        except the files named in ``keep`` (the trainer keeps its resume
        state, :mod:`kfkd.resume`, through a checkpoint).

        Returns
        -------
        str
            ``folder``.
        """
        with atomic_folder(folder) as staging:
            self.write_files(staging, metrics)
            for name in keep:
                old = os.path.join(folder, name)
                if os.path.isfile(old):
                    try:  # a hard link: the file is replaced, not changed
                        os.link(old, os.path.join(staging, name))
                    except OSError:
                        shutil.copy2(old, os.path.join(staging, name))
        return folder

    def write_files(self, folder, metrics=None):
        """Write the model's files into ``folder`` (a staging folder)."""
        os.makedirs(folder, exist_ok=True)
        write_weights(os.path.join(folder, "model.npz"),
                      lasagne.layers.get_all_param_values(self.layer))
        write_json(os.path.join(folder, "model.json"), self.describe())
        if self.history:
            with open(os.path.join(folder, "history.csv"), "w",
                      newline="") as f:
                writer = csv.DictWriter(f, HISTORY_COLUMNS)
                writer.writeheader()
                writer.writerows(self.history)
        if metrics is not None:
            write_json(os.path.join(folder, "metrics.json"), metrics)


# -- reading and validating a model folder ------------------------------------
def _field(spec, path, key, kinds, what, required=True):
    if key not in spec:
        if required:
            raise ModelError("%s: field %r is missing" % (path, key))
        return None
    value = spec[key]
    if not isinstance(value, kinds):
        raise ModelError("%s: field %r must be %s, got %s" % (
            path, key, what, json.dumps(value)[:60]))
    return value


def read_spec(path):
    """Read and validate a model.json.

    Parameters
    ----------
    path : str

    Returns
    -------
    dict
        With ``format``, ``net`` (a registered net), ``net_params`` (checked
        by :func:`kfkd.nets.check_params`), ``keypoint_columns``,
        ``preprocessing`` and ``training`` (dicts, possibly empty).

    Raises
    ------
    ModelError
        Not JSON, not an object, another format, or a field missing or of
        the wrong type or value; the message names ``path`` and the field.
    """
    spec = read_json_file(path)
    if spec.get("format") != FORMAT:
        raise ModelError("%s: field 'format' is %s, expected %r"
                         % (path, json.dumps(spec.get("format"))[:60], FORMAT))
    net = _field(spec, path, "net", str, "a net name")
    net_params = _field(spec, path, "net_params", dict, "an object")
    try:
        nets.check_params(net, net_params)
    except UsageError as e:
        field = "net" if net not in nets.NETS else "net_params"
        raise ModelError("%s: field %r: %s" % (path, field, e))
    columns = _field(spec, path, "keypoint_columns", list, "a list of "
                     "column names")
    if not columns or not all(isinstance(c, str) for c in columns):
        raise ModelError("%s: field 'keypoint_columns' must be a non-empty "
                         "list of column names" % path)
    try:
        KeypointSchema(columns)
    except (ValueError, KeyError) as e:
        raise ModelError("%s: field 'keypoint_columns': %s" % (path, e))
    pre = _field(spec, path, "preprocessing", dict, "an object",
                 required=False) or {"exposure": None}
    if pre.get("exposure") not in EXPOSURES:
        raise ModelError("%s: field 'preprocessing': exposure %s, expected "
                         "one of %s" % (path, json.dumps(pre.get(
                             "exposure"))[:60], EXPOSURES))
    training = _field(spec, path, "training", dict, "an object",
                      required=False) or {}
    return dict(spec, preprocessing=pre, training=training)


def load_model(folder=None):
    """Load and validate a model folder: the one loader of every predictor.

    A folder with an ``ensemble.json`` is a
    :class:`kfkd.ensemble.EnsembleModel` (one model sub-folder per member,
    each a single model or a specialist model:
    :func:`kfkd.ensemble.load_ensemble`), one with a ``specialists.json``
    a :class:`kfkd.groups.SpecialistModel` (one model sub-folder per
    keypoint group: :func:`kfkd.groups.load_specialists`), any other a
    single :class:`Model` (:func:`read_model`); all are
    :class:`kfkd.predictor.Predictor` s.

    Parameters
    ----------
    folder : str, optional
        Default :func:`default_model_dir` (the shipped reference model).

    Returns
    -------
    Model, kfkd.groups.SpecialistModel or kfkd.ensemble.EnsembleModel
        With ``folder`` set to the folder's absolute path.

    Raises
    ------
    ModelNotFoundError
        No such folder, or no model.json / model.npz in it (nor an
        ensemble.json or specialists.json), or an ensemble's member folder
        is missing.
    ModelError
        Anything malformed (the message names the file and the field or
        array).
    """
    folder = folder or default_model_dir()
    if not os.path.isdir(folder):
        raise ModelNotFoundError("%s: no such model folder (model.json, "
                                 "model.npz)" % folder)
    if os.path.isfile(os.path.join(folder, "ensemble.json")):
        # its members: specialists or single models (it refuses ensembles)
        return load_ensemble(folder, load_model)
    if os.path.isfile(os.path.join(folder, "specialists.json")):
        return load_specialists(folder, read_model)
    return read_model(folder)


def single_nets(predictor):
    """The single-net :class:`Model` s inside a predictor.

    Parameters
    ----------
    predictor : Predictor
        A :class:`Model` (-> ``[predictor]``), a
        :class:`kfkd.groups.SpecialistModel` (-> its group models, in group
        order), a :class:`kfkd.ensemble.EnsembleModel` (-> its members'
        nets, in member order) or a test-time augmentation of one
        (:func:`kfkd.predictor.with_tta`: the wrapped predictor's).

    Returns
    -------
    list of Model
        At least one; what reads a net's layers (``layer``, ``net``,
        ``net_params``) takes the first.

    Raises
    ------
    TypeError
        Another kind of predictor (one without nets).
    """
    predictor = _unwrapped(predictor)
    if isinstance(predictor, Model):
        return [predictor]
    if isinstance(predictor, EnsembleModel):
        return [net for member in predictor.members
                for net in single_nets(member)]
    return list(predictor.specialists.values())


def net_label(predictor):
    """A short name of a predictor's nets, for figures and tables.

    Returns
    -------
    str
        ``'heatmap'`` (a :class:`Model`: its net), ``'6 specialists
        (net6)'``, ``'ensemble of heatmap + breeze'`` (the members'
        labels).

    Raises
    ------
    TypeError
        As :func:`single_nets`.
    """
    predictor = _unwrapped(predictor)
    if isinstance(predictor, Model):
        return predictor.net
    if isinstance(predictor, EnsembleModel):
        return "ensemble of %s" % " + ".join(
            net_label(m) for m in predictor.members)
    nets_ = list(dict.fromkeys(m.net for m in single_nets(predictor)))
    return "%d specialists (%s)" % (len(predictor.specialists),
                                    " + ".join(nets_))


def _unwrapped(predictor):
    """The Model, SpecialistModel or EnsembleModel ``predictor`` is or
    wraps (a test-time augmentation, :class:`kfkd.predictor.FlipAverage`);
    TypeError for another kind."""
    while not isinstance(predictor, (Model, SpecialistModel, EnsembleModel)):
        inner = getattr(predictor, "predictor", None)
        if not isinstance(inner, Predictor):
            raise TypeError("%r has no single nets (not a Model, "
                            "SpecialistModel or EnsembleModel)" % (predictor,))
        predictor = inner
    return predictor


def read_model(folder):
    """Load and validate a single model's folder written by
    :meth:`Model.save` (use :func:`load_model`, which also loads specialist
    models).

    Everything is checked before the weights are read: model.json's fields
    (:func:`read_spec`), then model.npz's array names, shapes and dtypes
    from their ``.npy`` headers against the net built from model.json (not
    compiled); then the arrays are read and must be finite
    (:func:`kfkd.weights.read_weights`).

    Raises
    ------
    ModelNotFoundError
        No model.json / model.npz in ``folder``.
    ModelError
        Anything malformed.
    """
    spec_path = os.path.join(folder, "model.json")
    weights_path = os.path.join(folder, "model.npz")
    for path in (spec_path, weights_path):
        if not os.path.isfile(path):
            raise ModelNotFoundError("%s: no such file (not a kfkd model "
                                     "folder?)" % path)
    spec = read_spec(spec_path)
    try:
        model = Model(spec["net"], spec["net_params"],
                      KeypointSchema(spec["keypoint_columns"]),
                      training=spec["training"],
                      preprocessing=spec["preprocessing"])
    except (UsageError, ValueError, MemoryError) as e:
        raise ModelError("%s: net %r %s cannot be built: %s"
                         % (spec_path, spec["net"], spec["net_params"], e))
    expected = [p.get_value().shape for p in
                lasagne.layers.get_all_params(model.layer)]
    lasagne.layers.set_all_param_values(model.layer, read_weights(
        weights_path, expected, theano.config.floatX))
    model.folder = os.path.abspath(folder)
    model.history = _read_history(os.path.join(folder, "history.csv"))
    return model


def _read_history(path):
    """history.csv's rows (list of dict), [] if absent; ModelError if
    unreadable."""
    if not os.path.isfile(path):
        return []
    try:
        return pd.read_csv(path).to_dict("records")
    except (ValueError, OSError, UnicodeDecodeError,
            pd.errors.ParserError) as e:
        raise ModelError("%s: cannot read: %s" % (path, e))

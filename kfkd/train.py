"""Training: masked loss, L1/L2 penalties, updates and schedules, early stopping.

The loss is the mean squared error over *labelled* coordinates only, in the
[-1, 1] target scale (:func:`kfkd.keypoints.to_unit`), so every training row
is used however many of its keypoints are missing:

.. math::

    L = \\frac{\\sum_{n,j} m_{nj} (\\hat y_{nj} - y_{nj})^2}{\\sum_{n,j} m_{nj}}
        + \\lambda_1 \\sum_W |W| + \\lambda_2 \\sum_W W^2

with :math:`m_{nj} = 1` where coordinate ``j`` of face ``n`` is labelled.
The penalties come from :mod:`lasagne.regularization` over the weights
tagged ``regularizable`` (not biases, not batch-norm parameters).

Validation RMSE is reported in pixels, over labelled coordinates:
``48 * sqrt(mean masked squared error in unit scale)``.
"""
from . import compat  # noqa: F401  (configures Theano, shims Lasagne)

import time

import lasagne
import numpy as np
import theano
import theano.tensor as T
from lasagne.regularization import l1 as l1_norm
from lasagne.regularization import l2 as l2_norm
from lasagne.regularization import regularize_network_params
from tqdm.auto import tqdm

from . import nets
from .keypoints import FRAME, to_unit

__all__ = ["masked_mse", "penalty", "init_output_bias", "linear_schedule",
           "EarlyStopping", "Trainer", "rmse_px", "iterate_minibatches",
           "HISTORY_COLUMNS", "trainer_from_config", "AUGMENT_KEYS",
           "TRAINER_KEYS", "warm_start", "config_from_training"]

floatX = theano.config.floatX

#: Columns of a training history (one row per epoch).
HISTORY_COLUMNS = ("epoch", "train_loss", "val_loss", "val_rmse_px",
                   "learning_rate", "momentum", "seconds", "best")


def masked_mse(predictions, targets, mask):
    """Mean squared error over the coordinates where ``mask`` is 1.

    Parameters
    ----------
    predictions, targets, mask : Theano matrices, (N, 2K)
        ``targets`` must be finite (put 0 where unlabelled); ``mask`` is 1
        where labelled, 0 elsewhere.

    Returns
    -------
    Theano scalar
        ``sum(mask * (predictions - targets)**2) / max(sum(mask), 1)``.
        Unlabelled coordinates contribute nothing, and their gradient is 0.
    """
    squared = mask * T.sqr(predictions - targets)
    return squared.sum() / T.maximum(mask.sum(), 1)


def penalty(layer, l1=0.0, l2=0.0):
    """``l1 * sum|W| + l2 * sum W**2`` over the net's regularizable params.

    Parameters
    ----------
    layer : Layer
        Output layer of the net.
    l1, l2 : float
        Coefficients (0 disables the term).

    Returns
    -------
    Theano scalar (0 when both coefficients are 0)
    """
    term = T.constant(0.0, dtype=floatX)
    if l1:
        term = term + np.float32(l1) * regularize_network_params(layer, l1_norm)
    if l2:
        term = term + np.float32(l2) * regularize_network_params(layer, l2_norm)
    return term


def init_output_bias(layer, keypoints_px):
    """Set the output layer's bias to the mean shape, in unit scale.

    With a zero bias every net starts by predicting the centre of the frame
    (~17 px RMSE on the Kaggle-format data) and Adam's ~``learning_rate``
    steps need some 15 epochs just to move the bias to the mean shape; from
    the mean shape (~4.3 px) the weights learn the deviations.

    Parameters
    ----------
    layer : DenseLayer
        The net's output layer (left alone if it has no bias).
    keypoints_px : ndarray, (N, 2K), pixels, NaN where unlabelled
        Training keypoints (a coordinate never labelled gets 0, the centre).
    """
    bias = getattr(layer, "b", None)
    if bias is None:
        return
    labelled = np.isfinite(keypoints_px)
    sums = np.where(labelled, to_unit(keypoints_px), 0).sum(axis=0)
    mean = sums / np.maximum(labelled.sum(axis=0), 1)
    bias.set_value(mean.astype(floatX))


def warm_start(layer, init_model, schema):
    """Set a freshly built net's parameters from a trained model's.

    Parameters
    ----------
    layer : Layer
        Output layer of the new net (already built, its output bias already
        set by :func:`init_output_bias`).
    init_model : kfkd.model.Model
        A trained model of the same net with the same hyperparameters.
    schema : KeypointSchema
        The coordinates the new net regresses.

    Returns
    -------
    str
        ``'all'`` when ``schema`` is ``init_model.schema`` (every parameter
        copied, batch-norm averages included), else ``'all but output'``
        (the output layer keeps its fresh weights and mean-shape bias: a
        specialist, as in Nouri 2014, section "Specialists").

    Raises
    ------
    ValueError
        The parameter shapes differ (another net or hyperparameters).
    """
    if schema == init_model.schema:
        copied, target, source = "all", layer, init_model.layer
    else:
        copied, target = "all but output", layer.input_layer
        source = init_model.layer.input_layer
    values = lasagne.layers.get_all_param_values(source)
    params = lasagne.layers.get_all_params(target)
    got = [v.shape for v in values]
    expected = [p.get_value().shape for p in params]
    if got != expected:
        raise ValueError("cannot warm-start from %r: parameter shapes %s, "
                         "the new net's %s" % (init_model, got, expected))
    lasagne.layers.set_all_param_values(target, values)
    return copied


def linear_schedule(start, stop, n_epochs):
    """Nouri's ``AdjustVariable``: ``start`` -> ``stop`` linearly over epochs.

    Returns
    -------
    ndarray, (n_epochs,) float32 (constant ``start`` when ``stop`` is None)
    """
    if stop is None:
        return np.full(n_epochs, start, dtype=np.float32)
    return np.linspace(start, stop, n_epochs).astype(np.float32)


def rmse_px(predictions_px, keypoints_px):
    """RMSE in pixels over labelled coordinates (NaN in ``keypoints_px``).

    Parameters
    ----------
    predictions_px, keypoints_px : ndarray, (N, 2K), pixels

    Returns
    -------
    float

    Examples
    --------
    >>> rmse_px(np.array([[1., 2.]]), np.array([[2., np.nan]]))
    1.0
    """
    err = np.asarray(predictions_px, np.float64) - keypoints_px
    return float(np.sqrt(np.nanmean(err ** 2)))


def iterate_minibatches(n, batch_size, rng=None):
    """Index arrays of mini-batches over ``range(n)``, shuffled if ``rng``."""
    order = rng.permutation(n) if rng is not None else np.arange(n)
    for start in range(0, n, batch_size):
        yield order[start:start + batch_size]


class EarlyStopping(object):
    """Stop when validation RMSE has not improved for ``patience`` epochs.

    Keeps a copy of the parameter values (including non-trainable ones, such
    as batch-norm running averages) at the best epoch, for
    :meth:`restore`.

    Parameters
    ----------
    patience : int
        Epochs without improvement tolerated.
    min_delta : float
        Improvement (pixels) that counts.

    Examples
    --------
    >>> stop = EarlyStopping(patience=2)
    >>> [stop.update(e, v, []) for e, v in enumerate([3., 2., 2.5, 2.4])]
    [False, False, False, True]
    >>> stop.best_epoch, stop.best_score
    (1, 2.0)
    """

    def __init__(self, patience=20, min_delta=0.0):
        self.patience, self.min_delta = patience, min_delta
        self.best_score, self.best_epoch, self.best_values = np.inf, -1, None

    def update(self, epoch, score, values):
        """Record epoch ``epoch``'s score; True when training should stop."""
        if score < self.best_score - self.min_delta:
            self.best_score, self.best_epoch = float(score), epoch
            self.best_values = [np.array(v, copy=True) for v in values]
        return epoch - self.best_epoch >= self.patience

    def restore(self, layer):
        """Set ``layer``'s net back to the best epoch's parameter values."""
        if self.best_values is not None:
            lasagne.layers.set_all_param_values(layer, self.best_values)


class Trainer(object):
    """Mini-batch training of a registered net, with early stopping.

    Hyperparameters are constructor arguments stored as attributes of the
    same names (scikit-learn style); :meth:`fit` returns a trained
    :class:`kfkd.model.Model` and fills :attr:`history_`.

    Parameters
    ----------
    net : str
        Name in :data:`kfkd.nets.NETS`.
    net_params : dict, optional
        The net builder's hyperparameters.
    update : {'nesterov', 'adam'}
        Nesterov momentum (with Nouri's linear learning-rate and momentum
        schedules) or Adam (Kingma & Ba 2015; ``momentum`` is beta1).
    learning_rate, learning_rate_end : float, float or None
        Linear schedule over ``max_epochs`` (constant if ``_end`` is None).
    momentum, momentum_end : float, float or None
    l1, l2 : float
        Penalty coefficients (:func:`penalty`).
    batch_size : int
    max_epochs : int
    max_minutes : float or None
        Wall-clock budget: training stops before an epoch that would
        overrun it (judged by the last epoch's duration).
    patience : int
        Early-stopping patience in epochs (validation RMSE).
    augmenter : kfkd.augment.Augmenter or None
        Applied to every training mini-batch.
    exposure : {None, 'clahe', 'hist'}
        Exposure correction (:func:`kfkd.augment.equalize_exposure`) applied
        to every image, in training and (through the saved model) in
        prediction.
    seed : int
        Seeds weights, dropout, batch order and augmentation.
    verbose : bool
        Show a tqdm progress bar over epochs.
    """

    def __init__(self, net="breeze", net_params=None, update="adam",
                 learning_rate=2e-3, learning_rate_end=None, momentum=0.9,
                 momentum_end=None, l1=0.0, l2=0.0, batch_size=32,
                 max_epochs=100, max_minutes=None, patience=20,
                 augmenter=None, exposure=None, seed=0, verbose=True):
        self.net, self.net_params = net, dict(net_params or {})
        self.update, self.learning_rate = update, learning_rate
        self.learning_rate_end, self.momentum = learning_rate_end, momentum
        self.momentum_end, self.l1, self.l2 = momentum_end, l1, l2
        self.batch_size, self.max_epochs = batch_size, max_epochs
        self.max_minutes, self.patience = max_minutes, patience
        self.augmenter, self.seed, self.verbose = augmenter, seed, verbose
        self.exposure = exposure

    def get_params(self):
        """Training hyperparameters as a JSON-serialisable dict."""
        params = {k: getattr(self, k) for k in (
            "net", "net_params", "update", "learning_rate",
            "learning_rate_end", "momentum", "momentum_end", "l1", "l2",
            "batch_size", "max_epochs", "max_minutes", "patience", "exposure",
            "seed")}
        params["augment"] = (self.augmenter.get_params()
                             if self.augmenter is not None else None)
        if params["augment"] and params["augment"]["schema"] is not None:
            params["augment"]["schema"] = list(
                params["augment"]["schema"].columns)
        return params

    # -- Theano functions ----------------------------------------------------
    def _compile(self, layer):
        input_var = lasagne.layers.get_all_layers(layer)[0].input_var
        targets, mask = T.matrix("targets"), T.matrix("mask")
        lr = theano.shared(np.float32(self.learning_rate), "learning_rate")
        mom = theano.shared(np.float32(self.momentum), "momentum")

        train_out = lasagne.layers.get_output(layer, deterministic=False)
        data_loss = masked_mse(train_out, targets, mask)
        loss = data_loss + penalty(layer, self.l1, self.l2)
        params = lasagne.layers.get_all_params(layer, trainable=True)
        if self.update == "nesterov":
            updates = lasagne.updates.nesterov_momentum(loss, params, lr, mom)
        elif self.update == "adam":
            updates = lasagne.updates.adam(loss, params, learning_rate=lr,
                                           beta1=mom)
        else:
            raise ValueError("update must be 'nesterov' or 'adam', got %r"
                             % self.update)
        train_fn = theano.function([input_var, targets, mask], data_loss,
                                   updates=updates, name="train")
        val_out = lasagne.layers.get_output(layer, deterministic=True)
        predict_fn = theano.function([input_var], val_out, name="predict")
        return train_fn, predict_fn, lr, mom

    def fit(self, train, val, out_dir=None, init_model=None):
        """Train on ``train``, early-stop on ``val``.

        Parameters
        ----------
        train, val : kfkd.data.KeypointData
            Faces ``(N, 1, 96, 96) float32 in [0, 1]`` and keypoints
            ``(N, 2K)`` in pixels (NaN where unlabelled).
        out_dir : str, optional
            If given, the model, history and metrics are saved there at
            every improving epoch and at the end, each time as a whole
            through :meth:`kfkd.model.Model.save` (a staging folder swapped
            in), so that ``out_dir`` is always a complete model (or, before
            the first checkpoint, what it was).  Whatever it held is
            replaced: check it first with
            :func:`kfkd.fileio.check_output_folder`, as ``kfkd train``
            does.
        init_model : kfkd.model.Model, optional
            Warm start: a trained model of the same net, net_params and
            exposure whose parameters the new net starts from
            (:func:`warm_start`: all of them, or all but the output layer
            when ``train.schema`` differs).  Recorded as ``init_model`` (its
            folder) in the training settings; ``init_val_rmse_px_`` is the
            validation RMSE before the first update.

        Returns
        -------
        kfkd.model.Model
            With the best epoch's weights; ``history_`` (list of dicts with
            :data:`HISTORY_COLUMNS`) and ``best_epoch_`` are set on self.

        Raises
        ------
        ValueError
            ``init_model`` is another net, or has other hyperparameters or
            exposure correction.
        """
        from .model import Model  # model imports train's helpers

        rng = np.random.RandomState(self.seed)
        lasagne.random.set_rng(np.random.RandomState(self.seed + 1))
        layer = nets.build(self.net, n_outputs=train.schema.n_outputs,
                           **self.net_params)
        init_output_bias(layer, train.keypoints)
        training = self.get_params()
        if init_model is not None:
            self._check_init_model(init_model)
            copied = warm_start(layer, init_model, train.schema)
            training["init_model"] = {
                "folder": getattr(init_model, "folder", None) or repr(
                    init_model), "copied": copied}
        started = time.time()
        train_fn, predict_fn, lr, mom = self._compile(layer)
        self.compile_seconds_ = time.time() - started
        model = Model(self.net, self.net_params, train.schema, layer,
                      training=training,
                      preprocessing={"exposure": self.exposure})
        model._predict_fn = predict_fn
        train_images = model.preprocess(train.images)
        self.init_val_rmse_px_ = (rmse_px(model.predict(val.images),
                                          val.keypoints)
                                  if init_model is not None else None)

        lr_schedule = linear_schedule(self.learning_rate,
                                      self.learning_rate_end, self.max_epochs)
        mom_schedule = linear_schedule(self.momentum, self.momentum_end,
                                       self.max_epochs)
        val_targets = val.keypoints
        stopper = EarlyStopping(self.patience)
        self.history_ = []
        bar = tqdm(range(self.max_epochs), desc="%s epochs" % self.net,
                   unit="epoch", disable=not self.verbose, leave=True)
        started = time.time()
        for epoch in bar:
            lr.set_value(lr_schedule[epoch])
            mom.set_value(mom_schedule[epoch])
            losses = []
            for index in iterate_minibatches(len(train), self.batch_size, rng):
                images, keypoints = train_images[index], train.keypoints[index]
                if self.augmenter is not None:
                    images, keypoints = self.augmenter.transform(
                        images, keypoints, rng)
                mask = np.isfinite(keypoints)
                targets = np.where(mask, to_unit(keypoints), 0).astype(floatX)
                losses.append(train_fn(images, targets, mask.astype(floatX)))
                if not np.isfinite(losses[-1]):
                    raise FloatingPointError(
                        "training loss became %r at epoch %d (learning rate "
                        "%g too high?)" % (losses[-1], epoch + 1,
                                           lr_schedule[epoch]))
            predictions = model.predict(val.images)
            val_rmse = rmse_px(predictions, val_targets)
            val_loss = (val_rmse / (FRAME / 2.0)) ** 2
            values = lasagne.layers.get_all_param_values(layer)
            stop = stopper.update(epoch, val_rmse, values)
            self.history_.append({
                "epoch": epoch + 1,
                "train_loss": float(np.mean(losses)),
                "val_loss": float(val_loss),
                "val_rmse_px": val_rmse,
                "learning_rate": float(lr_schedule[epoch]),
                "momentum": float(mom_schedule[epoch]),
                "seconds": time.time() - started,
                "best": stopper.best_epoch == epoch,
            })
            bar.set_postfix(val_rmse_px="%.3f" % val_rmse,
                            best="%.3f" % stopper.best_score)
            if out_dir is not None and stopper.best_epoch == epoch:
                self._checkpoint(model, layer, stopper, out_dir, val,
                                 predictions)
            if stop:
                break
            # stop before an epoch that would overrun the budget
            elapsed = time.time() - started
            last_epoch = elapsed - (self.history_[-2]["seconds"]
                                    if len(self.history_) > 1 else 0.0)
            if (self.max_minutes is not None
                    and elapsed + last_epoch > 60 * self.max_minutes):
                break
        bar.close()
        stopper.restore(layer)
        self.best_epoch_ = stopper.best_epoch + 1
        self.train_seconds_ = time.time() - started
        model.history = self.history_
        if out_dir is not None:
            self._checkpoint(model, layer, stopper, out_dir, val)
        return model

    def _check_init_model(self, init_model):
        """ValueError unless ``init_model`` is this trainer's net and input."""
        defaults = nets.default_params(self.net)
        if (getattr(init_model, "net", None) != self.net
                or dict(defaults, **init_model.net_params)
                != dict(defaults, **self.net_params)):
            raise ValueError("cannot warm-start net %r %s from %r" % (
                self.net, self.net_params, init_model))
        exposure = init_model.preprocessing.get("exposure")
        if exposure != self.exposure:
            raise ValueError("cannot warm-start: exposure %r, the init model "
                             "was trained with %r" % (self.exposure, exposure))

    def _checkpoint(self, model, layer, stopper, out_dir, val,
                    predictions=None):
        """Save the best weights so far, with history and metrics.

        ``predictions``: the best epoch's validation predictions, if at hand.
        """
        current = lasagne.layers.get_all_param_values(layer)
        stopper.restore(layer)
        model.history = self.history_
        extra = {
            "best_epoch": stopper.best_epoch + 1,
            "epochs": len(self.history_),
            "seconds": self.history_[-1]["seconds"],
            "compile_seconds": self.compile_seconds_,
        }
        if self.init_val_rmse_px_ is not None:
            extra["init_val_rmse_px"] = self.init_val_rmse_px_
        model.save(out_dir, metrics=model.metrics(val, predictions=predictions,
                                                  extra=extra))
        lasagne.layers.set_all_param_values(layer, current)


#: Flat-config keys that configure the :class:`kfkd.augment.Augmenter`.
AUGMENT_KEYS = ("flip", "rotation", "shift", "scale", "brightness",
                "contrast")

#: Flat-config keys that are :class:`Trainer` arguments.
TRAINER_KEYS = ("net", "update", "learning_rate", "learning_rate_end",
                "momentum", "momentum_end", "l1", "l2", "batch_size",
                "max_epochs", "max_minutes", "patience", "exposure", "seed")


def config_from_training(training):
    """The flat config (:func:`trainer_from_config`) of a model's training.

    Parameters
    ----------
    training : dict
        ``Model.training`` (model.json's ``training``), as written by
        :meth:`Trainer.get_params`.

    Returns
    -------
    dict
        Keys of :data:`TRAINER_KEYS`, :data:`AUGMENT_KEYS` (only if the
        model was trained with augmentation) and ``net.<name>``; the
        augmenter's ``border`` and ``schema`` are not config keys.

    Examples
    --------
    >>> config = trainer_from_config({"net": "net1", "net.hidden": 50,
    ...                               "flip": True}).get_params()
    >>> c = config_from_training(config)
    >>> c["net"], c["net.hidden"], c["flip"], c["rotation"]
    ('net1', 50, True, 0.0)
    """
    config = {k: training[k] for k in TRAINER_KEYS if k in training}
    config.update({"net." + k: v
                   for k, v in training.get("net_params", {}).items()})
    augment = training.get("augment") or {}
    config.update({k: augment[k] for k in AUGMENT_KEYS if k in augment})
    return config


def trainer_from_config(config, verbose=True):
    """A :class:`Trainer` from one flat dict, as the CLI and the search use.

    Parameters
    ----------
    config : dict
        Keys of :data:`TRAINER_KEYS`, of :data:`AUGMENT_KEYS` (any of them
        switches augmentation on), and ``net.<name>`` for the net builder's
        hyperparameters (e.g. ``{'net': 'breeze', 'net.depth': 5}``).
    verbose : bool

    Raises
    ------
    ValueError
        An unknown key.

    Examples
    --------
    >>> t = trainer_from_config({"net": "net1", "net.hidden": 50, "l2": 1e-4})
    >>> t.net_params, t.l2, t.augmenter
    ({'hidden': 50}, 0.0001, None)
    """
    from .augment import Augmenter
    trainer_args, augment_args, net_params = {}, {}, {}
    for key, value in config.items():
        if key.startswith("net."):
            net_params[key[4:]] = value
        elif key in TRAINER_KEYS:
            trainer_args[key] = value
        elif key in AUGMENT_KEYS:
            augment_args[key] = value
        else:
            raise ValueError("unknown training setting %r" % key)
    augmenter = Augmenter(**augment_args) if augment_args else None
    return Trainer(net_params=net_params, augmenter=augmenter,
                   verbose=verbose, **trainer_args)

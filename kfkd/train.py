"""Training: a :class:`Trainer` runs mini-batch epochs with schedules and
early stopping, checkpointing the best model.

The objective (the masked loss over labelled coordinates, the penalties)
and the net's starting point (mean-shape output bias, warm start) are in
:mod:`kfkd.objective`; the configuration in :mod:`kfkd.config`.
Validation RMSE is reported in pixels, over labelled coordinates
(:func:`kfkd.metrics.rmse`).
"""
from . import compat  # noqa: F401  (configures Theano, shims Lasagne)

import sys
import time

import lasagne
import numpy as np
import theano
import theano.tensor as T
from tqdm.auto import tqdm

from . import missing, nets
from .schedules import (cosine_time_rate, learning_rate_schedule,
                        linear_schedule, stepped)
from .denormals import flushed_denormals
from .config import (AUGMENT_KEYS, TRAINER_KEYS,
                     AugmentConfig, TrainingConfig)
from .keypoints import FRAME
from .layers import fold_batch_norm
from .metrics import rmse
from .model import Model
from .objective import (init_output_bias, masked_mse, masked_targets,
                        penalty, share_dropout, shared_coefficient,
                        warm_start)
from .early_stopping import EarlyStopping
from .resume import (STATE_FILE, capture_state, load_state, restore_state,
                     save_state)

__all__ = ["EarlyStopping",
           "Trainer", "iterate_minibatches"]


#: The wall clock of a run's budget, its history's ``seconds`` and
#: ``cosine-time`` (one name, so that a test can give training a clock).
_clock = time.time


def iterate_minibatches(n, batch_size, rng=None):
    """Index arrays of mini-batches over ``range(n)``, shuffled if ``rng``."""
    order = rng.permutation(n) if rng is not None else np.arange(n)
    for start in range(0, n, batch_size):
        yield order[start:start + batch_size]


class Trainer(object):
    """Mini-batch training of a registered net, with early stopping.

    Built from a :class:`kfkd.config.TrainingConfig` (the hyperparameters,
    each readable as an attribute of the same name: ``trainer.net``,
    ``trainer.l2``; scikit-learn style, :meth:`get_params`); :meth:`fit`
    returns a trained :class:`kfkd.model.Model` and fills :attr:`history_`.

    Parameters
    ----------
    config : kfkd.config.TrainingConfig, optional
        Default: the config's defaults without augmentation.  Its fields:
        ``net`` (a name in :data:`kfkd.nets.NETS`) and ``net_params`` (the
        builder's hyperparameters); ``update``, Nesterov momentum (with
        Nouri's linear learning-rate and momentum schedules) or Adam
        (Kingma & Ba 2015; ``momentum`` is beta1); ``learning_rate`` and
        ``learning_rate_end``: the learning rate's schedule over
        ``max_epochs``, by ``lr_schedule`` (:func:`learning_rate_schedule`:
        linear, constant if ``_end`` is None; cosine; constant);
        ``momentum`` and ``momentum_end``: a linear schedule over
        ``max_epochs`` (constant if ``_end`` is None);
        ``l1``, ``l2``: penalty coefficients (:func:`penalty`);
        ``batch_size``; ``max_epochs``; ``max_minutes``: a wall-clock budget
        (training stops before an epoch that would overrun it, judged by the
        last epoch's duration); ``patience``: early-stopping patience in
        epochs (validation RMSE); ``exposure``: exposure correction
        (:func:`kfkd.augment.equalize_exposure`) of every image, in training
        and (through the saved model) prediction; ``seed``: seeds weights,
        dropout, batch order and augmentation; ``engine``: the pooling and
        dropout layers (:data:`kfkd.nets.ENGINES`); ``missing``: what the
        training faces' missing keypoints become (:func:`kfkd.missing.
        prepare`; validation faces are never changed); ``schedule``: stages
        of learning rate and batch size replacing ``learning_rate``,
        ``learning_rate_end`` and ``batch_size`` (:mod:`kfkd.schedules`);
        ``augment``: the
        :class:`kfkd.augment.Augmenter` applied to every mini-batch.
    augmenter : kfkd.augment.Augmenter, optional
        Instead of ``config.augment``'s (e.g. one with a keypoint schema).
    verbose : bool
        Show a tqdm progress bar over epochs.
    **params
        Config fields on top of ``config`` (``Trainer(net='net1', l2=1e-4)``).

    Raises
    ------
    UsageError
        A field out of its range.
    """

    def __init__(self, config=None, augmenter=None, verbose=True, **params):
        config = (config or TrainingConfig(augment=None)).replace(**params)
        if augmenter is not None:
            config = config.replace(augment=AugmentConfig(**{
                k: v for k, v in augmenter.get_params().items()
                if k in AUGMENT_KEYS}))
        elif config.augment is not None:
            augmenter = config.augment.augmenter()
        self.config, self.augmenter, self.verbose = config, augmenter, verbose

    def __getattr__(self, name):
        """The config's fields as attributes (``trainer.batch_size``)."""
        if name != "config" and name in _FIELDS:
            return getattr(self.config, name)
        raise AttributeError("%r object has no attribute %r"
                             % (type(self).__name__, name))

    def get_params(self):
        """Training hyperparameters as a JSON-serialisable dict (model.json's
        ``training``: :meth:`kfkd.config.TrainingConfig.to_training`)."""
        return self.config.to_training(self.augmenter)

    # -- Theano functions ----------------------------------------------------
    def compile_functions(self, layer, profile=None):
        """Compile the training and prediction functions of ``layer``'s net.

        Parameters
        ----------
        layer : lasagne.layers.Layer
            The net's output layer.
        profile : theano.compile.profiling.ProfileStats, optional
            Collects the training function's time per op (Theano's
            profiler; :func:`kfkd.timing.profile_train_step`).

        Returns
        -------
        train_fn : callable
            ``train_fn(images, targets, mask) -> data loss`` (one update);
            targets and mask as :func:`masked_targets` makes them.
        predict_fn : callable
            ``predict_fn(images) -> (N, 2K)`` unit-scale outputs, no dropout,
            batch norms folded (:func:`kfkd.layers.fold_batch_norm`).
        learning_rate, momentum : theano shared variables
            Set per epoch by the schedules.

        Raises
        ------
        ValueError
            An unknown update rule.
        """
        input_var = lasagne.layers.get_all_layers(layer)[0].input_var
        targets, mask = T.matrix("targets"), T.matrix("mask")
        lr = theano.shared(np.float32(self.learning_rate), "learning_rate")
        mom = theano.shared(np.float32(self.momentum), "momentum")

        share_dropout(layer)  # values as inputs: one C module for all
        train_out = lasagne.layers.get_output(layer, deterministic=False)
        data_loss = masked_mse(train_out, targets, mask)
        loss = data_loss + penalty(layer, shared_coefficient(self.l1, "l1"),
                                   shared_coefficient(self.l2, "l2"))
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
                                   updates=updates, name="train",
                                   profile=profile)
        val_out = lasagne.layers.get_output(fold_batch_norm(layer),
                                            deterministic=True)
        predict_fn = theano.function([input_var], val_out, name="predict")
        return train_fn, predict_fn, lr, mom

    def fit(self, train, val, out_dir=None, init_model=None, on_epoch=None,
            resume=False):
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
            (:func:`warm_start`: all of them; when ``train.schema`` is a
            subset of its columns, the output layer's units of those
            columns).  Recorded as ``init_model`` (its
            folder) in the training settings; ``init_val_rmse_px_`` is the
            validation RMSE before the first update.  ``val.split`` (a
            split of :func:`kfkd.splits.load_split`) is recorded as
            ``split`` in the training settings.
        on_epoch : callable, optional
            ``on_epoch(row) -> bool``, called after every epoch (after its
            checkpoint) with the epoch's ``history_`` row; True stops
            training there, as early stopping does (``stopped_by_`` is then
            ``'on_epoch'``).  The search's pruner hooks in here
            (:class:`kfkd.search.fidelity.PruningReporter`).
        resume : bool
            Go on from the state of an interrupted run of the same settings
            in ``out_dir`` (:mod:`kfkd.resume`; written there after every
            epoch, removed by the final save), if it holds one: the
            epochs, seconds, history, early stopping, optimiser and
            generator states carry over.

        Returns
        -------
        kfkd.model.Model
            With the best epoch's weights; ``history_`` (list of dicts with
            :data:`kfkd.config.HISTORY_COLUMNS`), ``best_epoch_`` and
            ``stopped_by_`` (``'max_epochs'``, ``'patience'``,
            ``'max_minutes'`` or ``'on_epoch'``) are set on self.

        Raises
        ------
        ValueError
            ``init_model`` is another net, or has other hyperparameters or
            exposure correction; with ``resume``, the state in ``out_dir``
            is another run's (:class:`kfkd.resume.StateError`, a
            ValueError).
        FloatingPointError
            The training loss became NaN or infinite.

        Notes
        -----
        Subnormal floats are flushed to zero while it trains
        (:func:`kfkd.denormals.flushed_denormals`): subnormal Adam
        accumulators otherwise slow a step down several times over.
        """
        with flushed_denormals() as flushed:
            if not flushed and self.verbose:
                print("kfkd: subnormal floats are not flushed to zero here "
                      "(not glibc on x86-64): training may slow down",
                      file=sys.stderr, flush=True)
            return self._fit(train, val, out_dir, init_model, on_epoch,
                             resume)

    def _fit(self, train, val, out_dir, init_model, on_epoch, resume):
        """:meth:`fit`, with subnormals flushed."""
        rng = np.random.RandomState(self.seed)
        faces = (len(train), len(val))
        # checked before anything compiles (StateError)
        state = (load_state(out_dir, self.get_params(), faces,
                            getattr(val, "split", None))
                 if resume and out_dir is not None else None)
        train = missing.prepare(train, self.missing)
        model, train_fn, lr, mom = self._build(train, init_model)
        if getattr(val, "split", None) is not None:  # for kfkd evaluate
            model.training["split"] = dict(val.split)
        train_images = model.preprocess(train.images)
        self.init_val_rmse_px_ = (rmse(model.predict(val.images),
                                       val.keypoints)
                                  if init_model is not None else None)
        schedules = self._schedules()
        stopper, self.history_ = EarlyStopping(self.patience), []
        self.stopped_by_ = "max_epochs"
        started, first = self._resume(state, train_fn, stopper, rng)
        bar = tqdm(range(first, self.max_epochs), desc="%s epochs" % self.net,
                   unit="epoch", disable=not self.verbose, leave=True,
                   initial=first, total=self.max_epochs)
        for epoch in bar:
            if self.lr_schedule == "cosine-time":
                schedules[0][epoch] = cosine_time_rate(
                    self.learning_rate, self.learning_rate_end,
                    _clock() - started, 60.0 * self.max_minutes)
            lr.set_value(schedules[0][epoch])
            mom.set_value(schedules[1][epoch])
            train_loss = self._train_epoch(train_fn, train_images,
                                           train.keypoints, rng, epoch,
                                           schedules[0][epoch],
                                           int(schedules[2][epoch]))
            predictions = model.predict(val.images)
            stop = self._end_epoch(epoch, train_loss, predictions, val,
                                   stopper, model.layer, schedules, started)
            bar.set_postfix(val_rmse_px="%.3f" % self.history_[-1][
                "val_rmse_px"], best="%.3f" % stopper.best_score)
            if out_dir is not None and stopper.best_epoch == epoch:
                self._checkpoint(model, stopper, out_dir, val, predictions)
            if out_dir is not None:
                save_state(out_dir, capture_state(
                    self.get_params(), faces, self.history_, train_fn,
                    stopper, rng, getattr(val, "split", None)))
                self._state_saved = True
            self.stopped_by_ = self._stop_reason(stop, started, on_epoch)
            if self.stopped_by_ != "max_epochs":
                break
        bar.close()
        stopper.restore(model.layer)
        self.best_epoch_ = stopper.best_epoch + 1
        self.train_seconds_ = _clock() - started
        model.history = self.history_
        if out_dir is not None:
            self._checkpoint(model, stopper, out_dir, val,
                             stopped_by=self.stopped_by_)
        return model

    def _resume(self, state, train_fn, stopper, rng):
        """Go on from ``state``, an interrupted run's
        (:func:`kfkd.resume.load_state`; None: a new run); -> the clock
        time the run started (now less the seconds it trained) and its
        first epoch to train (``max_epochs``, none, when the run's cap
        stopped it and has not been raised; ``stopped_by_`` is then
        ``'max_minutes'``).  A checkpoint carries this run's state through
        its swap, never a state found in the folder before (another run's,
        with ``--overwrite``)."""
        self._state_saved = state is not None
        if state is None:
            return _clock(), 0
        self.history_ = restore_state(state, train_fn, stopper, rng)
        started = _clock() - state.seconds
        if self._over_budget(started):
            self.stopped_by_ = "max_minutes"
            return started, self.max_epochs
        if self.verbose:
            print("resuming %s at epoch %d (%.1f min trained)" % (
                self.net, state.epoch + 1, state.seconds / 60.0),
                file=sys.stderr, flush=True)
        return started, len(self.history_)

    def _schedules(self):
        """Per-epoch learning rates, momenta and batch sizes: the
        ``lr_schedule`` (:func:`learning_rate_schedule`), the linear momentum
        schedule and ``batch_size``, or the stages of ``schedule``
        (:func:`kfkd.schedules.stepped`) for the rate and batch size."""
        n = self.max_epochs
        momentum = linear_schedule(self.momentum, self.momentum_end, n)
        if self.schedule is not None:
            learning_rate, batch_size = stepped(self.schedule, n)
            return learning_rate, momentum, batch_size
        return (learning_rate_schedule(self.lr_schedule, self.learning_rate,
                                       self.learning_rate_end, n),
                momentum, np.full(n, self.batch_size))

    def _build(self, train, init_model):
        """The net, its output bias at the mean shape, warm-started from
        ``init_model`` if given, compiled; -> (model, train_fn, lr, mom)."""
        lasagne.random.set_rng(np.random.RandomState(self.seed + 1))
        layer = nets.build(self.net, n_outputs=train.schema.n_outputs,
                           engine=self.engine, **self.net_params)
        init_output_bias(layer, train.keypoints)
        training = self.get_params()
        if init_model is not None:
            self._check_init_model(init_model)
            copied = warm_start(layer, init_model, train.schema)
            training["init_model"] = {
                "folder": getattr(init_model, "folder", None) or repr(
                    init_model), "copied": copied}
        started = time.time()
        train_fn, predict_fn, lr, mom = self.compile_functions(layer)
        self.compile_seconds_ = time.time() - started
        model = Model(self.net, self.net_params, train.schema, layer,
                      training=training,
                      preprocessing={"exposure": self.exposure},
                      predict_fn=predict_fn)
        return model, train_fn, lr, mom

    def _train_epoch(self, train_fn, images, keypoints, rng, epoch,
                     learning_rate, batch_size):
        """One pass over the training faces in shuffled mini-batches of
        ``batch_size``; -> the mean data loss.  FloatingPointError if it is
        not finite."""
        losses = []
        for index in iterate_minibatches(len(images), batch_size, rng):
            batch, batch_keypoints = images[index], keypoints[index]
            if self.augmenter is not None:
                batch, batch_keypoints = self.augmenter.transform(
                    batch, batch_keypoints, rng)
            targets, mask = masked_targets(batch_keypoints)
            losses.append(train_fn(batch, targets, mask))
            if not np.isfinite(losses[-1]):
                raise FloatingPointError(
                    "training loss became %r at epoch %d (learning rate "
                    "%g too high?)" % (losses[-1], epoch + 1, learning_rate))
        return float(np.mean(losses))

    def _end_epoch(self, epoch, train_loss, predictions, val, stopper, layer,
                   schedules, started):
        """Score the epoch on ``val``, record it in ``history_`` and in the
        early stopping; -> True when training should stop."""
        val_rmse = rmse(predictions, val.keypoints)
        values = lasagne.layers.get_all_param_values(layer)
        stop = stopper.update(epoch, val_rmse, values)
        self.history_.append({
            "epoch": epoch + 1,
            "train_loss": train_loss,
            "val_loss": float((val_rmse / (FRAME / 2.0)) ** 2),
            "val_rmse_px": val_rmse,
            "learning_rate": float(schedules[0][epoch]),
            "momentum": float(schedules[1][epoch]),
            "seconds": _clock() - started,
            "best": stopper.best_epoch == epoch,
        })
        return stop

    def _stop_reason(self, patience_over, started, on_epoch):
        """Why training stops after this epoch (``on_epoch`` is asked
        every epoch); ``'max_epochs'`` when it goes on (or ends because
        the epochs ran out)."""
        if on_epoch is not None and on_epoch(self.history_[-1]):
            return "on_epoch"
        if patience_over:
            return "patience"
        if self._over_budget(started):
            return "max_minutes"
        return "max_epochs"

    def _over_budget(self, started):
        """True when another epoch as long as the last one would overrun
        ``max_minutes``."""
        if self.max_minutes is None:
            return False
        elapsed = _clock() - started
        last_epoch = elapsed - (self.history_[-2]["seconds"]
                                if len(self.history_) > 1 else 0.0)
        return elapsed + last_epoch > 60 * self.max_minutes

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

    def _checkpoint(self, model, stopper, out_dir, val, predictions=None,
                    stopped_by=None):
        """Save the best weights so far, with history and metrics.

        ``predictions``: the best epoch's validation predictions, if at hand.
        ``stopped_by``: why training ended, given at the final save only:
        recorded as ``stopped_by`` in ``metrics.json``, so a folder that has
        it holds a finished run (a checkpoint of a run still going, or
        killed, does not).  The run's state stays after a stop by
        ``max_minutes``, for a larger cap to go on from
        (:func:`kfkd.resume.cap_raised`).
        """
        current = lasagne.layers.get_all_param_values(model.layer)
        stopper.restore(model.layer)
        model.history = self.history_
        extra = {
            "best_epoch": stopper.best_epoch + 1,
            "epochs": len(self.history_),
            "seconds": self.history_[-1]["seconds"],
            "compile_seconds": self.compile_seconds_,
        }
        if self.init_val_rmse_px_ is not None:
            extra["init_val_rmse_px"] = self.init_val_rmse_px_
        if stopped_by is not None:
            extra["stopped_by"] = stopped_by
        model.save(out_dir, metrics=model.metrics(val, predictions=predictions,
                                                  extra=extra),
                   keep=(STATE_FILE,) if stopped_by in (None, "max_minutes")
                   and self._state_saved else ())
        lasagne.layers.set_all_param_values(model.layer, current)


#: The config fields readable as :class:`Trainer` attributes.
_FIELDS = frozenset(TRAINER_KEYS + ("net_params", "augment"))

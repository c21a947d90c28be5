"""A search worker: one process per device slot, run by the driver as
``python -m kfkd.search.worker --study NAME ...``.

It activates its own device (the driver never touches a GPU), loads the
data once, then claims waiting trials (:func:`kfkd.search.protocol.claim_trial`),
trains each (:func:`run_trial`) and records the result, so a killed driver
or worker loses no finished trial.  SIGTERM / SIGINT (or the death of the
driver) stop it quietly: the trial it was running is recorded as failed with
``error=interrupted`` and the driver queues it again.

This module is the Theano boundary of the search: only the code here that
trains (and checks the device) imports :mod:`kfkd.train` /
:mod:`kfkd.compat`, lazily, so that the driver never imports Theano.  The
package's ``__init__`` does not import this module, so that ``python -m``
runs it without importing it twice.
"""
import argparse
import contextlib
import ctypes
import os
import signal
import socket
import sys
import time
import traceback

from optuna.trial import TrialState

from ..config import TrainingConfig
from ..data import DataError, DataNotFoundError
from ..splits import load_split
from ..errors import DeviceUnavailableError, SearchError
from ..resume import remove_state
from .heartbeat import beating
from .protocol import (DATA_ERROR_EXIT, DEVICE_ERROR_EXIT, INTERRUPTED,
                       STOP_SIGNALS, claim_trial, trial_id)
from .fidelity import PruningReporter, attach_pruner
from .space import study_space
from .storage import open_storage, open_study

__all__ = ["Interrupted", "run_trial", "worker_main", "main"]


class Interrupted(BaseException):
    """A worker was asked to stop (SIGTERM / SIGINT) in the middle of a trial.

    A BaseException, like KeyboardInterrupt, so that no library's
    ``except Exception`` swallows it.
    """


def run_trial(trial, space, train, val, out_dir, minutes=None, seed=0,
              device="cpu", rungs=None):
    """Train one trial's configuration; its value is validation RMSE (pixels).

    After every epoch the best validation RMSE so far is reported to the
    study's pruner (:class:`kfkd.search.fidelity.PruningReporter`), which
    may stop the trial at a rung.  Writes the trial's model folder (its
    best epoch so far) to ``out_dir/trials/<number>`` and records
    ``config``, ``best_epoch``, ``epochs``, ``epoch_seconds``,
    ``stopped_by``, ``seconds`` and ``model_dir`` as user attributes of the
    trial.

    Parameters
    ----------
    rungs : kfkd.search.fidelity.Rungs, optional
        The study's rungs: a trial trains at most ``rungs.max_epochs``
        epochs (instead of the configuration's ``max_epochs``).
    minutes : float, optional
        A wall-clock cap per trial, on top of the epochs.

    Returns
    -------
    (float, bool)
        Best validation RMSE in pixels, and whether the trial was pruned.
    """
    # the Theano boundary: training compiles, so it is imported here only
    from ..train import Trainer

    config = space.config(trial)
    config.setdefault("seed", seed)
    if rungs is not None:
        config["max_epochs"] = rungs.max_epochs
    if minutes is not None:
        config["max_minutes"] = minutes
    trial.set_user_attr("config", config)
    trainer = Trainer(TrainingConfig.from_flat(config), verbose=False)
    folder = os.path.join(out_dir, "trials", "%04d" % trial.number)
    reporter = PruningReporter(trial, trainer.max_epochs)
    started = time.time()
    try:
        trainer.fit(train, val, out_dir=folder, on_epoch=reporter)
    finally:  # what a failing or interrupted trial had done, too
        trial.set_user_attr("epoch_seconds", reporter.epoch_seconds)
    remove_state(folder)  # a trial its cap stopped never goes on
    for key, value in (("best_epoch", trainer.best_epoch_),
                       ("epochs", len(trainer.history_)),
                       ("stopped_by", "pruned" if reporter.pruned
                        else trainer.stopped_by_),
                       ("seconds", time.time() - started),
                       ("model_dir", os.path.abspath(folder))):
        trial.set_user_attr(key, value)
    return reporter.best, reporter.pruned


def _ignore_stop_signals():
    for signum in STOP_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)


def _raise_interrupted(signum, frame):
    # one request to stop is enough: later ones (a second Ctrl-C, the
    # parent-death signal sent again as the driver's threads die) are
    # ignored, so they cannot cut the recording of the interrupted trial
    _ignore_stop_signals()
    raise Interrupted("signal %d" % signum)


@contextlib.contextmanager
def _signals_deferred():
    """Hold SIGINT/SIGTERM until the block is done: a trial's final state is
    written whole (a pending signal then raises :class:`Interrupted`)."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _die_with_parent(parent=None):
    """Ask Linux to send SIGTERM to this worker when its driver dies.

    Returns
    -------
    bool
        False when the driver (pid ``parent``) is already gone.
    """
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)
    except (OSError, AttributeError):
        pass
    return parent is None or os.getppid() == parent


def worker_main(study_name, storage=None, out_dir="runs", device="cpu",
                data_dir=None, minutes=None, limit=None, seed=0,
                parent_bound=True, parent=None):
    """A worker: claim and run waiting trials until none is left.

    SIGTERM / SIGINT (or the death of the driver ``parent``, when
    ``parent_bound``) stop it quietly: the trial it was running is recorded
    as failed with ``error=interrupted`` (the driver queues it again).
    Claiming a trial and writing its final state happen with those signals
    held, so a trial is never left RUNNING by a signal.

    Returns
    -------
    int
        Exit status: 0, or :data:`DEVICE_ERROR_EXIT` when Theano cannot run
        on ``device`` (the worker says so and stops; it never falls back to
        the CPU silently), or :data:`DATA_ERROR_EXIT` when the data do not
        load.
    """
    if parent_bound and not _die_with_parent(parent):
        return 0
    for signum in STOP_SIGNALS:
        signal.signal(signum, _raise_interrupted)
    tag = "worker %d (%s)" % (os.getpid(), device)
    try:
        ready = _prepare(tag, study_name, storage, out_dir, device, data_dir,
                         limit)
        if isinstance(ready, int):
            return ready
        return _run_trials(tag, device, minutes, seed, *ready)
    except Interrupted:  # before or between trials: nothing to record
        return 0


def _prepare(tag, study_name, storage, out_dir, device, data_dir, limit):
    """The device, the data and the study of a worker, or its exit status.

    Returns
    -------
    int or tuple
        An exit status when something is missing (said on stderr), else
        ``(train, val, store, study, space, study_dir)``.
    """
    # the Theano boundary: checking a device imports (and configures) Theano
    from ..compat import check_device
    try:
        check_device(device)
    except DeviceUnavailableError as e:
        print("%s: error: %s" % (tag, e), file=sys.stderr, flush=True)
        return DEVICE_ERROR_EXIT
    try:  # before claiming any trial: a data problem is not a trial's fault
        train, val = load_split(data_dir, limit=limit, verbose=False)
    except (DataError, DataNotFoundError) as e:
        print("%s: error: %s" % (tag, e), file=sys.stderr, flush=True)
        return DATA_ERROR_EXIT
    study_dir = os.path.join(out_dir, study_name)
    try:
        store = open_storage(storage, study_dir, create=False)
        study = open_study(store, study_name, create=False)
        space = study_space(study)
    except (SearchError, FileNotFoundError) as e:
        print("%s: error: %s" % (tag, e), file=sys.stderr, flush=True)
        return 1
    return train, val, store, study, space, study_dir


def _record_failure(study, trial, e):
    """Fail a trial whose configuration crashed (error and traceback, called
    in the ``except`` block); returns the line to print."""
    trial.set_user_attr("error", "%s: %s" % (type(e).__name__, e))
    trial.set_user_attr("traceback", traceback.format_exc()[-4000:])
    study.tell(trial, state=TrialState.FAIL)
    return "trial %d failed: %s: %s" % (trial.number, type(e).__name__, e)


def _run_trials(tag, device, minutes, seed, train, val, store, study, space,
                study_dir):
    """Claim and run trials until none waits; 0."""
    mine = {"host": socket.gethostname(), "pid": os.getpid(), "device": device}
    rungs = attach_pruner(study)  # the study's record: the same everywhere
    trial = None
    try:
        while True:
            with _signals_deferred():
                trial = claim_trial(study, store, mine)
            if trial is None:
                return 0
            try:
                with beating(store, trial_id(store, study, trial.number)):
                    value, pruned = run_trial(trial, space, train, val,
                                              study_dir, minutes, seed,
                                              device, rungs)
            except Exception as e:  # a crashing configuration fails its trial
                with _signals_deferred():  # recorded whole, then forgotten
                    message = _record_failure(study, trial, e)
                    trial = None
                print("%s: %s" % (tag, message), file=sys.stderr, flush=True)
                continue
            with _signals_deferred():  # (failed meanwhile for a stale
                # heartbeat: its retry is queued, this result is dropped); a
                # pruned trial keeps its last value
                if pruned:
                    study.tell(trial, state=TrialState.PRUNED,
                               skip_if_finished=True)
                else:
                    study.tell(trial, value, skip_if_finished=True)
                trial = None
    except Interrupted:
        if trial is not None:
            with _signals_deferred():
                trial.set_user_attr("error", INTERRUPTED)
                study.tell(trial, state=TrialState.FAIL)
        return 0


def build_parser():
    """The worker's command line (the driver builds it: see
    :meth:`kfkd.search.driver.Driver.worker_command`)."""
    p = argparse.ArgumentParser(prog="python -m kfkd.search.worker",
                                description="a random-search worker")
    p.add_argument("--study", required=True)
    p.add_argument("--storage")
    p.add_argument("--out", default="runs")
    p.add_argument("--device", default="cpu")
    p.add_argument("--data-dir")
    p.add_argument("--limit", type=int)
    p.add_argument("--minutes", type=float)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--detached", action="store_true",
                   help="keep running if the process that started it dies")
    p.add_argument("--parent", type=int, help="pid of the driver: stop at "
                   "once if it is already gone")
    return p


def main(argv=None):
    """``python -m kfkd.search.worker --study NAME ...``: one worker process.

    Returns
    -------
    int
        The exit status (see :func:`worker_main`).
    """
    args = build_parser().parse_args(argv)
    status = worker_main(args.study, args.storage, args.out, args.device,
                         args.data_dir, args.minutes, args.limit, args.seed,
                         parent_bound=not args.detached, parent=args.parent)
    _ignore_stop_signals()  # no Interrupted in the atexit handlers (Theano's)
    return status


if __name__ == "__main__":
    sys.exit(main())

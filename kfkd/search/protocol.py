"""What the driver and its workers agree on.

* a worker **claims** a waiting (enqueued) trial with a compare-and-set on
  its state (:func:`claim_trial`) and tags it with its ``host``, ``pid``
  and ``device``, so the driver can tell whose a RUNNING trial is;
* a worker stopped in the middle of a trial records it as failed with
  ``error=interrupted`` (:data:`INTERRUPTED`): its configuration runs again;
* a worker's exit status says why it ended (:data:`DEVICE_ERROR_EXIT`,
  :data:`DATA_ERROR_EXIT`, :func:`exit_cause`).
"""
import signal

import optuna
from optuna.trial import TrialState

__all__ = ["DEVICE_ERROR_EXIT", "DATA_ERROR_EXIT", "INTERRUPTED",
           "STOP_SIGNALS", "exit_cause", "trial_id", "claim_trial"]

#: Exit status of a worker whose device Theano cannot activate.
DEVICE_ERROR_EXIT = 3

#: Exit status of a worker that cannot load the data.
DATA_ERROR_EXIT = 4

#: The ``error`` user attribute of a trial whose worker was stopped.
INTERRUPTED = "interrupted"

#: The signals that stop a worker (the driver's SIGTERM, Ctrl-C's SIGINT).
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def exit_cause(returncode):
    """Why a worker process ended, as a trial's error; None for a stop.

    ``None`` (unknown, e.g. a worker of a driver that was killed), 0,
    SIGTERM and SIGINT are stops (the trial is interrupted, not at fault);
    another signal is ``'worker killed by SIGKILL (signal 9)'``, a
    non-zero status ``'worker exited with status 1'``.
    """
    if returncode is None or returncode == 0 or -returncode in STOP_SIGNALS:
        return None
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = "signal"
        return "worker killed by %s (signal %d)" % (name, -returncode)
    return "worker exited with status %d" % returncode


def trial_id(storage, study, number):
    """The storage's id of trial ``number`` of ``study`` (public API only)."""
    study_id = storage.get_study_id_from_name(study.study_name)
    return storage.get_trial_id_from_study_id_trial_number(study_id, number)


def claim_trial(study, storage, attrs=None):
    """Atomically take one waiting (enqueued) trial; None when none is left.

    The same compare-and-set as Optuna's own queue (a trial moves WAITING ->
    RUNNING once only, whichever process asks), but a worker never makes a
    fresh trial: the driver decides what runs.  ``attrs`` (the worker's
    ``host``, ``pid``, ``device``) are set as user attributes of the trial
    taken, so that a driver can tell whose it is.

    Returns
    -------
    optuna.trial.Trial or None
    """
    for frozen in study.get_trials(deepcopy=False, states=(TrialState.WAITING,)):
        claimed = trial_id(storage, study, frozen.number)
        try:
            if storage.set_trial_state_values(claimed,
                                              state=TrialState.RUNNING):
                # Study.ask() would make a fresh trial when none waits, so
                # the claimed trial is wrapped the way ask() wraps the one it
                # pops from the queue (Optuna has no public "claim" call)
                trial = optuna.trial.Trial(study, claimed)
                for key, value in (attrs or {}).items():
                    trial.set_user_attr(key, value)
                return trial
        except optuna.exceptions.UpdateFinishedTrialError:
            continue
    return None

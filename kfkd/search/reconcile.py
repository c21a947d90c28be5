"""Bringing a study in line with the trials asked for (the driver's side).

A RUNNING trial whose worker is gone is an **orphan**: it is failed with
the cause from the worker's exit status (:func:`fail_orphans`); a stopped
worker's trial, or a killed one's up to :data:`MAX_CRASH_RETRIES` times,
runs again.  With a database storage, a trial whose worker stopped sending
heartbeats (:mod:`.heartbeat`: a worker on a machine that died) is failed
the same way as a killed worker's.  Each of the first ``n_trials`` sampled configurations without a
trial finished for good, running or waiting is enqueued (:func:`reconcile`).
"""
import socket

from optuna.exceptions import UpdateFinishedTrialError
from optuna.trial import TrialState

from ..fileio import pid_alive
from . import heartbeat
from .protocol import INTERRUPTED, exit_cause, trial_id
from .results import best_trial
from .space import sample_configs

__all__ = ["MAX_CRASH_RETRIES", "counts_toward_total",
           "fail_orphans", "reconcile", "progress"]

#: A configuration whose worker is killed (SIGKILL from the OOM killer, a
#: segfault) is queued again this many times, then recorded as failed.
MAX_CRASH_RETRIES = 2


def counts_toward_total(trial):
    """Finished for good: complete, or failed and not to be run again."""
    if trial.state == TrialState.COMPLETE:
        return True
    return (trial.state == TrialState.FAIL
            and trial.user_attrs.get("error") != INTERRUPTED
            and not trial.user_attrs.get("requeued"))


def _crash_error(trials, orphan, cause, max_retries):
    """(error text, queued again?) of a trial whose worker crashed."""
    index = orphan.user_attrs.get("sample_index")
    before = sum(1 for t in trials
                 if index is not None and t.state == TrialState.FAIL
                 and t.user_attrs.get("sample_index") == index
                 and t.user_attrs.get("crash"))
    crashes = before + 1
    if index is None or crashes > max_retries:
        return "%s %d time%s" % (cause, crashes, "s"[:crashes > 1]), False
    return ("%s (attempt %d of %d; queued again)"
            % (cause, crashes, max_retries + 1)), True


def _is_orphan(trial, host, live_pids, own=None):
    """A RUNNING trial of this host whose worker is gone; with ``own`` (a
    set of pids), only the trials of those workers."""
    pid = trial.user_attrs.get("pid")
    return (trial.state == TrialState.RUNNING
            and trial.user_attrs.get("host") == host and pid is not None
            and (own is None or pid in own)
            and pid not in live_pids and not pid_alive(pid))


def _record_crash(storage, study, trial, cause, max_retries):
    """Set the ``crash``, ``requeued`` (while retries are left) and
    ``error`` user attributes of ``trial``, whose worker crashed."""
    trial_key = trial_id(storage, study, trial.number)
    error, again = _crash_error(study.get_trials(deepcopy=False), trial,
                                cause, max_retries)
    storage.set_trial_user_attr(trial_key, "crash", cause)
    if again:
        storage.set_trial_user_attr(trial_key, "requeued", True)
    storage.set_trial_user_attr(trial_key, "error", error)


def _dead_trials(study, storage, live_pids, exits):
    """[(trial, cause or None)] of the RUNNING trials whose worker is gone:
    orphans (cause from ``exits``) and trials with a stale heartbeat."""
    host = socket.gethostname()
    beats = heartbeat.supports(storage) and storage.heartbeat_interval
    own = set(exits) if beats else None
    dead = [(t, exit_cause(exits.get(t.user_attrs["pid"])))
            for t in study.get_trials(deepcopy=False)
            if _is_orphan(t, host, live_pids, own)]
    numbers = {t.number for t, _ in dead}
    for t in heartbeat.stale_trials(study, storage):
        if t.number not in numbers:
            dead.append((t, "no heartbeat for %d s (worker %s on %s)" % (
                storage.grace_period, t.user_attrs.get("pid", "?"),
                t.user_attrs.get("host", "?"))))
    return dead


def fail_orphans(study, storage, live_pids=(), exits=None,
                 max_retries=MAX_CRASH_RETRIES):
    """Fail the RUNNING trials of dead workers.

    A trial is an orphan when its worker (``pid`` user attribute, on this
    host) is neither one of ``live_pids`` nor alive; trials of workers on
    other hosts are left alone.  With heartbeats (a database storage,
    :mod:`.heartbeat`) only the trials of this process's own workers (the
    pids in ``exits``) are orphans here, and any trial whose heartbeat is
    stale is failed as a crash (``no heartbeat for N s (worker PID on
    HOST)``).  The ``error`` user attribute says why, from the worker's
    exit status in ``exits`` (``{pid: returncode}``, see
    :func:`kfkd.search.protocol.exit_cause`):

    * stopped or unknown: ``interrupted`` (its configuration runs again);
    * killed (SIGKILL from the OOM killer, a segfault), crashed or silent:
      the cause, ``crash`` set and, up to ``max_retries`` times per
      configuration, ``requeued`` (it runs again); then the cause and the
      count, e.g. ``worker killed by SIGKILL (signal 9) 3 times``, and the
      trial counts as finished (failed).

    The attributes are written before the state, so that no process sees
    a failed trial without its cause; a trial its worker finished
    meanwhile is left as it is.
    """
    for t, cause in _dead_trials(study, storage, live_pids, exits or {}):
        key = trial_id(storage, study, t.number)
        try:
            if cause is None:
                storage.set_trial_user_attr(key, "error", INTERRUPTED)
            else:
                _record_crash(storage, study, t, cause, max_retries)
            storage.set_trial_state_values(key, TrialState.FAIL)
        except UpdateFinishedTrialError:  # its worker was not dead after all
            continue


def reconcile(study, storage, space, seed, n_trials, live_pids=(),
              exits=None):
    """Bring the study in line with ``n_trials``; return the number finished.

    1. A RUNNING trial of this host whose worker process is gone (and is not
       one of ``live_pids``) is failed (:func:`fail_orphans`);
    2. each of the first ``n_trials`` sampled configurations that has no
       trial finished for good (:func:`counts_toward_total`), running or
       waiting is enqueued (again), with its ``sample_index``.

    Returns
    -------
    int
    """
    fail_orphans(study, storage, live_pids, exits)
    covered = set()
    for t in study.get_trials(deepcopy=False):
        index = t.user_attrs.get("sample_index")
        if index is not None and (
                t.state in (TrialState.RUNNING, TrialState.WAITING)
                or counts_toward_total(t)):
            covered.add(index)
    missing = [k for k in range(n_trials) if k not in covered]
    if missing:
        params = sample_configs(space, seed, n_trials)
        for k in missing:
            study.enqueue_trial(params[k], user_attrs={"sample_index": k},
                                skip_if_exists=False)
    return progress(study, n_trials)[0]


def progress(study, n_trials):
    """(finished, best value, best trial number) of a study.

    ``finished`` counts the trials of the first ``n_trials`` configurations
    finished for good; the best is :func:`kfkd.search.results.best_trial`
    (None, None when no trial completed).
    """
    done = sum(1 for t in study.get_trials(deepcopy=False)
               if counts_toward_total(t)
               and t.user_attrs.get("sample_index", n_trials) < n_trials)
    best = best_trial(study)
    if best is None:
        return done, None, None
    return done, best.value, best.number

"""Bringing a study in line with the trials asked for (the driver's side).

A RUNNING trial whose worker is gone is an **orphan**: it is failed with
the cause from the worker's exit status (:func:`fail_orphans`); a stopped
worker's trial, or a killed one's up to :data:`MAX_CRASH_RETRIES` times,
runs again.  Each of the first ``n_trials`` sampled configurations without a
trial finished for good, running or waiting is enqueued (:func:`reconcile`).
"""
import socket

from optuna.trial import TrialState

from ..fileio import pid_alive
from .protocol import INTERRUPTED, exit_cause, trial_id
from .results import best_trial
from .space import sample_configs

__all__ = ["MAX_CRASH_RETRIES", "counts_toward_total",
           "fail_orphans", "reconcile", "progress"]

#: A configuration whose worker is killed (SIGKILL from the OOM killer, a
#: segfault) is queued again this many times, then recorded as failed.
MAX_CRASH_RETRIES = 2


def counts_toward_total(trial):
    """Finished for good: complete, pruned (at a rung,
    :mod:`kfkd.search.fidelity`), or failed and not to be run again."""
    if trial.state in (TrialState.COMPLETE, TrialState.PRUNED):
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


def _is_orphan(trial, host, live_pids):
    pid = trial.user_attrs.get("pid")
    return (trial.state == TrialState.RUNNING
            and trial.user_attrs.get("host") == host and pid is not None
            and pid not in live_pids and not pid_alive(pid))


def fail_orphans(study, storage, live_pids=(), exits=None,
                 max_retries=MAX_CRASH_RETRIES):
    """Fail the RUNNING trials of this host's dead workers.

    A trial is an orphan when its worker (``pid`` user attribute, on this
    host) is neither one of ``live_pids`` nor alive; trials of workers on
    other hosts are left alone.  Its ``error`` user attribute says why,
    from the worker's exit status in ``exits`` (``{pid: returncode}``, see
    :func:`kfkd.search.protocol.exit_cause`):

    * stopped or unknown: ``interrupted`` (its configuration runs again);
    * killed (SIGKILL from the OOM killer, a segfault) or crashed: the
      cause, ``crash`` set and, up to ``max_retries`` times per
      configuration, ``requeued`` (it runs again); then the cause and the
      count, e.g. ``worker killed by SIGKILL (signal 9) 3 times``, and the
      trial counts as finished (failed).
    """
    host = socket.gethostname()
    exits = exits or {}
    trials = study.get_trials(deepcopy=False)
    for t in trials:
        if not _is_orphan(t, host, live_pids):
            continue
        orphan_id = trial_id(storage, study, t.number)
        cause = exit_cause(exits.get(t.user_attrs["pid"]))
        if cause is None:
            error = INTERRUPTED
        else:
            error, again = _crash_error(trials, t, cause, max_retries)
            storage.set_trial_user_attr(orphan_id, "crash", cause)
            if again:
                storage.set_trial_user_attr(orphan_id, "requeued", True)
        storage.set_trial_user_attr(orphan_id, "error", error)
        storage.set_trial_state_values(orphan_id, TrialState.FAIL)


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

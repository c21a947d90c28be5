"""Heartbeats: a trial whose worker vanished on another machine is failed.

A driver can tell that a worker on its own host died (its pid is gone,
:func:`kfkd.search.reconcile.fail_orphans`), but not one on another machine
that was switched off or lost its network.  With a database storage
(``--storage sqlite:///...`` or ``postgresql+psycopg://...``) every worker
records a heartbeat for its running trial every ``interval`` seconds
(:func:`beating`, through Optuna's
:meth:`~optuna.storages.RDBStorage.record_heartbeat`), and every driver
fails the RUNNING trials whose last heartbeat is older than
``GRACE_BEATS * interval`` seconds (:func:`stale_trials`, Optuna's query);
such a trial is a crash, retried a bounded number of times like a killed
worker's (:func:`kfkd.search.reconcile.fail_orphans`).  The interval is
chosen by the command that creates the study (``--heartbeat``) and
recorded in it (:data:`STUDY_ATTR`), so that every machine uses the same.

The journal file (the default storage) has no heartbeats in Optuna 5.0: it
serves the processes of one machine, where dead workers are found by pid.
"""
import contextlib
import threading

from optuna.storages import RDBStorage

__all__ = ["DEFAULT_INTERVAL", "GRACE_BEATS", "STUDY_ATTR", "supports",
           "configure", "grace_seconds", "beating", "stale_trials"]

#: Seconds between two heartbeats of a running trial (``--heartbeat``).
DEFAULT_INTERVAL = 10

#: A trial whose last heartbeat is this many intervals old is failed.
GRACE_BEATS = 4

#: The study user attribute that records the interval (seconds).
STUDY_ATTR = "heartbeat_seconds"


def supports(storage):
    """Whether ``storage`` keeps heartbeats (Optuna's RDBStorage does)."""
    return isinstance(storage, RDBStorage)


def grace_seconds(interval):
    """Seconds without a heartbeat after which a trial is failed."""
    return GRACE_BEATS * int(interval)


def configure(storage, study, interval=None):
    """Turn heartbeats on for ``study`` in a database ``storage``.

    The study's recorded interval (:data:`STUDY_ATTR`) wins; a study that
    records none gets ``interval`` recorded when it is given (the command
    that creates the study), else uses :data:`DEFAULT_INTERVAL`.  Does
    nothing for a storage without heartbeats.

    Parameters
    ----------
    storage : optuna.storages.BaseStorage
    study : optuna.study.Study
    interval : int, optional
        Seconds between heartbeats, for a study that records none.

    Returns
    -------
    int or None
        The interval in force (seconds), None without heartbeats.
    """
    if not supports(storage):
        return None
    recorded = study.user_attrs.get(STUDY_ATTR)
    if recorded is None and interval is not None:
        recorded = int(interval)
        study.set_user_attr(STUDY_ATTR, recorded)
    recorded = recorded or DEFAULT_INTERVAL
    # the attributes RDBStorage(heartbeat_interval=..., grace_period=...)
    # sets; assigned here because the interval is only known once the
    # study is open
    storage.heartbeat_interval = int(recorded)
    storage.grace_period = grace_seconds(recorded)
    return int(recorded)


def _beat(storage, trial_id, interval, stop):
    while True:
        try:
            storage.record_heartbeat(trial_id)
        except Exception:  # a lost connection: the next beat retries
            pass
        if stop.wait(interval):
            return


@contextlib.contextmanager
def beating(storage, trial_id):
    """Record heartbeats of trial ``trial_id`` (storage id) in a background
    thread while the block runs; nothing for a storage without heartbeats
    or with heartbeats off.  The first is recorded before the block
    starts."""
    interval = getattr(storage, "heartbeat_interval", None)
    if not supports(storage) or not interval:
        yield
        return
    storage.record_heartbeat(trial_id)
    stop = threading.Event()
    thread = threading.Thread(target=_beat, name="kfkd-heartbeat",
                              args=(storage, trial_id, interval, stop),
                              daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=30)


def stale_trials(study, storage):
    """The RUNNING trials of ``study`` whose last heartbeat is older than
    the grace period (none for a storage without heartbeats).

    Optuna's own :func:`~optuna.storages.fail_stale_trials` fails them
    first and then calls back, but a database refuses new user attributes
    on a finished trial, so the cause and the retry count could not be
    recorded: the caller fails them (:func:`kfkd.search.reconcile.\
fail_orphans`) after recording both.  The age is measured on the
    database server's clock, so the machines' clocks need not agree.

    Returns
    -------
    list of optuna.trial.FrozenTrial
    """
    if not supports(storage) or not storage.heartbeat_interval:
        return []
    study_id = storage.get_study_id_from_name(study.study_name)
    # the query behind fail_stale_trials (RDBStorage's BaseHeartbeat method)
    return [storage.get_trial(i)
            for i in storage._get_stale_trial_ids(study_id)]

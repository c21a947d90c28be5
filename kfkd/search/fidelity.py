"""Multi-fidelity search: rungs of epochs and asynchronous successive halving.

Random sampling (Bergstra & Bengio 2012) decides *what* runs; successive
halving decides *how long*.  Every trial trains for ``min_epochs`` epochs,
then at each **rung** (``min_epochs * reduction_factor**k`` epochs, up to
``max_epochs``) it is compared with every trial that reached that rung
before it: it goes on (is **promoted**) only if its validation RMSE is in
the best ``1 / reduction_factor`` of them, else it is **pruned** there.
This is the asynchronous variant (ASHA: Li et al. 2020, "A System for
Massively Parallel Hyperparameter Tuning", MLSys; successive halving inside
Hyperband: Li et al. 2017, "Hyperband: A Novel Bandit-Based Approach to
Hyperparameter Optimization", JMLR 18), so no worker waits for a rung to
fill: Optuna's :class:`~optuna.pruners.SuccessiveHalvingPruner` makes the
decisions and stores each trial's value at each rung it completes in the
trial (system attribute ``completed_rung_<k>``), so the decisions survive
a crash and are the same for every worker, on any storage.

The **resource** is the epoch.  A trial's budget is ``max_epochs`` (the top
rung); ``--minutes-per-trial`` adds a wall-clock cap.  The value a trial
reports after epoch ``e`` is its best validation RMSE (pixels) over epochs
1..e, so a pruned trial's value (Optuna's last reported value) is, like a
completed trial's, the best RMSE it reached.

A study records its rungs (:func:`record_rungs`), and every process that
opens it rebuilds the same pruner from that record (:func:`attach_pruner`),
so a resumed study keeps its pruning decisions.
"""
import optuna
from optuna.trial import TrialState

from ..errors import SearchError

__all__ = ["Rungs", "record_rungs", "study_rungs", "attach_pruner",
           "PruningReporter", "trial_rung", "rung_summary"]

#: The study user attribute that records the rungs.
RUNGS_ATTR = "rungs"


class Rungs(object):
    """The epoch schedule of successive halving.

    Parameters
    ----------
    min_epochs : int >= 1
        Epochs every trial gets (the first rung).
    reduction_factor : int >= 2
        Rung ``k`` is at ``min_epochs * reduction_factor**k`` epochs; about
        ``1 / reduction_factor`` of the trials reaching a rung are promoted.
    max_epochs : int >= min_epochs
        A trial's full budget in epochs (the top rung, a rung even when it
        is not a power of ``reduction_factor`` times ``min_epochs``).

    Raises
    ------
    kfkd.errors.SearchError
        Values out of range.

    Examples
    --------
    >>> Rungs(1, 3, 27).epochs
    [1, 3, 9, 27]
    >>> Rungs(2, 3, 12).epochs
    [2, 6, 12]
    """

    def __init__(self, min_epochs=1, reduction_factor=3, max_epochs=27):
        ok = (isinstance(min_epochs, int) and isinstance(max_epochs, int)
              and isinstance(reduction_factor, int) and min_epochs >= 1
              and reduction_factor >= 2 and max_epochs >= min_epochs)
        if not ok:
            raise SearchError(
                "rungs: need integers min_epochs >= 1, reduction_factor >= 2"
                " and max_epochs >= min_epochs, got %r, %r, %r"
                % (min_epochs, reduction_factor, max_epochs))
        self.min_epochs, self.reduction_factor = min_epochs, reduction_factor
        self.max_epochs = max_epochs

    @property
    def epochs(self):
        """The rungs, in epochs: ``min_epochs * reduction_factor**k`` below
        ``max_epochs``, then ``max_epochs``."""
        rungs, e = [], self.min_epochs
        while e < self.max_epochs:
            rungs.append(e)
            e *= self.reduction_factor
        return rungs + [self.max_epochs]

    def to_dict(self):
        """The record kept in the study (JSON)."""
        return {"min_epochs": self.min_epochs,
                "reduction_factor": self.reduction_factor,
                "max_epochs": self.max_epochs}

    @classmethod
    def from_dict(cls, d):
        """Rungs from :meth:`to_dict`'s record (or a space's ``RUNGS``).

        Raises
        ------
        kfkd.errors.SearchError
            Not a dict of the three keys, or values out of range.
        """
        keys = ("min_epochs", "reduction_factor", "max_epochs")
        if not isinstance(d, dict) or sorted(d) != sorted(keys):
            raise SearchError("rungs: need a dict of %s, got %r"
                              % (", ".join(keys), d))
        return cls(*(d[k] for k in keys))

    def pruner(self):
        """Optuna's asynchronous successive-halving pruner for these rungs
        (no bootstrap: the first trial at a rung is promoted)."""
        return optuna.pruners.SuccessiveHalvingPruner(
            min_resource=self.min_epochs,
            reduction_factor=self.reduction_factor,
            min_early_stopping_rate=0)

    def __eq__(self, other):
        return isinstance(other, Rungs) and self.to_dict() == other.to_dict()

    def __repr__(self):
        return "Rungs(%d, %d, %d)" % (self.min_epochs, self.reduction_factor,
                                      self.max_epochs)


def record_rungs(study, rungs):
    """Record a new study's rungs; refuse to resume it with other rungs.

    ``rungs`` None (a space without ``RUNGS``) records no pruning.

    Raises
    ------
    kfkd.errors.SearchError
        The study was made with other rungs (both are named).
    """
    wanted = None if rungs is None else rungs.to_dict()
    if RUNGS_ATTR not in study.user_attrs:
        study.set_user_attr(RUNGS_ATTR, wanted)
    elif study.user_attrs[RUNGS_ATTR] != wanted:
        raise SearchError(
            "study %r was made with rungs %s, its space now declares %s: "
            "restore the space's RUNGS or choose another --study"
            % (study.study_name, study.user_attrs[RUNGS_ATTR], wanted))


def study_rungs(study):
    """The rungs a study was made with; None when it prunes nothing."""
    record = study.user_attrs.get(RUNGS_ATTR)
    return None if record is None else Rungs.from_dict(record)


def attach_pruner(study):
    """Give ``study`` the pruner of its recorded rungs (a
    :class:`~optuna.pruners.NopPruner` when it has none); its rungs."""
    rungs = study_rungs(study)
    study.pruner = (optuna.pruners.NopPruner() if rungs is None
                    else rungs.pruner())
    return rungs


class PruningReporter(object):
    """The per-epoch hook of a trial (``Trainer.fit(on_epoch=...)``).

    After each epoch it reports the best validation RMSE so far (pixels) at
    step = epochs trained, asks the study's pruner, and stops training when
    the trial is pruned (:attr:`pruned`).  After the last epoch
    (``max_epochs``) it does not ask: a trial that trained in full is
    complete.  It also keeps each epoch's seconds, for the compute-per-rung
    summary.

    Parameters
    ----------
    trial : optuna.trial.Trial
    max_epochs : int, optional
        The trial's budget in epochs.
    """

    def __init__(self, trial, max_epochs=None):
        self.trial, self.max_epochs, self.pruned = trial, max_epochs, False
        self.best, self.epoch_seconds = float("inf"), []

    def __call__(self, row):
        """``row``: the epoch's history row (``epoch``, ``val_rmse_px``,
        ``seconds``); True stops training."""
        before = sum(self.epoch_seconds)
        self.epoch_seconds.append(round(row["seconds"] - before, 3))
        self.best = min(self.best, row["val_rmse_px"])
        self.trial.report(self.best, row["epoch"])
        if self.max_epochs is not None and row["epoch"] >= self.max_epochs:
            return False
        self.pruned = self.trial.should_prune()
        return self.pruned


def trial_rung(trial):
    """How many rungs ``trial`` completed (``completed_rung_<k>`` records)."""
    k = 0
    while "completed_rung_%d" % k in trial.system_attrs:
        k += 1
    return k


def _segment(epoch, rung_epochs):
    """The rung whose segment holds ``epoch`` (1-based): the first rung
    at or beyond it."""
    for k, e in enumerate(rung_epochs):
        if epoch <= e:
            return k
    return len(rung_epochs) - 1


def rung_summary(study, rungs):
    """Trials and compute per rung of a study.

    Returns
    -------
    list of dict
        One per rung: ``rung`` (index), ``epochs`` (the rung's epoch count),
        ``reached`` (trials that trained up to it), ``pruned`` (pruned
        there), ``epochs_spent`` and ``seconds_spent`` (training in the
        epochs after the previous rung up to this one, every trial),
        ``values`` (the best RMSE so far, pixels, of each trial that
        reached it, at that epoch).
    """
    rung_epochs = rungs.epochs if rungs is not None else [float("inf")]
    rows = [{"rung": k, "epochs": e, "reached": 0, "pruned": 0,
             "epochs_spent": 0, "seconds_spent": 0.0, "values": []}
            for k, e in enumerate(rung_epochs)]
    for t in study.get_trials(deepcopy=False):
        seconds = t.user_attrs.get("epoch_seconds") or []
        trained = max(len(seconds), t.last_step or 0)
        for epoch in range(1, trained + 1):
            row = rows[_segment(epoch, rung_epochs)]
            row["epochs_spent"] += 1
            if epoch <= len(seconds):
                row["seconds_spent"] += seconds[epoch - 1]
        for row in rows:
            if trained >= row["epochs"]:
                row["reached"] += 1
                row["values"].append(t.intermediate_values.get(row["epochs"]))
        if t.state == TrialState.PRUNED and trained:
            rows[_segment(trained, rung_epochs)]["pruned"] += 1
    return rows

"""What the driver shows while a study runs, and its summary at the end.

One line per event, as the driver polls the study: a trial passing a rung
(promoted) or stopped there (pruned), completing, failing; each with the
best RMSE so far.  The bar (tqdm, in the driver) counts finished trials
and estimates the time left.  At the end, :func:`summary_lines`: trials
started, pruned, completed and failed, and per rung how many trials
reached it and the compute spent in the epochs leading to it
(:func:`kfkd.search.fidelity.rung_summary`).
"""
from optuna.trial import TrialState

from .fidelity import rung_summary, trial_rung

__all__ = ["LEFT_THE_MEAN_SHAPE_PX", "TrialEvents", "summary_lines"]

#: A trial under this validation RMSE (pixels) has left the mean shape
#: (predicting the mean face scores 4.27 px): the summary counts them per
#: rung.
LEFT_THE_MEAN_SHAPE_PX = 3.5


def _rung_text(rungs, k):
    if rungs is None:
        return "rung %d" % k
    epochs = rungs.epochs[min(k, len(rungs.epochs) - 1)]
    return "rung %d (%d epoch%s)" % (k, epochs, "s"[:epochs > 1])


class TrialEvents(object):
    """New events of a study's trials since the last call, as lines.

    Parameters
    ----------
    rungs : kfkd.search.fidelity.Rungs or None
    shown : iterable of int
        Numbers of trials already finished (their events are not shown
        again, e.g. on resume).
    """

    def __init__(self, rungs, shown=()):
        self.rungs = rungs
        self.finished = set(shown)
        self.rungs_shown = {}  # trial number -> rungs already shown

    def _head(self, t):
        return "trial %d [%s]" % (t.number, t.user_attrs.get("device", "?"))

    def _rung_lines(self, t):
        """Rungs passed since last time (promoted), the last one pruned."""
        lines, done = [], trial_rung(t)
        if t.state == TrialState.RUNNING and self.rungs is not None:
            # passed once it trains beyond the rung: the pruner records a
            # rung's value before it decides
            done = min(done, sum((t.last_step or 0) > e
                                 for e in self.rungs.epochs))
        for k in range(self.rungs_shown.get(t.number, 0), done):
            pruned = t.state == TrialState.PRUNED and k == done - 1
            lines.append("%s %s: %.3f px -> %s" % (
                self._head(t), _rung_text(self.rungs, k),
                t.system_attrs["completed_rung_%d" % k],
                "pruned" if pruned else "promoted"))
        self.rungs_shown[t.number] = done
        return lines

    def _end_line(self, t):
        if t.state == TrialState.COMPLETE:
            return "%s complete: %.3f px, best epoch %s of %s, %.0f s" % (
                self._head(t), t.value, t.user_attrs.get("best_epoch"),
                t.user_attrs.get("epochs"),
                t.user_attrs.get("seconds", float("nan")))
        if t.state == TrialState.PRUNED:
            return None  # said by its last rung line
        return "%s %s: %s" % (self._head(t), t.state.name,
                              t.user_attrs.get("error"))

    def lines(self, study, best=None, best_number=None):
        """The lines of what happened since the last call, each ending with
        the best so far (``best`` px, trial ``best_number``)."""
        best_text = ("" if best is None else
                     " | best %.3f px (#%d)" % (best, best_number))
        out = []
        for t in study.get_trials(deepcopy=False):
            if t.number in self.finished or t.state == TrialState.WAITING:
                continue
            out.extend(self._rung_lines(t))
            if t.state.is_finished():
                self.finished.add(t.number)
                end = self._end_line(t)
                if end is not None:
                    out.append(end)
        return [line + best_text for line in out]


def summary_lines(study, rungs, seconds=None, finished_before=0):
    """The end-of-search summary: trial fates, then one line per rung.

    Parameters
    ----------
    seconds : float, optional
        Wall time of this run, shown with its finished trials per hour.
    finished_before : int
        Trials (complete or pruned) finished before this run.

    Returns
    -------
    list of str
    """
    trials = study.get_trials(deepcopy=False)
    count = {s: sum(t.state == s for t in trials) for s in TrialState}
    started = len(trials) - count[TrialState.WAITING]
    head = ("%d trials started: %d completed, %d pruned, %d failed, %d "
            "running" % (started, count[TrialState.COMPLETE],
                         count[TrialState.PRUNED], count[TrialState.FAIL],
                         count[TrialState.RUNNING]))
    if seconds:
        finished = (count[TrialState.COMPLETE] + count[TrialState.PRUNED]
                    - finished_before)
        head += "; this run: %d finished in %.1f min, %.0f trials/hour" % (
            finished, seconds / 60.0, 3600.0 * finished / seconds)
    lines = [head]
    rows = rung_summary(study, rungs)
    total = sum(r["seconds_spent"] for r in rows) or 1.0
    for r in rows:
        values = sorted(v for v in r["values"] if v is not None)
        lines.append(
            "  %s: reached by %d, pruned there %d; %d epochs, %.0f s of "
            "training (%.0f%%)%s" % (
                _rung_text(rungs, r["rung"]) if rungs else "all epochs",
                r["reached"], r["pruned"], r["epochs_spent"],
                r["seconds_spent"], 100.0 * r["seconds_spent"] / total,
                "; RMSE there: best %.3f, median %.3f px, %d of %d under "
                "%.1f px" % (values[0], values[len(values) // 2],
                             sum(v < LEFT_THE_MEAN_SHAPE_PX for v in values),
                             len(values), LEFT_THE_MEAN_SHAPE_PX)
                if values else ""))
    return lines

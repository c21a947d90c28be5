"""Multi-fidelity search without training: the rung schedule, the pruning
decisions of asynchronous successive halving as the worker makes them
(PruningReporter on the per-epoch rows a Trainer gives it), their record
in a journal file or an SQLite database that a resumed study keeps, pruned trials as finished,
the progress lines and summary (no data, no Theano, no worker process)."""
import optuna
import pytest
from optuna.trial import TrialState

from kfkd import search
from kfkd.errors import SearchError
from kfkd.search.fidelity import (PruningReporter, Rungs, attach_pruner,
                                  record_rungs, rung_summary, study_rungs,
                                  trial_rung)
from kfkd.search.progress import TrialEvents, summary_lines


@pytest.mark.parametrize("args, epochs", [
    ((1, 3, 27), [1, 3, 9, 27]), ((2, 3, 12), [2, 6, 12]),
    ((1, 2, 1), [1]), ((3, 2, 12), [3, 6, 12])])
def test_rung_schedule(args, epochs):
    rungs = Rungs(*args)
    assert rungs.epochs == epochs
    assert Rungs.from_dict(rungs.to_dict()) == rungs
    pruner = rungs.pruner()
    assert isinstance(pruner, optuna.pruners.SuccessiveHalvingPruner)


@pytest.mark.parametrize("bad", [(0, 3, 9), (1, 1, 9), (3, 3, 2),
                                 (1.5, 3, 9)])
def test_bad_rungs_are_refused(bad):
    with pytest.raises(SearchError, match="min_epochs"):
        Rungs(*bad)


def test_a_space_declares_its_rungs(tmp_path):
    assert search.load_space("default").rungs is not None
    assert search.load_space("tiny").rungs == Rungs(1, 2, 2)
    path = tmp_path / "bad.py"
    path.write_text("RUNGS = {'min_epochs': 1}\n\ndef suggest(trial):\n"
                    "    return {}\n")
    with pytest.raises(SearchError, match="RUNGS"):
        search.load_space(str(path))


def journal_study(folder, rungs=Rungs(1, 2, 4), url=None):
    """The study ``s`` of space tiny in a journal file (or the database
    ``url``), as a process opens it: the record of its rungs, the pruner
    rebuilt from that record."""
    storage = search.open_storage(url, str(folder))
    study = search.open_study(storage, "s", search.load_space("tiny"), 0)
    record_rungs(study, rungs)
    attach_pruner(study)
    return storage, study


def run_curve(study, curve, max_epochs=4):
    """A trial fed ``curve`` (validation RMSE per epoch) the way the worker
    feeds the Trainer's rows to its PruningReporter; told as the worker
    tells it.  Returns the frozen trial."""
    trial = study.ask()
    reporter = PruningReporter(trial, max_epochs)
    for epoch, rmse in enumerate(curve[:max_epochs], start=1):
        if reporter({"epoch": epoch, "val_rmse_px": rmse,
                     "seconds": 10.0 * epoch}):
            break
    trial.set_user_attr("epoch_seconds", reporter.epoch_seconds)
    trial.set_user_attr("epochs", len(reporter.epoch_seconds))
    if reporter.pruned:
        study.tell(trial, state=TrialState.PRUNED)
    else:
        study.tell(trial, reporter.best)
    return study.trials[trial.number]


# study.ask() on a database study with heartbeats (the workers claim
# enqueued trials instead) warns that Optuna's heartbeat is for optimize()
@pytest.mark.filterwarnings("ignore:Heartbeat of storage")
@pytest.mark.parametrize("storage", ["journal", "sqlite"])
def test_pruning_decisions_are_recorded_and_kept_on_resume(tmp_path, storage):
    url = None if storage == "journal" else "sqlite:///%s/s.db" % tmp_path
    _, study = journal_study(tmp_path, url=url)
    first = run_curve(study, [3.0, 2.5, 2.2, 2.0])
    worse = run_curve(study, [3.5, 3.4, 3.3, 3.2])
    better = run_curve(study, [2.8, 2.4, 2.1, 1.9])
    # the first at each rung goes on; then the best half of those there
    assert [t.state for t in (first, worse, better)] == [
        TrialState.COMPLETE, TrialState.PRUNED, TrialState.COMPLETE]
    # a pruned trial keeps its last value (its best so far) and its epochs
    assert (worse.value, worse.last_step) == (3.5, 1)
    assert worse.user_attrs["epochs"] == 1
    assert worse.system_attrs["completed_rung_0"] == 3.5
    assert (trial_rung(worse), trial_rung(better)) == (1, 2)
    # a complete trial trained its 4 epochs; the last is not judged
    assert (better.value, better.last_step) == (1.9, 4)
    # resumed from the file by another process: the same rungs, the same
    # pruner, the same records -- a 3.2 is now worse than the best half of
    # (3.0, 3.5, 2.8, 3.2) and is pruned, though the first trial (3.0)
    # was promoted
    _, resumed = journal_study(tmp_path, url=url)
    assert study_rungs(resumed) == Rungs(1, 2, 4)
    again = run_curve(resumed, [3.2, 2.0, 1.8, 1.7])
    assert again.state == TrialState.PRUNED and again.value == 3.2
    with pytest.raises(SearchError, match="rungs"):
        journal_study(tmp_path, Rungs(1, 3, 9), url=url)


def test_a_study_without_rungs_prunes_nothing(tmp_path):
    _, study = journal_study(tmp_path, rungs=None)
    assert study_rungs(study) is None
    for curve in ([2.0, 1.9], [4.0, 3.9], [5.0, 4.9]):
        assert run_curve(study, curve, 2).state == TrialState.COMPLETE


def test_pruned_trials_are_finished_for_good(tmp_path):
    storage, study = journal_study(tmp_path)
    space = search.load_space("tiny")
    search.reconcile(study, storage, space, 0, 2)
    for curve in ([3.0, 2.5, 2.2, 2.0], [3.5, 3.4, 3.3, 3.2]):
        trial = search.claim_trial(study, storage)
        reporter = PruningReporter(trial, 4)
        for epoch, rmse in enumerate(curve, start=1):
            if reporter({"epoch": epoch, "val_rmse_px": rmse,
                         "seconds": epoch}):
                break
        study.tell(trial, state=TrialState.PRUNED) if reporter.pruned \
            else study.tell(trial, reporter.best)
    assert [t.state for t in study.trials] == [TrialState.COMPLETE,
                                               TrialState.PRUNED]
    assert search.reconcile(study, storage, space, 0, 2) == 2
    assert len(study.trials) == 2  # the pruned configuration is not rerun


def test_progress_lines_and_summary(tmp_path):
    _, study = journal_study(tmp_path)
    rungs = study_rungs(study)
    events = TrialEvents(rungs)
    run_curve(study, [3.0, 2.5, 2.2, 2.0])
    run_curve(study, [3.5, 3.4, 3.3, 3.2])
    lines = events.lines(study, 2.0, 0)
    assert lines[0] == ("trial 0 [?] rung 0 (1 epoch): 3.000 px -> "
                        "promoted | best 2.000 px (#0)")
    assert lines[1].startswith("trial 0 [?] rung 1 (2 epochs): 2.500 px")
    assert lines[2].startswith("trial 0 [?] complete: 2.000 px")
    assert lines[3].startswith("trial 1 [?] rung 0 (1 epoch): 3.500 px -> "
                               "pruned")
    assert len(lines) == 4 and events.lines(study) == []
    rows = rung_summary(study, rungs)
    assert [(r["epochs"], r["reached"], r["pruned"], r["epochs_spent"])
            for r in rows] == [(1, 2, 1, 2), (2, 1, 0, 1), (4, 1, 0, 2)]
    assert [r["seconds_spent"] for r in rows] == [20.0, 10.0, 20.0]
    summary = summary_lines(study, rungs, seconds=360.0)
    assert summary[0].startswith("2 trials started: 1 completed, 1 pruned, "
                                 "0 failed, 0 running; this run: 2 finished "
                                 "in 6.0 min, 20 trials/hour")
    assert summary[1] == ("  rung 0 (1 epoch): reached by 2, pruned there "
                          "1; 2 epochs, 20 s of training (40%); RMSE there: "
                          "best 3.000, median 3.500 px, 1 of 2 under 3.5 px")
    assert rows[0]["values"] == [3.0, 3.5]
    # a running trial at a rung is not promoted until it trains beyond it
    running = study.ask()
    running.report(2.9, 1)
    assert not running.should_prune()  # 2.9 is the best at rung 0
    assert events.lines(study) == []
    running.report(2.8, 2)
    assert events.lines(study) == ["trial 2 [?] rung 0 (1 epoch): 2.900 px"
                                   " -> promoted"]
    study.tell(running, state=TrialState.FAIL)

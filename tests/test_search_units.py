"""Fast synthetic tests of kfkd.search: the best-trial rule, reconciling and
claiming on an in-memory Optuna storage with hand-made trials, space loading
by name and by path, the LOG_KEYS declaration, device slots (no data, no
Theano, no worker process)."""
import json
import os
import socket
import subprocess
import sys

import numpy as np
import optuna
import pytest
from optuna.distributions import FloatDistribution
from optuna.trial import TrialState, create_trial

from kfkd import search
from kfkd.errors import SearchError, UsageError
from kfkd.search.protocol import INTERRUPTED, trial_id
from kfkd.search.results import best_summary

HOST = socket.gethostname()
LR = {"learning_rate": FloatDistribution(1e-4, 1e-2, log=True)}


def dead_pid():
    """The pid of a process that has exited (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def hand_made(state, value=None, index=None, **attrs):
    """A trial of the tiny space in ``state`` (sample ``index``)."""
    if index is not None:
        attrs["sample_index"] = index
    attrs.setdefault("config", {"learning_rate": 1e-3, "l2": 0.0})
    return create_trial(state=state, value=value, params={"learning_rate": 1e-3},
                        distributions=LR, user_attrs=attrs)


@pytest.fixture
def memory_study():
    """An empty study of space ``tiny`` (seed 0) on an in-memory storage."""
    storage = optuna.storages.InMemoryStorage()
    study = search.open_study(storage, "s", search.load_space("tiny"), 0)
    return storage, study


def add_mixed_trials(study):
    """Numbers 0-6: complete 2.5, failed, pruned, running, complete 1.9 of a
    configuration beyond the first 2, complete 1.9 again, waiting."""
    study.add_trial(hand_made(TrialState.COMPLETE, 2.5, index=0))
    study.add_trial(hand_made(TrialState.FAIL, index=1, error="ValueError: x"))
    study.add_trial(hand_made(TrialState.PRUNED, 0.5, index=1))
    study.add_trial(hand_made(TrialState.RUNNING, index=1, host=HOST,
                              pid=os.getpid()))
    study.add_trial(hand_made(TrialState.COMPLETE, 1.9, index=5))
    study.add_trial(hand_made(TrialState.COMPLETE, 1.9, index=6))
    study.add_trial(hand_made(TrialState.WAITING, index=7))


# -- THE best trial ------------------------------------------------------------------
def test_no_complete_trial_has_no_best(memory_study):
    _, study = memory_study
    study.add_trial(hand_made(TrialState.FAIL, index=0, error="x"))
    assert search.best_trial(study) is None
    assert search.progress(study, 1) == (1, None, None)
    assert best_summary(study, search.load_space("tiny")) == {}


def test_progress_line_best_json_and_table_agree_on_the_best(memory_study,
                                                             tmp_path):
    _, study = memory_study
    add_mixed_trials(study)
    best = search.best_trial(study)
    # lowest RMSE among complete trials, the lowest number among equals;
    # pruned (0.5) and failed trials never count
    assert (best.number, best.value) == (4, 1.9)
    # the progress line shows the same trial, though it lies beyond the
    # first 2 configurations (whose finished trials are counted: 0 and 1)
    assert search.progress(study, 2) == (2, 1.9, 4)
    summary = search.write_outputs(study, search.load_space("tiny"),
                                   str(tmp_path), plot=False)
    assert summary["number"] == 4 and summary["val_rmse_px"] == 1.9
    assert (summary["n_complete"], summary["n_trials"]) == (3, 7)
    with open(tmp_path / "best.json") as f:
        assert json.load(f)["number"] == 4
    frame = search.results_frame(study)
    assert list(frame.number) == list(range(7))
    assert list(frame.state) == ["COMPLETE", "FAIL", "PRUNED", "RUNNING",
                                 "COMPLETE", "COMPLETE", "WAITING"]
    complete = frame[frame.state == "COMPLETE"]
    assert int(complete.loc[complete.val_rmse_px.idxmin()].number) == 4
    assert frame.val_rmse_px.isna().sum() == 4  # only complete trials have one


# -- reconciling ------------------------------------------------------------------------
def test_reconcile_enqueues_each_missing_configuration_once(memory_study):
    storage, study = memory_study
    space = search.load_space("tiny")
    assert search.reconcile(study, storage, space, 0, 3) == 0
    waiting = study.get_trials(states=(TrialState.WAITING,))
    assert sorted(t.user_attrs["sample_index"] for t in waiting) == [0, 1, 2]
    params = search.sample_configs(space, 0, 3)
    for _ in range(3):  # a worker's trial samples its enqueued parameters
        trial = search.claim_trial(study, storage)
        space.config(trial)
        assert trial.params == params[trial.user_attrs["sample_index"]]
    search.reconcile(study, storage, space, 0, 3)  # nothing is missing
    assert len(study.trials) == 3


def test_reconcile_requeues_interrupted_not_failed_trials(memory_study):
    storage, study = memory_study
    space = search.load_space("tiny")
    search.reconcile(study, storage, space, 0, 2)
    first = search.claim_trial(study, storage)
    first.set_user_attr("error", INTERRUPTED)
    study.tell(first, state=TrialState.FAIL)
    second = search.claim_trial(study, storage)
    second.set_user_attr("error", "ValueError: bad")
    study.tell(second, state=TrialState.FAIL)
    assert search.reconcile(study, storage, space, 0, 2) == 1
    again = study.get_trials(states=(TrialState.WAITING,))
    assert [t.user_attrs["sample_index"] for t in again] == [
        first.user_attrs["sample_index"]]


def test_fail_orphans_reads_the_cause_from_the_exit_status(memory_study):
    storage, study = memory_study
    killed, stopped = dead_pid(), dead_pid()
    study.add_trial(hand_made(TrialState.RUNNING, index=0, host=HOST,
                              pid=killed))
    study.add_trial(hand_made(TrialState.RUNNING, index=1, host=HOST,
                              pid=stopped))
    study.add_trial(hand_made(TrialState.RUNNING, index=2, host=HOST,
                              pid=os.getpid()))  # alive
    study.add_trial(hand_made(TrialState.RUNNING, index=3, host="elsewhere",
                              pid=killed))  # another host's worker
    search.fail_orphans(study, storage, exits={killed: -9, stopped: -15})
    trials = study.trials
    assert trials[0].state == TrialState.FAIL
    assert trials[0].user_attrs["error"] == ("worker killed by SIGKILL "
                                             "(signal 9) (attempt 1 of 3; "
                                             "queued again)")
    assert trials[0].user_attrs["requeued"] is True
    assert trials[1].state == TrialState.FAIL
    assert trials[1].user_attrs["error"] == INTERRUPTED
    assert [t.state for t in trials[2:]] == [TrialState.RUNNING] * 2


def test_fail_orphans_gives_up_after_the_retries(memory_study):
    storage, study = memory_study
    for _ in range(search.MAX_CRASH_RETRIES):
        study.add_trial(hand_made(TrialState.FAIL, index=0, crash="c",
                                  requeued=True, error="c"))
    pid = dead_pid()
    study.add_trial(hand_made(TrialState.RUNNING, index=0, host=HOST, pid=pid))
    search.fail_orphans(study, storage, exits={pid: 1})
    last = study.trials[-1]
    assert last.user_attrs["error"] == "worker exited with status 1 3 times"
    assert "requeued" not in last.user_attrs
    assert search.progress(study, 1)[0] == 1  # finished for good


@pytest.mark.parametrize("returncode, cause", [
    (None, None), (0, None), (-15, None), (-2, None),
    (-9, "worker killed by SIGKILL (signal 9)"),
    (-11, "worker killed by SIGSEGV (signal 11)"),
    (1, "worker exited with status 1")])
def test_exit_cause(returncode, cause):
    assert search.exit_cause(returncode) == cause


def test_claim_takes_each_waiting_trial_once(memory_study):
    storage, study = memory_study
    search.reconcile(study, storage, search.load_space("tiny"), 0, 2)
    mine = {"host": HOST, "pid": 1, "device": "cpu"}
    a = search.claim_trial(study, storage, mine)
    b = search.claim_trial(study, storage, mine)
    assert search.claim_trial(study, storage, mine) is None
    assert a.number != b.number
    frozen = study.trials[a.number]
    assert frozen.state == TrialState.RUNNING
    assert {k: frozen.user_attrs[k] for k in mine} == mine


# -- search spaces ---------------------------------------------------------------------
def test_shipped_spaces_load_by_name():
    assert {"default", "tiny"} <= set(search.space_names())
    space = search.load_space("tiny")
    assert space.name == "tiny"
    assert os.path.dirname(space.path) == search.SPACES_DIR
    assert space.log_keys == {"learning_rate", "l2"}
    assert search.load_space("default").log_keys == {"learning_rate", "l1",
                                                     "l2"}


def test_unknown_space_name_lists_the_named_spaces():
    with pytest.raises(FileNotFoundError, match="tiny"):
        search.load_space("no-such-space")


def test_space_loads_from_an_explicit_path(tmp_path):
    path = tmp_path / "mine.py"
    path.write_text('FIXED = {"net": "breeze"}\nSURFACES = [("a", "b")]\n'
                    'LOG_KEYS = ["a"]\n\ndef suggest(trial):\n'
                    '    return {"a": trial.suggest_float("x", 1, 2, '
                    'log=True)}\n')
    space = search.load_space(str(path))
    assert (space.name, space.path) == ("mine", str(path))
    assert space.log_keys == {"a"} and space.surfaces == [("a", "b")]
    path.write_text("def suggest(trial):\n    return {}\n")
    assert search.load_space(str(path)).log_keys == frozenset()


@pytest.mark.parametrize("log_keys", ["'learning_rate'", "[1]", "{'a': 1}"])
def test_log_keys_that_are_not_keys_are_refused(tmp_path, log_keys):
    path = tmp_path / "bad.py"
    path.write_text("LOG_KEYS = %s\n\ndef suggest(trial):\n    return {}\n"
                    % log_keys)
    with pytest.raises(SearchError, match="LOG_KEYS"):
        search.load_space(str(path))


@pytest.mark.parametrize("name", ["default", "tiny"])
def test_log_keys_are_exactly_the_log_sampled_configuration_keys(name):
    """The declaration matches suggest(): a configuration key is declared
    iff its value came from a log-uniform Optuna distribution."""
    space = search.load_space(name)
    scratch = optuna.create_study(
        sampler=optuna.samplers.RandomSampler(seed=3))
    seen = set()
    for _ in range(30):
        trial = scratch.ask()
        config = space.config(trial)
        logged = {v for n, v in trial.params.items()
                  if getattr(trial.distributions[n], "log", False)}
        seen |= {k for k, v in config.items()
                 if isinstance(v, float) and v in logged}
        scratch.tell(trial, 0.0)
    assert seen == space.log_keys


def test_log_scaled_keys_come_from_the_study_space(memory_study):
    _, study = memory_study
    assert search.log_scaled_keys(study) == {"learning_rate", "l2"}


# -- device slots --------------------------------------------------------------------
@pytest.mark.parametrize("cores, slots", [(1, 1), (2, 2), (3, 2), (4, 2),
                                          (8, 4)])
def test_default_devices(cores, slots):
    assert search.default_devices(cores) == ["cpu"] * slots


def test_parse_devices():
    assert search.parse_devices() == search.default_devices()
    assert search.parse_devices("cuda0,cuda0") == ["cuda0", "cuda0"]
    assert search.parse_devices(None, 2) == ["cpu", "cpu"]
    for devices, workers in (("cpu", 1), ("cpu,,cpu", None), (None, True)):
        with pytest.raises(UsageError):
            search.parse_devices(devices, workers)


def test_worker_env_pins_device_and_threads():
    env = search.worker_env("cpu", 2, {"THEANO_FLAGS": "device=cuda0,"
                                       "optimizer=fast_run", "PATH": "/bin"})
    assert env["THEANO_FLAGS"] == "optimizer=fast_run,device=cpu"
    assert env["PATH"] == "/bin"
    assert {env[v] for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                             "MKL_NUM_THREADS")} == {"2"}


def test_worker_command_runs_the_worker_module():
    driver = search.Driver(search.load_space("tiny"), "s", 1, ["cpu"],
                           out_dir="o", storage="sqlite:///x.db", limit=10)
    cmd = driver.worker_command("cpu")
    assert cmd[:3] == [sys.executable, "-m", "kfkd.search.worker"]
    assert cmd[cmd.index("--storage") + 1] == "sqlite:///x.db"
    assert cmd[cmd.index("--limit") + 1] == "10"
    assert "--minutes" not in cmd


def test_the_package_imports_neither_theano_nor_the_worker():
    code = ("import sys, kfkd.search; print(sorted(m for m in ("
            "'theano', 'matplotlib', 'kfkd.search.worker') if m in "
            "sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == "[]"


# -- surfaces and importances (a synthetic study: no training) -------------------
def synthetic_study(n, seed=1):
    """A study of ``n`` trials whose RMSE is a known function of the
    learning rate (in log10) and dense dropout: 2 + (log10(lr) + 3)**2 +
    3 * dropout_dense; every 4th trial pruned (reported RMSE + 1, at its
    last epoch).  Returns (study, space with one surface pair)."""
    rng = np.random.RandomState(seed)
    space = search.SearchSpace(
        "synthetic", os.path.join(search.SPACES_DIR, "tiny.py"),
        lambda trial: {}, {"net": "breeze"},
        [("learning_rate", "net.dropout_dense")], ["learning_rate", "l2"])
    study = optuna.create_study()
    for i in range(n):
        lr, drop = 10 ** rng.uniform(-4, -2), rng.uniform(0, 0.5)
        l2 = 0.0 if i % 3 == 0 else 10 ** rng.uniform(-6, -3)
        rmse = 2 + (np.log10(lr) + 3) ** 2 + 3 * drop
        pruned = i % 4 == 3
        study.add_trial(create_trial(
            state=TrialState.PRUNED if pruned else TrialState.COMPLETE,
            value=rmse + pruned, intermediate_values={0: rmse + 1.5,
                                                      1: rmse + pruned},
            params={"learning_rate": lr}, distributions=LR,
            user_attrs={"config": {"net": "breeze", "learning_rate": lr,
                                   "l2": l2, "net.dropout_dense": drop,
                                   "seed": 0}}))
    return study, space


def test_fitted_surface_reproduces_a_known_function_on_log_axes():
    from kfkd.search.response import ResponseSurface
    study, _ = synthetic_study(32)
    frame = search.results_frame(study)
    surface = ResponseSurface("learning_rate", "net.dropout_dense",
                              {"learning_rate"}).fit(frame)
    done = frame[frame.state == "COMPLETE"]
    # the learning rate is fitted on its sampled (log10) axis
    assert np.allclose(surface.x_, np.log10(done.learning_rate))
    assert np.allclose(surface.y_, done["net.dropout_dense"])
    X, Y = np.meshgrid(np.linspace(-3.7, -2.3, 6), np.linspace(0.05, 0.45, 6))
    truth = 2 + (X + 3) ** 2 + 3 * Y
    assert np.abs(surface.predict(X, Y) - truth).max() < 0.1


def test_too_few_trials_are_said_not_fitted():
    from kfkd.search import plots
    from kfkd.search.response import MIN_SURFACE_TRIALS, ResponseSurface
    study, _ = synthetic_study(4)  # 3 complete, 1 pruned
    frame = search.results_frame(study)
    surface = ResponseSurface("learning_rate", "net.dropout_dense").fit(frame)
    assert surface.gp_ is None
    assert surface.note_ == ("3 completed trial(s): no surface fitted "
                             "(needs %d)" % MIN_SURFACE_TRIALS)
    with pytest.raises(RuntimeError, match="no surface fitted"):
        surface.predict([0.0], [0.0])
    fig = plots.search_surface_figure(frame, "learning_rate",
                                      "net.dropout_dense", {"learning_rate"})
    assert surface.note_ in fig._suptitle.get_text()


def test_outputs_have_importances_surfaces_and_pruned_points(tmp_path):
    from kfkd.search import plots
    study, space = synthetic_study(24)
    best = search.write_outputs(study, space, str(tmp_path))
    shares = best["importances"]
    # l2 and learning rate vary, seed and net do not
    assert set(shares) == {"learning_rate", "l2", "net.dropout_dense"}
    assert sum(shares.values()) == pytest.approx(1.0)
    assert shares["l2"] < min(shares["learning_rate"],
                              shares["net.dropout_dense"])
    with open(tmp_path / "best.json") as f:
        assert json.load(f)["importances"] == pytest.approx(shares)
    for name in ("surfaces_learning_rate_dropout_dense", "importances"):
        for ext in ("png", "pdf"):
            assert os.path.getsize(tmp_path / ("%s.%s" % (name, ext))) > 1000
    frame = search.results_frame(study)
    pruned = frame[frame.state == "PRUNED"]
    assert len(pruned) == 6 and pruned.val_rmse_px.isna().all()
    assert (pruned.last_val_rmse_px > 0).all()
    fig = plots.search_surface_figure(frame, "learning_rate",
                                      "net.dropout_dense", {"learning_rate"})
    ax = fig.axes[0]
    crosses = [c for c in ax.collections if c.get_label().startswith("pruned")]
    zs = sorted(crosses[0]._offsets3d[2])
    assert zs == pytest.approx(sorted(pruned.last_val_rmse_px))


def test_few_trials_have_no_importances_and_say_why(tmp_path):
    study, space = synthetic_study(5)  # 4 complete
    best = search.write_outputs(study, space, str(tmp_path), plot=False)
    assert best["importances"] is None
    assert best["importances_note"] == ("4 completed trial(s): no "
                                        "importances (needs 5)")


# -- heartbeats and --join (an SQLite study: no server, no worker) ---------------
def sqlite_study(tmp_path, heartbeat_seconds=1):
    """(storage, study) of space tiny in ``tmp_path/s.db``, 2 trials
    enqueued, heartbeats every ``heartbeat_seconds``."""
    url = "sqlite:///%s" % (tmp_path / "s.db")
    storage = search.open_storage(url, None)
    space = search.load_space("tiny")
    study = search.open_study(storage, "s", space, 3,
                              heartbeat_seconds=heartbeat_seconds)
    search.reconcile(study, storage, space, 3, 2)
    return storage, study


def test_a_silent_trial_is_failed_as_a_crash_and_retried(tmp_path):
    from kfkd.search import heartbeat
    storage, study = sqlite_study(tmp_path)
    assert storage.heartbeat_interval == 1
    assert study.user_attrs[heartbeat.STUDY_ATTR] == 1
    gone = {"host": "elsewhere", "pid": 12345, "device": "cpu"}
    lost = search.claim_trial(study, storage, gone)
    alive = search.claim_trial(study, storage, gone)
    with heartbeat.beating(storage, trial_id(storage, study, lost.number)):
        pass  # one heartbeat, then the machine is gone
    storage.grace_period = 1  # instead of 4 intervals
    import time
    with heartbeat.beating(storage, trial_id(storage, study,
                                                      alive.number)):
        time.sleep(2.2)  # the other trial keeps beating meanwhile
        search.reconcile(study, storage, search.load_space("tiny"), 3, 2)
    frozen = study.trials
    assert frozen[lost.number].state == TrialState.FAIL
    assert frozen[lost.number].user_attrs["error"] == (
        "no heartbeat for 1 s (worker 12345 on elsewhere) (attempt 1 of 3; "
        "queued again)")
    assert frozen[alive.number].state == TrialState.RUNNING
    # its configuration is waiting again
    assert [t.user_attrs["sample_index"] for t in frozen[2:]] == [
        frozen[lost.number].user_attrs["sample_index"]]
    assert frozen[2].state == TrialState.WAITING


def test_join_takes_space_seed_and_trials_from_the_study(tmp_path):
    url = "sqlite:///%s" % (tmp_path / "s.db")
    search.Driver(search.load_space("tiny"), "s", 5, ["cpu"], str(tmp_path),
                  storage=url, seed=3, heartbeat=7).open()
    joined = search.Driver(search.load_space("default"), "s", 8, ["cpu"],
                           str(tmp_path / "elsewhere"), storage=url,
                           join=True)
    storage, study = joined.open()
    assert (joined.space.name, joined.seed, joined.n_trials) == ("tiny", 3, 5)
    assert storage.heartbeat_interval == 7
    assert len(study.trials) == 0  # opening enqueues nothing
    with pytest.raises(SearchError, match="no study 'other'"):
        search.Driver(search.load_space("tiny"), "other", 1, ["cpu"],
                      str(tmp_path), storage=url, join=True).open()

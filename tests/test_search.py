"""The random grid search: workers, pruning at a rung, resuming after
SIGKILL, failed trials, surfaces, devices.  Tiny trials on a small slice of
the real data: the tiny space's rungs are 1 and 2 epochs."""
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from kfkd import search
from kfkd.devices import gpu_problem

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(REPO, "experiments", "grid_search.py")
TINY = ["--space", "tiny", "--limit", "200", "--quiet"]
FINISHED = ("COMPLETE", "PRUNED")


def run_search(out, *args, timeout=600):
    return subprocess.run([sys.executable, SCRIPT, "--out", str(out)] + TINY
                          + list(args), capture_output=True, text=True,
                          timeout=timeout, cwd=REPO)


def results(out, study="tiny"):
    return pd.read_csv(os.path.join(out, study, "results.csv"))


@pytest.fixture(scope="module")
def two_worker_study(tmp_path_factory):
    out = tmp_path_factory.mktemp("search")
    proc = run_search(out, "--trials", "4", "--workers", "2")
    assert proc.returncode == 0, proc.stderr[-2000:]
    return out, proc


def test_two_workers_complete_distinct_trials(two_worker_study):
    out, proc = two_worker_study
    frame = results(out)
    assert len(frame) == 4
    assert frame.state.isin(FINISHED).all() and "COMPLETE" in set(frame.state)
    assert sorted(frame.sample_index) == [0, 1, 2, 3]
    # distinct configurations, run by two different worker processes
    assert frame.learning_rate.nunique() == 4
    assert frame.pid.nunique() == 2
    assert (frame.best_epoch >= 1).all()
    assert (frame[frame.state == "COMPLETE"].val_rmse_px > 0).all()
    assert "best trial" in proc.stdout


def test_pruned_trials_stop_at_their_rung_with_their_best_value(
        two_worker_study):
    """Each trial reported its best RMSE so far after every epoch; a pruned
    one stopped at rung 0 (1 epoch) and keeps that value, a complete one
    trained both epochs; the decisions are recorded in the trials."""
    out, proc = two_worker_study
    study_dir = os.path.join(str(out), "tiny")
    study = search.open_study(search.open_storage(None, study_dir), "tiny")
    assert study.user_attrs["rungs"] == {"min_epochs": 1,
                                         "reduction_factor": 2,
                                         "max_epochs": 2}
    for t in study.trials:
        curve = [t.intermediate_values[e] for e in sorted(t.intermediate_values)]
        assert curve == sorted(curve, reverse=True)  # best so far
        assert t.value == curve[-1]
        assert t.system_attrs["completed_rung_0"] == curve[0]
        if t.state.name == "PRUNED":
            assert (t.last_step, t.user_attrs["epochs"]) == (1, 1)
            assert t.user_attrs["stopped_by"] == "pruned"
        else:
            assert (t.last_step, t.user_attrs["epochs"]) == (2, 2)
        assert len(t.user_attrs["epoch_seconds"]) == t.last_step


def test_outputs_best_model_loadable(two_worker_study):
    from kfkd.fileio import read_json
    from kfkd.model import load_model

    out, _ = two_worker_study
    best = read_json(os.path.join(out, "tiny", "best.json"))
    frame = results(out)
    assert best["val_rmse_px"] == pytest.approx(frame.val_rmse_px.min())
    assert best["number"] == int(frame.loc[frame.val_rmse_px.idxmin(), "number"])
    model = load_model(best["model"])
    assert model.net == "breeze"
    assert model.net_params["depth"] == best["config"]["net.depth"]


def test_surfaces_have_right_axes_and_points(two_worker_study):
    from kfkd.search import plots

    out, _ = two_worker_study
    for name in ("learning_rate_l2", "dropout_conv_l2", "depth_dropout_dense"):
        for ext in ("png", "pdf"):
            path = os.path.join(out, "tiny", "surfaces_%s.%s" % (name, ext))
            assert os.path.getsize(path) > 1000
    frame = results(out)
    fig = plots.search_surface_figure(frame, "learning_rate", "l2",
                                      log_keys={"learning_rate", "l2"})
    ax = fig.axes[0]
    assert ax.get_xlabel() == "learning rate (log)"
    assert ax.get_ylabel() == "l2 (log)"
    assert ax.get_zlabel() == "validation RMSE (px)"
    # scatter of the complete trials (+ the best star); z: their RMSEs
    complete = frame.val_rmse_px.dropna()
    points = [c for c in ax.collections
              if c.get_offsets().shape[0] == len(complete)]
    assert points, "no scatter of the complete trials"
    zs = sorted(points[0]._offsets3d[2])
    assert zs == pytest.approx(sorted(complete))
    # log axis: positions are log10 of the learning rates
    import numpy as np
    xs, ticks = plots.surface_axis_values(frame.learning_rate.values, True)
    assert np.allclose(xs, np.log10(frame.learning_rate.values))


def test_rerun_resumes_without_new_trials(two_worker_study):
    out, _ = two_worker_study
    before = results(out)
    proc = run_search(out, "--trials", "4", "--workers", "2")
    assert proc.returncode == 0, proc.stderr[-2000:]
    after = results(out)
    pd.testing.assert_frame_equal(before, after)


def test_sigkill_driver_then_rerun_keeps_finished_trials(tmp_path):
    cmd = [sys.executable, SCRIPT, "--out", str(tmp_path), "--trials", "5",
           "--workers", "2"] + TINY
    driver = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    study_dir = os.path.join(str(tmp_path), "tiny")
    deadline = time.time() + 300
    finished = []
    while time.time() < deadline and not finished:
        time.sleep(1)
        if os.path.exists(os.path.join(study_dir, "journal.log")):
            study = search.open_study(search.open_storage(None, study_dir),
                                      "tiny")
            finished = [(t.number, t.value) for t in study.trials
                        if t.state.name in FINISHED]
    assert finished, "no trial finished before the deadline"
    driver.send_signal(signal.SIGKILL)
    driver.wait()
    time.sleep(3)  # workers get SIGTERM from the kernel and fail their trial
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    frame = results(tmp_path)
    done = frame[frame.state.isin(FINISHED)]
    assert sorted(done.sample_index) == [0, 1, 2, 3, 4]
    study = search.open_study(search.open_storage(None, study_dir), "tiny")
    for number, value in finished:
        assert study.trials[number].value == pytest.approx(value)
    # anything cut short was recorded as interrupted, never lost silently
    others = frame[~frame.state.isin(FINISHED)]
    assert (others.error == "interrupted").all()


FAILING_SPACE = '''
FIXED = {"net": "breeze", "max_epochs": 1, "net.convs_per_block": 1,
         "net.width": 4, "net.dense_units": 16, "batch_size": 64}
SURFACES = [("learning_rate", "net.depth")]

def suggest(trial):
    broken = trial.suggest_categorical("broken", [False, True])
    return {"learning_rate": trial.suggest_float("learning_rate", 1e-4, 1e-2,
                                                 log=True),
            # breeze accepts depth 1-6: depth 9 makes the trial crash
            "net.depth": 9 if broken else 2}
'''


def test_failing_configuration_is_recorded_and_search_goes_on(tmp_path):
    space_path = tmp_path / "failing.py"
    space_path.write_text(FAILING_SPACE)
    space = search.load_space(str(space_path))
    seed = next(s for s in range(100)
                if {p["broken"] for p in search.sample_configs(space, s, 4)}
                == {False, True})
    proc = subprocess.run(
        [sys.executable, SCRIPT, "--out", str(tmp_path), "--space",
         str(space_path), "--trials", "4", "--workers", "2", "--limit", "200",
         "--seed", str(seed), "--quiet"],
        cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    frame = results(tmp_path, "failing")
    assert len(frame) == 4
    failed = frame[frame.state == "FAIL"]
    assert len(failed) >= 1 and (failed["net.depth"] == 9).all()
    assert failed.error.str.contains("depth=9 must be 1-6").all()
    assert (frame[frame.state == "COMPLETE"]["net.depth"] == 2).all()
    assert (frame.state == "COMPLETE").sum() == 4 - len(failed)


def test_gpu_device_without_theano_gpu_fails_before_any_worker(tmp_path):
    problem = gpu_problem("cuda0")
    if problem is None:
        pytest.skip("this machine has a GPU Theano can activate")
    proc = run_search(tmp_path, "--trials", "2", "--devices", "cuda0",
                      timeout=300)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kfkd search: error:")
    assert "cuda0" in lines[0] and problem in lines[0]
    assert not os.path.exists(os.path.join(str(tmp_path), "default"))


def test_sampling_is_seeded_and_extends_reproducibly():
    space = search.load_space("default")
    first = search.sample_configs(space, 7, 3)
    again = search.sample_configs(space, 7, 5)
    other = search.sample_configs(space, 8, 3)
    assert first == again[:3]
    assert first != other
    for params in again:
        config = dict(space.fixed)
        assert 7e-4 <= params["learning_rate"] <= 5e-3
        assert 3 <= params["depth"] <= 4
        assert config["net"] == "breeze"


def test_parse_devices():
    assert search.parse_devices("cpu,cpu") == ["cpu", "cpu"]
    assert search.parse_devices(None, 3) == ["cpu"] * 3
    assert search.parse_devices("cuda0,cuda1") == ["cuda0", "cuda1"]
    with pytest.raises(ValueError):
        search.parse_devices("tpu0")
    env = search.worker_env("cuda1", 1, {"THEANO_FLAGS": "device=cpu,floatX=float32"})
    assert env["THEANO_FLAGS"] == "device=cuda1,floatX=float32"
    assert env["OMP_NUM_THREADS"] == env["OPENBLAS_NUM_THREADS"] == "1"


def test_missing_data_fails_in_one_line(tmp_path):
    proc = run_search(tmp_path, "--trials", "2", "--data-dir",
                      str(tmp_path / "nowhere"), timeout=120)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "does not exist" in lines[0]


def test_ctrl_c_stops_cleanly(tmp_path):
    """SIGINT to the process group (what Ctrl-C in a terminal sends) while
    trials run: exit 130, no worker left behind, the running trials recorded
    as interrupted, results.csv written."""
    cmd = [sys.executable, SCRIPT, "--out", str(tmp_path), "--space", "default",
           "--limit", "300", "--trials", "4",
           "--workers", "2", "--quiet"]
    # a background job inherits an ignored SIGINT; a terminal's job does not
    driver = subprocess.Popen(
        cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    study_dir = os.path.join(str(tmp_path), "default")
    deadline, running = time.time() + 300, []
    while time.time() < deadline and not running:
        time.sleep(1)
        if os.path.exists(os.path.join(study_dir, "journal.log")):
            study = search.open_study(search.open_storage(None, study_dir),
                                      "default")
            running = [t for t in study.trials if t.state.name == "RUNNING"]
    assert running, "no trial started"
    time.sleep(3)
    os.killpg(driver.pid, signal.SIGINT)
    _, err = driver.communicate(timeout=300)
    assert driver.returncode == 130
    assert err.strip().splitlines()[-1] == "kfkd search: interrupted"
    workers = subprocess.run(["pgrep", "-f", "kfkd.search.worker --study default --out %s"
                              % tmp_path], capture_output=True, text=True)
    assert workers.stdout.strip() == ""
    frame = results(tmp_path, "default")
    assert set(frame.state) <= {"COMPLETE", "PRUNED", "FAIL", "WAITING"}
    assert (frame[frame.state == "FAIL"].error == "interrupted").all()
    assert (frame.state == "FAIL").sum() >= 1

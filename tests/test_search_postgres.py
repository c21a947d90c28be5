"""A study across machines, for real: a throwaway PostgreSQL server
(``postgres_url``, tests/conftest.py), the driver and two ``kfkd search
--join`` processes from other folders against one study, one of them
killed with SIGKILL mid-trial (a machine lost): its trial is failed by the
heartbeat and retried, and together they complete every configuration.
Tiny trials (a 2-block breeze, 1 epoch, 100 faces)."""
import os
import signal
import subprocess
import sys
import time

import pytest

from kfkd import search
from kfkd.errors import SearchError

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
N_TRIALS = 4

SPACE = '''
FIXED = {"net": "breeze", "max_epochs": 1, "net.depth": 2,
         "net.convs_per_block": 1, "net.width": 4, "net.dense_units": 16,
         "batch_size": 64}
SURFACES = []
LOG_KEYS = ("learning_rate",)

def suggest(trial):
    return {"learning_rate": trial.suggest_float("learning_rate", 1e-4, 1e-2,
                                                 log=True)}
'''


def kfkd_search(folder, url, *args, **popen):
    """``kfkd search`` on the shared study, run from ``folder``."""
    os.makedirs(folder, exist_ok=True)
    cmd = [sys.executable, "-m", "kfkd", "search", "--storage", url,
           "--study", "shared", "--out", os.path.join(folder, "runs"),
           "--workers", "1", "--limit", "100", "--quiet"] + list(args)
    return subprocess.Popen(cmd, cwd=folder, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, PYTHONPATH=os.pathsep.join(
                                p for p in (REPO, os.environ.get("PYTHONPATH"))
                                if p)), **popen)


def parent_of(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return int(f.read().rpartition(")")[2].split()[1])
    except OSError:
        return None


def wait_for(what, driver, timeout=240):
    """The first true value of ``what()``, polled; fails after ``timeout``
    or when ``driver`` has exited."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = what()
        if value:
            return value
        if driver.poll() is not None:
            raise AssertionError("the driver exited (%s) before %s: %s" % (
                driver.returncode, what.__doc__, driver.stderr.read()[-2000:]))
        time.sleep(0.2)
    raise AssertionError("timed out waiting for %s" % what.__doc__)


def stored(storage):
    """The shared study, or None before the driver made it."""
    try:
        return search.open_study(storage, "shared", create=False)
    except SearchError:
        return None


def test_driver_and_joined_machines_share_one_postgres_study(postgres_url,
                                                             tmp_path):
    space = tmp_path / "shared_space.py"
    space.write_text(SPACE)
    driver = kfkd_search(str(tmp_path / "a"), postgres_url, "--space",
                         str(space), "--trials", str(N_TRIALS),
                         "--heartbeat", "2")
    joined, storage = [], search.open_storage(postgres_url, None)
    try:
        def study_ready():
            """the study with its trials enqueued"""
            study = stored(storage)
            return study if study is not None and study.trials else None
        wait_for(study_ready, driver)
        # two more "machines": other folders, no --space/--seed/--trials
        lost, helper = (kfkd_search(str(tmp_path / name), postgres_url,
                                    "--join", start_new_session=True)
                        for name in ("b", "c"))
        joined = [lost, helper]

        def lost_trial():
            """a trial running in the worker of the machine to lose"""
            assert lost.poll() is None, "the joined process ended first: %s" % (
                lost.stderr.read()[-2000:])
            return next((t for t in stored(storage).trials
                         if t.state.name == "RUNNING" and "pid" in t.user_attrs
                         and parent_of(t.user_attrs["pid"]) == lost.pid),
                        None)
        victim = wait_for(lost_trial, driver)
        os.killpg(lost.pid, signal.SIGKILL)  # the machine and its worker
        lost.wait()
        out, err = driver.communicate(timeout=300)
        assert driver.returncode == 0, err[-2000:]
        assert helper.wait(timeout=120) == 0, helper.stderr.read()[-2000:]
    finally:
        for proc in [driver] + joined:
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
    study = stored(storage)
    frame = search.results_frame(study)
    complete = frame[frame.state == "COMPLETE"]
    # every configuration completed once, by the driver's and the joined
    # machines' workers together
    assert sorted(complete.sample_index) == list(range(N_TRIALS))
    assert complete.learning_rate.nunique() == N_TRIALS
    assert complete.pid.nunique() >= 2
    lost_row = frame[frame.number == victim.number].iloc[0]
    assert lost_row.state == "FAIL"
    assert lost_row.error == (
        "no heartbeat for 8 s (worker %d on %s) (attempt 1 of 3; queued "
        "again)" % (victim.user_attrs["pid"], victim.user_attrs["host"]))
    retried = complete[complete.sample_index == lost_row.sample_index]
    assert len(retried) == 1 and retried.number.iloc[0] > victim.number
    assert not (frame.state == "RUNNING").any()
    assert "best trial" in out

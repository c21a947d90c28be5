"""Reliability of ``kfkd search`` / ``kfkd plot-search``: bad options,
spaces, storage URLs and resumes give one line and write nothing; a torn
journal, a worker killed by SIGKILL, a driver killed by SIGKILL and a
second Ctrl-C lose nothing and hang nothing.

The table rows run in this process in well under a second each (no data
loads, no Theano compile); the fault tests start real workers (no training:
their space's ``suggest`` kills or stalls the worker before any net is
built).
"""
import json
import os
import signal
import socket
import subprocess
import sys
import time

import optuna
import pandas as pd
import pytest

from kfkd import search
from kfkd.errors import SearchError
from kfkd.fileio import pid_alive

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

TINY_SPACE = '''
FIXED = {"net": "breeze", "max_epochs": 1}
SURFACES = []

def suggest(trial):
    return {"learning_rate": trial.suggest_float("learning_rate", 1e-4, 1e-2,
                                                 log=True)}
'''


def make_file(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def stored_study(out, name="s", seed=0, space="tiny"):
    """A journal study ``out/name`` made by space ``space`` with ``seed``
    and one enqueued trial (what a first ``kfkd search`` leaves)."""
    study_dir = str(out / name)
    storage = search.open_storage(None, study_dir)
    loaded = search.load_space(space)
    study = search.open_study(storage, name, loaded, seed)
    search.reconcile(study, storage, loaded, seed, 1)
    return study_dir


# (id, argv after `search --out OUT`, files to make {name: text}, names)
# OUT is tmp_path/out and must stay absent; {tmp} is tmp_path.
SEARCH_ROWS = [
    ("workers-negative", ["--workers", "-1"], {}, ["--workers", "-1"]),
    ("workers-zero", ["--workers", "0"], {}, ["--workers", "0"]),
    ("devices-comma", ["--devices", ","], {}, ["--devices", "','"]),
    ("devices-empty", ["--devices", ""], {}, ["--devices", "''"]),
    ("devices-empty-slot", ["--devices", "cpu,,cpu"], {},
     ["--devices", "cpu,,cpu"]),
    ("devices-tpu0", ["--devices", "tpu0"], {}, ["--devices", "tpu0"]),
    ("devices-and-workers", ["--devices", "cpu", "--workers", "2"], {},
     ["--devices", "--workers"]),
    ("space-missing", ["--space", "no_such_space"], {},
     ["--space", "no_such_space"]),
    ("space-not-python", ["--space", "{tmp}/space.txt"],
     {"space.txt": "lr = 0.1\n"}, ["--space", "space.txt"]),
    ("space-syntax-error", ["--space", "{tmp}/broken.py"],
     {"broken.py": "def suggest(trial:\n"}, ["--space", "broken.py",
                                              "line 1"]),
    ("space-without-suggest", ["--space", "{tmp}/nosuggest.py"],
     {"nosuggest.py": "FIXED = {}\n"}, ["--space", "nosuggest.py",
                                        "suggest"]),
    ("space-import-fails", ["--space", "{tmp}/imports.py"],
     {"imports.py": "import no_such_module_kfkd\n"},
     ["--space", "imports.py", "no_such_module_kfkd"]),
    ("space-fixed-not-dict", ["--space", "{tmp}/fixed.py"],
     {"fixed.py": "FIXED = [1]\ndef suggest(trial):\n    return {}\n"},
     ["--space", "fixed.py", "FIXED"]),
    ("storage-nonsense", ["--storage", "nonsense://"], {},
     ["--storage", "nonsense"]),
    ("storage-unparsable", ["--storage", "::::"], {}, ["--storage", "::::"]),
    ("storage-postgresql-no-host-no-db", ["--storage", "postgresql://"], {},
     ["--storage", "postgresql://", "database"]),
    ("storage-sqlite-in-memory", ["--storage", "sqlite://"], {},
     ["--storage", "sqlite://"]),
    ("storage-sqlite-missing-folder",
     ["--storage", "sqlite:///{tmp}/nowhere/study.db"], {},
     ["--storage", "nowhere/study.db"]),
    ("storage-unreachable-database",
     ["--storage", "postgresql+psycopg://u:secret@127.0.0.1:1/db"], {},
     ["--storage", "127.0.0.1:1/db"]),
    ("study-name-path", ["--study", "../elsewhere"], {},
     ["--study", "../elsewhere"]),
]


@pytest.mark.parametrize("argv, files, names",
                         [r[1:] for r in SEARCH_ROWS],
                         ids=[r[0] for r in SEARCH_ROWS])
def test_search_refuses_in_one_line_and_writes_nothing(
        kfkd_fails, tmp_path, data_dir, argv, files, names):
    for name, text in files.items():
        make_file(tmp_path, name, text)
    out = tmp_path / "out"
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    started = time.time()
    kfkd_fails(["search", "--out", out, "--data-dir", data_dir] + argv,
               names=names, untouched=[out, tmp_path / "nowhere"])
    assert time.time() - started < 10  # an unreachable database: no hang


def test_unreachable_database_does_not_leak_the_password(kfkd_fails,
                                                         tmp_path):
    line = kfkd_fails(["search", "--out", tmp_path / "out", "--storage",
                       "postgresql+psycopg://u:secret@127.0.0.1:1/db"],
                      names=["--storage"])
    assert "secret" not in line


@pytest.mark.parametrize("change, names", [
    (["--seed", "1"], ["--seed 0", "--seed 1"]),
    (["--space", "default"], ["--space tiny", "--space default"]),
], ids=["other-seed", "other-space"])
def test_resume_with_other_settings_refused(kfkd_fails, tmp_path, data_dir,
                                            change, names):
    study_dir = stored_study(tmp_path / "out")
    argv = ["search", "--out", tmp_path / "out", "--study", "s", "--space",
            "tiny", "--data-dir", data_dir]
    kfkd_fails(argv + change, names=names, untouched=[study_dir])


def test_plot_search_missing_study_creates_nothing(kfkd_fails, tmp_path):
    out = tmp_path / "out"
    kfkd_fails(["plot-search", "--out", out, "--study", "nope"],
               names=["nope", "journal.log"], untouched=[out])
    out.mkdir()
    kfkd_fails(["plot-search", "--out", out, "--study", "nope"],
               names=["nope"], untouched=[out])


PLOT_ROWS = [
    ("storage-nonsense", ["--storage", "nonsense://x"], ["--storage",
                                                        "nonsense"]),
    ("storage-no-database", ["--storage", "postgresql+psycopg://h"],
     ["--storage", "database"]),
    ("storage-unreachable", ["--storage",
                             "postgresql+psycopg://u:p@127.0.0.1:1/db"],
     ["--storage", "127.0.0.1:1/db"]),
    ("study-name-path", ["--study", "a/b"], ["--study", "a/b"]),
]


@pytest.mark.parametrize("argv, names", [r[1:] for r in PLOT_ROWS],
                         ids=[r[0] for r in PLOT_ROWS])
def test_plot_search_refuses_in_one_line(kfkd_fails, tmp_path, argv, names):
    out = tmp_path / "out"
    kfkd_fails(["plot-search", "--out", out] + argv, names=names,
               untouched=[out])


def test_plot_search_other_study_name_in_storage(kfkd_fails, tmp_path):
    db = tmp_path / "studies.db"
    search.open_study(search.open_storage("sqlite:///%s" % db, None), "a",
                      search.load_space("tiny"), 0)
    kfkd_fails(["plot-search", "--out", tmp_path / "out", "--study", "b",
                "--storage", "sqlite:///%s" % db], names=["'b'", "a"],
               untouched=[tmp_path / "out", db])


def test_plot_search_missing_sqlite_file_is_not_created(kfkd_fails,
                                                        tmp_path):
    db = tmp_path / "none.db"
    kfkd_fails(["plot-search", "--study", "s", "--storage",
                "sqlite:///%s" % db], names=["--storage", "none.db"],
               untouched=[db])


def test_suggest_that_fails_is_one_line(kfkd_fails, tmp_path, data_dir):
    space = make_file(tmp_path, "raises.py",
                      "def suggest(trial):\n    return 1 / 0\n")
    line = kfkd_fails(["search", "--out", tmp_path / "out", "--space", space,
                       "--data-dir", data_dir], names=["raises.py",
                                                       "ZeroDivisionError"])
    assert "suggest" in line


def test_parse_devices_and_driver_never_wait_on_no_worker():
    from kfkd.errors import UsageError

    assert search.parse_devices("cpu, cuda1,opencl0:1") == [
        "cpu", "cuda1", "opencl0:1"]
    assert search.parse_devices(None, 1) == ["cpu"]
    for devices, workers in ((None, -1), (None, 0), (",", None),
                             ("", None), ("cudafoo", None)):
        with pytest.raises(UsageError):
            search.parse_devices(devices, workers)
    with pytest.raises(UsageError, match="no device slot"):
        search.Driver(search.load_space("tiny"), "s", 1, [])


# -- the study's journal ----------------------------------------------------------
def test_torn_journal_line_is_moved_aside_and_the_study_resumes(tmp_path,
                                                                capsys):
    study_dir = stored_study(tmp_path)
    path = os.path.join(study_dir, "journal.log")
    with open(path, "rb") as f:
        sound = f.read()
    torn = b'{"op_code":8,"worker_id":"x","trial_id":0,"user_attr":{"a'
    with open(path, "ab") as f:  # a crash mid-write
        f.write(torn)
    capsys.readouterr()
    storage = search.open_storage(None, study_dir)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "journal.log" in err[0] and ".torn" in err[0]
    with open(path, "rb") as f:
        assert f.read() == sound
    with open(path + ".torn", "rb") as f:
        assert f.read() == torn  # nothing lost
    # the study reads and takes new records (before: unreadable for ever)
    study = search.open_study(storage, "s")
    study.set_user_attr("after", 1)
    study.set_user_attr("again", 2)
    again = search.open_study(search.open_storage(None, study_dir), "s")
    assert again.user_attrs["after"] == 1 and again.user_attrs["again"] == 2
    assert len(again.trials) == 1
    assert capsys.readouterr().err == ""  # repaired once, sound since


def test_journal_already_broken_by_later_records_is_recovered(tmp_path,
                                                              capsys):
    """The state a user meets: records appended after the torn one glued
    to it; Optuna cannot read the study at all until it is repaired."""
    study_dir = stored_study(tmp_path)
    path = os.path.join(study_dir, "journal.log")
    with open(path, "rb") as f:
        sound = f.read()
    lines = sound.splitlines(keepends=True)
    with open(path, "ab") as f:
        f.write(b'{"op_code":8,"wor' + lines[-1] + lines[-1])
    backend = optuna.storages.journal.JournalFileBackend(path)
    with pytest.raises(ValueError):
        optuna.storages.JournalStorage(backend)  # unreadable, for ever
    capsys.readouterr()
    study = search.open_study(search.open_storage(None, study_dir), "s")
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "journal.log.torn" in err[0], err
    assert len(study.trials) == 1
    with open(path, "rb") as f:
        assert f.read() == sound
    with open(path + ".torn", "rb") as f:
        assert f.read() == b'{"op_code":8,"wor' + lines[-1] + lines[-1]


def test_journal_record_missing_only_its_newline_is_kept(tmp_path, capsys):
    study_dir = stored_study(tmp_path)
    path = os.path.join(study_dir, "journal.log")
    record = {"op_code": 2, "worker_id": "w", "study_id": 0,  # user attr
              "user_attr": {"kept": True}}
    with open(path, "ab") as f:
        f.write(json.dumps(record).encode())
    capsys.readouterr()
    study = search.open_study(search.open_storage(None, study_dir), "s")
    assert study.user_attrs["kept"] is True
    assert not os.path.exists(path + ".torn")
    assert capsys.readouterr().err == ""


# -- workers: SIGKILL, the driver's death, a second Ctrl-C ----------------------------
KILLED_SPACE = '''
import os, signal
FIXED = {"net": "breeze", "max_epochs": 1}
SURFACES = []

def suggest(trial):
    lr = trial.suggest_float("learning_rate", 1e-4, 1e-2, log=True)
    if "sample_index" in trial.user_attrs:  # in a worker, not the driver
        os.kill(os.getpid(), signal.SIGKILL)  # what the OOM killer does
    return {"learning_rate": lr}
'''

STALLED_SPACE = '''
import time
FIXED = {"net": "breeze", "max_epochs": 1}
SURFACES = []

def suggest(trial):
    lr = trial.suggest_float("learning_rate", 1e-4, 1e-2, log=True)
    if "sample_index" in trial.user_attrs:  # in a worker: a long trial
        time.sleep(600)
    return {"learning_rate": lr}
'''


def search_cmd(out, space, *args):
    return [sys.executable, "-m", "kfkd", "search", "--out", str(out),
            "--space", str(space), "--limit", "100", "--quiet"] + list(args)


def env():
    return dict(os.environ, PYTHONPATH=REPO)


def test_sigkilled_worker_is_retried_twice_then_failed_with_cause(tmp_path):
    space = make_file(tmp_path, "killed.py", KILLED_SPACE)
    proc = subprocess.run(search_cmd(tmp_path, space, "--trials", "1",
                                     "--workers", "1"),
                          capture_output=True, text=True, timeout=300,
                          cwd=REPO, env=env())
    assert proc.returncode == 0, proc.stderr[-2000:]
    frame = pd.read_csv(tmp_path / "killed" / "results.csv")
    assert len(frame) == 3 and (frame.state == "FAIL").all()
    assert (frame.sample_index == 0).all()
    errors = list(frame.sort_values("number").error)
    assert errors[:2] == [
        "worker killed by SIGKILL (signal 9) (attempt %d of 3; queued again)"
        % k for k in (1, 2)]
    assert errors[2] == "worker killed by SIGKILL (signal 9) 3 times"
    assert "Traceback" not in proc.stderr
    # resuming runs nothing more: the configuration is finished (failed)
    again = subprocess.run(search_cmd(tmp_path, space, "--trials", "1",
                                      "--workers", "1"),
                           capture_output=True, text=True, timeout=120,
                           cwd=REPO, env=env())
    assert again.returncode == 0, again.stderr[-2000:]
    assert len(pd.read_csv(tmp_path / "killed" / "results.csv")) == 3


def wait_running(study_dir, name, n, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            study = search.open_study(search.open_storage(
                None, study_dir, create=False), name, create=False)
        except SearchError:  # not made yet
            time.sleep(0.5)
            continue
        running = [t for t in study.trials if t.state.name == "RUNNING"
                   and "pid" in t.user_attrs]
        if len(running) >= n:
            return running
        time.sleep(0.5)
    raise AssertionError("no trial running in %s" % study_dir)


def test_sigkilled_driver_workers_record_and_exit_quietly(tmp_path):
    space = make_file(tmp_path, "stalled.py", STALLED_SPACE)
    driver = subprocess.Popen(
        search_cmd(tmp_path, space, "--trials", "2", "--workers", "2"),
        cwd=REPO, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    study_dir = str(tmp_path / "stalled")
    running = wait_running(study_dir, "stalled", 2)
    driver.kill()
    # the workers hold the pipes: EOF means both let go of them (a worker
    # may close them before it has recorded its trial and exited)
    _, err = driver.communicate(timeout=60)
    assert "Traceback" not in err and "Exception ignored" not in err, err
    deadline = time.monotonic() + 60
    while (any(pid_alive(t.user_attrs["pid"]) for t in running)
           and time.monotonic() < deadline):
        time.sleep(0.1)
    for t in running:
        assert not pid_alive(t.user_attrs["pid"])
    study = search.open_study(search.open_storage(None, study_dir), "stalled")
    states = {t.number: (t.state.name, t.user_attrs.get("error"))
              for t in study.trials}
    for t in running:
        assert states[t.number] == ("FAIL", "interrupted")


def test_second_sigint_while_recording_leaves_no_running_trial(tmp_path):
    space = make_file(tmp_path, "stalled.py", STALLED_SPACE)
    study_dir = str(tmp_path / "stalled")
    storage = search.open_storage(None, study_dir)
    loaded = search.load_space(str(space))
    study = search.open_study(storage, "stalled", loaded, 0)
    search.reconcile(study, storage, loaded, 0, 1)
    worker = subprocess.Popen(
        [sys.executable, "-m", "kfkd.search.worker", "--study", "stalled", "--out",
         str(tmp_path), "--limit", "100"], cwd=REPO, env=env(),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_running(study_dir, "stalled", 1)
    for _ in range(5):  # Ctrl-C, Ctrl-C, ... as an impatient user does
        worker.send_signal(signal.SIGINT)
        time.sleep(0.005)
    _, err = worker.communicate(timeout=60)
    assert worker.returncode == 0, err
    assert "Traceback" not in err and "Exception ignored" not in err, err
    study = search.open_study(search.open_storage(None, study_dir), "stalled")
    assert [(t.state.name, t.user_attrs.get("error"))
            for t in study.trials] == [("FAIL", "interrupted")]


def test_orphaned_running_trial_is_reconciled_by_the_next_run(tmp_path):
    """A worker gone without a word (its trial still RUNNING): the next
    driver fails it as interrupted and queues its configuration again."""
    study_dir = stored_study(tmp_path)
    storage = search.open_storage(None, study_dir)
    study = search.open_study(storage, "s")
    dead = subprocess.run([sys.executable, "-c", "import os; "
                           "print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    trial = search.claim_trial(study, storage, {
        "host": socket.gethostname(), "pid": int(dead), "device": "cpu"})
    assert trial is not None
    space = search.load_space("tiny")
    search.reconcile(study, storage, space, 0, 1)
    trials = search.open_study(storage, "s").trials
    assert [(t.state.name, t.user_attrs.get("error")) for t in trials] == [
        ("FAIL", "interrupted"), ("WAITING", None)]
    assert [t.user_attrs["sample_index"] for t in trials] == [0, 0]

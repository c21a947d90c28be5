"""Shared fixtures: the real data from ../shared/data/kfkd, the models."""
import os

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_DATA_DIR = os.path.join(REPO, "..", "shared", "data", "kfkd")
os.environ.setdefault("KFKD_DATA_DIR", DEFAULT_DATA_DIR)

#: Fixtures that read the real data; a test using one is skipped, with the
#: reason, where the data folder is absent (the fast synthetic tests run).
REAL_DATA_FIXTURES = {"data_dir", "training_data", "first_faces_split",
                      "split", "test_data", "smoke_figures", "tiny_data"}
#: Test files that read ../shared (photos, IMM, notebooks) without a fixture.
REAL_DATA_FILES = {"test_pipeline.py", "test_notebooks.py", "test_poster.py",
                   "test_search.py", "test_augment.py",
                   "test_search_postgres.py"}


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "gpu: needs a CUDA GPU that Theano can activate (skipped "
        "elsewhere with the reason)")


def pytest_collection_modifyitems(config, items):
    if os.path.isdir(os.environ["KFKD_DATA_DIR"]):
        return
    skip = pytest.mark.skip(reason="no real data at %s: put ../shared beside "
                            "the repository or set KFKD_DATA_DIR"
                            % os.environ["KFKD_DATA_DIR"])
    for item in items:
        if (REAL_DATA_FIXTURES & set(getattr(item, "fixturenames", ()))
                or item.path.name in REAL_DATA_FILES):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def data_dir():
    """The Kaggle-format data folder ($KFKD_DATA_DIR, else ../shared/data/kfkd)."""
    return os.environ["KFKD_DATA_DIR"]


@pytest.fixture(scope="session")
def training_data(data_dir):
    """All of training.csv, loaded once (KeypointData, 3146 faces)."""
    from kfkd.data import find_file, load_training
    return load_training(find_file("training.csv", data_dir), verbose=False)


@pytest.fixture(scope="session")
def first_faces_split(training_data):
    """``first_faces_split(n)``: the first ``n`` faces of training.csv split
    80 / 20 by :func:`kfkd.splits.train_val_split` (seed 0) -> (train, val)."""
    from kfkd.splits import train_val_split

    def first_faces(n):
        faces = training_data.subset(slice(0, n))
        tr, va = train_val_split(len(faces), 0.2, seed=0)
        return faces.subset(tr), faces.subset(va)
    return first_faces


@pytest.fixture(scope="session")
def split(data_dir):
    """The default (train, val) split of training.csv."""
    from kfkd.splits import load_split
    return load_split(data_dir, verbose=False)


@pytest.fixture(scope="session")
def test_data(data_dir):
    """All of test.csv (TestData)."""
    from kfkd.data import find_file, load_test
    return load_test(find_file("test.csv", data_dir), verbose=False)


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory, data_dir):
    """A data folder of the first 60 training faces and 4 test faces (with
    their IdLookupTable rows), so that a command reads kilobytes."""
    import pandas as pd
    from kfkd.data import find_file

    folder = tmp_path_factory.mktemp("tiny-data")
    pd.read_csv(find_file("training.csv", data_dir), nrows=60).to_csv(
        folder / "training.csv", index=False)
    test = pd.read_csv(find_file("test.csv", data_dir), nrows=4)
    test.to_csv(folder / "test.csv", index=False)
    lookup = pd.read_csv(find_file("IdLookupTable.csv", data_dir))
    lookup[lookup.ImageId.isin(test.ImageId)].to_csv(
        folder / "IdLookupTable.csv", index=False)
    return str(folder)


@pytest.fixture(scope="session")
def reference_model():
    """The shipped reference model (models/reference, or $KFKD_MODEL)."""
    from kfkd.model import load_model
    return load_model()


@pytest.fixture(scope="session")
def reference_net(reference_model):
    """The shipped model's first single net (a :class:`kfkd.model.Model`:
    ``layer``, ``net``, ``net_params``, ``predict_unit``), whether the
    shipped model is one net, specialists or an ensemble
    (:func:`kfkd.model.single_nets`)."""
    from kfkd.model import single_nets
    return single_nets(reference_model)[0]


@pytest.fixture(scope="session")
def smoke_figures(tmp_path_factory, reference_model, data_dir):
    """Every figure group (kfkd.report.reproduce) with the smoke budget on
    the real data, made once per session: (out folder, manifest,
    {PNG path: bytes}).  tests/test_figures.py checks the data;
    tests/test_notebooks.py redraws the training and search groups from
    it instead of training and searching a second time."""
    import glob

    from kfkd import report
    root = tmp_path_factory.mktemp("figures")
    out = str(root / "figures")
    manifest = report.reproduce(
        out, "smoke", report.GROUPS, data_dir=data_dir,
        model=reference_model, study_dir=str(root / "no-study"),
        runs_dir=str(root / "runs"), verbose=False)
    pngs = {}
    for path in glob.glob(os.path.join(out, "**", "*.png"), recursive=True):
        with open(path, "rb") as f:
            pngs[path] = f.read()
    return out, manifest, pngs


def _snapshot(paths):
    """{path: bytes} of every file at or below ``paths`` (None: absent)."""
    import hashlib
    state = {}
    for top in paths:
        top = str(top)
        if os.path.isdir(top):
            for root, dirs, files in os.walk(top):
                state[root] = "dir"
                for name in files:
                    full = os.path.join(root, name)
                    with open(full, "rb") as f:
                        state[full] = hashlib.sha256(f.read()).hexdigest()
        elif os.path.exists(top):
            with open(top, "rb") as f:
                state[top] = hashlib.sha256(f.read()).hexdigest()
        else:
            state[top] = None
    return state


@pytest.fixture
def kfkd_fails(capsys):
    """``kfkd_fails(argv, names=(), untouched=())``: run ``kfkd ARGV`` in
    this process and assert the reliability contract of a user error:

    * exit status 2;
    * exactly one non-blank line on stderr, ``kfkd CMD: error: ...``, that
      contains every string of ``names`` (the file, option, row, column or
      value at fault);
    * every path of ``untouched`` (files or folders; absent ones must stay
      absent) is byte for byte as it was: no output written, nothing lost.

    Returns the error line.
    """
    from kfkd import cli

    def run(argv, names=(), untouched=()):
        argv = [str(a) for a in argv]
        before = _snapshot(untouched)
        capsys.readouterr()
        try:
            status = cli.main(argv)
        except SystemExit as e:  # argparse's own exit
            status = e.code
        captured = capsys.readouterr()
        lines = [l for l in captured.err.splitlines() if l.strip()]
        assert status == 2, "kfkd %s: exit %r, stderr %r" % (
            " ".join(argv), status, captured.err)
        assert len(lines) == 1, "kfkd %s: not one line: %r" % (
            " ".join(argv), captured.err)
        line = lines[0]
        assert line.startswith("kfkd %s: error: " % argv[0]), line
        for name in names:
            assert str(name) in line, "%r not named in %r" % (name, line)
        assert _snapshot(untouched) == before, (
            "kfkd %s changed %s" % (" ".join(argv), untouched))
        return line
    return run


# -- a throwaway PostgreSQL server -------------------------------------------------
#: Where Debian's postgresql package puts the server programs.
POSTGRES_BIN_GLOB = "/usr/lib/postgresql/*/bin"


def _postgres_bin():
    """The folder of initdb and postgres (the newest Debian one, else PATH),
    or None."""
    import glob
    import shutil
    folders = sorted(glob.glob(POSTGRES_BIN_GLOB),
                     key=lambda p: int(p.split("/")[-2]) if
                     p.split("/")[-2].isdigit() else 0)
    for folder in reversed(folders):
        if os.access(os.path.join(folder, "initdb"), os.X_OK):
            return folder
    found = shutil.which("initdb")
    return os.path.dirname(found) if found else None


def _server_user():
    """(uid, gid) to run the server as: postgres refuses to run as root, so
    as root the ``postgres`` account (made by the package), else nobody."""
    import pwd
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        return entry.pw_uid, entry.pw_gid
    pytest.fail("running as root with neither a postgres nor a nobody "
                "account to run the PostgreSQL server as")


def _free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_ready(conninfo, server, log, timeout=60):
    """Connect until the server answers; fail with its log if it died."""
    import time
    import psycopg
    deadline = time.time() + timeout
    while True:
        try:
            with psycopg.connect(conninfo, autocommit=True,
                                 connect_timeout=2) as conn:
                conn.execute("CREATE DATABASE kfkd")
            return
        except psycopg.OperationalError:
            if server.poll() is not None or time.time() > deadline:
                with open(log) as f:
                    pytest.fail("the PostgreSQL server did not start:\n"
                                + f.read()[-2000:])
            time.sleep(0.2)


@pytest.fixture(scope="session")
def postgres_url():
    """A PostgreSQL server of Debian's ``postgresql`` package (15 here),
    started for this session on 127.0.0.1 at a free port in a temporary
    folder (under the ``postgres`` account when the tests run as root),
    with password authentication and an empty database ``kfkd``; stopped
    and deleted afterwards, whatever happens.  Yields the SQLAlchemy URL
    ``postgresql+psycopg://kfkd:PASSWORD@127.0.0.1:PORT/kfkd``.  Skipped
    (one line) only where the server programs are not installed
    (scripts/setup.sh installs them)."""
    import shutil
    import signal
    import subprocess
    import tempfile
    bin_dir = _postgres_bin()
    if bin_dir is None:
        pytest.skip("no PostgreSQL server (initdb): apt-get install "
                    "postgresql, or run scripts/setup.sh as root")
    user = _server_user()
    as_user = {} if user is None else {"user": user[0], "group": user[1],
                                      "extra_groups": []}
    root = tempfile.mkdtemp(prefix="kfkd-postgres-")
    server = None
    try:
        with open(os.path.join(root, "pw"), "w") as f:
            f.write("kfkd-test-pw\n")
        if user is not None:
            for path in (root, os.path.join(root, "pw")):
                os.chown(path, *user)
        data, log = os.path.join(root, "data"), os.path.join(root, "log")
        subprocess.run([os.path.join(bin_dir, "initdb"), "-D", data, "-U",
                        "kfkd", "--pwfile", os.path.join(root, "pw"), "-A",
                        "scram-sha-256", "-E", "UTF8", "--locale", "C",
                        "--no-sync"], check=True, capture_output=True,
                       **as_user)
        port = _free_port()
        with open(log, "w") as out:
            if user is not None:
                os.chown(log, *user)
            server = subprocess.Popen(
                [os.path.join(bin_dir, "postgres"), "-D", data, "-p",
                 str(port), "-h", "127.0.0.1", "-k", root, "-F", "-c",
                 "full_page_writes=off", "-c", "synchronous_commit=off"],
                stdout=out, stderr=subprocess.STDOUT, **as_user)
        auth = "kfkd:kfkd-test-pw@127.0.0.1:%d" % port
        _wait_ready("postgresql://%s/postgres" % auth, server, log)
        yield "postgresql+psycopg://%s/kfkd" % auth
    finally:
        if server is not None and server.poll() is None:
            server.send_signal(signal.SIGINT)  # "fast" shutdown
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        shutil.rmtree(root, ignore_errors=True)

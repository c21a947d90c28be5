"""Shared fixtures: the real data from ../shared/data/kfkd, the models."""
import os

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_DATA_DIR = os.path.join(REPO, "..", "shared", "data", "kfkd")
os.environ.setdefault("KFKD_DATA_DIR", DEFAULT_DATA_DIR)


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
    80 / 20 by :func:`kfkd.data.train_val_split` (seed 0) -> (train, val)."""
    from kfkd.data import train_val_split

    def first_faces(n):
        faces = training_data.subset(slice(0, n))
        tr, va = train_val_split(len(faces), 0.2, seed=0)
        return faces.subset(tr), faces.subset(va)
    return first_faces


@pytest.fixture(scope="session")
def split(data_dir):
    """The default (train, val) split of training.csv."""
    from kfkd.data import load_split
    return load_split(data_dir, verbose=False)


@pytest.fixture(scope="session")
def test_data(data_dir):
    """All of test.csv (TestData)."""
    from kfkd.data import find_file, load_test
    return load_test(find_file("test.csv", data_dir), verbose=False)


@pytest.fixture(scope="session")
def reference_model():
    """The shipped reference model (models/reference, or $KFKD_MODEL)."""
    from kfkd.model import load_model
    return load_model()

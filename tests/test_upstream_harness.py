"""The upstream step's harness (tests/upstream/lasagne_upstream.py) and the
CPython 3.11 scan build (kfkd/compat_scan.py), without compiling anything:
Lasagne 0.1's own suite runs them for real (scripts/upstream_tests.sh)."""
import importlib.util
import os
import sys

import pytest

from kfkd import compat_scan
from kfkd.compat import lasagne, theano

import theano.tensor as T  # noqa: E402  (after compat)

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture(scope="module")
def harness():
    spec = importlib.util.spec_from_file_location(
        "kfkd_upstream_harness",
        os.path.join(HERE, "upstream", "lasagne_upstream.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_layer_substitution_swaps_both_homes_and_is_undone(harness,
                                                           monkeypatch):
    stock = lasagne.layers.MaxPool2DLayer

    class Probe(stock):
        pass

    name, module, cls = harness.parse_substitution(
        "MaxPool2DLayer=lasagne.layers.pool:MaxPool2DLayer")
    assert harness._resolve(module + ":" + cls) is stock
    harness.substitute_layer(monkeypatch, name, Probe)
    # where upstream's test_pool.py imports it from, and the package's name
    from lasagne.layers.pool import MaxPool2DLayer
    assert MaxPool2DLayer is Probe and lasagne.layers.MaxPool2DLayer is Probe
    layer = MaxPool2DLayer((None, 1, 4, 4), pool_size=2)
    assert isinstance(layer, Probe) and layer.output_shape == (None, 1, 2, 2)
    monkeypatch.undo()
    from lasagne.layers.pool import MaxPool2DLayer
    assert MaxPool2DLayer is stock and lasagne.layers.MaxPool2DLayer is stock
    assert sys.modules["lasagne.layers.pool"] is lasagne.layers.pool
    assert lasagne.layers.pool.Pool2DLayer.__module__ == "lasagne.layers.pool"


@pytest.mark.parametrize("text", ["MaxPool2DLayer", "MaxPool2DLayer=kfkd",
                                  "=kfkd.ops:Pool", "X=kfkd.ops:"])
def test_bad_substitution_is_a_usage_error(harness, text):
    with pytest.raises(pytest.UsageError, match="NAME=module:Class"):
        harness.parse_substitution(text)


def test_substituting_an_unknown_layer_is_a_usage_error(harness, monkeypatch):
    with pytest.raises(pytest.UsageError, match="no class 'NoSuchLayer'"):
        harness.substitute_layer(monkeypatch, "NoSuchLayer", object)


def test_expected_failures_each_have_a_reason(harness):
    entries = harness.load_expected_failures()
    assert entries, "the list explains the known failures; it is not empty"
    for pattern, reason in entries.items():
        assert ".py::" in pattern and len(reason) > 20, (pattern, reason)


def test_expected_failure_line_without_reason_names_file_and_line(
        harness, tmp_path):
    path = tmp_path / "expected.txt"
    path.write_text("# comment\n\nlayers/test_pool.py::test_x -- why\n"
                    "layers/test_pool.py::test_y\n")
    with pytest.raises(pytest.UsageError, match=r"expected\.txt:4: expected"):
        harness.load_expected_failures(str(path))


def test_theano_07_names_for_the_tests_only(harness, monkeypatch):
    harness.install_test_only_names(monkeypatch)
    from theano.scan_module.scan_utils import equal_computations
    x = T.matrix("x")
    assert theano.gof.graph.is_same_graph(x.mean(), x.mean())
    assert not theano.gof.graph.is_same_graph(x.mean(), x.sum())
    assert equal_computations([x * 2], [x * 2])
    assert theano.Variable is theano.graph.basic.Variable
    monkeypatch.undo()
    assert "theano.scan_module" not in sys.modules
    assert not hasattr(theano, "Variable")


def test_scan_source_patches_apply_once_to_the_shipped_file():
    path = os.path.join(os.path.dirname(theano.__file__), "scan", "c_code",
                        "scan_perform.c")
    with open(path) as f:
        text = f.read()
    patched = compat_scan.patched_source(text)
    for old, new in compat_scan.PATCHES:
        assert old not in patched and patched.count(new) == 1
    with pytest.raises(RuntimeError, match="occurs 2 times"):
        compat_scan.patched_source(text + compat_scan.PATCHES[1][0])


def test_scan_build_is_hooked_before_theano_imports_its_extension():
    hooked = any(isinstance(f, compat_scan._BuildBeforeImport)
                 for f in sys.meta_path)
    imported = "theano.scan.scan_perform_ext" in sys.modules
    assert compat_scan.needed() == (sys.version_info >= (3, 11))
    assert hooked or imported or not compat_scan.needed()
    # the version Theano checks, written beside the module build() compiles
    assert compat_scan._expected_version() == "0.298"  # theano-pymc 1.1.2

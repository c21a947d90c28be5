"""pytest plugin: Lasagne 0.1's own test suite, run against kfkd.compat.

Loaded by ``scripts/upstream_tests.sh`` (``-p lasagne_upstream``), which
fetches the tests from Lasagne 0.1's PyPI sdist (``lasagne/tests/``, 21
test files; sha256 pinned in the script).  This plugin

1. imports :mod:`kfkd.compat` before any test module, so ``import lasagne``
   in the tests is the *installed* Lasagne 0.1, patched for theano-pymc
   1.1.2 exactly as kfkd runs it (the header names the file; a ``lasagne``
   imported from the sdist's own copy is refused);
2. restores the few Theano-0.7 names that only the *test files* use (:data:`TEST_ONLY_NAMES`); the package's shims stay in
   ``kfkd/compat.py``;
3. marks the known failures of ``tests/upstream/expected_failures.txt`` as
   ``xfail(strict=True)``, so a known failure is reported with its reason
   and a fix shows up as a failing XPASS (then delete its line);
4. optionally swaps Lasagne layer classes for others (``--lasagne-layer
   NAME=module:Class``, repeatable), so that upstream's layer tests can be
   pointed at kfkd's own layers: ``lasagne.layers.NAME`` and the name in
   the module that defines it, where the tests import it from (e.g.
   ``from lasagne.layers.pool import MaxPool2DLayer``), both become the
   given class (:func:`substitute_layer`).

Examples
--------
Upstream's pooling tests against kfkd's C-op max-pool (any class with
Lasagne's ``MaxPool2DLayer`` constructor; the script's pass 2 does this)::

    scripts/upstream_tests.sh layers/test_pool.py \\
        --lasagne-layer MaxPool2DLayer=kfkd.layers:ArgmaxPool2DLayer

>>> parse_substitution("MaxPool2DLayer=lasagne.layers.pool:MaxPool2DLayer")
('MaxPool2DLayer', 'lasagne.layers.pool', 'MaxPool2DLayer')
"""
import fnmatch
import importlib
import os
import sys
import types

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
EXPECTED_FAILURES = os.path.join(HERE, "expected_failures.txt")

#: Names only upstream's test files use, and what provides them now:
#: ``(module, attribute, provider)`` with provider ``"module:attr"``.
TEST_ONLY_NAMES = (
    ("theano", "Variable", "theano.graph.basic:Variable"),
    ("theano.gof.graph", "is_same_graph", "theano.graph.toolbox:is_same_graph"),
    ("theano.scan_module.scan_utils", "equal_computations",
     "theano.graph.basic:equal_computations"),
)


def _resolve(spec):
    module, _, attr = spec.partition(":")
    obj = importlib.import_module(module)
    return getattr(obj, attr) if attr else obj


def install_test_only_names(mp):
    """Provide :data:`TEST_ONLY_NAMES` (after kfkd.compat).

    Parameters
    ----------
    mp : pytest.MonkeyPatch
        Records each change (``mp.undo()`` takes them back).
    """
    for module, attr, provider in TEST_ONLY_NAMES:
        parts = module.split(".")
        for depth in range(2, len(parts) + 1):
            name = ".".join(parts[:depth])
            if name not in sys.modules:
                mp.setitem(sys.modules, name, types.ModuleType(
                    name, "kfkd upstream-test harness: Theano 0.7 name"))
            mp.setattr(sys.modules[".".join(parts[:depth - 1])],
                       parts[depth - 1], sys.modules[name], raising=False)
        mp.setattr(sys.modules[module], attr, _resolve(provider),
                   raising=False)


def parse_substitution(text):
    """``'NAME=module:Class'`` -> ``(NAME, module, Class)``.

    Raises
    ------
    pytest.UsageError
        Not of that form.
    """
    name, sep, target = text.partition("=")
    module, colon, cls = target.partition(":")
    if not (sep and colon and name and module and cls):
        raise pytest.UsageError(
            "--lasagne-layer %r: expected NAME=module:Class, e.g. "
            "MaxPool2DLayer=kfkd.layers:ArgmaxPool2DLayer" % text)
    return name, module, cls


def substitute_layer(mp, name, replacement):
    """Make ``lasagne.layers.<name>`` ``replacement``, where tests import it.

    Upstream's tests import layer classes from their defining modules inside
    the tests (``from lasagne.layers.pool import MaxPool2DLayer``).  That
    module is not edited: Lasagne 0.1's own classes call
    ``super(MaxPool2DLayer, self)`` through its globals, so a replacement
    that subclasses the stock class would recurse into itself.  Instead
    ``sys.modules`` and ``lasagne.layers`` get a copy of the module whose
    ``name`` is ``replacement``; ``lasagne.layers.<name>`` is swapped too.

    Parameters
    ----------
    mp : pytest.MonkeyPatch
        Records the swap (``mp.undo()`` takes it back).
    name : str
        A class in ``lasagne.layers``, e.g. ``'MaxPool2DLayer'``.
    replacement : type
        The class the tests should construct instead.

    Raises
    ------
    pytest.UsageError
        ``lasagne.layers`` has no class ``name``.
    """
    import lasagne.layers
    original = getattr(lasagne.layers, name, None)
    if not isinstance(original, type):
        raise pytest.UsageError("--lasagne-layer: lasagne.layers has no "
                                "class %r" % name)
    home = sys.modules[original.__module__]
    if not getattr(home, "_kfkd_view", False):
        view = types.ModuleType(home.__name__, home.__doc__)
        view.__dict__.update(home.__dict__)
        view._kfkd_view = True
        mp.setitem(sys.modules, home.__name__, view)
        mp.setattr(lasagne.layers, home.__name__.rpartition(".")[2], view)
        home = view
    mp.setattr(home, name, replacement)
    mp.setattr(lasagne.layers, name, replacement)


def load_expected_failures(path=EXPECTED_FAILURES):
    """The expected-failure list: ``{test id pattern: reason}``.

    Each non-blank, non-``#`` line is ``<pattern> -- <reason>``; the pattern
    (``fnmatch``) matches test ids relative to ``lasagne/tests``, e.g.
    ``layers/test_pool.py::test_x[*]``.

    Raises
    ------
    pytest.UsageError
        A line without a reason (file and line number named).
    """
    entries = {}
    with open(path) as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            pattern, sep, reason = line.partition(" -- ")
            if not (sep and pattern.strip() and reason.strip()):
                raise pytest.UsageError(
                    "%s:%d: expected '<test id pattern> -- <reason>'"
                    % (path, number))
            entries[pattern.strip()] = reason.strip()
    return entries


#: This session's changes to Theano and Lasagne (undone at its end).
_PATCHES = pytest.MonkeyPatch()


def pytest_unconfigure(config):
    _PATCHES.undo()


def pytest_addoption(parser):
    parser.addoption(
        "--lasagne-layer", action="append", default=[], metavar="NAME=MOD:CLS",
        help="run upstream's tests with lasagne.layers.NAME replaced by "
             "MOD.CLS (repeatable)")


def pytest_load_initial_conftests(early_config, parser, args):
    """Before upstream's conftests (``layers/conftest.py`` imports mock)."""
    from kfkd import compat  # noqa: F401  (theano + Lasagne shims first)
    install_test_only_names(_PATCHES)


def pytest_configure(config):
    import lasagne
    config._kfkd_subs = []
    for text in config.getoption("lasagne_layer"):
        name, module, cls = parse_substitution(text)
        substitute_layer(_PATCHES, name, _resolve(module + ":" + cls))
        config._kfkd_subs.append(text)
    config._kfkd_expected = load_expected_failures()
    config._kfkd_lasagne = lasagne.__file__


def pytest_report_header(config):
    return ["kfkd upstream harness: lasagne from %s" % config._kfkd_lasagne,
            "  %d expected failures (%s), layer substitutions: %s" % (
                len(config._kfkd_expected),
                os.path.relpath(EXPECTED_FAILURES, os.path.dirname(
                    os.path.dirname(HERE))),
                ", ".join(config._kfkd_subs) or "none")]


_TESTS = os.sep + os.path.join("lasagne", "tests") + os.sep


def _test_id(item):
    """``item``'s id relative to the ``lasagne/tests`` folder."""
    path = str(item.path).rpartition(_TESTS)[2].replace(os.sep, "/")
    return path + item.nodeid[item.nodeid.index("::"):]


def pytest_collection_modifyitems(config, items):
    for item in items[:1]:
        sdist_lasagne = str(item.path).rpartition(_TESTS)[0] + \
            os.sep + "lasagne"
        if os.path.dirname(config._kfkd_lasagne) == sdist_lasagne:
            raise pytest.UsageError(
                "lasagne was imported from the sdist (%s), not the installed "
                "package: do not run from the sdist's folder" % sdist_lasagne)
    config._kfkd_marked = {}
    files = set()
    for item in items:
        test_id = _test_id(item)
        files.add(test_id.partition("::")[0])
        for pattern, reason in config._kfkd_expected.items():
            if fnmatch.fnmatchcase(test_id, pattern):
                item.add_marker(pytest.mark.xfail(reason=reason, strict=True))
                config._kfkd_marked[test_id] = reason
                break
    config._kfkd_stale = [
        p for p in config._kfkd_expected if p.partition("::")[0] in files
        and not any(fnmatch.fnmatchcase(t, p) for t in config._kfkd_marked)]


def pytest_terminal_summary(terminalreporter, config):
    marked = getattr(config, "_kfkd_marked", {})
    write = terminalreporter.write_line
    terminalreporter.section("kfkd: expected upstream failures")
    if not marked:
        write("none collected")
    for reason in sorted(set(marked.values())):
        ids = sorted(t for t, r in marked.items() if r == reason)
        write("%d x %s" % (len(ids), reason))
        for test_id in ids:
            write("    " + test_id)
    for pattern in getattr(config, "_kfkd_stale", []):
        write("listed but not collected (stale line?): " + pattern,
              yellow=True)

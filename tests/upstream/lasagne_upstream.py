"""pytest plugin: Lasagne 0.1's own test suite, run against kfkd.compat.

Loaded by ``scripts/upstream_tests.sh`` (``-p lasagne_upstream``), which
fetches the tests from Lasagne 0.1's PyPI sdist (``lasagne/tests/``, 23
files; sha256 pinned in the script).  This plugin

1. imports :mod:`kfkd.compat` before any test module, so ``import lasagne``
   in the tests is the *installed* Lasagne 0.1, patched for theano-pymc
   1.1.2 exactly as kfkd runs it (the header names the file; a ``lasagne``
   imported from the sdist's own copy is refused);
2. restores the few Theano-0.7 and Python-2-era names that only the *test
   files* use (:data:`TEST_ONLY_NAMES`); the package's shims stay in
   ``kfkd/compat.py``;
3. marks the known failures of ``tests/upstream/expected_failures.txt`` as
   ``xfail(strict=True)``, so a known failure is reported with its reason
   and a fix shows up as a failing XPASS (then delete its line);
4. optionally swaps Lasagne layer classes for others (``--lasagne-layer
   NAME=module:Class``, repeatable), so that upstream's layer tests can be
   pointed at kfkd's own layers: ``lasagne.layers.NAME`` and the attribute
   of the module that defines it (where the tests import it from, e.g.
   ``lasagne.layers.pool.MaxPool2DLayer``) both become the given class.

Examples
--------
Upstream's pooling tests against another max-pool layer (any class with
Lasagne's ``MaxPool2DLayer`` constructor)::

    scripts/upstream_tests.sh layers/test_pool.py \\
        --lasagne-layer MaxPool2DLayer=kfkd.ops.pool:MaxPool2DLayer

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


def install_test_only_names():
    """Provide :data:`TEST_ONLY_NAMES` (idempotent); after kfkd.compat."""
    for module, attr, provider in TEST_ONLY_NAMES:
        value = _resolve(provider)
        parts = module.split(".")
        for depth in range(1, len(parts) + 1):
            name = ".".join(parts[:depth])
            if name not in sys.modules:
                sys.modules[name] = types.ModuleType(
                    name, "kfkd upstream-test harness: Theano 0.7 name")
            if depth > 1:
                setattr(sys.modules[".".join(parts[:depth - 1])],
                        parts[depth - 1], sys.modules[name])
        setattr(sys.modules[module], attr, value)


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
            "MaxPool2DLayer=kfkd.ops.pool:MaxPool2DLayer" % text)
    return name, module, cls


def substitute_layer(name, replacement):
    """Make ``lasagne.layers.<name>`` (and its defining module's) ``replacement``.

    Parameters
    ----------
    name : str
        A class in ``lasagne.layers``, e.g. ``'MaxPool2DLayer'``.
    replacement : type
        The class the tests should construct instead.

    Returns
    -------
    callable
        Undoes the swap.

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
    homes = [lasagne.layers, sys.modules[original.__module__]]
    for home in homes:
        setattr(home, name, replacement)
    return lambda: [setattr(home, name, original) for home in homes]


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


def pytest_addoption(parser):
    parser.addoption(
        "--lasagne-layer", action="append", default=[], metavar="NAME=MOD:CLS",
        help="run upstream's tests with lasagne.layers.NAME replaced by "
             "MOD.CLS (repeatable)")


def pytest_load_initial_conftests(early_config, parser, args):
    """Before upstream's conftests (``layers/conftest.py`` imports mock)."""
    from kfkd import compat  # noqa: F401  (theano + Lasagne shims first)
    install_test_only_names()


def pytest_configure(config):
    import lasagne
    config._kfkd_subs = []
    for text in config.getoption("lasagne_layer"):
        name, module, cls = parse_substitution(text)
        substitute_layer(name, _resolve(module + ":" + cls))
        config._kfkd_subs.append(text)
    config._kfkd_expected = load_expected_failures()
    config._kfkd_lasagne = lasagne.__file__


def pytest_report_header(config):
    return ["kfkd upstream harness: lasagne from %s" % config._kfkd_lasagne,
            "  %d expected failures (%s), layer substitutions: %s" % (
                len(config._kfkd_expected),
                os.path.relpath(EXPECTED_FAILURES),
                ", ".join(config._kfkd_subs) or "none")]


def _test_id(item):
    """``item``'s id relative to the ``lasagne/tests`` folder."""
    parts = str(item.path).replace(os.sep, "/").split("/lasagne/tests/")
    return parts[-1] + item.nodeid[item.nodeid.index("::"):]


def pytest_collection_modifyitems(config, items):
    for item in items[:1]:
        tests_dir = str(item.path).split(os.sep + "tests" + os.sep)[0]
        if os.path.dirname(config._kfkd_lasagne) == tests_dir:
            raise pytest.UsageError(
                "lasagne was imported from the sdist (%s), not the installed "
                "package: do not run from the sdist's folder" % tests_dir)
    config._kfkd_marked = {}
    for item in items:
        test_id = _test_id(item)
        for pattern, reason in config._kfkd_expected.items():
            if fnmatch.fnmatchcase(test_id, pattern):
                item.add_marker(pytest.mark.xfail(reason=reason, strict=True))
                config._kfkd_marked[test_id] = reason
                break


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

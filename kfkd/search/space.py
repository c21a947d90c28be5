"""Search spaces: what a random search samples.

A **search space** is a Python file with

* ``suggest(trial) -> config``: one configuration (flat keys as in
  :meth:`kfkd.config.TrainingConfig.from_flat`), written against Optuna's
  define-by-run API;
* ``FIXED``: a dict of settings shared by every trial;
* ``SURFACES``: the pairs of configuration keys whose validation-RMSE
  surface is plotted;
* ``LOG_KEYS``: the configuration keys that ``suggest`` samples
  log-uniformly (plotted on log axes) -- the one declaration of them;
* ``RUNGS`` (optional): the epoch schedule of successive halving, a dict
  ``{"min_epochs": 1, "reduction_factor": 3, "max_epochs": 9}``
  (:class:`kfkd.search.fidelity.Rungs`); without it trials run their
  ``max_epochs`` and nothing is pruned.

The spaces shipped with kfkd live in :mod:`kfkd.search.spaces` and are found
by name (``--space tiny``); any other space is loaded from an explicit path
(``--space path/to/space.py``).
"""
import importlib.util
import os

import optuna

from ..errors import SearchError
from .fidelity import Rungs

__all__ = ["SPACES_DIR", "SearchSpace", "load_space", "space_names",
           "log_uniform_or_zero", "sample_configs", "study_space"]

#: Folder of the named search spaces (the :mod:`kfkd.search.spaces` package).
SPACES_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                          "spaces")


class SearchSpace(object):
    """A search space loaded from a file (see :func:`load_space`).

    Attributes
    ----------
    name : str
    path : str
    suggest : callable ``(optuna.trial.BaseTrial) -> dict``
        Samples one configuration (flat keys as in
        :meth:`kfkd.config.TrainingConfig.from_flat`).
    fixed : dict
        Settings shared by every trial.
    surfaces : list of (str, str)
        Pairs of configuration keys to plot RMSE over.
    log_keys : frozenset of str
        Configuration keys sampled log-uniformly (the space's ``LOG_KEYS``).
    rungs : kfkd.search.fidelity.Rungs or None
        The space's ``RUNGS``: None prunes nothing.
    """

    def __init__(self, name, path, suggest, fixed, surfaces, log_keys=(),
                 rungs=None):
        self.name, self.path, self.suggest = name, path, suggest
        self.fixed, self.surfaces = dict(fixed), list(surfaces)
        self.log_keys, self.rungs = frozenset(log_keys), rungs

    def config(self, trial):
        """The full configuration of ``trial``: ``fixed`` updated by ``suggest``."""
        config = dict(self.fixed)
        config.update(self.suggest(trial))
        return config


def space_names():
    """Names of the search spaces shipped in :mod:`kfkd.search.spaces`."""
    return sorted(f[:-3] for f in os.listdir(SPACES_DIR)
                  if f.endswith(".py") and not f.startswith("_"))


def _space_file(name_or_path):
    """The file of a space given by path, else by name; checked to be .py."""
    path = name_or_path
    if not os.path.isfile(path):
        path = os.path.join(SPACES_DIR, name_or_path + ".py")
    if not os.path.isfile(path):
        raise FileNotFoundError("search space %r (--space): no such file; "
                                "named spaces: %s"
                                % (name_or_path, ", ".join(space_names())))
    if not path.endswith(".py"):
        raise SearchError("search space %s (--space): not a Python file (a "
                          "space is a .py file with suggest(trial))" % path)
    return path


def _run_space_file(path, name):
    """Execute a space file as a module; its failures are SearchErrors."""
    spec = importlib.util.spec_from_file_location("kfkd_space_" + name, path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except SyntaxError as e:
        raise SearchError("search space %s (--space): syntax error at line "
                          "%s: %s" % (path, e.lineno, e.msg)) from None
    except Exception as e:  # the user's code: any failure is the file's
        raise SearchError("search space %s (--space) does not load: %s: %s"
                          % (path, type(e).__name__, e)) from None
    return module


def _checked_attributes(module, path):
    """(suggest, FIXED, SURFACES, LOG_KEYS, RUNGS) of a space module,
    checked."""
    if not callable(getattr(module, "suggest", None)):
        raise SearchError("search space %s (--space): no suggest(trial) "
                          "function" % path)
    fixed = getattr(module, "FIXED", {})
    surfaces = getattr(module, "SURFACES", [])
    log_keys = getattr(module, "LOG_KEYS", ())
    if not isinstance(fixed, dict):
        raise SearchError("search space %s (--space): FIXED must be a dict, "
                          "not %s" % (path, type(fixed).__name__))
    if not (isinstance(surfaces, (list, tuple))
            and all(isinstance(p, (list, tuple)) and len(p) == 2
                    for p in surfaces)):
        raise SearchError("search space %s (--space): SURFACES must be a "
                          "list of (key, key) pairs" % path)
    if not (isinstance(log_keys, (list, tuple, set, frozenset))
            and all(isinstance(k, str) for k in log_keys)):
        raise SearchError("search space %s (--space): LOG_KEYS must be a "
                          "list of configuration keys" % path)
    rungs = getattr(module, "RUNGS", None)
    if rungs is not None:
        try:
            rungs = Rungs.from_dict(rungs)
        except SearchError as e:
            raise SearchError("search space %s (--space): RUNGS: %s"
                              % (path, str(e)[len("rungs: "):])) from None
    return module.suggest, fixed, surfaces, log_keys, rungs


def load_space(name_or_path):
    """Load a search space by path, or by name from :mod:`kfkd.search.spaces`.

    Parameters
    ----------
    name_or_path : str
        A path to a ``.py`` file, or the name of a shipped space
        (``default``, ``tiny``).

    Returns
    -------
    SearchSpace

    Raises
    ------
    FileNotFoundError
        No such space; the message lists the named spaces.
    kfkd.errors.SearchError
        The file is not a ``.py`` file, does not run (syntax error, failing
        import), has no ``suggest`` function, or a ``FIXED`` that is not a
        dict, ``SURFACES`` that are not pairs of keys, ``LOG_KEYS`` that
        are not keys or ``RUNGS`` that are not a valid schedule.
    """
    path = _space_file(name_or_path)
    name = os.path.splitext(os.path.basename(path))[0]
    module = _run_space_file(path, name)
    return SearchSpace(name, os.path.abspath(path),
                       *_checked_attributes(module, path))


def log_uniform_or_zero(trial, name, low, high, p_zero=0.25):
    """Sample ``name`` log-uniformly in [low, high], or exactly 0.

    With probability ``p_zero`` the value is 0 (the term switched off).
    Optuna records ``name + '_on'`` (bool) and, when on, ``name``.

    Returns
    -------
    float
    """
    on = trial.suggest_float(name + "_on", 0.0, 1.0) >= p_zero
    if not on:
        return 0.0
    return trial.suggest_float(name, low, high, log=True)


def sample_configs(space, seed, n):
    """The first ``n`` parameter sets of the random search, reproducibly.

    Samples with Optuna's :class:`~optuna.samplers.RandomSampler` seeded by
    ``seed`` in a throwaway in-memory study, so the k-th parameter set depends
    only on (space, seed, k).

    Returns
    -------
    list of dict
        Optuna parameter dicts (``trial.params``), ready for
        :meth:`optuna.study.Study.enqueue_trial`.

    Raises
    ------
    kfkd.errors.SearchError
        The space's ``suggest`` fails or returns something else than a dict.
    """
    scratch = optuna.create_study(
        sampler=optuna.samplers.RandomSampler(seed=seed))
    params = []
    for _ in range(n):
        trial = scratch.ask()
        try:
            config = space.suggest(trial)
        except Exception as e:  # the user's code
            raise SearchError("search space %s: suggest(trial) fails: %s: %s"
                              % (space.path, type(e).__name__, e)) from None
        if not isinstance(config, dict):
            raise SearchError("search space %s: suggest(trial) returned %s, "
                              "not a dict" % (space.path,
                                              type(config).__name__))
        params.append(dict(trial.params))
        scratch.tell(trial, 0.0)
    return params


def study_space(study):
    """The search space a study was made with (its ``space`` user attribute;
    by name when the path is from another machine or has moved).

    Raises
    ------
    kfkd.errors.SearchError
        The study records no space.
    FileNotFoundError
        Neither the path nor the named space exists here.
    """
    attrs = study.user_attrs
    if "space" not in attrs:
        raise SearchError("study %r records no search space (not made by "
                          "kfkd search)" % study.study_name)
    try:
        return load_space(attrs["space"])
    except FileNotFoundError:
        return load_space(attrs.get("space_name", attrs["space"]))

"""A search's response surfaces and hyperparameter importances (no Theano,
no matplotlib): what :mod:`kfkd.search.plots` draws and ``best.json`` keeps.

* every setting is placed on the axis it was sampled on
  (:func:`surface_axis_values`): log10 for the space's ``LOG_KEYS``,
  categories as 0, 1, 2, ...;
* :class:`ResponseSurface` fits validation RMSE over two settings of the
  completed trials by Gaussian-process regression (Rasmussen & Williams
  2006, "Gaussian Processes for Machine Learning", ch. 2 and 5: a Matern
  5/2 kernel with one length scale per axis plus a noise term, fitted by
  maximising the marginal likelihood), through scikit-learn's
  :class:`~sklearn.gaussian_process.GaussianProcessRegressor`;
* :func:`param_importances` is Optuna's fANOVA
  (:class:`optuna.importance.FanovaImportanceEvaluator`; Hutter, Hoos &
  Leyton-Brown 2014, "An Efficient Approach for Assessing Hyperparameter
  Importance", ICML): the share of the variance of validation RMSE each
  setting explains, over the configuration keys on their sampled axes.

With fewer completed trials than :data:`MIN_SURFACE_TRIALS` /
:data:`MIN_IMPORTANCE_TRIALS` nothing is fitted and a note says so.
"""
import warnings

import numpy as np

__all__ = ["MIN_SURFACE_TRIALS", "MIN_IMPORTANCE_TRIALS",
           "surface_axis_values", "ResponseSurface", "varying_keys",
           "param_importances"]

#: Completed trials a 2D surface needs before it is fitted (a GP with two
#: length scales, a signal and a noise variance: four hyperparameters).
MIN_SURFACE_TRIALS = 6

#: Completed trials fANOVA needs before importances are computed.
MIN_IMPORTANCE_TRIALS = 5


def _is_number(v):
    return (isinstance(v, (int, float, np.integer, np.floating))
            and not isinstance(v, (bool, np.bool_)))


def surface_axis_values(values, log):
    """Values of one setting on the axis it was sampled on, and tick labels.

    Log-sampled settings are placed at log10(value); 0 (a penalty switched
    off) is put one decade below the smallest positive value and labelled
    "0".  Booleans and categories are placed at 0, 1, 2, ... (sorted by
    their text).

    Parameters
    ----------
    values : array-like, (M,)
    log : bool

    Returns
    -------
    positions : ndarray, (M,) float
    ticks : list of (float, str)
        Tick positions and labels for log and categorical axes; [] for a
        linear numeric axis.

    Examples
    --------
    >>> pos, ticks = surface_axis_values([1e-3, 0.0, 1e-2], log=True)
    >>> pos.tolist(), ticks[0]
    ([-3.0, -4.0, -2.0], (-4.0, '0'))
    """
    values = np.asarray(values, dtype=object)
    if not all(_is_number(v) for v in values):
        categories = sorted({str(v) for v in values})
        index = {c: float(i) for i, c in enumerate(categories)}
        return (np.array([index[str(v)] for v in values]),
                [(index[c], c) for c in categories])
    x = values.astype(float)
    if not log:
        return x, []
    positive = x[x > 0]
    floor = np.floor(np.log10(positive.min())) - 1 if positive.size else -1.0
    pos = np.where(x > 0, np.log10(np.where(x > 0, x, 1.0)), floor)
    logs = np.log10(positive) if positive.size else np.zeros(0)
    ticks = [(floor, "0")] if (x <= 0).any() else []
    if logs.size:  # the decades within the values (else rounded out)
        lo, hi = np.ceil(logs.min()), np.floor(logs.max())
        if hi - lo < 1:
            lo, hi = np.floor(logs.min()), np.ceil(logs.max())
        ticks += [(float(e), "1e%d" % e) for e in np.arange(lo, hi + 1)]
    return pos, ticks


def _gaussian_process(n_dims, seed):
    """An unfitted GP regressor: constant x Matern(5/2, ARD) + white noise,
    on inputs scaled to [0, 1] and normalised targets."""
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import (ConstantKernel, Matern,
                                                  WhiteKernel)
    kernel = (ConstantKernel(1.0, (1e-2, 1e2))
              * Matern(length_scale=[0.3] * n_dims,
                       length_scale_bounds=(0.05, 20.0), nu=2.5)
              + WhiteKernel(1e-2, (1e-6, 1.0)))
    return GaussianProcessRegressor(kernel, normalize_y=True,
                                    n_restarts_optimizer=2,
                                    random_state=seed)


class ResponseSurface(object):
    """Validation RMSE over two settings, fitted to the completed trials.

    Parameters
    ----------
    x_key, y_key : str
        Configuration keys (columns of ``results.csv``).
    log_keys : collection of str
        Keys sampled log-uniformly: fitted and drawn over log10(value).
    value_key : str
        The column fitted (validation RMSE in pixels).
    seed : int
        Seeds the restarts of the kernel fit.

    Attributes
    ----------
    x_, y_, z_ : ndarray, (M,) float
        The completed trials on the sampled axes, and their RMSE (px).
    numbers_ : ndarray, (M,) int
        Their trial numbers.
    xticks_, yticks_ : list of (float, str)
        See :func:`surface_axis_values`.
    gp_ : sklearn GaussianProcessRegressor or None
        None when there were fewer than :data:`MIN_SURFACE_TRIALS` trials
        (``note_`` says so) or every trial has one value of a setting.
    note_ : str or None

    Examples
    --------
    >>> surface = ResponseSurface("learning_rate", "l2", {"learning_rate"})
    >>> surface.fit(frame).predict([-3.0], [0.5])    # doctest: +SKIP
    """

    def __init__(self, x_key, y_key, log_keys=(), value_key="val_rmse_px",
                 seed=0):
        self.x_key, self.y_key, self.log_keys = x_key, y_key, set(log_keys)
        self.value_key, self.seed = value_key, seed

    def fit(self, frame):
        """Fit to the COMPLETE rows of ``frame`` (``results.csv``) that have
        both settings and a value; returns ``self``."""
        done = frame[(frame.state == "COMPLETE") & frame[self.value_key].notna()
                     & frame[self.x_key].notna() & frame[self.y_key].notna()]
        self.x_, self.xticks_ = surface_axis_values(
            done[self.x_key].values, self.x_key in self.log_keys)
        self.y_, self.yticks_ = surface_axis_values(
            done[self.y_key].values, self.y_key in self.log_keys)
        self.z_ = done[self.value_key].values.astype(float)
        self.numbers_ = done["number"].values.astype(int)
        self.gp_, self.note_ = None, None
        if len(self.z_) < MIN_SURFACE_TRIALS:
            self.note_ = ("%d completed trial(s): no surface fitted (needs "
                          "%d)" % (len(self.z_), MIN_SURFACE_TRIALS))
            return self
        self.low_ = np.array([self.x_.min(), self.y_.min()])
        self.span_ = np.array([self.x_.max(), self.y_.max()]) - self.low_
        if (self.span_ <= 0).any():
            self.note_ = "one setting has a single value: no surface fitted"
            return self
        self.gp_ = _gaussian_process(2, self.seed)
        with warnings.catch_warnings():  # a length scale at its bound
            warnings.simplefilter("ignore")
            self.gp_.fit(self._scaled(self.x_, self.y_), self.z_)
        return self

    def _scaled(self, x, y):
        xy = np.column_stack([np.ravel(x), np.ravel(y)]).astype(float)
        return (xy - self.low_) / self.span_

    def predict(self, x, y, return_std=False):
        """Predicted RMSE (px) at positions ``x``, ``y`` on the sampled axes.

        Parameters
        ----------
        x, y : array-like, same shape
        return_std : bool
            Also return the GP's standard deviation (px).

        Returns
        -------
        ndarray (shape of ``x``), or (mean, std)

        Raises
        ------
        RuntimeError
            Nothing was fitted (``note_`` says why).
        """
        if getattr(self, "gp_", None) is None:
            raise RuntimeError("no surface fitted: %s"
                               % getattr(self, "note_", "call fit() first"))
        shape = np.shape(x)
        mean, std = self.gp_.predict(self._scaled(x, y), return_std=True)
        if return_std:
            return mean.reshape(shape), std.reshape(shape)
        return mean.reshape(shape)

    def grid(self, n=40):
        """(X, Y, Z) of the fitted mean on an ``n`` x ``n`` grid spanning
        the trials, each of shape (n, n)."""
        X, Y = np.meshgrid(np.linspace(self.x_.min(), self.x_.max(), n),
                           np.linspace(self.y_.min(), self.y_.max(), n))
        return X, Y, self.predict(X, Y)


def varying_keys(frame, keys):
    """The ``keys`` whose value differs between the completed trials."""
    done = frame[frame.state == "COMPLETE"]
    return [k for k in keys if k in done
            and done[k].astype(str).nunique() > 1]


def _scratch_study(frame, keys, log_keys, value_key):
    """An in-memory Optuna study of the completed trials, one uniform float
    parameter per key on its sampled axis (:func:`surface_axis_values`)."""
    import optuna
    from optuna.distributions import FloatDistribution
    done = frame[(frame.state == "COMPLETE") & frame[value_key].notna()]
    axes = {k: surface_axis_values(done[k].values, k in log_keys)[0]
            for k in keys}
    dists = {k: FloatDistribution(float(v.min()), float(v.max()))
             for k, v in axes.items()}
    study = optuna.create_study(direction="minimize")
    for i, value in enumerate(done[value_key].values.astype(float)):
        study.add_trial(optuna.trial.create_trial(
            params={k: float(axes[k][i]) for k in keys}, distributions=dists,
            value=value))
    return study


def param_importances(frame, keys, log_keys=(), value_key="val_rmse_px",
                      seed=0):
    """fANOVA importances of the configuration ``keys`` for validation RMSE.

    Each key is placed on its sampled axis (log10 for ``log_keys``, codes
    for categories) so that every space, even one whose ranges depend on
    another setting, is measured the same way; keys with a single value
    among the completed trials are left out.  Computed by Optuna's
    :class:`~optuna.importance.FanovaImportanceEvaluator` (a random forest
    of 64 trees, ``seed``), normalised to sum to 1.

    Parameters
    ----------
    frame : pandas.DataFrame
        ``results.csv`` (columns ``state``, ``value_key`` and ``keys``).
    keys : list of str

    Returns
    -------
    importances : dict or None
        ``{key: share}``, largest first; None when nothing was computed.
    note : str or None
        Why nothing was computed (fewer than :data:`MIN_IMPORTANCE_TRIALS`
        completed trials, or no setting that varies).
    """
    import optuna
    n_done = int(((frame.state == "COMPLETE") & frame[value_key].notna()).sum()
                 ) if len(frame) else 0
    if n_done < MIN_IMPORTANCE_TRIALS:
        return None, ("%d completed trial(s): no importances (needs %d)"
                      % (n_done, MIN_IMPORTANCE_TRIALS))
    keys = varying_keys(frame, keys)
    if not keys:
        return None, "no setting varies between the completed trials"
    study = _scratch_study(frame, keys, set(log_keys), value_key)
    evaluator = optuna.importance.FanovaImportanceEvaluator(seed=seed)
    raw = optuna.importance.get_param_importances(
        study, evaluator=evaluator, params=keys, normalize=True)
    return {k: float(v) for k, v in raw.items()}, None

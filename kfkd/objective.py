"""The training objective and the net's starting point.

The masked loss, the L1/L2 penalties, the targets and their mask; the output
bias at the mean shape and the warm start from a trained model.

The loss is the mean squared error over *labelled* coordinates only, in the
[-1, 1] target scale (:func:`kfkd.keypoints.to_unit`), so every training row
is used however many of its keypoints are missing:

.. math::

    L = \\frac{\\sum_{n,j} m_{nj} (\\hat y_{nj} - y_{nj})^2}{\\sum_{n,j} m_{nj}}
        + \\lambda_1 \\sum_W |W| + \\lambda_2 \\sum_W W^2

with :math:`m_{nj} = 1` where coordinate ``j`` of face ``n`` is labelled.
The penalties come from :mod:`lasagne.regularization` over the weights
tagged ``regularizable`` (not biases, not batch-norm parameters).

Validation RMSE is reported in pixels, over labelled coordinates:
``48 * sqrt(mean masked squared error in unit scale)``.
"""
from . import compat  # noqa: F401  (configures Theano, shims Lasagne)

import lasagne
import numpy as np
import theano
import theano.tensor as T
from theano.graph.basic import Variable
from lasagne.regularization import l1 as l1_norm
from lasagne.regularization import l2 as l2_norm
from lasagne.regularization import regularize_network_params

from .keypoints import to_unit
from .layers import FOLDABLE

__all__ = ["masked_mse", "masked_targets", "penalty", "shared_coefficient",
           "share_dropout", "init_output_bias", "warm_start"]

floatX = theano.config.floatX


def masked_mse(predictions, targets, mask):
    """Mean squared error over the coordinates where ``mask`` is 1.

    Parameters
    ----------
    predictions, targets, mask : Theano matrices, (N, 2K)
        ``targets`` must be finite (put 0 where unlabelled); ``mask`` is 1
        where labelled, 0 elsewhere.

    Returns
    -------
    Theano scalar
        ``sum(mask * (predictions - targets)**2) / max(sum(mask), 1)``.
        Unlabelled coordinates contribute nothing, and their gradient is 0.
    """
    squared = mask * T.sqr(predictions - targets)
    return squared.sum() / T.maximum(mask.sum(), 1)


def penalty(layer, l1=0.0, l2=0.0):
    """``l1 * sum|W| + l2 * sum W**2`` over the net's regularizable params.

    Parameters
    ----------
    layer : Layer
        Output layer of the net.
    l1, l2 : float or Theano scalar
        Coefficients (a float 0 disables the term; a shared variable, see
        :func:`shared_coefficient`, keeps it in the graph).

    Returns
    -------
    Theano scalar (0 when both coefficients are 0)
    """
    term = T.constant(0.0, dtype=floatX)
    for coefficient, norm in ((l1, l1_norm), (l2, l2_norm)):
        if isinstance(coefficient, Variable):
            term = term + coefficient * regularize_network_params(layer, norm)
        elif coefficient:
            term = term + np.float32(coefficient) * regularize_network_params(
                layer, norm)
    return term


def shared_coefficient(value, name):
    """``value`` as a float32 Theano shared scalar.

    Theano writes a graph's constants into the C code it compiles, so a
    penalty coefficient or dropout probability given as a number makes a
    new C module for every value (seconds of compiling per search trial);
    as a shared variable it is an input, and one compiled function serves
    every value, 0 included (a penalty of coefficient 0 adds exact zeros to
    the loss and its gradient).

    Returns
    -------
    theano shared variable
    """
    return theano.shared(np.asarray(value, dtype=floatX), name=name)


def share_dropout(layer):
    """Make the probability of every Lasagne dropout layer of ``layer``'s
    net a shared variable (:func:`shared_coefficient`), for training
    graphs.

    Deterministic outputs (prediction) do not use it, and the net's saved
    parameters and hyperparameters are unchanged.

    Returns
    -------
    list of theano shared variables
        One per dropout layer with a probability above 0.
    """
    shared = []
    for k, l in enumerate(lasagne.layers.get_all_layers(layer)):
        # Lasagne's own layer only: a subclass may build its op from p
        # (kfkd.layers.PhiloxDropoutLayer does)
        if (type(l) is lasagne.layers.DropoutLayer and l.p
                and not isinstance(l.p, Variable)):
            l.p = shared_coefficient(l.p, "dropout%d" % k)
            shared.append(l.p)
    return shared


def init_output_bias(layer, keypoints_px):
    """Set the output layer's bias to the mean shape, in unit scale.

    With a zero bias every net starts by predicting the centre of the frame
    and Adam's ~``learning_rate`` steps need many epochs just to move the
    bias to the mean shape; from the mean shape the weights learn the
    deviations (the README has the figures).

    Parameters
    ----------
    layer : DenseLayer
        The net's output layer (left alone if it has no bias, as heatmap's
        soft-argmax read-out: it starts at the frame centre).
    keypoints_px : ndarray, (N, 2K), pixels, NaN where unlabelled
        Training keypoints (a coordinate never labelled gets 0, the centre).
    """
    bias = getattr(layer, "b", None)
    if bias is None:
        return
    targets, labelled = masked_targets(keypoints_px, dtype=None)
    mean = targets.sum(axis=0) / np.maximum(labelled.sum(axis=0), 1)
    bias.set_value(mean.astype(floatX))


def warm_start(layer, init_model, schema):
    """Set a freshly built net's parameters from a trained model's.

    Parameters
    ----------
    layer : Layer
        Output layer of the new net (already built, its output bias already
        set by :func:`init_output_bias`).
    init_model : kfkd.model.Model
        A trained model of the same net with the same hyperparameters.
    schema : KeypointSchema
        The coordinates the new net regresses.

    Returns
    -------
    str
        ``'all'`` when ``schema`` is ``init_model.schema`` (every parameter
        copied, batch-norm averages included); ``'all, output units of the
        columns'`` when every column of ``schema`` is one of
        ``init_model.schema``'s (a specialist: the output layer's weights
        and bias are those of its columns, or, under heatmap's soft-argmax
        read-out, the 1x1 convolution's of its keypoints' maps, so the new
        net starts at the trained model's predictions of them); else
        ``'all but output'`` (the output units keep their fresh weights
        and mean-shape bias, as Nouri 2014, section "Specialists", starts
        his specialists).

    Raises
    ------
    ValueError
        The parameter shapes differ (another net or hyperparameters).
    """
    if schema == init_model.schema:
        copied, target, source = "all", layer, init_model.layer
    else:
        copied = "all but output"
        target = _output_units(layer)[0].input_layer
        source = _output_units(init_model.layer)[0].input_layer
        if _copy_output_units(layer, init_model, schema):
            copied = "all, output units of the columns"
    values = lasagne.layers.get_all_param_values(source)
    params = lasagne.layers.get_all_params(target)
    got = [v.shape for v in values]
    expected = [p.get_value().shape for p in params]
    if got != expected:
        raise ValueError("cannot warm-start from %r: parameter shapes %s, "
                         "the new net's %s" % (init_model, got, expected))
    lasagne.layers.set_all_param_values(target, values)
    return copied


def _output_units(layer):
    """The layer whose weights are the output units of ``layer``'s net, and
    the axis of its ``W`` that indexes them (None: neither a dense layer
    nor a convolution).

    ``layer`` itself (a dense output: ``W (H, 2K)``, a unit per
    coordinate column), or, under a read-out without parameters
    (:class:`kfkd.layers.SoftArgmaxLayer`), the first layer below with
    some (heatmap's 1x1 convolution: ``W (K, C, 1, 1)``, a unit per
    keypoint)."""
    units = layer
    while not units.get_params() and hasattr(units, "input_layer"):
        units = units.input_layer
    return units, next((axis for kind, axis in FOLDABLE
                        if isinstance(units, kind)), None)


def _copy_output_units(layer, init_model, schema):
    """Set the output units (:func:`_output_units`: weights, and bias if
    any) to ``init_model``'s units of ``schema``'s columns, or of its
    keypoints where a unit is a keypoint's heat map; -> False (nothing
    copied) when a column is not ``init_model``'s or the shapes differ."""
    (target, axis), (source, _) = (_output_units(net) for net in
                                   (layer, init_model.layer))
    old = init_model.schema
    if (axis is None or not all(c in old.columns for c in schema.columns)
            or any(getattr(net, "W", None) is None
                   for net in (target, source))
            or (target.b is None) != (source.b is None)):
        return False
    if target.W.get_value().shape[axis] == schema.n_outputs:
        index = [old.column_index(c) for c in schema.columns]
    else:
        index = [old.names.index(name) for name in schema.names]
    weights = np.take(source.W.get_value(), index, axis=axis)
    if weights.shape != target.W.get_value().shape:
        return False
    target.W.set_value(weights)
    if target.b is not None:
        target.b.set_value(source.b.get_value()[index])
    return True


def masked_targets(keypoints_px, dtype=floatX):
    """Targets in unit scale with 0 where unlabelled, and their mask.

    Parameters
    ----------
    keypoints_px : ndarray, (N, 2K), pixels, NaN where unlabelled
    dtype : dtype or None
        Of both arrays (None: the targets keep ``keypoints_px``'s, the mask
        is bool).

    Returns
    -------
    targets : ndarray, (N, 2K), in [-1, 1], 0 where unlabelled
    mask : ndarray, (N, 2K), 1 (True) where labelled

    Examples
    --------
    >>> targets, mask = masked_targets(np.array([[96., np.nan]]))
    >>> targets.tolist(), mask.tolist()
    ([[1.0, 0.0]], [[1.0, 0.0]])
    """
    mask = np.isfinite(keypoints_px)
    targets = np.where(mask, to_unit(keypoints_px), 0)
    if dtype is None:
        return targets, mask
    return targets.astype(dtype), mask.astype(dtype)

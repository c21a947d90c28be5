"""Nets of other published write-ups on this problem, rebuilt in Lasagne.

Registered into :data:`kfkd.nets.NETS` by :mod:`kfkd.nets` (this module
imports only :mod:`kfkd.layers`), so they build, train, save and load by
name as the others do, with either engine's layers
(:data:`kfkd.layers.ENGINES`).  Inputs ``(N, 1, 96, 96) float32 in [0,
1]``; outputs ``(N, n_outputs)`` linear, keypoints scaled to [-1, 1]
(:func:`kfkd.keypoints.to_unit`).

========  ====================================================================
vgglite   a capstone's VGG16-inspired net: 5 x (3x3 conv, batch norm,
          2x2 max-pool), dropout 0.2 on the first 3 blocks, global average
          pooling, linear output (~3.9M parameters)
leakybn   a report's Keras net: 6 blocks of two 3x3 convolutions without
          bias, each LeakyReLU then batch norm, 2x2 max-pool after every
          second block, dense 512, dropout 0.1, linear output (~42.7M
          parameters, 37.7M of them in the dense layer)
========  ====================================================================

The write-ups give neither code nor every detail; what they leave open is
chosen here and said in each builder's docstring.
"""
from . import compat  # noqa: F401  (configures Theano, shims Lasagne)

import lasagne
from lasagne.layers import DenseLayer, GlobalPoolLayer, InputLayer
from lasagne.nonlinearities import LeakyRectify, rectify

from .errors import UsageError
from .keypoints import FRAME
from .layers import DEFAULT_ENGINE, SameConv2DLayer, engine_layers

__all__ = ["vgglite", "leakybn", "VGGLITE_SCHEDULE"]

_INPUT_SHAPE = (None, 1, FRAME, FRAME)

#: The capstone's training schedule for :func:`vgglite`, as stages of
#: ``(learning_rate, batch_size, epochs)``: Adam at 1e-3, 1e-4, 1e-5 and
#: within each rate the batch size 32, 64, 128, 15 epochs per step
#: (135 epochs in all); ``kfkd train --schedule vgglite``.
VGGLITE_SCHEDULE = tuple((lr, batch, 15) for lr in (1e-3, 1e-4, 1e-5)
                         for batch in (32, 64, 128))


def vgglite(n_outputs=30, filters=64, dropout=0.2, engine=DEFAULT_ENGINE):
    """A capstone's VGG16-inspired net.

    Five blocks, each one 3x3 'same' convolution (ReLU, He-normal
    weights), batch normalisation, a 2x2 max-pool and, in the first three
    blocks, dropout; then global average pooling (96 px / 2**5 = 3 px
    squares averaged) and a linear output layer.  Trained by the capstone
    with Adam and a stepped schedule (:data:`VGGLITE_SCHEDULE`).  Its
    published figure: 2.1 px RMSE on a 30% hold-out split, training on the
    complete faces only (``--missing drop``).

    Parameters
    ----------
    n_outputs : int
        Linear outputs (2 per keypoint).
    filters : int
        Filters of the first block; block ``b`` (0-based) has
        ``min(8 * filters, filters * 2**b)``: VGG16's 64, 128, 256, 512,
        512 at the default (the write-up gives no counts; these are VGG16's
        blocks, as the issue reads it).
    dropout : float in [0, 1)
        After the pool of each of the first three blocks.
    engine : str or dict
        Pooling, dropout and batch-norm layers (:data:`kfkd.layers.ENGINES`).

    Notes
    -----
    The batch norm sits between each convolution and its ReLU (Ioffe &
    Szegedy 2015), so that it folds into the convolution for prediction
    (:func:`kfkd.layers.fold_batch_norm`); the write-up says only "batch
    normalisation after each" convolution.  3,929,438 parameters and
    batch-norm averages at the defaults.

    Examples
    --------
    >>> from kfkd import nets
    >>> lasagne.layers.get_output_shape(nets.build("vgglite"))
    (None, 30)
    """
    engine = engine_layers(engine)
    layer = InputLayer(_INPUT_SHAPE, name="input")
    for b in range(5):
        layer = SameConv2DLayer(layer, min(8 * filters, filters * 2 ** b), 3,
                                W=lasagne.init.HeNormal(gain="relu"),
                                nonlinearity=rectify, name="conv%d" % (b + 1))
        layer = engine["batch_norm"](layer)
        layer = engine["pool"](layer, 2, name="pool%d" % (b + 1))
        if b < 3 and dropout:
            layer = engine["dropout"](layer, dropout)
    layer = GlobalPoolLayer(layer, name="gap")
    return DenseLayer(layer, n_outputs, nonlinearity=None, name="output")


def leakybn(n_outputs=30, blocks=6, dense_units=512, dropout=0.1,
            leakiness=0.3, engine=DEFAULT_ENGINE):
    """A report's Keras net: LeakyReLU convolutions, each batch-normalised.

    Block ``b`` (0-based) is two 3x3 'same' convolutions without bias of
    ``(32, 64, 96, 128, 256, 512)[b]`` filters, each followed by a
    LeakyReLU and then batch normalisation (in that order, as the report
    has it: the norm is not folded at prediction); a 2x2 max-pool follows
    every second block (96 -> 12 px after six).  Then a dense layer of
    ``dense_units`` ReLUs, dropout and a linear output layer.  The report
    trained with Adam at batch 256 (``kfkd train --net leakybn
    --batch-size 256``) and gave "about 2 px" validation RMSE, filling
    missing keypoints forward in file order (``--missing ffill``).

    Parameters
    ----------
    n_outputs : int
        Linear outputs (2 per keypoint).
    blocks : int
        How many of the six blocks (1-6); fewer for small test nets.
    dense_units : int
    dropout : float in [0, 1)
        Before the output layer.
    leakiness : float
        Slope of the LeakyReLU below 0: Keras's default ``alpha=0.3``
        (the report names the layer, not its slope).
    engine : str or dict
        Pooling, dropout and batch-norm layers (:data:`kfkd.layers.ENGINES`).

    Raises
    ------
    UsageError
        ``blocks`` outside 1-6.

    Notes
    -----
    The report scaled its targets to [0, 1]; kfkd's are in [-1, 1]
    (:func:`kfkd.keypoints.to_unit`).  For a linear output under a mean
    squared error the two are the same model: the map ``u = (t + 1) / 2``
    is absorbed by the output layer's weights and bias, and it multiplies
    the loss by the constant 1/4, which Adam's steps are invariant to (up
    to its epsilon; Kingma & Ba 2015, section 2: the update is invariant
    to rescaling the gradient).  So kfkd's scaling is kept.  42,658,110
    parameters and batch-norm averages at the defaults.

    Examples
    --------
    >>> from kfkd import nets
    >>> lasagne.layers.get_output_shape(nets.build("leakybn", blocks=2))
    (None, 30)
    """
    if not 1 <= blocks <= 6:
        raise UsageError("net leakybn: blocks=%r must be 1-6" % blocks)
    engine = engine_layers(engine)
    layer = InputLayer(_INPUT_SHAPE, name="input")
    for b, filters in enumerate((32, 64, 96, 128, 256, 512)[:blocks]):
        for c in range(2):
            layer = SameConv2DLayer(layer, filters, 3, b=None,
                                    W=lasagne.init.GlorotUniform(),
                                    nonlinearity=LeakyRectify(leakiness),
                                    name="conv%d_%d" % (b + 1, c + 1))
            layer = engine["batch_norm"](layer, after_nonlinearity=True)
        if b % 2 == 1:
            layer = engine["pool"](layer, 2, name="pool%d" % (b // 2 + 1))
    layer = DenseLayer(layer, dense_units, nonlinearity=rectify, name="dense")
    if dropout:
        layer = engine["dropout"](layer, dropout)
    return DenseLayer(layer, n_outputs, nonlinearity=None, name="output")

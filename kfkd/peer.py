"""PyTorch twins of kfkd's nets, to measure Theano against its peer.

:func:`twin` walks a built Lasagne net (:func:`lasagne.layers.get_all_layers`,
input first) and maps each layer to the PyTorch module that computes the
same function (:data:`CONVERTERS`, looked up along the layer class's MRO), so
the twin has kfkd's layer shapes and parameter count by construction and
follows any new net made of known layers; an unknown layer class raises a
:class:`~kfkd.errors.UsageError` naming it.  Each module's output shape is
checked against the Lasagne layer's as the twin is built.

==========================================  ==================================
Lasagne 0.1 / kfkd layer                    PyTorch 2 module
==========================================  ==================================
``Conv2DLayer`` (and ``SameConv2DLayer``)   ``Conv2d``, filters flipped
                                            (Theano's ``conv2d`` flips them:
                                            a true convolution; PyTorch's is
                                            a cross-correlation)
``DenseLayer``                              ``Flatten`` (if the input is not
                                            2D), ``Linear`` with ``W.T``
``Pool2DLayer`` / ``MaxPool2DLayer``        ``MaxPool2d`` / ``AvgPool2d``
                                            (``ceil_mode=not ignore_border``)
``DropoutLayer``                            ``Dropout`` (both rescale the
                                            kept units by 1/(1-p))
:class:`kfkd.layers.BatchNormLayer`         ``BatchNorm2d`` / ``BatchNorm1d``,
                                            ``momentum=alpha``, running
                                            variance ``1/inv_std**2 - eps``
``NonlinearityLayer``, nonlinearities       ``ReLU``, ``Sigmoid``, ``Tanh``,
                                            ``LeakyReLU`` (of
                                            ``LeakyRectify``'s leakiness)
``GlobalPoolLayer``, ``FlattenLayer``       ``AdaptiveAvgPool2d(1)`` (or Max),
                                            ``Flatten``
:class:`kfkd.layers.SoftArgmaxLayer`        ``softmax`` over each channel's
                                            grid, then the expected cell
                                            centre (a module of no
                                            parameters or buffers)
==========================================  ==================================

Sources: the PyTorch 2 reference of ``torch.nn.Conv2d`` (cross-correlation),
``BatchNorm2d`` (``running_var``, ``momentum``) and ``torch.optim.SGD``
(``nesterov``); Theano's ``tensor.nnet.conv2d`` (``filter_flip=True``);
Lasagne 0.1's layer sources.

torch is not a dependency of kfkd: it is imported inside these functions
only, and :func:`import_torch` says how to install it.

Examples
--------
>>> from kfkd import nets, peer
>>> t = peer.twin(nets.build("net2"))  # doctest: +SKIP
>>> t.count_params() == lasagne.layers.count_params(t.layer)  # doctest: +SKIP
True
"""
from . import compat  # noqa: F401  (configures Theano, shims Lasagne)

import collections

import lasagne
import numpy as np
import theano.tensor as T
from lasagne import nonlinearities
from lasagne.layers import (Conv2DLayer, DenseLayer, DropoutLayer,
                            FlattenLayer, GlobalPoolLayer, InputLayer,
                            NonlinearityLayer, Pool2DLayer)

from .errors import UsageError
from .layers import BatchNormLayer, SoftArgmaxLayer

__all__ = ["TORCH_VERSION", "MEMORY_FORMATS", "CONVERTERS", "import_torch",
           "converter", "twin", "Twin"]

#: The PyTorch release the twins are measured with (a CPU wheel of it lies
#: on the development machine; ``pip install torch`` of another may fetch
#: a CUDA build of several GB).
TORCH_VERSION = "2.13.0"

#: Memory formats of the twins: name -> ``torch`` attribute.
MEMORY_FORMATS = {"nchw": "contiguous_format",
                  "channels_last": "channels_last"}

#: Lasagne layer class -> (build, copy): ``build(layer, torch)`` returns
#: the modules computing the layer; ``copy(layer, module)`` sets the tensors
#: of the first of them that has parameters from the layer's (None: the
#: layer has none).
CONVERTERS = {}


def import_torch():
    """The ``torch`` module.

    Raises
    ------
    UsageError
        torch is not importable; the message says how to install it.
    """
    try:
        import torch
    except ImportError:
        raise UsageError("--peer torch needs PyTorch, which kfkd does not "
                         "install: pip install torch==%s" % TORCH_VERSION)
    return torch


def converter(*layer_classes, copy=None):
    """Decorator: register ``build`` (and ``copy``) for ``layer_classes``."""
    def register(build):
        for cls in layer_classes:
            CONVERTERS[cls] = (build, copy)
        return build
    return register


def _nonlinearity(layer, torch):
    """[the module of ``layer.nonlinearity``] ([] for the identity)."""
    fn = getattr(layer, "nonlinearity", None)
    if fn is None or fn is nonlinearities.identity:
        return []
    known = {nonlinearities.rectify: torch.nn.ReLU,
             nonlinearities.sigmoid: torch.nn.Sigmoid,
             nonlinearities.tanh: torch.nn.Tanh}
    if isinstance(fn, nonlinearities.LeakyRectify):
        return [torch.nn.LeakyReLU(fn.leakiness)]
    if fn not in known:
        raise UsageError("layer %r: nonlinearity %s has no PyTorch twin"
                         % (layer.name, getattr(fn, "__name__", fn)))
    return [known[fn]()]


def _unsupported(layer, what):
    return UsageError("layer %r (%s): %s has no PyTorch twin"
                      % (layer.name, type(layer).__name__, what))


def _copy_conv(layer, module):
    # Theano's conv2d flips the filters (a true convolution).
    module.weight.copy_(_tensor(layer.W, module, flip=True))
    if layer.b is not None:
        module.bias.copy_(_tensor(layer.b, module))


def _tensor(param, module, flip=False):
    """A Theano shared variable's value as a tensor like ``module``'s
    (``flip``: its last two axes reversed)."""
    value = param.get_value()
    if flip:
        # a copy: numpy calls a reversed view of 1x1 filters contiguous
        # (its axes of length 1) and keeps its negative strides, which
        # torch refuses
        value = value[..., ::-1, ::-1].copy()
    return next(module.parameters()).new_tensor(np.ascontiguousarray(value))


@converter(Conv2DLayer, copy=_copy_conv)
def _conv(layer, torch):
    if layer.untie_biases or layer.convolution is not T.nnet.conv2d:
        raise _unsupported(layer, "untied biases or a custom convolution")
    size = layer.filter_size
    if layer.pad == "same" and all(k % 2 for k in size):
        pad = tuple(k // 2 for k in size)
    elif layer.pad == "full":
        pad = tuple(k - 1 for k in size)
    elif isinstance(layer.pad, tuple):
        pad = layer.pad
    else:
        raise _unsupported(layer, "pad=%r with filters %s" % (layer.pad, size))
    conv = torch.nn.Conv2d(layer.input_shape[1], layer.num_filters, size,
                           stride=layer.stride, padding=pad,
                           bias=layer.b is not None)
    return [conv] + _nonlinearity(layer, torch)


def _copy_dense(layer, module):
    module.weight.copy_(_tensor(layer.W, module).T)
    if layer.b is not None:
        module.bias.copy_(_tensor(layer.b, module))


@converter(DenseLayer, copy=_copy_dense)
def _dense(layer, torch):
    flatten = [torch.nn.Flatten()] if len(layer.input_shape) > 2 else []
    linear = torch.nn.Linear(int(np.prod(layer.input_shape[1:])),
                             layer.num_units,
                             bias=layer.b is not None)
    return flatten + [linear] + _nonlinearity(layer, torch)


@converter(Pool2DLayer)
def _pool(layer, torch):
    options = dict(kernel_size=layer.pool_size, stride=layer.stride,
                   padding=layer.pad, ceil_mode=not layer.ignore_border)
    if layer.mode == "max":
        return [torch.nn.MaxPool2d(**options)]
    if layer.mode.startswith("average"):
        return [torch.nn.AvgPool2d(
            count_include_pad=layer.mode == "average_inc_pad", **options)]
    raise _unsupported(layer, "pooling mode %r" % layer.mode)


@converter(DropoutLayer)
def _dropout(layer, torch):
    if not layer.rescale:
        raise _unsupported(layer, "dropout without rescaling")
    return [torch.nn.Dropout(layer.p)] if layer.p else []


def _copy_batch_norm(layer, module):
    module.weight.copy_(_tensor(layer.gamma, module))
    module.bias.copy_(_tensor(layer.beta, module))
    module.running_mean.copy_(_tensor(layer.mean, module))
    inv_std = _tensor(layer.inv_std, module)
    module.running_var.copy_(1.0 / inv_std ** 2 - layer.epsilon)


@converter(BatchNormLayer, copy=_copy_batch_norm)
def _batch_norm(layer, torch):
    ndim = len(layer.input_shape)
    if layer.axes != (0,) + tuple(range(2, ndim)) or ndim not in (2, 4):
        raise _unsupported(layer, "normalising axes %s of a %dD input"
                           % (layer.axes, ndim))
    cls = torch.nn.BatchNorm2d if ndim == 4 else torch.nn.BatchNorm1d
    return [cls(layer.input_shape[1], eps=layer.epsilon,
                momentum=layer.alpha)]


@converter(NonlinearityLayer)
def _nonlinearity_layer(layer, torch):
    return _nonlinearity(layer, torch)


@converter(GlobalPoolLayer)
def _global_pool(layer, torch):
    pools = {T.mean: torch.nn.AdaptiveAvgPool2d,
             T.max: torch.nn.AdaptiveMaxPool2d}
    if layer.pool_function not in pools or len(layer.input_shape) != 4:
        raise _unsupported(layer, "global pooling of a %dD input by %s" % (
            len(layer.input_shape), layer.pool_function.__name__))
    return [pools[layer.pool_function](1), torch.nn.Flatten()]


@converter(FlattenLayer)
def _flatten(layer, torch):
    if layer.outdim != 2:
        raise _unsupported(layer, "flattening to %dD" % layer.outdim)
    return [torch.nn.Flatten()]


@converter(SoftArgmaxLayer)
def _soft_argmax(layer, torch):
    grid_x, grid_y = layer.grid_x, layer.grid_y

    class SoftArgmax(torch.nn.Module):
        """(N, K, H, W) scores -> (N, 2K) ``x_0, y_0, ...``: the mean cell
        centre under each channel's spatial softmax (the layer's
        numpy centres, held as plain arrays so that the twin's parameter
        count stays the layer's)."""

        def forward(self, scores):
            n, k, h, w = scores.shape
            maps = torch.softmax(scores.reshape(n, k, h * w), dim=2)
            maps = maps.reshape(n, k, h, w)
            x = (maps.sum(2) * scores.new_tensor(grid_x)).sum(2)
            y = (maps.sum(3) * scores.new_tensor(grid_y)).sum(2)
            return torch.stack([x, y], 2).reshape(n, 2 * k)

    return [SoftArgmax()]


def _converter(layer):
    """(build, copy) of ``layer``'s class, or of its nearest base's."""
    for cls in type(layer).__mro__:
        if cls in CONVERTERS:
            return CONVERTERS[cls]
    raise UsageError("layer %r: %s has no PyTorch twin (known: %s); register "
                     "one with kfkd.peer.converter" % (
                         layer.name, type(layer).__name__,
                         ", ".join(sorted(c.__name__ for c in CONVERTERS))))


def twin(layer):
    """The PyTorch twin of the net whose output layer is ``layer``.

    Parameters
    ----------
    layer : lasagne.layers.Layer
        Output layer of a net built by :func:`kfkd.nets.build` (a chain:
        each layer has one input, the first is an ``InputLayer`` of
        ``(None, 1, 96, 96)``).

    Returns
    -------
    Twin
        Its module has freshly initialised weights (PyTorch's defaults);
        :meth:`Twin.copy_weights` sets them to the Lasagne net's.

    Raises
    ------
    UsageError
        A layer (or nonlinearity, padding, pooling mode) with no PyTorch twin
        (the message names the layer), or a layer with several inputs.
    RuntimeError
        A module's output shape differs from its layer's (a converter bug).
    """
    torch = import_torch()
    layers = lasagne.layers.get_all_layers(layer)
    if not isinstance(layers[0], InputLayer):
        raise _unsupported(layers[0], "a first layer that is no InputLayer")
    modules, pairs = collections.OrderedDict(), []
    x = torch.zeros((1,) + tuple(layers[0].shape[1:]))
    for k, each in enumerate(layers[1:], 1):
        if not hasattr(each, "input_layer"):
            raise _unsupported(each, "a layer with several inputs")
        build, copy = _converter(each)
        converted = build(each, torch)
        if copy is not None:
            pairs.append((each, next(m for m in converted
                                     if list(m.parameters()))))
        label = (each.name or type(each).__name__).replace(".", "_")
        for j, module in enumerate(converted):
            modules["%d_%s_%d" % (k, label, j)] = module
            x = module.eval()(x)
        if tuple(x.shape[1:]) != tuple(each.output_shape[1:]):
            raise RuntimeError("twin of layer %r gives %s, Lasagne %s" % (
                each.name, tuple(x.shape[1:]), each.output_shape[1:]))
    return Twin(layer, torch.nn.Sequential(modules), pairs)


class Twin(object):
    """A Lasagne net and its PyTorch twin (made by :func:`twin`).

    Attributes
    ----------
    layer : lasagne.layers.Layer
        The Lasagne net's output layer.
    module : torch.nn.Sequential
        Maps ``(N, 1, 96, 96) float32`` images to ``(N, n_outputs)``, as
        ``lasagne.layers.get_output(layer)`` does; in ``train()`` mode with
        dropout and batch statistics, in ``eval()`` mode deterministic.
    pairs : list of (Layer, torch.nn.Module)
        Each Lasagne layer with parameters and the module holding them.
    """

    def __init__(self, layer, module, pairs):
        self.layer, self.module, self.pairs = layer, module, pairs

    def count_params(self):
        """Parameters and floating-point buffers (batch-norm running
        averages), as ``lasagne.layers.count_params`` counts both."""
        return int(sum(p.numel() for p in self.module.parameters())
                   + sum(b.numel() for b in self.module.buffers()
                         if b.is_floating_point()))

    def copy_weights(self):
        """Set the module's tensors to the Lasagne net's current values."""
        torch = import_torch()
        with torch.no_grad():
            for layer, module in self.pairs:
                _converter(layer)[1](layer, module)
        return self

    def functions(self, update="nesterov", learning_rate=0.01, momentum=0.9,
                  memory_format="nchw"):
        """Training and prediction functions, as
        :meth:`kfkd.train.Trainer.compile_functions` returns them.

        Parameters
        ----------
        update : {'nesterov', 'adam'}
            ``torch.optim.SGD(nesterov=True)`` (the same steps as Lasagne's
            ``nesterov_momentum`` at a constant rate) or ``torch.optim.Adam``
            with ``betas=(momentum, 0.999)``.
        learning_rate, momentum : float
        memory_format : {'nchw', 'channels_last'}
            Layout of the module's 4D weights and of the input images.

        Returns
        -------
        train_fn : callable
            ``train_fn(images, targets, mask) -> float``: one update on the
            masked mean squared error (:func:`kfkd.objective.masked_mse`);
            numpy arrays ``(N, 1, 96, 96)``, ``(N, 2K)``, ``(N, 2K)``.
        predict_fn : callable
            ``predict_fn(images) -> (N, 2K) ndarray``, deterministic.

        Raises
        ------
        UsageError
            Unknown ``update`` or ``memory_format``.
        """
        torch = import_torch()
        if memory_format not in MEMORY_FORMATS:
            raise UsageError("memory format %r: one of %s" % (
                memory_format, ", ".join(MEMORY_FORMATS)))
        fmt = getattr(torch, MEMORY_FORMATS[memory_format])
        module = self.module.to(memory_format=fmt)
        optimizer = _optimizer(torch, module, update, learning_rate, momentum)

        def train_fn(images, targets, mask):
            module.train()
            x = torch.from_numpy(images).contiguous(memory_format=fmt)
            m = torch.from_numpy(mask)
            optimizer.zero_grad(set_to_none=True)
            squared = m * (module(x) - torch.from_numpy(targets)) ** 2
            loss = squared.sum() / m.sum().clamp(min=1)
            loss.backward()
            optimizer.step()
            return loss.item()

        def predict_fn(images):
            module.eval()
            with torch.inference_mode():
                x = torch.from_numpy(images).contiguous(memory_format=fmt)
                return module(x).numpy()
        return train_fn, predict_fn


def _optimizer(torch, module, update, learning_rate, momentum):
    if update == "nesterov":
        return torch.optim.SGD(module.parameters(), lr=learning_rate,
                               momentum=momentum, nesterov=True)
    if update == "adam":
        return torch.optim.Adam(module.parameters(), lr=learning_rate,
                                betas=(momentum, 0.999), eps=1e-8)
    raise UsageError("update must be 'nesterov' or 'adam', got %r" % update)

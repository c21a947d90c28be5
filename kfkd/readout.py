"""The soft-argmax read-out of heat-map regression, as a Lasagne layer.

:class:`SoftArgmaxLayer` turns score maps into keypoint coordinates in
kfkd's unit scale; :func:`kfkd.nets.heatmap` ends with it.  Also
importable from :mod:`kfkd.layers`.
"""
from . import compat  # noqa: F401  (configures Theano, shims Lasagne)

import numpy as np
import theano
import theano.tensor as T
from lasagne.layers import Layer

__all__ = ["SoftArgmaxLayer"]


class SoftArgmaxLayer(Layer):
    """Keypoints as the mean position of a spatial softmax of score maps.

    The differentiable read-out of heat-map regression: each input channel
    ``k`` scores the cells of an ``H x W`` grid, a softmax over the grid
    makes it a probability map ``p_k``, and keypoint ``k`` is the map's
    mean position, the expected centre of the cells (the "differentiable
    spatial to numerical transform", DSNT, of Nibali, Zhen, Morgan &
    Peterson 2018, arXiv:1801.07372; the spatial soft-argmax of Levine,
    Finn, Darrell & Abbeel 2016, JMLR 17, "End-to-end training of deep
    visuomotor policies"):

    .. math::

        p_{k,ij} = \\frac{\\exp(s_{k,ij} - m_k)}
                          {\\sum_{i'j'} \\exp(s_{k,i'j'} - m_k)}, \\quad
        x_k = \\sum_{ij} p_{k,ij} \\, c^W_j, \\quad
        y_k = \\sum_{ij} p_{k,ij} \\, c^H_i

    with :math:`m_k = \\max_{ij} s_{k,ij}` (subtracted so that ``exp``
    cannot overflow; it changes nothing else, and is a constant to the
    gradient) and the cell centres :math:`c^W_j = (2j + 1) / W - 1` in
    kfkd's unit scale (:func:`kfkd.keypoints.to_unit`): the grid is taken
    to tile the frame, cell ``j`` of ``W`` covering pixels
    ``[j * 96 / W, (j + 1) * 96 / W)`` with its centre at
    ``(j + 0.5) * 96 / W`` px, as 'same' convolutions and 2x2 max-pools of
    a 96 px face make it; the centres are symmetric under the flip
    ``x -> 96 - x``.  An output is a convex combination of centres, so it
    lies within ``[1 / W - 1, 1 - 1 / W]`` (4-92 px for a 12 x 12 grid).
    The layer has no parameters; the scores' scale (the layer below) sets
    how peaked the maps are.

    Parameters
    ----------
    incoming : Layer or tuple
        Scores ``(N, K, H, W)``; ``H`` and ``W`` must be known.

    Attributes
    ----------
    grid_x : ndarray, (W,) floatX
        Cell centres along the width, unit scale (``grid_y``: the height).

    Raises
    ------
    ValueError
        An input that is not 4D, or of unknown height or width.

    Notes
    -----
    Output ``(N, 2K)``: ``x_0, y_0, x_1, y_1, ...``, the order of kfkd's
    keypoint columns (``<name>_x``, ``<name>_y`` alternating:
    :class:`kfkd.keypoints.KeypointSchema`).  :meth:`get_maps_for` gives
    the probability maps (for plotting).  DSNT's regularisation of the
    maps' shape is not applied: the loss is on the coordinates only.

    Examples
    --------
    >>> layer = SoftArgmaxLayer((None, 15, 12, 12))
    >>> layer.output_shape
    (None, 30)
    >>> (48 * layer.grid_x[[0, 1, -1]] + 48).round(4).tolist()  # pixels
    [4.0, 12.0, 92.0]
    """

    def __init__(self, incoming, **kwargs):
        super(SoftArgmaxLayer, self).__init__(incoming, **kwargs)
        shape = self.input_shape
        if len(shape) != 4 or shape[2] is None or shape[3] is None:
            raise ValueError("SoftArgmaxLayer needs (N, K, H, W) scores of "
                             "known H and W, got %r" % (shape,))
        self.grid_y, self.grid_x = (_cell_centres(n) for n in shape[2:])

    def get_output_shape_for(self, input_shape):
        channels = input_shape[1]
        return (input_shape[0], None if channels is None else 2 * channels)

    def get_maps_for(self, input):
        """The probability maps ``(N, K, H, W)`` of scores ``input``
        (each map sums to 1 over its grid)."""
        top = theano.gradient.zero_grad(input.max(axis=(2, 3), keepdims=True))
        weights = T.exp(input - top)
        return weights / weights.sum(axis=(2, 3), keepdims=True)

    def get_output_for(self, input, **kwargs):
        maps = self.get_maps_for(input)
        x = (maps.sum(axis=2) * self.grid_x).sum(axis=2)  # columns' mass
        y = (maps.sum(axis=3) * self.grid_y).sum(axis=2)  # rows' mass
        return T.stack([x, y], axis=2).flatten(2)


def _cell_centres(n):
    """Centres of ``n`` equal cells tiling [-1, 1]: ``(2j + 1) / n - 1``."""
    return ((2 * np.arange(n) + 1.0) / n - 1).astype(theano.config.floatX)

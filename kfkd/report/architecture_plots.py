"""A net's layer stack drawn as boxes (no Theano: it draws the layer
descriptions that :func:`kfkd.report.groups.architecture.describe_layers`
wrote)."""

from matplotlib.patches import Rectangle

from ..plotting import plt

__all__ = ["architecture_boxes", "draw_architecture", "architecture_figure"]


_LAYER_COLORS = {"InputLayer": "#d9d9d9", "conv": "#9ecae1",
                 "MaxPool2DLayer": "#fdd0a2", "DropoutLayer": "#f2f2f2",
                 "DenseLayer": "#a1d99b", "GlobalPoolLayer": "#fdd0a2",
                 "output": "#fc9272"}


#: kfkd's C-op layers (:data:`kfkd.nets.ENGINES` ``custom``) -> the Lasagne
#: layer they stand in for: drawn alike.
_SAME_AS = {"ArgmaxPool2DLayer": "MaxPool2DLayer",
            "PhiloxDropoutLayer": "DropoutLayer",
            "FusedBatchNormLayer": "BatchNormLayer"}


def _nonlinearity_name(name):
    return {"rectify": "ReLU", "sigmoid": "sigmoid", "tanh": "tanh"}.get(
        name, name)


def architecture_boxes(layers):
    """Layer descriptions -> boxes of a drawing (batch norm and the
    nonlinearity folded into the layer they follow).

    Parameters
    ----------
    layers : sequence of dict
        As written by
        :func:`kfkd.report.groups.architecture.describe_layers`: ``type``,
        ``name``, ``output_shape`` (without the batch axis), ``n_params``
        and, where they apply, ``num_filters``, ``filter_size``,
        ``pool_size``, ``p``, ``num_units``, ``nonlinearity``.

    Returns
    -------
    list of (str, str, str)
        (text, output shape text, kind) per box, input first.
    """
    boxes = []
    for layer in layers:
        kind, shape = layer["type"], layer["output_shape"]
        kind = _SAME_AS.get(kind, kind)
        shape_text = " x ".join(str(s) for s in shape)
        if kind == "BatchNormLayer" and boxes:
            text, _, k = boxes[-1]
            boxes[-1] = (text + " + BN", shape_text, k)
            continue
        if kind == "NonlinearityLayer" and boxes:
            text, _, k = boxes[-1]
            boxes[-1] = (text + " + " + _nonlinearity_name(
                layer.get("nonlinearity", "f")), shape_text, k)
            continue
        if kind == "InputLayer":
            text, k = "input", kind
        elif "num_filters" in layer:
            text = "conv %s, %d filters" % (
                "x".join(str(s) for s in layer["filter_size"]),
                layer["num_filters"])
            k = "conv"
        elif kind == "MaxPool2DLayer":
            text, k = "max-pool %s" % "x".join(
                str(s) for s in layer["pool_size"]), kind
        elif kind == "DropoutLayer":
            text, k = "dropout %.2g" % layer["p"], kind
        elif kind == "DenseLayer":
            text = "dense %d" % layer["num_units"]
            k = "output" if layer.get("name") == "output" else kind
            if k == "output":
                text = "output: %d linear units" % layer["num_units"]
        else:
            text, k = kind.replace("Layer", "").lower(), kind
        if layer.get("nonlinearity") not in (None, "linear", "identity") \
                and k != "output":
            text += " + " + _nonlinearity_name(layer["nonlinearity"])
        boxes.append((text, shape_text, k))
    return boxes


def draw_architecture(ax, layers, title=None, fontsize=8):
    """Draw a net's layer stack as boxes, input at the top, on ``ax``.

    Parameters
    ----------
    ax : matplotlib Axes
    layers : sequence of dict
        See :func:`architecture_boxes`.
    title : str, optional
    fontsize : float
    """
    boxes = architecture_boxes(layers)
    n = len(boxes)
    ax.set_xlim(0, 1)
    ax.set_ylim(n + 0.4, -0.5)            # input at the top
    ax.axis("off")
    for k, (text, shape, kind) in enumerate(boxes):
        ax.add_patch(Rectangle((0.04, k - 0.34), 0.56, 0.68,
                               facecolor=_LAYER_COLORS.get(kind, "white"),
                               edgecolor="black", lw=0.8))
        ax.text(0.32, k, text, ha="center", va="center", fontsize=fontsize)
        ax.text(0.64, k, shape, ha="left", va="center", fontsize=fontsize,
                color="dimgrey")
        if k:     # the data flows down the stack
            ax.plot([0.32, 0.32], [k - 0.66, k - 0.34], color="black",
                    lw=1.0)
    total = sum(layer.get("n_params", 0) for layer in layers)
    ax.text(0.32, n, "%s parameters" % format(total, ","), ha="center",
            va="center", fontsize=fontsize, style="italic")
    if title:
        ax.set_title(title, fontsize=fontsize + 2)
    return ax


def architecture_figure(layers, title=None):
    """A figure of :func:`draw_architecture`."""
    n = len(architecture_boxes(layers))
    fig, ax = plt.subplots(figsize=(5.2, 0.36 * n + 0.9))
    draw_architecture(ax, layers, title=title)
    fig.tight_layout()
    return fig

"""The ``architecture`` figure group: the reference model's layer stack (of
its first net, when the model has several: an ensemble, specialists)."""
import os

import numpy as np

from ...fileio import read_json, write_json
from .. import store
from ..architecture_plots import architecture_figure
from ...plotting import save_figure

__all__ = ["NAME", "run", "describe_layers", "architecture",
           "architecture_title"]

#: The group's name (:data:`kfkd.report.groups.GROUPS`).
NAME = "architecture"


def describe_layers(layer):
    """The layers of a Lasagne net, input first, as JSON-ready dicts.

    Returns
    -------
    list of dict
        ``type``, ``name``, ``output_shape`` (without the batch axis),
        ``n_params`` (all parameters, batch-norm averages included) and,
        where they apply, ``num_filters``, ``filter_size``, ``pool_size``,
        ``p`` (dropout), ``num_units``, ``nonlinearity``.
    """
    # Theano boundary, imported lazily: kfkd.compat configures Theano first
    from ... import compat  # noqa: F401
    import lasagne
    out = []
    for l in lasagne.layers.get_all_layers(layer):
        d = {"type": type(l).__name__, "name": l.name,
             "output_shape": [int(s) for s in l.output_shape[1:]],
             "n_params": int(sum(p.get_value().size for p in l.get_params()))}
        for attr in ("num_filters", "num_units", "p"):
            if hasattr(l, attr):
                d[attr] = float(getattr(l, attr)) if attr == "p" else int(
                    getattr(l, attr))
        for attr in ("filter_size", "pool_size"):
            if hasattr(l, attr):
                d[attr] = [int(s) for s in np.atleast_1d(getattr(l, attr))]
        f = getattr(l, "nonlinearity", None)
        if f is not None:
            d["nonlinearity"] = getattr(f, "__name__", str(f))
        out.append(d)
    return out


def architecture(out_dir, budget="quick", redraw=False, model=None):
    """The reference model's layer stack (from the built net).

    A model of several nets (:func:`kfkd.model.single_nets`: an ensemble's
    members, specialists) is drawn by its first net.  Writes
    ``architecture/layers.json`` (:func:`describe_layers` of that net, with
    its net name and hyperparameters, the model's folder and ``model_kind``:
    None for a single net, else e.g. ``'ensemble of heatmap + breeze'``,
    :func:`kfkd.model.net_label`; ``n_nets``, the number of nets) and the
    figure ``architecture/architecture``.

    Returns
    -------
    dict
        ``written``, ``layers`` (layers.json's contents).
    """
    folder = store.folder(out_dir, "architecture")
    js = os.path.join(folder, "layers.json")
    written = []
    if not redraw:
        from ...model import net_label, single_nets  # Theano: loaded
        model = store.load_model(model)
        nets = single_nets(model)
        net = nets[0]
        write_json(js, {"net": net.net, "net_params": net.net_params,
                        "model": store.rel(model.folder or ""),
                        "layers": describe_layers(net.layer),
                        "model_kind": (None if net is model
                                       else net_label(model)),
                        "n_nets": len(nets)})
        written.append(js)
    store.need(js)
    info = read_json(js)
    written += save_figure(architecture_figure(
        info["layers"], architecture_title(info)),
        os.path.join(folder, "architecture"))
    return {"written": written, "layers": info}


def architecture_title(info):
    """The figure's title from layers.json's contents: the net and its
    hyperparameters, and which of the model's nets it is if there are
    several (layers.json written before ``model_kind``: a single net).

    Examples
    --------
    >>> architecture_title({"net": "heatmap", "net_params": {"width": 4}})
    'heatmap width=4'
    >>> architecture_title({"net": "heatmap", "net_params": {}, "n_nets": 2,
    ...                     "model_kind": "ensemble of heatmap + breeze"})
    'heatmap (net 1 of 2: ensemble of heatmap + breeze)'
    """
    title = "%s %s" % (info["net"], ", ".join(
        "%s=%s" % kv for kv in sorted(info["net_params"].items())))
    if info.get("model_kind"):
        title = "%s (net 1 of %d: %s)" % (title.rstrip(), info.get(
            "n_nets", 1), info["model_kind"])
    return title


def run(out_dir, budget, redraw, model=None, **context):
    """The group protocol (:mod:`kfkd.report.groups`)."""
    return architecture(out_dir, budget, redraw, model)

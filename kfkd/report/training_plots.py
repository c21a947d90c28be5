"""Training-curve figures: loss per epoch of each run and the validation
RMSE of all runs (no Theano)."""

import numpy as np
from matplotlib.ticker import MaxNLocator

from ..plotting import plt

__all__ = ["training_curves_figure", "depth_figure"]


def training_curves_figure(histories, title="Training curves"):
    """Train and validation loss per epoch, one panel per run, and the
    validation RMSE of all runs together (Nouri 2014's plots).

    Parameters
    ----------
    histories : dict
        run name -> mapping with arrays ``epoch``, ``train_loss``,
        ``val_loss`` (masked MSE in the [-1, 1] target scale),
        ``val_rmse_px`` (pixels) and optionally ``seconds`` (then the last
        panel plots RMSE against training time, which compares runs of one
        time budget); e.g. a ``history.csv`` as a DataFrame.
    title : str
    """
    names = list(histories)
    n = len(names) + 1
    cols = min(n, 3)
    rows = int(np.ceil(n / float(cols)))
    fig, axes = plt.subplots(rows, cols, squeeze=False,
                             figsize=(4.2 * cols, 3.2 * rows + 0.4))
    axes = axes.ravel()
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for k, name in enumerate(names):
        h = histories[name]
        ax = axes[k]
        epoch = np.asarray(h["epoch"])
        ax.plot(epoch, h["train_loss"], "-", color="tab:blue", lw=1.3,
                label="train")
        ax.plot(epoch, h["val_loss"], "-", color="tab:green", lw=1.3,
                label="validation")
        b = int(np.nanargmin(np.asarray(h["val_loss"], float)))
        ax.plot(epoch[b], np.asarray(h["val_loss"])[b], "*", color="red",
                ms=9, label="best: %.3f px" % np.asarray(h["val_rmse_px"])[b])
        ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss (MSE, [-1, 1] scale)")
        ax.set_title(name, fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    ax = axes[len(names)]
    timed = all("seconds" in histories[name] for name in names)
    for k, name in enumerate(names):
        h = histories[name]
        x = (np.asarray(h["seconds"], float) / 60.0 if timed
             else np.asarray(h["epoch"]))
        ax.plot(x, h["val_rmse_px"], ".-", lw=1.3, ms=3,
                color=colors[k % len(colors)], label=name)
    ax.set_xlabel("training time (min)" if timed else "epoch")
    ax.set_ylabel("validation RMSE (px)")
    ax.set_title("validation RMSE, all runs", fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)
    for ax in axes[:n - 1]:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    for ax in axes[n:]:
        ax.axis("off")
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig




def depth_figure(summary, spread, budget):
    """Validation RMSE against conv blocks: each seed's run (dots) and the
    mean with its sample standard deviation (bars), the parameters on a
    second axis.

    Parameters
    ----------
    summary : DataFrame
        One row per run: ``depth``, ``val_rmse_px`` (pixels).
    spread : DataFrame
        Per depth: ``depth``, ``mean``, ``sd``, ``n``, ``n_params``
        (:func:`kfkd.report.runs.seed_spread`).
    budget : dict
        The runs' budget (``name``, ``ablation_minutes``).
    """
    fig, ax = plt.subplots(figsize=(5.6, 3.8))
    ax.plot(summary["depth"], summary["val_rmse_px"], "o", color="tab:blue",
            alpha=0.45, ms=4, label="one seed")
    ax.errorbar(spread["depth"], spread["mean"], yerr=spread["sd"], fmt="s-",
                color="tab:blue", capsize=4, label="mean ± sd")
    ax.set_xlabel("conv blocks (breeze depth)")
    ax.set_ylabel("validation RMSE (px)")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(True, alpha=0.3)
    twin = ax.twinx()
    twin.plot(spread["depth"], spread["n_params"] / 1e6, "^--",
              color="tab:gray", ms=4, label="parameters")
    twin.set_ylabel("parameters (millions)", color="tab:gray")
    lines = ax.get_legend_handles_labels()
    more = twin.get_legend_handles_labels()
    ax.legend(lines[0] + more[0], lines[1] + more[1], fontsize=7)
    low, high = int(spread["n"].min()), int(spread["n"].max())
    seeds = "%d seed%s" % (high, "s" if high > 1 else "") if low == high \
        else "%d-%d seeds" % (low, high)
    ax.set_title("Depth study: %.4g min per run, %s (budget %s)" % (
        float(budget["ablation_minutes"]), seeds, budget["name"]),
        fontsize=10)
    fig.tight_layout()
    return fig

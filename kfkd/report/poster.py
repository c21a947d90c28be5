"""An A1 portrait poster composed from the saved figures (no Theano here).

:func:`build_poster` reads what :func:`kfkd.report.reproduce` wrote into a
figures folder (PNG figures, JSON and CSV data) and lays it out with
matplotlib on one 594 x 841 mm page (:mod:`kfkd.report.poster_layout`):
title, problem, method, the other published systems (their comparison
table, when ``systems/systems.csv`` is there), architecture (drawn from the
reference model's layer list), the results table (reference model, nets,
ablations), and the key figures.  Every number on the poster is read from the figure data,
none is typed in.  It writes the PDF (text as TrueType, so the panel titles
are in its text layer) and, beside it, a JSON layout of the panels (page
fractions), which the test uses to check each panel.  Texts are wrapped to
their panel's width as measured by the renderer, and an image goes below
its text, so nothing runs under an image; the layout records where every
text, image and table was drawn (:func:`content_boxes`) and
:func:`layout_problems` checks it.

Examples
--------
>>> from kfkd.report import poster
>>> poster.TITLE
'Optimising Facial Keypoint Detection With Deep Learning'
>>> len(poster.PANELS)
10
"""
import os
import textwrap

import matplotlib
import pandas as pd

from ..fileio import atomic_write, read_json, write_json
from .architecture_plots import draw_architecture
from .runs import spread_cell
from ..plotting import METADATA, plt
from .poster_layout import (BAR, FOOTER_BOX, PAGE_MM, PANELS, TITLE_BOX,
                            Panel, content_boxes, extent, layout_problems)

__all__ = ["PAGE_MM", "Panel", "PANELS", "TITLE", "required_files",
           "build_poster", "results_rows", "systems_rows", "content_boxes",
           "layout_problems"]

#: The poster's title.
TITLE = "Optimising Facial Keypoint Detection With Deep Learning"

_ACCENT = "#1f4e79"


def required_files(figures_dir):
    """The files of ``figures_dir`` the poster is made of.

    Returns
    -------
    dict
        key -> path.  The search surface is the first surface pair of
        the longer study (``search/long/study.json``, ``study_long``) if
        it was drawn, else of the main job's study (``search/study.json``),
        if that file exists; ``systems``
        (the published systems' comparison, written by
        ``experiments/compare_systems.py --figures``) only if it exists.
    """
    f = lambda *p: os.path.join(figures_dir, *p)  # noqa: E731
    files = {
        "labels": f("samples", "labels.json"),
        "sample_faces": f("samples", "sample_faces.png"),
        "augmentation": f("augment", "augmentation.png"),
        "layers": f("architecture", "layers.json"),
        "training_summary": f("training", "summary.csv"),
        "training_curves": f("training", "training_curves.png"),
        "training_budget": f("training", "budget.json"),
        "ablations": f("ablations.csv"),
        "depth": f("depth", "spread.csv"),
        "ablation_curves": f("ablations", "ablation_curves.png"),
        "study": f("search", "study.json"),
        "metrics": f("predictions", "metrics.json"),
        "best_worst": f("predictions", "best_worst.png"),
        "per_keypoint": f("predictions", "per_keypoint.png"),
        "occlusion": f("occlusion", "occlusion_edge_free.json"),
        "compare_censors": f("occlusion", "compare_censors.png"),
    }
    optional = f("systems", "systems.csv")
    if os.path.isfile(optional):    # python experiments/compare_systems.py
        files["systems"] = optional
    longer = f("search", "long", "study.json")
    if os.path.isfile(longer):
        files["study_long"] = longer
    shown = files.get("study_long", files["study"])  # the longer if drawn
    if os.path.isfile(shown):
        pairs = read_json(shown)["surfaces"]
        if pairs:
            x, y = pairs[0]
            files["surface"] = os.path.join(
                os.path.dirname(shown), "surfaces_%s_%s.png" % (
                    x.split(".")[-1], y.split(".")[-1]))
    else:
        files["surface"] = f("search", "surfaces_*.png")
    return files


def results_rows(files):
    """The results table: (run, validation RMSE px, epochs, minutes) rows.

    Rows: the mean-shape baseline, the reference model, each net of the
    training curves, each ablation variant (all read from the figure data).
    """
    metrics = read_json(files["metrics"])
    rows = [("predict the mean training shape",
             "%.2f" % metrics["mean_shape_rmse_px"], "-", "-")]
    trained = metrics.get("training") or {}
    ref_epochs = ("%s (best %s)" % (trained["epochs"], trained["best_epoch"])
                  if "epochs" in trained else "-")
    ref_minutes = ("%.0f" % (trained["seconds"] / 60.0)
                   if "seconds" in trained else "-")
    rows.append(("reference model (%s, %s)" % (metrics.get("net", "?"),
                                               metrics.get("model") or "?"),
                 "%.2f" % metrics["val_rmse_px"], ref_epochs, ref_minutes))
    for _, r in pd.read_csv(files["training_summary"]).iterrows():
        rows.append((r["name"], "%.2f" % r["val_rmse_px"],
                     "%d (best %d)" % (r["epochs"], r["best_epoch"]),
                     "%.1f" % r["minutes"]))
    for label, key in (("breeze ablation: ", "ablations"),
                       ("breeze ", "depth")):
        if key not in files or not os.path.isfile(files[key]):
            continue
        for _, r in pd.read_csv(files[key]).iterrows():
            rows.append(("%s%s" % (label, r["name"]), spread_cell(r, 2, seeds=False),
                         "%.0f" % r["epochs"] if "epochs" in r else "-",
                         "%.1f" % r["minutes"]))
    return rows


def _budget_text(files):
    """The training runs' budgets, from the training, ablation and depth
    groups' budget.json files (each group may have its own)."""
    def one(folder, minutes, what, seeded=True):
        b = read_json(os.path.join(folder, "budget.json"))
        faces = ("all faces" if b.get("limit") is None else
                 "first %d faces" % b["limit"])
        seeds = b.get("seeds", 1) if seeded else 1
        stop = (", patience %d" % b["patience"]
                if b.get("patience") else "")
        return "%s: budget '%s', %s, %.4g min per run at most%s, %d seed%s" % (
            what, b["name"], faces, b[minutes], stop, seeds,
            "s" if seeds > 1 else "")
    parts = [one(os.path.dirname(files["training_curves"]), "net_minutes",
                 "Nets", seeded=False)]
    for key, what in (("ablation_curves", "ablations"), ("depth", "depth")):
        folder = os.path.dirname(files[key])
        if os.path.isfile(os.path.join(folder, "budget.json")):
            parts.append(one(folder, "ablation_minutes", what))
    return "; ".join(parts) + "."


def _frame(fig, panel):
    """The panel's frame (border and title bar); returns the content box
    (left, bottom, width, height) in figure coordinates."""
    x0, y0, x1, y1 = panel.bbox
    box = fig.add_axes([x0, 1 - y1, x1 - x0, y1 - y0])
    box.set_xticks([])
    box.set_yticks([])
    for spine in box.spines.values():
        spine.set_edgecolor(_ACCENT)
        spine.set_linewidth(2.5)
    bar = BAR / (y1 - y0)
    box.axhspan(1 - bar, 1, color=_ACCENT)
    box.set_xlim(0, 1)
    box.set_ylim(0, 1)
    box.text(0.015, 1 - bar / 2, panel.title, color="white", fontsize=34,
             fontweight="bold", va="center", ha="left")
    pad = 0.012
    return (x0 + pad, 1 - y1 + pad, x1 - x0 - 2 * pad,
            (y1 - y0) * (1 - bar) - 2 * pad)


def _image(fig, rect, path):
    """``path`` (PNG) drawn in rect (l, b, w, h), aspect kept; the image."""
    ax = fig.add_axes(rect)
    image = ax.imshow(plt.imread(path), interpolation="lanczos")
    ax.axis("off")
    return image


def _wrap(text, width):
    lines = []
    for paragraph in text.split("\n"):
        lines += textwrap.wrap(paragraph, width) or [""]
    return "\n".join(lines)


def _text(fig, rect, text, fontsize=20):
    """``text`` at the top left of rect (l, b, w, h), its paragraphs
    (``\\n``) wrapped to the widest lines that fit rect's width (measured
    with the renderer, not guessed from a character count); the text."""
    l, b, w, h = rect
    artist = fig.text(l, b + h, text, va="top", ha="left",
                      fontsize=fontsize, linespacing=1.35)
    width = max(len(p) for p in text.split("\n"))
    while width > 8:
        artist.set_text(_wrap(text, width))
        x0, _, x1, _ = extent(fig, artist)
        if x1 - x0 <= w:
            break
        width = min(width - 1, int(width * w / (x1 - x0)))
    return artist


def _below(fig, rect, artist, gap=0.006, min_fraction=0.3):
    """The part of rect (l, b, w, h) below ``artist`` (drawn at its top),
    ``gap`` page heights under it.

    Raises
    ------
    ValueError
        Less than ``min_fraction`` of rect is left (the text is too long
        for its panel).
    """
    l, b, w, h = rect
    bottom = 1 - extent(fig, artist)[3] - gap
    if bottom - b < min_fraction * h:
        raise ValueError("poster layout: %r leaves %.0f%% of its panel "
                         "below it" % (artist, 100 * (bottom - b) / h))
    return (l, b, w, bottom - b)


def _text_over_image(fig, rect, text, path, fontsize):
    """Text at the top of rect, the image in the rest; [text, image]."""
    artist = _text(fig, rect, text, fontsize)
    return [artist, _image(fig, _below(fig, rect, artist), path)]


def _split(rect, fraction, vertical=True):
    """Split rect (l, b, w, h): top ``fraction`` and the rest (vertical),
    or left ``fraction`` and the rest."""
    l, b, w, h = rect
    if vertical:
        return (l, b + h * (1 - fraction), w, h * fraction), (
            l, b, w, h * (1 - fraction))
    return (l, b, w * fraction, h), (l + w * fraction, b, w * (1 - fraction),
                                     h)


def _table(fig, rect, rows, header, widths=(0.50, 0.20, 0.18, 0.12),
           fontsize=17, row_scale=2.3):
    ax = fig.add_axes(rect)
    ax.axis("off")
    table = ax.table(cellText=[list(r) for r in rows], colLabels=header,
                     loc="upper center", cellLoc="left", colLoc="left",
                     colWidths=list(widths))
    table.auto_set_font_size(False)
    table.set_fontsize(fontsize)
    table.scale(1, row_scale)
    for (r, _), cell in table.get_celld().items():
        cell.set_edgecolor("#bbbbbb")
        if r == 0:
            cell.set_facecolor("#dde6f0")
            cell.get_text().set_fontweight("bold")
    return table


def build_poster(figures_dir, out_path, preview=True):
    """Compose the A1 poster from ``figures_dir``; write PDF and layout JSON.

    Parameters
    ----------
    figures_dir : str
        Written by :func:`kfkd.report.reproduce` (all groups).
    out_path : str
        The PDF to write (atomically); the layout goes to the same name
        with ``.json``, the preview (if ``preview``) with ``.png``.
    preview : bool
        Also write a 30 dpi PNG preview.

    Returns
    -------
    dict
        The layout: ``page_mm``, ``panels`` (name, title, bbox as page
        fractions from the top left), ``content`` (each panel's texts,
        images and tables as drawn, see :func:`content_boxes`),
        ``sources`` (the files used), ``pdf``.

    Raises
    ------
    FileNotFoundError
        A figure or data file is missing (all missing files are named).
    ValueError
        A panel's text leaves too little room for its image.
    """
    files = required_files(figures_dir)
    missing = sorted(p for p in files.values() if not os.path.isfile(p))
    if missing:
        raise FileNotFoundError(
            "cannot build the poster: missing %s (run python "
            "experiments/reproduce_figures.py first)" % ", ".join(missing))
    data = {k: read_json(files[k]) for k in ("labels", "metrics", "layers",
                                             "study", "occlusion",
                                             "study_long") if k in files}
    page = (PAGE_MM[0] / 25.4, PAGE_MM[1] / 25.4)
    with matplotlib.rc_context({"pdf.fonttype": 42, "font.size": 20}):
        fig = plt.figure(figsize=page)
        fig.patch.set_facecolor("white")
        _title(fig, data["labels"], data["metrics"])
        content = {p.name: _frame(fig, p) for p in PANELS}
        parts = _upper_panels(fig, content, files, data)
        parts.update(_lower_panels(fig, content, files, data))
        _footer(fig)
        boxes = content_boxes(fig, parts)
        base = _save(fig, out_path, preview)
    layout = {"page_mm": list(PAGE_MM), "pdf": os.path.abspath(out_path),
              "title": TITLE,
              "panels": [{"name": p.name, "title": p.title,
                          "bbox": list(p.bbox)} for p in PANELS],
              "content": boxes,
              "sources": {k: os.path.relpath(v, figures_dir)
                          for k, v in sorted(files.items())}}
    write_json(base + ".json", layout)
    return layout


def _upper_panels(fig, content, files, data):
    """Problem, method, architecture and results; {panel: artists}."""
    labels, metrics = data["labels"], data["metrics"]
    parts = {}
    parts["problem"] = _text_over_image(fig, content["problem"], (
        "Kaggle's Facial Keypoints Detection: 15 keypoints (30 "
        "coordinates) on 96 x 96 grey faces, scored by the RMSE in "
        "pixels.\nTraining data: %d faces, %d fully and %d partly "
        "labelled; a masked loss uses every labelled coordinate." % (
            labels["n_faces"], labels["n_fully_labelled"],
            labels["n_partly_labelled"])),
        files["sample_faces"], fontsize=18)
    parts["method"] = _text_over_image(fig, content["method"], (
        "Theano + Lasagne on CPU: Nouri's nets, breeze (a deeper "
        "batch-normalised CNN), a soft-argmax heat-map net. Adam or "
        "Nesterov, dropout, L1/L2, early stopping; flips with left/right "
        "swapped, rotation, shift, scale; random search with successive "
        "halving."), files["augmentation"], fontsize=18)
    parts["systems"] = _systems_panel(fig, content["systems"],
                                      files.get("systems"))
    layers = data["layers"]
    ax = fig.add_axes(content["architecture"])
    net = layers["net"]
    if layers.get("model_kind"):  # several nets: the first is drawn
        title = "%s: net 1 of the %d of the reference model" % (
            net, layers.get("n_nets", 1))
    else:
        title = "%s (%s)" % (net, layers.get("model") or "reference model")
    draw_architecture(ax, layers["layers"], title=title, fontsize=14)
    parts["architecture"] = [t for t in ax.texts] + [ax.title]
    rows = results_rows(files)
    fit = min(1.0, 11.0 / (len(rows) + 1))  # the panel holds 11 lines
    table = _table(fig, content["results"], rows, [
        "model / run", "val. RMSE (px)", "epochs", "minutes"],
        fontsize=max(11, round(17 * fit ** 0.5)), row_scale=2.3 * fit)
    note = _text(fig, _below(fig, content["results"], table, gap=0.008,
                             min_fraction=0.05),
                 "Validation: %d faces of the grouped split (seed 42). %s" % (
                     metrics["n_faces"], _budget_text(files)), fontsize=17)
    parts["results"] = [table, note]
    return parts


def systems_rows(frame):
    """The systems panel's rows from ``systems/systems.csv`` (read as a
    DataFrame): (system, parameters in millions, training minutes,
    validation RMSE px)."""
    return [(r["system"], "%.2fM" % (r["parameters"] / 1e6),
             "%.0f" % r["train_minutes"], "%.2f" % r["val_rmse_px"])
            for _, r in frame.iterrows()]


def _systems_panel(fig, rect, path):
    """The published systems' comparison (or how to make it)."""
    if path is None:
        return [_text(fig, rect, "No comparison in figures/systems/: python "
                      "experiments/compare_systems.py RUNS --figures figures "
                      "writes it.", fontsize=18)]
    frame = pd.read_csv(path)
    splits = sorted(set(frame["split"]))
    note = _text(fig, rect, "Each write-up's net and recipe rebuilt in "
                 "Lasagne, trained here on the same faces (%s), each for "
                 "at most %.0f minutes on one core." % (
                     ", ".join(splits), frame["train_minutes"].max()),
                 fontsize=18)
    table = _table(fig, _below(fig, rect, note, min_fraction=0.3),
                   systems_rows(frame), ["system", "params", "min",
                                        "val. RMSE (px)"],
                   widths=(0.30, 0.22, 0.14, 0.34), fontsize=16,
                   row_scale=2.0)
    return [note, table]


def _lower_panels(fig, content, files, data):
    """Training, ablations, search, predictions and occlusion;
    {panel: artists}."""
    study, occ = data["study"], data["occlusion"]
    parts = {}
    parts["training"] = [_image(fig, content["training"],
                                files["training_curves"])]
    parts["ablations"] = [_image(fig, content["ablations"],
                                 files["ablation_curves"])]
    shown = data.get("study_long", study)
    text = ("Study '%s' (space %s): %d trials, %d complete; best: trial %d, "
            "%.2f px. A point per trial, a Gaussian-process fit over them."
            % (shown["study"], shown["space"], shown["n_trials"],
               shown["n_complete"], shown["best"]["number"],
               shown["best"]["val_rmse_px"]))
    if shown is not study:
        text += " The main job's %d-trial study: best %.2f px." % (
            study["n_trials"], study["best"]["val_rmse_px"])
    parts["search"] = _text_over_image(fig, content["search"], text,
                                       files["surface"], fontsize=18)
    top, bottom = _split(content["predictions"], 0.56)
    parts["predictions"] = [_image(fig, top, files["best_worst"]),
                            _image(fig, bottom, files["per_keypoint"])]
    focus = {k: v["focus_8px"] for k, v in occ.get("compare", {}).items()}
    parts["occlusion"] = _text_over_image(fig, content["occlusion"], (
        "Slide a patch over the face, watch the keypoints move (Zeiler & "
        "Fergus). The edge-free censor blends in a blurred copy, adding "
        "no edges. Share of the map within 8 px of a keypoint: %s." %
        ", ".join("%s %.0f%%" % (k, 100 * v) for k, v in focus.items())),
        files["compare_censors"], fontsize=18)
    return parts


def _save(fig, out_path, preview):
    """Write the PDF (and the PNG preview) atomically, close ``fig``;
    ``out_path`` without its extension."""
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    with atomic_write(out_path, "wb") as f:
        fig.savefig(f, format="pdf", metadata=METADATA["pdf"])
    base = os.path.splitext(out_path)[0]
    if preview:
        with atomic_write(base + ".png", "wb") as f:
            fig.savefig(f, format="png", dpi=30)
    plt.close(fig)
    return base


def _title(fig, labels, metrics):
    x0, y0, x1, y1 = TITLE_BOX
    ax = fig.add_axes([x0, 1 - y1, x1 - x0, y1 - y0])
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.axis("off")
    ax.add_patch(plt.Rectangle((0, 0), 1, 1, color=_ACCENT))
    ax.text(0.5, 0.68, TITLE, color="white", fontsize=46, fontweight="bold",
            ha="center", va="center")
    ax.text(0.5, 0.27, "The 2015 project replicated on the Theano-era stack "
            "(Python 3.11, theano-pymc, Lasagne 0.1)\nreference model: "
            "%.2f px validation RMSE on %d faces" % (
                metrics["val_rmse_px"], metrics["n_faces"]),
            color="white", fontsize=24, ha="center", va="center",
            linespacing=1.4)


def _footer(fig):
    x0, y0, x1, y1 = FOOTER_BOX
    ax = fig.add_axes([x0, 1 - y1, x1 - x0, y1 - y0])
    ax.axis("off")
    ax.text(0, 0.5, "Reproduce: python experiments/reproduce_figures.py "
            "[--quick]  (every figure, its data, this poster)   |   python "
            "poster/build.py  (this poster from figures/)", fontsize=16,
            va="center", ha="left", color="dimgrey", family="monospace")

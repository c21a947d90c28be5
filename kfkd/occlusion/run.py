"""A folder of occlusion results: compute, load and draw it.

One place for what ``kfkd occlusion``, ``experiments/occlusion_heatmaps.py``
and :func:`kfkd.report.groups.occlusion.occlusion` do.  Files in the folder:

* ``occlusion_<censor>.npz`` / ``.json``: the heat maps of the first faces
  with one censor, and a summary (``grey_level``, ``maps``, ``compare``);
* ``compare_<name>.npz``: every censor at scale 1 on the first faces;
* ``matched_<name>.npz`` and ``matched.json``, ``edge_energy.md``: every
  censor scaled to the hard grey patch's detail removed
  (:mod:`kfkd.occlusion.strength`), its maps and the table of added edge
  energy per unit of detail removed;
* figures ``face<i>_<censor>``, ``overview_<censor>``, ``compare_censors``,
  ``compare_censors_matched``.

The model is passed in (``predict`` callable or :class:`kfkd.model.Model`):
this module does not import Theano.
"""
import glob
import os

from ..fileio import atomic_write, read_json, write_json
from . import figures, strength
from .censors import CENSORS, make_censor
from .maps import compare_censors, load_occlusion_maps, occlusion_maps

__all__ = ["COMPARED", "compute_maps", "compute_energy_tables",
           "compute_matched", "load_folder", "draw_folder"]

#: The censors of the comparison at scale 1: one of each kind, the default
#: edge-free window; every censor of :data:`CENSORS` (``edge_free_margin``
#: too) is compared at matched strength (:func:`compute_matched`).
COMPARED = ("black", "grey", "noise", "blur", "edge_free")


def compute_maps(model, val, grey, folder, censor="edge_free", patch=12,
                 faces=8, stride=2, compare_faces=4, compare_stride=4,
                 censors=COMPARED, batch_size=256, progress=True,
                 extra=None):
    """Heat maps of the first ``faces`` validation faces with ``censor``,
    and of every censor of ``censors`` on the first ``compare_faces``
    (0: none) at ``compare_stride``; written into ``folder``.

    Parameters
    ----------
    model : callable or object with ``.predict``
    val : kfkd.data.KeypointData
        Validation faces.
    grey : float
        Dataset mean grey level in [0, 1] (the grey censor's fill).
    folder : str
    extra : dict, optional
        More fields of the summary JSON (e.g. ``model``, ``budget``).

    Returns
    -------
    list of str
        Written paths.
    """
    first = val.subset(slice(0, faces))
    maps = occlusion_maps(model, first.images, first.keypoints, censor, patch,
                          stride, batch_size, grey_level=grey,
                          progress=progress)
    written = [maps.save(os.path.join(folder, "occlusion_%s.npz"
                                      % maps.censor_name))]
    summary = dict(extra or {}, grey_level=grey, maps=maps.summary(),
                   compare={})
    for old in glob.glob(os.path.join(folder, "compare_*.npz")):
        os.unlink(old)
    if compare_faces > 0:
        few = val.subset(slice(0, compare_faces))
        for name, m in compare_censors(
                model, few.images, few.keypoints, list(censors), patch,
                compare_stride, grey_level=grey, progress=progress,
                batch_size=batch_size).items():
            written.append(m.save(os.path.join(folder,
                                               "compare_%s.npz" % name)))
            summary["compare"][name] = m.summary()
    js = os.path.join(folder, "occlusion_%s.json" % maps.censor_name)
    write_json(js, summary)
    return written + [js]


def compute_energy_tables(val, grey, folder, patch=12, faces=32, stride=4,
                          censors=tuple(CENSORS), reference="grey"):
    """The censors' measures at scale 1 and scaled to the ``reference``
    censor's detail removed, on the first ``faces`` validation faces at
    ``stride`` (:mod:`kfkd.occlusion.strength`).

    Writes ``matched.json`` (target, scales, rows of both tables) and
    ``edge_energy.md`` (both tables) into ``folder``.

    Returns
    -------
    matched : dict
        censor name -> scaled Censor.
    written : list of str
    """
    images = val.images[:faces]
    target, matched, tables = strength.energy_tables(
        images, [make_censor(c, grey) for c in censors], patch, stride,
        make_censor(reference, grey))
    js = os.path.join(folder, "matched.json")
    write_json(js, {"target_detail": target, "reference": reference,
                    "patch_px": patch, "faces": len(images),
                    "stride_px": stride, "rows": tables[1],
                    "scale_1_rows": tables[0]})
    md = _write_tables(folder, tables, target, len(images), patch, stride)
    return matched, [md, js]


def compute_matched(model, val, grey, folder, patch=12, faces=8, stride=2,
                    calibration_faces=32, calibration_stride=4,
                    censors=tuple(CENSORS), reference="grey", batch_size=256,
                    progress=True):
    """Censors at matched strength: :func:`compute_energy_tables` on the
    first ``calibration_faces`` (positions every ``calibration_stride``
    px), then the scaled censors' heat maps on the first ``faces`` faces at
    ``stride`` (``matched_<name>.npz``).  Returns the written paths."""
    matched, written = compute_energy_tables(
        val, grey, folder, patch, calibration_faces, calibration_stride,
        censors, reference)
    few = val.subset(slice(0, faces))
    for old in glob.glob(os.path.join(folder, "matched_*.npz")):
        os.unlink(old)
    for name, c in matched.items():
        m = occlusion_maps(model, few.images, few.keypoints, c, patch, stride,
                           batch_size, progress=progress)
        written.append(m.save(os.path.join(folder, "matched_%s.npz" % name)))
    return written


def _write_tables(folder, tables, target, n_faces, patch, stride):
    """``edge_energy.md``: the :func:`strength.table_markdown` tables at
    scale 1 and at matched strength, with their captions."""
    path = os.path.join(folder, "edge_energy.md")
    best = min((r for r in tables[1] if r["censor"].startswith("edge_free")),
               key=lambda r: r["per_detail"], default={}).get("censor")
    with atomic_write(path, "w") as f:
        f.write("Added edge energy E per unit of detail removed D, %d "
                "validation faces, patch %d px, positions every %d px, ring "
                "2 px around the window's support.\n\nAt scale 1 (the "
                "patch itself):\n\n%s\nAt matched strength: each censor "
                "scaled (side = scale x %d px) to remove D = %.3f on average "
                "(grey levels summed over pixels; the hard grey patch's at "
                "scale 1):\n\n%s" % (
                    n_faces, patch, stride,
                    strength.table_markdown(tables[0]), patch, target,
                    strength.table_markdown(tables[1], bold=best)))
    return path


def _load_named(folder, prefix):
    """``<prefix>_<name>.npz`` maps, in :data:`CENSORS` order."""
    out = {}
    for name in CENSORS:
        path = os.path.join(folder, "%s_%s.npz" % (prefix, name))
        if os.path.isfile(path):
            out[name] = load_occlusion_maps(path)
    return out


def load_folder(folder, censor="edge_free"):
    """Read what :func:`compute_maps` (and :func:`compute_matched`) wrote.

    Returns
    -------
    maps : OcclusionMaps
    comparisons, matched : dict
        censor name -> OcclusionMaps (empty if not computed).
    summary : dict
        The summary JSON.

    Raises
    ------
    FileNotFoundError
        ``occlusion_<censor>.npz`` or ``.json`` is missing.
    """
    npz = os.path.join(folder, "occlusion_%s.npz" % censor)
    js = os.path.join(folder, "occlusion_%s.json" % censor)
    for path in (npz, js):
        if not os.path.isfile(path):
            raise FileNotFoundError("%s is missing: compute the occlusion "
                                    "maps first (without --redraw)" % path)
    return (load_occlusion_maps(npz), _load_named(folder, "compare"),
            _load_named(folder, "matched"), read_json(js))


def draw_folder(folder, censor="edge_free"):
    """Draw every figure of a folder from its saved maps (no model); remove
    face figures of an earlier, larger run.  Returns the written paths."""
    maps, comparisons, matched, summary = load_folder(folder, censor)
    y0, x0 = figures.example_position(maps)
    grey = summary["grey_level"]
    examples = (figures.censor_examples(maps.images[0], list(comparisons),
                                        y0, x0, maps.patch, grey)
                if comparisons else None)
    for old in glob.glob(os.path.join(folder, "face*_%s.*" % censor)):
        index = os.path.basename(old)[4:].split("_")[0]
        if index.isdigit() and int(index) >= len(maps):
            os.unlink(old)
    written = figures.write_figures(maps, folder, comparisons, examples)
    if matched:
        scaled = _matched_censors(folder, grey)
        examples = figures.censor_examples(
            maps.images[0], [scaled[k] for k in matched if k in scaled],
            y0, x0, maps.patch, grey)
        written += figures.write_matched_figure(matched, folder, examples)
    return written


def _matched_censors(folder, grey):
    """name -> scaled Censor, from ``matched.json``."""
    rows = read_json(os.path.join(folder, "matched.json"))["rows"]
    return {r["censor"]: make_censor(r["censor"], grey).scaled(r["scale"])
            for r in rows}

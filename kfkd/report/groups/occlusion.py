"""The ``occlusion`` figure group: occlusion heat maps of validation faces
and the censor comparison (moved verbatim from the former
``kfkd/figures.py``; the occlusion package's rework is ported separately)."""
import glob
import os

from ... import occlusion as occ
from ...fileio import read_json, write_json
from .. import store
from ..budget import get_budget

__all__ = ["NAME", "run", "occlusion"]

#: The group's name (:data:`kfkd.report.groups.GROUPS`).
NAME = "occlusion"


def _censor_examples(maps, censors, grey):
    """Each censor over face 0's predicted right eye centre."""
    patch = maps.patch
    x, y = maps.clean_predictions[0, 2:4]
    y0 = int(min(max(round(y - patch / 2.0), 0), 96 - patch))
    x0 = int(min(max(round(x - patch / 2.0), 0), 96 - patch))
    return occ.censor_examples(maps.images[0], censors, y0, x0, patch, grey)


def occlusion(out_dir, budget="quick", redraw=False, model=None,
              data_dir=None, censor="edge_free", patch=12, verbose=True):
    """Occlusion heat maps of validation faces and the censor comparison.

    Heat maps (:func:`kfkd.occlusion.occlusion_maps`) of the first
    ``budget.occlusion_faces`` validation faces with ``censor`` at stride
    ``budget.occlusion_stride``, and the aggregate maps of every censor of
    :data:`kfkd.occlusion.CENSORS` on the first ``budget.compare_faces`` at
    ``budget.compare_stride``.  Writes into ``occlusion/`` the same files as
    ``experiments/occlusion_heatmaps.py`` (``occlusion_<censor>.npz`` /
    ``.json``, ``compare_<censor>.npz``; figures ``face<i>_<censor>``,
    ``overview_<censor>``, ``compare_censors``), so either can redraw the
    other's.

    Returns
    -------
    dict
        ``written``, ``summary`` (the JSON's contents).
    """
    budget = get_budget(budget)
    folder = store.folder(out_dir, "occlusion")
    npz = os.path.join(folder, "occlusion_%s.npz" % censor)
    js = os.path.join(folder, "occlusion_%s.json" % censor)
    written = []
    if not redraw:
        model = store.load_model(model)
        train, val = store.split(data_dir)
        grey = float(train.images.mean())
        faces = val.subset(slice(0, budget.occlusion_faces))
        maps = occ.occlusion_maps(model, faces.images, faces.keypoints,
                                  censor, patch, budget.occlusion_stride,
                                  grey_level=grey, progress=verbose)
        written.append(maps.save(npz))
        summary = {"model": store.rel(model.folder or ""), "grey_level": grey,
                   "maps": maps.summary(), "compare": {},
                   "budget": get_budget(budget).to_dict()}
        for old in glob.glob(os.path.join(folder, "compare_*.npz")):
            os.unlink(old)
        if budget.compare_faces > 0:
            few = faces.subset(slice(0, budget.compare_faces)) \
                if budget.compare_faces <= len(faces) else \
                val.subset(slice(0, budget.compare_faces))
            comparisons = occ.compare_censors(
                model, few.images, few.keypoints, list(occ.CENSORS), patch,
                budget.compare_stride, grey_level=grey, progress=verbose)
            for name, m in comparisons.items():
                written.append(m.save(os.path.join(folder,
                                                   "compare_%s.npz" % name)))
                summary["compare"][name] = m.summary()
        write_json(js, summary)
        written.append(js)
    store.need(npz, js)
    maps = occ.load_occlusion_maps(npz)
    summary = read_json(js)
    comparisons = {}
    for name in occ.CENSORS:
        path = os.path.join(folder, "compare_%s.npz" % name)
        if os.path.isfile(path):
            comparisons[name] = occ.load_occlusion_maps(path)
    examples = (_censor_examples(maps, list(comparisons),
                                 summary["grey_level"])
                if comparisons else None)
    for old in glob.glob(os.path.join(folder, "face*_%s.*" % censor)):
        index = os.path.basename(old)[4:].split("_")[0]
        if index.isdigit() and int(index) >= len(maps):
            os.unlink(old)          # faces of an earlier, larger run
    written += occ.write_figures(maps, folder, comparisons, examples)
    return {"written": written, "summary": summary}


def run(out_dir, budget, redraw, model=None, data_dir=None, verbose=True,
        **context):
    """The group protocol (:mod:`kfkd.report.groups`)."""
    return occlusion(out_dir, budget, redraw, model, data_dir,
                     verbose=verbose)

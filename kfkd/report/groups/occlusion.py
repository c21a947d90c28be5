"""The ``occlusion`` figure group: occlusion heat maps of validation faces
and the censor comparison, computed and drawn by :mod:`kfkd.occlusion.run`
(the same files as ``kfkd occlusion``)."""
import os

from ...fileio import read_json
from ...occlusion import run as occlusion_run
from .. import store
from ..budget import get_budget

__all__ = ["NAME", "run", "occlusion"]

#: The group's name (:data:`kfkd.report.groups.GROUPS`).
NAME = "occlusion"

#: What the censors at matched strength leave in the folder (patterns).
MATCHED_FILES = ("matched_*.npz", "matched.json", "edge_energy.md",
                 "compare_censors_matched.*")


def occlusion(out_dir, budget="quick", redraw=False, model=None,
              data_dir=None, censor="edge_free", patch=12, verbose=True):
    """Occlusion heat maps of validation faces and the censor comparison.

    Heat maps (:func:`kfkd.occlusion.occlusion_maps`) of the first
    ``budget.occlusion_faces`` validation faces with ``censor`` at stride
    ``budget.occlusion_stride``, and the aggregate maps of every censor of
    :data:`kfkd.occlusion.CENSORS` on the first ``budget.compare_faces`` at
    ``budget.compare_stride``; with ``budget.matched_faces``, the censors
    at matched strength too (scaled on ``budget.calibration_faces``).
    Writes into ``occlusion/`` the same files as ``kfkd occlusion``
    (:mod:`kfkd.occlusion.run`: ``occlusion_<censor>.npz`` / ``.json``,
    ``compare_<censor>.npz``, ``matched_<censor>.npz``, ``matched.json``,
    ``edge_energy.md``; figures ``face<i>_<censor>``, ``overview_<censor>``,
    ``compare_censors``, ``compare_censors_matched``), so either can redraw
    the other's.

    Returns
    -------
    dict
        ``written``, ``summary`` (the JSON's contents).
    """
    budget = get_budget(budget)
    folder = store.folder(out_dir, "occlusion")
    written = []
    if not redraw:
        model = store.load_model(model)
        train, val = store.split(data_dir)
        written += occlusion_run.compute_maps(
            model, val, float(train.images.mean()), folder, censor, patch,
            budget.occlusion_faces, budget.occlusion_stride,
            budget.compare_faces, budget.compare_stride, progress=verbose,
            extra={"model": store.rel(model.folder or ""),
                   "budget": budget.to_dict()})
        if budget.matched_faces:
            written += occlusion_run.compute_matched(
                model, val, float(train.images.mean()), folder, patch,
                budget.matched_faces, budget.matched_stride,
                budget.calibration_faces, progress=verbose)
        else:                       # none of another model's beside these
            store.remove_stale(folder, MATCHED_FILES)
    summary_path = os.path.join(folder, "occlusion_%s.json" % censor)
    store.need(os.path.join(folder, "occlusion_%s.npz" % censor),
               summary_path)
    written += occlusion_run.draw_folder(folder, censor)
    return {"written": written, "summary": read_json(summary_path)}


def run(out_dir, budget, redraw, model=None, data_dir=None, verbose=True,
        **context):
    """The group protocol (:mod:`kfkd.report.groups`)."""
    return occlusion(out_dir, budget, redraw, model, data_dir,
                     verbose=verbose)

"""The figure groups, one module each, behind one protocol.

A group module defines

``NAME``
    The group's name (one of :data:`GROUPS`); it writes into
    ``<out_dir>/<NAME>/``.
``run(out_dir, budget, redraw, **context) -> dict``
    Compute the group's data (unless ``redraw``), save it beside the
    figures (CSV, JSON, ``.npz`` without pickle), then draw the figures
    *from those saved files* (PNG and PDF).  ``budget`` is a name or a
    :class:`kfkd.report.budget.Budget`; ``context`` holds ``data_dir``,
    ``model``, ``study_dir``, ``runs_dir`` (the root of the training runs)
    and ``verbose``, and a group takes the ones it needs.  Returns a dict
    with at least ``written``, the paths it wrote.

=============  =====================================================
group          what it shows
=============  =====================================================
samples        fully and partly labelled training faces; labels per
               keypoint
augment        one face before/after each transform; exposure
               correction of over-exposed faces
training       train/validation loss per epoch of each net
ablations      breeze with dropout, augmentation, L1/L2, batch norm
               switched off and exposure correction on, over seeds
depth          validation RMSE against breeze's conv blocks at a
               matched budget, over seeds
search         3D validation-RMSE surfaces of a random-search study
architecture   the reference model's layer stack
predictions    predicted vs labelled keypoints on the best and worst
               validation faces; RMSE per keypoint
occlusion      occlusion heat maps and the censor comparison
split          the groups of likely the same person behind the grouped
               validation split; how alike validation and test faces
               are to training
=============  =====================================================

Examples
--------
>>> from kfkd.report.groups import GROUPS, REGISTRY
>>> GROUPS[:3]
('samples', 'augment', 'training')
>>> REGISTRY["samples"].NAME
'samples'
"""
from . import (ablations, architecture, augment, depth, occlusion,
               predictions,
               samples, search, split, training)

__all__ = ["GROUPS", "REGISTRY", "ablations", "architecture", "augment",
           "depth",
           "occlusion", "predictions", "samples", "search", "split",
           "training"]

#: Group name -> module, in the order :func:`kfkd.report.reproduce` runs them.
REGISTRY = {m.NAME: m for m in (samples, augment, training, ablations, depth,
                                search, architecture, predictions,
                                occlusion, split)}

#: Figure group names in the order :func:`kfkd.report.reproduce` runs them.
GROUPS = tuple(REGISTRY)

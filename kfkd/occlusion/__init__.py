"""Occlusion sensitivity: heat maps, censors and the edge-free censor.

Zeiler & Fergus (2014, "Visualizing and understanding convolutional
networks", section 4.2) slide a grey square over the input and watch the
output change.  The 2015 project this package replicates used such heat maps
to see what its keypoint CNN had learned, compared *censors* (what fills the
occluded patch), and added an **edge-free censor**: a hard-edged patch is a
new edge the network responds to, so a plain map partly shows the censor
instead of the face.

Modules, lower ones first (none imports Theano; the network is any
``predict`` callable or a :class:`kfkd.model.Model`, loaded only by
:mod:`kfkd.occlusion.run`):

==========  ================================================================
geometry    patch positions, signed distances, a censor's (scaled) square
censors     :class:`Censor` and the censors of :data:`CENSORS`
edges       added edge energy, detail removed, window mass
strength    censors scaled to matched strength, ``E / D`` tables
maps        :class:`OcclusionMaps`, :func:`occlusion_maps`, their files
figures     drawing the saved maps (:mod:`kfkd.occlusion.plots`)
run         compute / load / draw a figure folder (the model boundary)
command     ``kfkd occlusion`` and ``kfkd benchmark-occlusion``
==========  ================================================================

Examples
--------
>>> import numpy as np
>>> faces = np.full((2, 1, 96, 96), 0.5, np.float32)
>>> len(patch_positions(12, 2))   # 43 x 43
1849
>>> censored = make_censor("edge_free").apply(faces, 40, 40, 12)
>>> censored.shape, censored.dtype
((2, 1, 96, 96), dtype('float32'))
"""
from .censors import (CENSORS, BlackCensor, BlurCensor, Censor,
                      EdgeFreeCensor, GreyCensor, MarginEdgeFreeCensor,
                      NoiseCensor, make_censor)
from .edges import (MEASURES, added_edge_energy, censor_measures,
                    detail_removed, edge_energy_table, sobel_magnitude,
                    window_mass)
from .figures import censor_examples, write_figures
from .geometry import patch_distance, patch_positions
from .maps import (OcclusionMaps, compare_censors, load_occlusion_maps,
                   occlusion_maps)
from .strength import (calibrate_scale, matched_censors, strength_table,
                       table_markdown)

__all__ = ["Censor", "BlackCensor", "GreyCensor", "NoiseCensor", "BlurCensor",
           "EdgeFreeCensor", "MarginEdgeFreeCensor", "CENSORS",
           "make_censor", "patch_positions", "patch_distance",
           "sobel_magnitude", "MEASURES",
           "added_edge_energy", "censor_measures", "detail_removed",
           "window_mass", "edge_energy_table", "calibrate_scale",
           "matched_censors", "strength_table", "table_markdown",
           "OcclusionMaps", "occlusion_maps", "compare_censors",
           "load_occlusion_maps", "censor_examples", "write_figures"]

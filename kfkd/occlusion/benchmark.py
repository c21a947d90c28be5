"""What ``kfkd occlusion`` and ``kfkd benchmark-occlusion`` print.

Timing: ``model.predict`` on P clean copies of a face (P = the patch
positions, 1849 at patch 12 / stride 2), the bare network cost, against
:func:`kfkd.occlusion.occlusion_maps` with the edge-free censor (seconds
per heat map).  Edge energy: every censor at scale 1 and at matched
strength (:mod:`kfkd.occlusion.strength`).  Timings depend on what else the
machine runs: the 1-minute load average is printed with them.
"""
import os
import time

import numpy as np

from ..fileio import read_json
from . import strength
from .censors import CENSORS, make_censor
from .geometry import patch_positions
from .maps import load_occlusion_maps, occlusion_maps

__all__ = ["print_timing", "print_energy", "print_folder"]


def print_timing(model, val, faces, patch, stride, batch_size):
    """Best and mean of ``faces`` repeats: bare predict vs a heat map."""
    first = val.subset(slice(0, faces))
    n_pos = len(patch_positions(patch, stride))
    model.predict(first.images[:1])                         # compile
    copies = np.repeat(first.images[:1], n_pos, axis=0)
    ref, occ = [], []
    for i in range(faces):
        started = time.perf_counter()
        model.predict(copies, batch_size=batch_size)
        ref.append(time.perf_counter() - started)
        occ.append(occlusion_maps(
            model, first.images[i:i + 1], first.keypoints[i:i + 1],
            "edge_free", patch, stride, batch_size=batch_size).seconds)
    print("load average (1 min) %.2f on %d cores; patch %d px, stride %d px:"
          " %d positions; batch %d; best (mean) of %d"
          % (os.getloadavg()[0], os.cpu_count(), patch, stride, n_pos,
             batch_size, faces))
    for label, t in (("bare predict, %d clean copies" % n_pos, ref),
                     ("occlusion_maps edge_free", occ)):
        print("  %-32s %6.2f (%5.2f) s per heat map  %5.0f images/s  x%.2f"
              % (label, min(t), np.mean(t), n_pos / min(t),
                 min(t) / min(ref)))


def print_energy(images, grey, patch, stride):
    """The ``E / D`` table of every censor at scale 1, then at matched
    strength (scaled to the hard grey patch's detail removed)."""
    started = time.perf_counter()
    censors = [make_censor(c, grey) for c in CENSORS]
    grey_censor = next(c for c in censors if c.name == "grey")
    target, _, tables = strength.energy_tables(images, censors, patch, stride,
                                               grey_censor)
    print("\n%d validation faces, patch %d px, stride %d px, ring 2 px\n\n"
          "at scale 1:" % (len(images), patch, stride))
    print(strength.table_markdown(tables[0]))
    print("at matched strength (D = %.3f, the grey patch's):" % target)
    print(strength.table_markdown(tables[1]))
    print("(%.0f s)" % (time.perf_counter() - started))


def print_folder(folder, censor):
    """Seconds of the heat maps and, per censor, the mean displacement and
    the share of the map near a keypoint (scale 1 and matched)."""
    path = os.path.join(folder, "occlusion_%s.npz" % censor)
    maps = load_occlusion_maps(path)
    print("%s: %d faces x %d positions in %.1f s (%.2f s per heat map)"
          % (maps.censor, len(maps), len(maps.positions), maps.seconds,
             maps.seconds / max(1, len(maps))))
    for prefix in ("compare", "matched"):
        for name in CENSORS:
            path = os.path.join(folder, "%s_%s.npz" % (prefix, name))
            if not os.path.isfile(path):
                continue
            m = load_occlusion_maps(path)
            focus, area = m.focus(8.0)
            print("  %-8s %-10s mean displacement %.3f px (max %5.2f px), "
                  "%2.0f%% of the map within 8 px of a keypoint (uniform "
                  "%2.0f%%), %.0f s" % (prefix, name, m.aggregate.mean(),
                                        m.displacement.max(), 100 * focus,
                                        100 * area, m.seconds))
    if os.path.isfile(os.path.join(folder, "matched.json")):
        rows = read_json(os.path.join(folder, "matched.json"))["rows"]
        print(strength.table_markdown(rows))

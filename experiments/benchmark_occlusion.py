"""Seconds per occlusion heat map, and the edge energy each censor adds.

    python experiments/benchmark_occlusion.py [--model M] [--data-dir D]
        [--faces 2] [--patch 12] [--stride 2] [--batch-sizes 128,256,512]
        [--energy-faces 64] [--energy-stride 2] [--ring 2]
        [--variants 0:2,0:4,0:5,1:2,1:3,2:1,2:2,2:3] [--skip-timing]

Timing, on validation faces of :func:`kfkd.data.load_split` and in one run:

* reference: ``model.predict`` on P copies of a clean face (P = the number
  of patch positions, 1849 at patch 12 / stride 2): the bare network cost;
* :func:`kfkd.occlusion.occlusion_maps` with the edge-free censor: seconds
  per heat map (one face, all positions) and the ratio to the reference
  (what censoring and map-making add),

each per ``--batch-sizes`` (images per Theano call), best and mean of
``--faces`` repeats.

Edge energy (:func:`kfkd.occlusion.edge_energy_table`) of every censor on
the first ``--energy-faces`` validation faces, ring ``--ring`` px on either
side of the patch border: the added edge energy ``sum over ring of
S(C - I)`` (the issue's definition) and, secondary, the new-edge energy
``sum over ring of max(0, S(C) - S(I))^2``, each with its ratio to the hard
grey censor's.  Then the same for edge-free censors with other
``margin:band`` windows (``--variants``; ``none`` to skip), with the side
of their fully censored core and their mean weight over the patch, so that
the choice of the default window is visible.  Prints the 1-minute load
average: timings depend on what else the machine runs (say so when quoting
them).
"""
import argparse
import os
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

import numpy as np  # noqa: E402

from kfkd import occlusion  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    occlusion.add_script_args(parser, faces=2,
                              faces_help="faces timed (= repeats)")
    parser.add_argument("--batch-sizes", default="256")
    parser.add_argument("--energy-faces", type=int, default=64)
    parser.add_argument("--energy-stride", type=int, default=2)
    parser.add_argument("--ring", type=float, default=2.0,
                        help="ring half-width, px")
    parser.add_argument("--variants",
                        default="0:2,0:4,0:5,1:2,1:3,2:1,2:2,2:3",
                        help="edge-free margin:band windows to compare "
                        "(px), or 'none'")
    parser.add_argument("--skip-timing", action="store_true")
    args = parser.parse_args(argv)

    from kfkd.data import load_split
    train, val = load_split(args.data_dir, verbose=False)
    grey = float(train.images.mean())
    print("load average (1 min) at start: %.2f on %d cores"
          % (os.getloadavg()[0], os.cpu_count()))

    if not args.skip_timing:
        from kfkd.model import default_model_dir, load_model
        model = load_model(args.model)
        print("model: %s  %r" % (args.model or default_model_dir(), model))
        faces = val.subset(slice(0, args.faces))
        n_pos = len(occlusion.patch_positions(args.patch, args.stride))
        model.predict(faces.images[:1])                     # compile
        copies = np.repeat(faces.images[:1], n_pos, axis=0)
        print("\npatch %d px, stride %d px: %d positions per heat map; "
              "best (mean) of %d" % (args.patch, args.stride, n_pos,
                                     args.faces))
        for bs in map(int, args.batch_sizes.split(",")):
            ref = []
            for _ in range(args.faces):
                started = time.perf_counter()
                model.predict(copies, batch_size=bs)
                ref.append(time.perf_counter() - started)
            occ = [occlusion.occlusion_maps(
                model, faces.images[i:i + 1], faces.keypoints[i:i + 1],
                "edge_free", args.patch, args.stride, batch_size=bs).seconds
                for i in range(len(faces))]
            for label, t in (("bare predict, %d clean copies" % n_pos, ref),
                             ("occlusion_maps edge_free", occ)):
                print("batch %4d  %-32s %6.2f (%5.2f) s per heat map  "
                      "%5.0f images/s  x%.2f of bare predict"
                      % (bs, label, min(t), np.mean(t), n_pos / min(t),
                         min(t) / min(ref)))
        print("load average (1 min) after timing: %.2f" % os.getloadavg()[0])

    images = val.images[:args.energy_faces]
    started = time.perf_counter()
    censors = [occlusion.make_censor(c, grey) for c in occlusion.CENSORS]
    rows = occlusion.edge_energy_table(images, censors, args.patch,
                                       args.energy_stride, args.ring,
                                       grey_level=grey)
    print("\nedge energy, %d validation faces, patch %d px, stride %d px, "
          "ring %g px on either side of the patch border (%.0f s)"
          % (len(images), args.patch, args.energy_stride, args.ring,
             time.perf_counter() - started))
    print_energy_rows(rows, censors, args.patch)
    if args.variants != "none":
        variants = [occlusion.EdgeFreeCensor(margin=float(m), band=float(b))
                    for m, b in (v.split(":")
                                 for v in args.variants.split(","))]
        for c in variants:
            if c.core(args.patch) < 1:
                print("skipped %r: no fully censored core in a %d px patch"
                      % (c, args.patch))
        variants = [c for c in variants if c.core(args.patch) >= 1]
        rows = occlusion.edge_energy_table(images, variants, args.patch,
                                           args.energy_stride, args.ring,
                                           grey_level=grey)
        print("\nedge-free windows (margin:band, px), same faces and ring; "
              "ratios to the grey censor")
        print_energy_rows(rows, variants, args.patch)
    print("added: sum over ring of S(C - I) (the issue's added edge energy); "
          "new edges: sum over ring of max(0, S(C) - S(I))^2 (secondary); "
          "S: Sobel gradient magnitude; mean per position and face.  core: "
          "side (px) of the fully censored core; mean w: mean weight over "
          "the patch")


def print_energy_rows(rows, censors, patch):
    """Print :func:`kfkd.occlusion.edge_energy_table` rows of ``censors``
    (Censor objects, same order) as a table."""
    print("%-50s %9s %8s %11s %8s %5s %7s" % (
        "censor", "added", "/ grey", "new edges", "/ grey", "core",
        "mean w"))
    for r, c in zip(rows, censors):
        core = c.core(patch) if hasattr(c, "core") else patch
        w = c.window(0, 0, patch)[:patch, :patch]
        print("%-50s %9.3f %8.4f %11.4f %8.4f %5d %7.3f" % (
            r["repr"], r["difference"], r["difference_ratio"],
            r["new_edges"], r["new_edges_ratio"], core, w.mean()))

if __name__ == "__main__":
    main()

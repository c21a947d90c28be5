"""Occlusion-sensitivity heat maps of validation faces, and censors compared.

    python experiments/occlusion_heatmaps.py [--model M] [--data-dir D]
        [--faces 8] [--censor edge_free] [--patch 12] [--stride 2]
        [--compare-faces 4] [--compare-stride 4] [--out figures/occlusion]
    python experiments/occlusion_heatmaps.py --redraw [--out DIR]

Computes (:mod:`kfkd.occlusion`) the heat maps of the first ``--faces``
validation faces of :func:`kfkd.data.load_split` with ``--censor``, then the
aggregate map of every censor on the first ``--compare-faces`` faces at
``--compare-stride`` (coarser: five censors cost five times the forward
passes).  Writes into ``--out``:

* ``occlusion_<censor>.npz`` / ``.json``, ``compare_<censor>.npz``: all maps
  and settings (``np.load(..., allow_pickle=False)``), so that ``--redraw``
  draws the figures again without the model;
* ``face<i>_<censor>.png/.pdf``: per-keypoint maps of face ``i`` plus their
  mean; ``overview_<censor>``: the mean maps of all faces;
  ``compare_censors``: rows censors, columns faces.
"""
import argparse
import glob
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from kfkd import occlusion  # noqa: E402
from kfkd.fileio import read_json, write_json  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    occlusion.add_script_args(parser, faces=8)
    parser.add_argument("--censor", default="edge_free",
                        choices=sorted(occlusion.CENSORS))
    parser.add_argument("--compare-faces", type=int, default=4,
                        help="faces in the censor comparison (0: skip it)")
    parser.add_argument("--compare-stride", type=int, default=4)
    parser.add_argument("--compare-censors", default=",".join(
        occlusion.CENSORS))
    parser.add_argument("--batch-size", type=int, default=256,
                        help="censored images per predict call")
    parser.add_argument("--out", default=os.path.join(REPO, "figures",
                                                      "occlusion"))
    parser.add_argument("--redraw", action="store_true",
                        help="redraw the figures from the saved .npz files")
    return parser.parse_args(argv)


def compute(args):
    from kfkd.data import load_split
    from kfkd.model import default_model_dir, load_model
    model = load_model(args.model)
    train, val = load_split(args.data_dir)
    grey = float(train.images.mean())
    faces = val.subset(slice(0, args.faces))
    maps = occlusion.occlusion_maps(
        model, faces.images, faces.keypoints, args.censor, args.patch,
        args.stride, args.batch_size, grey_level=grey, progress=True)
    maps.save(os.path.join(args.out, "occlusion_%s.npz" % maps.censor_name))
    summary = {"model": os.path.abspath(args.model or default_model_dir()),
               "grey_level": grey, "maps": maps.summary(), "compare": {}}
    comparisons, examples = {}, None
    if args.compare_faces > 0:
        few = faces.subset(slice(0, args.compare_faces))
        censors = args.compare_censors.split(",")
        comparisons = occlusion.compare_censors(
            model, few.images, few.keypoints, censors, args.patch,
            args.compare_stride, grey_level=grey, progress=True,
            batch_size=args.batch_size)
        for name, m in comparisons.items():
            m.save(os.path.join(args.out, "compare_%s.npz" % name))
            summary["compare"][name] = m.summary()
        examples = example_images(maps, censors, args.patch, grey)
    write_json(os.path.join(args.out, "occlusion_%s.json"
                            % maps.censor_name), summary)
    return maps, comparisons, examples


def example_images(maps, censors, patch, grey):
    """Each censor over face 0's predicted right eye centre."""
    x, y = maps.clean_predictions[0, 2:4]
    y0 = int(min(max(round(y - patch / 2.0), 0), 96 - patch))
    x0 = int(min(max(round(x - patch / 2.0), 0), 96 - patch))
    return occlusion.censor_examples(maps.images[0], censors, y0, x0, patch,
                                     grey)


def load(args):
    maps = occlusion.load_occlusion_maps(
        os.path.join(args.out, "occlusion_%s.npz" % args.censor))
    comparisons = {}
    for path in sorted(glob.glob(os.path.join(args.out, "compare_*.npz"))):
        m = occlusion.load_occlusion_maps(path)
        comparisons[m.censor_name] = m
    order = [c for c in occlusion.CENSORS if c in comparisons]
    comparisons = {c: comparisons[c] for c in order}
    grey = read_json(os.path.join(args.out, "occlusion_%s.json"
                                  % args.censor))["grey_level"]
    examples = (example_images(maps, order, maps.patch, grey)
                if comparisons else None)
    return maps, comparisons, examples


def main(argv=None):
    args = parse_args(argv)
    maps, comparisons, examples = (load if args.redraw else compute)(args)
    written = occlusion.write_figures(maps, args.out, comparisons, examples)
    print("%s: %d faces x %d positions in %.1f s (%.2f s per heat map)"
          % (maps.censor, len(maps), len(maps.positions), maps.seconds,
             maps.seconds / max(1, len(maps))))
    for name, m in comparisons.items():
        focus, area = m.focus(8.0)
        print("  %-10s mean keypoint displacement %.3f px (max %5.2f px), "
              "%2.0f%% of the map within 8 px of a keypoint (uniform: %2.0f%%)"
              % (name, m.aggregate.mean(), m.displacement.max(), 100 * focus,
                 100 * area))
    print("wrote %d files to %s" % (len(written), args.out))


if __name__ == "__main__":
    main()

"""Every figure of the paper, its data, and the poster, from real runs.

    python experiments/reproduce_figures.py [--quick] [--out DIR]
        [--only GROUP,...] [--model DIR] [--study-dir DIR] [--data-dir DIR]
    python experiments/reproduce_figures.py --redraw [--out DIR]

Runs the figure groups of :mod:`kfkd.figures` (samples, augment, training,
ablations, search, architecture, predictions, occlusion) into ``--out``
(default ``figures/``), each writing its data (CSV / JSON / npz) beside its
PNG and PDF, then composes the A1 poster (``poster/poster.pdf``) from them.
``--quick`` uses small budgets (about 15 minutes on 2 cores); the default,
full budgets take hours.  ``--redraw`` draws every figure and the poster
again from the saved data, without data, model or training.
"""
import argparse
import os
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from kfkd import figures, poster  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="small budgets (~15 min on 2 cores) instead of the "
                   "full ones (hours)")
    p.add_argument("--budget", choices=sorted(figures.BUDGETS),
                   help="a budget preset by name (overrides --quick)")
    p.add_argument("--out", default=os.path.join(REPO, "figures"),
                   help="figures folder (default: figures/)")
    p.add_argument("--only", help="comma-separated figure groups (default: "
                   "all: %s)" % ",".join(figures.GROUPS))
    p.add_argument("--redraw", action="store_true",
                   help="redraw the figures and the poster from the saved "
                   "data only")
    p.add_argument("--model", help="model of the architecture, predictions "
                   "and occlusion figures (default: models/reference, or "
                   "$KFKD_MODEL)")
    p.add_argument("--study-dir", help="stored random-search study (default: "
                   "runs/default; if it has fewer than 3 complete trials a "
                   "small study is run)")
    p.add_argument("--data-dir", help="Kaggle data folder (default: "
                   "$KFKD_DATA_DIR)")
    p.add_argument("--runs", default=os.path.join(REPO, "runs"),
                   help="where the training runs are kept (default: runs/)")
    p.add_argument("--poster", default=os.path.join(REPO, "poster",
                                                    "poster.pdf"),
                   help="poster PDF to write (default: poster/poster.pdf)")
    p.add_argument("--no-poster", action="store_true")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    budget = args.budget or ("quick" if args.quick else "full")
    groups = args.only.split(",") if args.only else figures.GROUPS
    started = time.time()
    manifest = figures.reproduce(
        args.out, budget, groups, redraw=args.redraw, data_dir=args.data_dir,
        model=args.model, study_dir=args.study_dir, runs_dir=args.runs,
        verbose=not args.quiet)
    if not args.no_poster:
        poster.build_poster(args.out, args.poster)
        print("poster: %s" % args.poster)
    print("%s in %.1f min -> %s" % (
        "redrew the figures from their data" if args.redraw else
        "made the figures (budget %s)" % budget,
        (time.time() - started) / 60.0, args.out))
    return manifest


if __name__ == "__main__":
    main()

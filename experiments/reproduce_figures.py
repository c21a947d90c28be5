"""Every figure of the paper, its data, and the poster, from real runs.

    python experiments/reproduce_figures.py [--quick] [--out DIR]
        [--only GROUP,...] [--model DIR] [--study-dir DIR] [--data-dir DIR]
    python experiments/reproduce_figures.py --redraw [--out DIR]

The same as ``kfkd figures``: runs the figure groups of :mod:`kfkd.report` (samples, augment, training,
ablations, search, architecture, predictions, occlusion) into ``--out``
(default ``figures/``), each writing its data (CSV / JSON / npz) beside its
PNG and PDF, then composes the A1 poster (``poster/poster.pdf``) from them.
``--quick`` uses small budgets (about 15 minutes on 2 cores); the default,
full budgets take hours.  ``--redraw`` draws every figure and the poster
again from the saved data, without data, model or training.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

from kfkd.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["figures"] + sys.argv[1:]))

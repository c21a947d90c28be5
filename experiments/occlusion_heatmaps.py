"""Occlusion-sensitivity heat maps of validation faces, and censors compared.

    python experiments/occlusion_heatmaps.py [--model M] [--data-dir D]
        [--faces 8] [--censor edge_free] [--patch 12] [--stride 2]
        [--compare-faces 4] [--compare-stride 4]
        [--matched-faces 8] [--matched-stride 2] [--calibration-faces 32]
        [--out figures/occlusion]
    python experiments/occlusion_heatmaps.py --redraw [--out DIR]

The same as ``kfkd occlusion ARGS`` (:mod:`kfkd.occlusion.command`; the
files it writes: :mod:`kfkd.occlusion.run`).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

from kfkd.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["occlusion"] + sys.argv[1:]))

"""Train and test a nose-tip or 58-point detector on the IMM face database.

    python experiments/imm_train.py --target nose|all58 [--imm-dir D]
        [--out figures/imm] [--max-minutes 3] [--epochs 400] [--seed 0]
        [--crop-scale S] [--no-flip] [--every N] [--quiet]

The same as ``kfkd imm-train`` (:mod:`kfkd.imm`): cuts the 240 IMM photos
as the photo pipeline does (Haar box, square crop, 96x96 grey), trains
``breeze`` with augmentation on people 1-28 (early stopping on 29-32),
tests on people 33-40 and prints RMSE per point in pixels of the crop, in
photo pixels and divided by the inter-ocular distance (outer eye corners,
the 300-W convention).  Writes ``imm_<target>_points.csv``,
``imm_<target>.json``, ``imm_<target>_faces.npz`` and the best and worst
test faces ``imm_<target>_best_worst.png/.pdf`` to ``--out``.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

from kfkd.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["imm-train"] + sys.argv[1:]))

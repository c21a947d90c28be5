"""Keypoint errors of the photo pipeline on the IMM face database.

    python experiments/imm_eval.py [--model M] [--imm-dir D]
        [--out figures/imm] [--every N | --subset24] [--crop-scale S]
    python experiments/imm_eval.py --calibrate

The same as ``kfkd imm-eval`` (:mod:`kfkd.pipeline.imm_eval`): runs Haar
detection + keypoints on the 240 IMM photos, prints RMSE per keypoint in
photo pixels, in pixels of the 96x96 frame and relative to the inter-ocular
distance, plus the detection rate, and writes ``imm_keypoints.csv`` and
``imm_eval.json`` to ``--out``.  ``--calibrate`` instead prints how
training.csv frames its faces, where the Haar box puts the eyes on IMM and
the crop that follows.  The IMM folder is ``--imm-dir``, else
``$KFKD_IMM_DIR``, else ``../shared/data/imm`` beside the repository.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

from kfkd.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["imm-eval"] + sys.argv[1:]))

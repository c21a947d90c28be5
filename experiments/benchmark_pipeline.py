"""Frames per second of the video pipeline on a 640x480 video.

    python experiments/benchmark_pipeline.py [--model M] [--frames 100]
        [--photos obama.jpg,biden2.jpg,...] [--repeat 3] [--sweep]

The same as ``kfkd benchmark-pipeline`` (:mod:`kfkd.pipeline.benchmark`
says what is timed): detection alone, detection + keypoints without and
with the tracking test, the photo settings, and ``process_video`` end to
end, on a video built from shared one-face photos; frames per second, best
of ``--repeat`` interleaved rounds, and the ratio to detection alone.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

from kfkd.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["benchmark-pipeline"] + sys.argv[1:]))

"""Frames per second of the video pipeline on a 640x480 video.

    python experiments/benchmark_pipeline.py [--model M] [--frames 100]
        [--photos obama.jpg,biden2.jpg,...] [--repeat 3] [--sweep]

Builds a 640x480 video (mp4v, in a temporary folder) from shared photos with
one face each, letterboxed, each held for an equal share of ``--frames``
frames with a slow zoom so that consecutive frames differ, and times, in the
same run and on the same decoded frames:

* detection alone (``FaceDetector.for_video()``) -- the reference;
* detection + keypoints (crop, model, map back), without and with the
  keypoint tracking test of :mod:`kfkd.pipeline`, the latter also as
  ``process_video`` runs it (the test carried over from frame to frame);
* the same with the photo detector settings (``FaceDetector()``), for
  comparison;
* ``process_video`` end to end (decode, detect, keypoints, draw, encode);
* with ``--sweep``, detection alone at other ``max_side`` and
  ``scale_factor`` values (the trade-off behind ``FaceDetector.for_video``).

Prints frames per second (best of ``--repeat`` rounds; each round runs
every configuration in turn, so a background load hits all alike) and the
ratio to detection alone.  Timings depend on what else the machine runs:
say so when quoting them.
"""
import argparse
import os
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from kfkd.pipeline import (FaceDetector, KeypointPipeline, letterbox,  # noqa
                           process_video, read_image, read_video, to_grey,
                           write_video)

PHOTOS = ("obama.jpg", "biden2.jpg", "img2.jpg", "james.jpg", "gus.jpg",
          "obama2.jpg", "biden.jpg", "fawzia.jpg")


def zoomed_frames(photos, n_frames, size=(640, 480)):
    """``n_frames`` letterboxed frames, each photo zooming in by 10%."""
    per = int(np.ceil(n_frames / float(len(photos))))
    for i in range(n_frames):
        image = photos[i // per]
        t = (i % per) / float(max(1, per - 1))
        zoom = 1.0 + 0.1 * t
        h, w = image.shape[:2]
        cw, ch = int(w / zoom), int(h / zoom)
        x0, y0 = (w - cw) // 2, (h - ch) // 2
        yield letterbox(image[y0:y0 + ch, x0:x0 + cw], size)


def run_all(configs, frames, repeat):
    """Best time per configuration over ``repeat`` interleaved rounds.

    Rounds run every configuration in turn, so that a background load
    affects all alike; the minimum over rounds is the least disturbed run.
    """
    best = [np.inf] * len(configs)
    found = [0] * len(configs)
    for _ in range(repeat):
        for k, (_, make) in enumerate(configs):
            fn = make()  # a fresh function (state of carried tests reset)
            started = time.perf_counter()
            faces = [fn(frame) for frame in frames]
            best[k] = min(best[k], time.perf_counter() - started)
            found[k] = sum(1 for f in faces if len(f) == 1)
    return best, found


def report(configs, best, found, n_frames):
    ref = n_frames / best[0]
    for (label, _), seconds, one in zip(configs, best, found):
        fps = n_frames / seconds
        print("%-46s %6.1f fps %6.1f ms/frame  %-20s %3d/%d frames with one "
              "face" % (label, fps, 1000.0 * seconds / n_frames,
                        "reference" if fps == ref and label == configs[0][0]
                        else "x%.2f of detection" % (fps / ref), one,
                        n_frames))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="model folder (default: the shipped "
                        "reference model, or $KFKD_MODEL)")
    parser.add_argument("--photos-dir", default=os.path.normpath(
        os.path.join(REPO, "..", "shared", "data", "photos")))
    parser.add_argument("--photos", default=",".join(PHOTOS))
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sweep", action="store_true", help="also time "
                        "detection at other max_side / scale_factor values")
    args = parser.parse_args(argv)

    from kfkd.model import load_model

    photos = [read_image(os.path.join(args.photos_dir, name))
              for name in args.photos.split(",")]
    model = load_model(args.model)
    print("OpenCV %s, %d threads; %d CPU cores; model %s" % (
        cv2.__version__, cv2.getNumThreads(), os.cpu_count(),
        args.model or os.environ.get("KFKD_MODEL") or "models/reference"))
    with tempfile.TemporaryDirectory() as tmp:
        video = os.path.join(tmp, "faces_640x480.mp4")
        n = write_video(video, zoomed_frames(photos, args.frames), fps=25)
        frames = list(read_video(video))
        print("video: %d frames 640x480 from %d photos (%s)" % (
            n, len(photos), args.photos))
        video_det = FaceDetector.for_video()
        photo_det = FaceDetector()
        plain = KeypointPipeline(model, detector=video_det,
                                 tracking_test=False).warm_up()
        full = KeypointPipeline(model, detector=video_det).warm_up()
        photo = KeypointPipeline(model, detector=photo_det).warm_up()

        def detect_only(det):
            return lambda: (lambda f: det.detect(to_grey(f))[0])

        def carried():
            state = {"previous": []}

            def fn(frame):
                state["previous"] = full.candidates(
                    frame, previous=state["previous"])
                return [f for f in state["previous"] if f.accepted]
            return fn

        configs = [
            ("detection alone (video settings)", detect_only(video_det)),
            ("detection + keypoints", lambda: plain.faces),
            ("detection + keypoints + tracking test", lambda: full.faces),
            ("  the same, test carried across frames", carried),
            ("detection alone (photo settings)", detect_only(photo_det)),
            ("detection + keypoints + test (photo settings)",
             lambda: photo.faces)]
        if args.sweep:
            for max_side in (240, 320, 480, 640):
                for scale_factor in (1.1, 1.2, 1.3):
                    det = FaceDetector(max_side=max_side,
                                       scale_factor=scale_factor,
                                       min_size=video_det.min_size)
                    configs.append(("  detection, max_side %d, scale %.1f" % (
                        max_side, scale_factor), detect_only(det)))
        print("video settings: %r\nphoto settings: %r" % (video_det,
                                                           photo_det))
        best, found = run_all(configs, frames, args.repeat)
        report(configs, best, found, len(frames))
        started = time.perf_counter()
        stats = process_video(video, os.path.join(tmp, "out.mp4"), full,
                              progress=False)
        wall = time.perf_counter() - started
        print("process_video end to end: %.1f fps with decoding and encoding "
              "(%.1f fps for detection + keypoints + drawing alone)" % (
                  stats["frames"] / wall, stats["fps"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())

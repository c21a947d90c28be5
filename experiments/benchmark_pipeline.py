"""Frames per second of the video pipeline on a 640x480 video.

    python experiments/benchmark_pipeline.py [--model M] [--frames 100]
        [--photos obama.jpg,biden2.jpg,...] [--repeat 2]

Builds a 640x480 video (mp4v, in a temporary folder) from shared photos with
one face each, letterboxed, each held for an equal share of ``--frames``
frames with a slow zoom so that consecutive frames differ, and times, in the
same run and on the same decoded frames:

* detection alone (``FaceDetector.for_video()``) -- the reference;
* detection + keypoints (crop, model, map back), with and without the
  keypoint tracking test of :mod:`kfkd.pipeline`;
* the same with the photo detector settings (``FaceDetector()``), for
  comparison;
* ``process_video`` end to end (decode, detect, keypoints, draw, encode).

Prints frames per second (best of ``--repeat`` passes) and the ratio to
detection alone.  Timings depend on what else the machine runs: say so when
quoting them.
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


def timed(label, fn, frames, repeat, reference=None):
    best = np.inf
    for _ in range(repeat):
        started = time.perf_counter()
        faces = [fn(frame) for frame in frames]
        best = min(best, time.perf_counter() - started)
    fps = len(frames) / best
    found = sum(1 for f in faces if len(f) == 1)
    print("%-44s %7.1f fps  %6.1f ms/frame  %s  (%d/%d frames with one "
          "face)" % (label, fps, 1000.0 * best / len(frames),
                     "x%.2f of detection" % (fps / reference)
                     if reference else "reference        ",
                     found, len(frames)))
    return fps


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="model folder (default: the shipped "
                        "reference model, or $KFKD_MODEL)")
    parser.add_argument("--photos-dir", default=os.path.join(
        REPO, "..", "shared", "data", "photos"))
    parser.add_argument("--photos", default=",".join(PHOTOS))
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=2)
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
        full = KeypointPipeline(model, detector=video_det)
        plain = KeypointPipeline(model, detector=video_det,
                                 tracking_test=False)
        photo = KeypointPipeline(model, detector=photo_det)
        full.faces(frames[0])  # compile Theano's predict function first
        print("video detector: %r" % video_det)
        ref = timed("detection alone", lambda f: video_det.detect(
            to_grey(f))[0], frames, args.repeat)
        timed("detection + keypoints", plain.faces, frames, args.repeat, ref)
        timed("detection + keypoints + tracking test", full.faces, frames,
              args.repeat, ref)
        print("photo detector: %r" % photo_det)
        timed("detection alone (photo settings)", lambda f: photo_det.detect(
            to_grey(f))[0], frames, args.repeat, ref)
        timed("detection + keypoints + test (photo settings)", photo.faces,
              frames, args.repeat, ref)
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

"""Frames per second of the video pipeline on a 640x480 video
(``kfkd benchmark-pipeline``, ``experiments/benchmark_pipeline.py``).

Builds a 640x480 video (mp4v, in a temporary folder) from shared photos with
one face each, letterboxed, each held for an equal share of the frames with
a slow zoom so that consecutive frames differ, and times, in the same run
and on the same decoded frames:

* detection alone (``FaceDetector.for_video()``) -- the reference;
* detection + keypoints (crop, model, map back), without and with the
  keypoint tracking test (:mod:`kfkd.pipeline.faces`), the latter also as
  :func:`~kfkd.pipeline.process_video` runs it (the test carried over from
  frame to frame);
* the same with the photo detector settings (``FaceDetector()``), for
  comparison;
* ``process_video`` end to end (decode, detect, keypoints, draw, encode);
* with ``sweep``, detection alone at other ``max_side`` and
  ``scale_factor`` values (the trade-off behind ``FaceDetector.for_video``).

Prints frames per second (best of ``repeat`` rounds; each round runs every
configuration in turn, so a background load hits all alike) and the ratio
to detection alone.  Timings depend on what else the machine runs: say so
when quoting them.
"""
import os
import tempfile
import time

import cv2
import numpy as np

from .detection import FaceDetector
from .images import letterbox, read_video, to_grey, write_video
from .run import KeypointPipeline, process_video

__all__ = ["PHOTOS", "zoomed_frames", "configurations", "run_all",
           "report", "benchmark_video", "machine_line"]

#: Shared photos with one face each (``--photos``' default).
PHOTOS = ("obama.jpg", "biden2.jpg", "img2.jpg", "james.jpg", "gus.jpg",
          "obama2.jpg", "biden.jpg", "fawzia.jpg")


def zoomed_frames(photos, n_frames, size=(640, 480)):
    """``n_frames`` letterboxed frames, each photo zooming in by 10%.

    Parameters
    ----------
    photos : sequence of ndarray, (H, W, 3) uint8 BGR
    n_frames : int
    size : (width, height)

    Yields
    ------
    ndarray, (height, width, 3) uint8
    """
    per = int(np.ceil(n_frames / float(len(photos))))
    for i in range(n_frames):
        image = photos[i // per]
        t = (i % per) / float(max(1, per - 1))
        zoom = 1.0 + 0.1 * t
        h, w = image.shape[:2]
        cw, ch = int(w / zoom), int(h / zoom)
        x0, y0 = (w - cw) // 2, (h - ch) // 2
        yield letterbox(image[y0:y0 + ch, x0:x0 + cw], size)


def _detect_only(detector):
    return lambda: (lambda frame: detector.detect(to_grey(frame))[0])


def _carried(pipeline):
    """A maker of a fresh per-frame function that carries the tracking test
    from frame to frame, as :func:`process_video` does."""
    def make():
        state = {"previous": []}

        def fn(frame):
            state["previous"] = pipeline.candidates(
                frame, previous=state["previous"])
            return [f for f in state["previous"] if f.accepted]
        return fn
    return make


def configurations(model, sweep=False):
    """``(label, maker)`` pairs; ``maker()`` returns a fresh function of a
    frame -> faces (or boxes).  The first, detection alone with the video
    settings, is the reference.  Also returns the two detectors."""
    video_det, photo_det = FaceDetector.for_video(), FaceDetector()
    plain = KeypointPipeline(model, detector=video_det,
                             tracking_test=False).warm_up()
    full = KeypointPipeline(model, detector=video_det).warm_up()
    photo = KeypointPipeline(model, detector=photo_det).warm_up()
    configs = [
        ("detection alone (video settings)", _detect_only(video_det)),
        ("detection + keypoints", lambda: plain.faces),
        ("detection + keypoints + tracking test", lambda: full.faces),
        ("  the same, test carried across frames", _carried(full)),
        ("detection alone (photo settings)", _detect_only(photo_det)),
        ("detection + keypoints + test (photo settings)",
         lambda: photo.faces)]
    for max_side in (240, 320, 480, 640) if sweep else ():
        for scale_factor in (1.1, 1.2, 1.3):
            det = FaceDetector(max_side=max_side, scale_factor=scale_factor,
                               min_size=video_det.min_size)
            configs.append(("  detection, max_side %d, scale %.1f" % (
                max_side, scale_factor), _detect_only(det)))
    return configs, full, (video_det, photo_det)


def run_all(configs, frames, repeat):
    """Best time per configuration over ``repeat`` interleaved rounds.

    Rounds run every configuration in turn, so that a background load
    affects all alike; the minimum over rounds is the least disturbed run.

    Returns
    -------
    best : list of float
        Seconds over all ``frames``, per configuration.
    found : list of int
        Frames with exactly one face (last round), per configuration.
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
    """Print one line per configuration: fps, ms/frame, ratio to the
    reference (the first), frames with one face."""
    ref = n_frames / best[0]
    for (label, _), seconds, one in zip(configs, best, found):
        fps = n_frames / seconds
        print("%-46s %6.1f fps %6.1f ms/frame  %-20s %3d/%d frames with one "
              "face" % (label, fps, 1000.0 * seconds / n_frames,
                        "reference" if fps == ref and label == configs[0][0]
                        else "x%.2f of detection" % (fps / ref), one,
                        n_frames))


def benchmark_video(model, photos, n_frames=100, repeat=3, sweep=False,
                    label=""):
    """Build the video from ``photos`` (BGR arrays; ``label`` names them),
    time every configuration and ``process_video`` end to end, printing as
    it goes."""
    with tempfile.TemporaryDirectory() as tmp:
        video = os.path.join(tmp, "faces_640x480.mp4")
        n = write_video(video, zoomed_frames(photos, n_frames), fps=25)
        frames = list(read_video(video))
        print("video: %d frames 640x480 from %d photos (%s)" % (
            n, len(photos), label))
        configs, full, detectors = configurations(model, sweep)
        print("video settings: %r\nphoto settings: %r" % detectors)
        best, found = run_all(configs, frames, repeat)
        report(configs, best, found, len(frames))
        started = time.perf_counter()
        stats = process_video(video, os.path.join(tmp, "out.mp4"), full,
                              progress=False)
        wall = time.perf_counter() - started
        print("process_video end to end: %.1f fps with decoding and encoding "
              "(%.1f fps for detection + keypoints + drawing alone)" % (
                  stats["frames"] / wall, stats["fps"]))


def machine_line():
    """OpenCV's version and threads and the CPU cores, for the report."""
    return "OpenCV %s, %d threads; %d CPU cores" % (
        cv2.__version__, cv2.getNumThreads(), os.cpu_count())

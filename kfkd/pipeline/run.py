"""Running the pipeline: faces with keypoints in a photo, ``kfkd detect``
over photos and ``kfkd video`` over every frame of a video.

A photo goes through four steps (:meth:`KeypointPipeline.candidates`):
detect faces (:class:`~kfkd.pipeline.detection.FaceDetector`), crop each
box to the model's 96x96 input (:func:`~kfkd.pipeline.detection.
crop_square`), predict the keypoints and map them back to photo pixels,
and filter false positives (:mod:`kfkd.pipeline.faces`).
"""
import os
import time

import numpy as np
from tqdm import tqdm

from ..fileio import write_json
from ..keypoints import FRAME, KeypointSchema
from .detection import (CROP_SCALE, FaceDetector, crop_faces, crop_square,
                        frame_to_photo)
from .effects import annotate, blur_faces, draw_faces, overlay_sunglasses
from .faces import (MIN_CONFIDENCE, SHIFT_TEST, Face, inherited_tracking,
                    rejection_reason, shifted_squares, tracking_errors)
from .images import (VIDEO_CODECS, ImageError, read_image, read_video,
                     to_grey, video_info, write_image, write_video)

__all__ = ["KeypointPipeline", "output_stems", "detect_photos",
           "process_video"]


class KeypointPipeline(object):
    """Faces and their keypoints in photos.

    Parameters
    ----------
    model : object
        ``model.predict(images (N, 1, 96, 96) float32 in [0, 1]) -> (N, 2K)``
        pixels in the frame; ``model.schema.names`` (if present) names the K
        keypoints, else Kaggle's 15.
    detector : FaceDetector, optional
        Default ``FaceDetector()`` (photo settings).
    tracking_test : bool
        Run the keypoint tracking test (module docstring) and reject
        candidates below ``min_confidence``.
    min_confidence : float
    crop_scale : float
        Crop side in Haar box widths (:data:`CROP_SCALE`).
    shift_test : float
        Shift of the tracking test's crops, share of the crop side
        (:data:`SHIFT_TEST`).
    """

    def __init__(self, model, detector=None, tracking_test=True,
                 min_confidence=MIN_CONFIDENCE, crop_scale=CROP_SCALE,
                 shift_test=SHIFT_TEST):
        self.model = model
        self.detector = detector or FaceDetector()
        self.tracking_test = tracking_test
        self.min_confidence = min_confidence
        self.crop_scale = crop_scale
        self.shift_test = shift_test
        schema = getattr(model, "schema", None) or KeypointSchema.kaggle()
        self.names = tuple(schema.names)

    def _predict(self, images):
        out = np.asarray(self.model.predict(images), np.float64)
        if out.shape != (len(images), 2 * len(self.names)):
            raise ValueError("model.predict returned shape %r, expected %r"
                             % (out.shape, (len(images), 2 * len(self.names))))
        return out.reshape(len(images), len(self.names), 2)

    def candidates(self, image, boxes=None, previous=()):
        """Every cascade box, with keypoints and a confidence or a reason.

        Parameters
        ----------
        image : ndarray, (H, W, 3) uint8 BGR or (H, W) uint8 grey
        boxes : ndarray (M, 4), optional
            Use these ``(x, y, w, h)`` boxes instead of detecting (their
            neighbours count as 0).
        previous : sequence of Face
            Candidates of the previous video frame: a box overlapping one of
            them by more than half (intersection over union) inherits its
            tracking error instead of being tested again, so a face seen in
            consecutive frames is tested once (:func:`process_video`).

        Returns
        -------
        list of Face
            Accepted faces first, then the rejected ones.
        """
        grey = to_grey(image)
        boxes, neighbours = self._boxes(grey, boxes)
        if len(boxes) == 0:
            return []
        squares = [crop_square(b, self.crop_scale) for b in boxes]
        tracking = (inherited_tracking(boxes, previous) if self.tracking_test
                    else [None] * len(boxes))
        tested = [i for i in range(len(boxes))
                  if self.tracking_test and tracking[i] is None]
        flat = squares + shifted_squares(squares, tested, self.shift_test)
        pred = self._predict(crop_faces(grey, flat))
        photo = np.array([frame_to_photo(p, sq) for p, sq in zip(pred, flat)])
        for i, error in tracking_errors(photo, flat, len(boxes),
                                        tested).items():
            tracking[i] = error
        faces = [Face(boxes[i], squares[i], photo[i], pred[i], self.names,
                      neighbours[i], tracking[i]) for i in range(len(boxes))]
        return self._filter(faces, pred)

    def _boxes(self, grey, boxes):
        """The detector's boxes and neighbours, or ``boxes`` with none."""
        if boxes is None:
            return self.detector.detect(grey)
        boxes = np.asarray(boxes, np.int64).reshape(-1, 4)
        return boxes, np.zeros(len(boxes), np.int64)

    def _filter(self, faces, pred):
        """Set each face's ``reason`` (:func:`rejection_reason`, in order of
        cascade neighbours); accepted faces first."""
        kept = []
        for face, kp_frame in zip(faces, pred):
            face.reason = rejection_reason(face, kp_frame, kept,
                                           self.min_confidence)
            if face.reason is None:
                kept.append(face.box)
        return ([f for f in faces if f.accepted]
                + [f for f in faces if not f.accepted])

    def warm_up(self):
        """Run the model once on a blank crop (Theano compiles its predict
        function on first use: seconds), so that timings exclude it."""
        self._predict(np.zeros((1, 1, FRAME, FRAME), np.float32))
        return self

    def faces(self, image):
        """The accepted faces of :meth:`candidates`."""
        return [f for f in self.candidates(image) if f.accepted]


#: photo formats whose outputs keep the format; others are written as PNG
_OUTPUT_EXTS = (".jpg", ".jpeg", ".png", ".bmp")


def _output_ext(path):
    ext = os.path.splitext(path)[1]
    return ext if ext.lower() in _OUTPUT_EXTS else ".png"


def output_stems(paths):
    """The output name (without suffix and extension) of each photo, unique.

    A photo's file name without its extension, unless another photo of
    ``paths`` has the same (compared case-insensitively, together with the
    output extension, as a folder may ignore case): then its folder's name
    and the stem (``a/face.jpg``, ``b/face.jpg`` -> ``a_face``,
    ``b_face``); if that still repeats (the same photo twice, two folders of
    the same name), a number is added (``a_face_2``).

    Parameters
    ----------
    paths : sequence of str

    Returns
    -------
    list of str, one per path, no two alike

    Examples
    --------
    >>> output_stems(["a/face.jpg", "b/face.jpg", "c/other.png"])
    ['a_face', 'b_face', 'other']
    """
    def key(stem, path):
        return stem.lower(), _output_ext(path).lower()

    stems = [os.path.splitext(os.path.basename(p))[0] for p in paths]
    counts = {}
    for stem, path in zip(stems, paths):
        counts[key(stem, path)] = counts.get(key(stem, path), 0) + 1
    names, taken = [], set()
    for stem, path in zip(stems, paths):
        if counts[key(stem, path)] > 1:
            folder = os.path.basename(os.path.dirname(os.path.abspath(path)))
            stem = "%s_%s" % (folder, stem) if folder else stem
        name, n = stem, 1
        while key(name, path) in taken:
            n += 1
            name = "%s_%d" % (stem, n)
        taken.add(key(name, path))
        names.append(name)
    return names


def detect_photos(paths, out_dir, pipeline, blur=False, sunglasses=False):
    """``kfkd detect``: annotate photos and write what was found.

    For each photo ``NAME.EXT`` writes ``NAME_keypoints.EXT`` (accepted faces:
    boxes, keypoints, confidence; rejected candidates: thin red boxes), and
    if asked ``NAME_blurred.EXT`` and ``NAME_sunglasses.EXT``, where ``NAME``
    is unique among the photos (:func:`output_stems`: photos of the same
    file name in different folders never overwrite each other); then
    ``detections.json``: per photo its size and, per face, the box, crop,
    keypoints (photo pixels), confidence, and for rejected candidates the
    reason.  Every file is written atomically.

    Parameters
    ----------
    paths : sequence of str
    out_dir : str
    pipeline : KeypointPipeline
    blur, sunglasses : bool

    Returns
    -------
    dict
        The contents of ``detections.json`` (``photos``: one entry per
        photo with its ``outputs``; ``written``: every output path, each
        once).

    Raises
    ------
    FileNotFoundError, ImageError
        A photo is missing or unreadable (named in the message).
    """
    os.makedirs(out_dir, exist_ok=True)
    pipeline.warm_up()  # so that the seconds per photo exclude compiling
    report = {"detector": repr(pipeline.detector),
              "crop_scale": pipeline.crop_scale,
              "min_confidence": pipeline.min_confidence,
              "photos": [], "written": []}
    for path, name in zip(paths, output_stems(paths)):
        image = read_image(path)
        started = time.perf_counter()
        candidates = pipeline.candidates(image)
        seconds = time.perf_counter() - started
        faces = [f for f in candidates if f.accepted]
        rejected = [f for f in candidates if not f.accepted]
        variants = [("keypoints", draw_faces(image, faces, rejected=rejected))]
        if blur:
            variants.append(("blurred", blur_faces(image, faces)))
        if sunglasses:
            variants.append(("sunglasses", overlay_sunglasses(image, faces)))
        outputs = [write_image(os.path.join(out_dir, "%s_%s%s" % (
            name, suffix, _output_ext(path))), out)
            for suffix, out in variants]
        report["written"].extend(outputs)
        report["photos"].append({
            "photo": path, "outputs": outputs, "width": int(image.shape[1]),
            "height": int(image.shape[0]), "seconds": round(seconds, 4),
            "faces": [f.to_dict() for f in faces],
            "rejected": [f.to_dict() for f in rejected]})
    json_path = os.path.join(out_dir, "detections.json")
    report["written"].append(json_path)
    write_json(json_path, report)
    return report


def process_video(in_path, out_path, pipeline, blur=False, sunglasses=False,
                  progress=True):
    """Run the pipeline on every frame of a video and write the result.

    Reads with ``cv2.VideoCapture`` (:func:`read_video`), writes with
    ``cv2.VideoWriter`` (:func:`write_video`: ``mp4v`` for .mp4, ``MJPG``
    for .avi, atomically) at the input's frame rate and size.  A face that
    overlaps a candidate of the previous frame keeps that candidate's
    tracking error (``KeypointPipeline.candidates(previous=...)``), so the
    tracking test runs once per face track, not on every frame.

    Parameters
    ----------
    in_path, out_path : str
    pipeline : KeypointPipeline
    blur, sunglasses : bool
        What to do to the faces (default: draw keypoints and boxes).
    progress : bool
        Show a tqdm progress bar (with the running frames per second).

    Returns
    -------
    dict
        ``frames``, ``faces`` (accepted, summed over frames),
        ``frames_with_face``, ``seconds`` (detection, keypoints and drawing;
        not decoding or encoding), ``fps`` (frames / seconds).

    Raises
    ------
    FileNotFoundError
        ``in_path`` does not exist.
    ImageError
        ``in_path`` is not a video OpenCV can read, has no frames, or is
        truncated: fewer frames decode than its container says
        (``CAP_PROP_FRAME_COUNT``).  Then nothing is written and a previous
        ``out_path`` is left as it was (the output is only renamed into
        place after the last frame).
    ValueError
        ``out_path`` has an extension not in :data:`VIDEO_CODECS`.
    """
    ext = os.path.splitext(out_path)[1].lower()
    if ext not in VIDEO_CODECS:
        raise ValueError("%s: output must end in %s" % (
            out_path, " or ".join(sorted(VIDEO_CODECS))))
    total, fps_in, _, _ = video_info(in_path) if os.path.isfile(in_path) \
        else (0, 0, 0, 0)
    frames = read_video(in_path)
    pipeline.warm_up()
    stats = {"frames": 0, "faces": 0, "frames_with_face": 0, "seconds": 0.0}
    bar = tqdm(total=total or None, unit="frame", disable=not progress,
               desc=os.path.basename(in_path))

    def processed():
        previous = []
        for frame in frames:
            started = time.perf_counter()
            previous = pipeline.candidates(frame, previous=previous)
            faces = [f for f in previous if f.accepted]
            out = annotate(frame, faces, blur=blur, sunglasses=sunglasses)
            stats["seconds"] += time.perf_counter() - started
            stats["frames"] += 1
            stats["faces"] += len(faces)
            stats["frames_with_face"] += bool(faces)
            bar.update(1)
            bar.set_postfix(fps="%.1f" % (stats["frames"]
                                          / max(stats["seconds"], 1e-9)))
            yield out
        if 0 < stats["frames"] < total:
            raise ImageError(in_path, "truncated or corrupt video: its "
                             "container says %d frames, only %d decode; "
                             "nothing written" % (total, stats["frames"]))

    try:
        write_video(out_path, processed(), fps=fps_in or 25.0)
    except ValueError as e:
        if stats["frames"] == 0:
            raise ImageError(in_path, "no frames could be read")
        raise e
    finally:
        bar.close()
    stats["fps"] = stats["frames"] / max(stats["seconds"], 1e-9)
    return stats

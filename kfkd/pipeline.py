"""Keypoints on real photos and video: detect, crop, predict, map back.

A photo goes through four steps:

1. **Detect** faces with OpenCV's Haar cascade
   (``haarcascade_frontalface_default.xml``, shipped in the opencv wheel
   under ``cv2.data.haarcascades``; Viola & Jones 2001) on a grey copy
   downscaled to at most ``max_side`` pixels (:class:`FaceDetector`).
2. **Crop** each box to the model's input: a square of side
   :data:`CROP_SCALE` x the box width, centred on the box centre, cut from
   the full-resolution grey photo (pixels outside the photo replicate its
   border) and resized to 96x96, grey levels / 255.
3. **Predict** the 15 keypoints with the model (anything with
   ``predict(images (N, 1, 96, 96) float32 in [0, 1]) -> (N, 30) pixels``)
   and map them back to photo pixels (:func:`frame_to_photo`).
4. **Filter** false positives (below); every candidate keeps its box, its
   keypoints and either a confidence or the reason it was rejected
   (:class:`Face`).

Framing (why ``CROP_SCALE = 0.96``)
-----------------------------------
The Kaggle-format training faces put the mean eye midpoint at (47.8, 38.6)
px of the 96x96 frame with a mean inter-ocular distance (IOD, between the eye
centres) of 34.1 px = 0.355 of the frame, and the bottom-lip centre at
y = 83.0 px (``training.csv``, 3146 faces).  On real photos the Haar box puts
the eye midpoint at (0.50, 0.41) of the box width from its top-left corner,
the IOD at 0.339 of the width and the bottom lip at 0.84 (IMM face database,
persons 01-20, 120 photos; persons 21-40 give the same 0.50, 0.41, 0.339:
``experiments/imm_eval.py --calibrate`` prints both).  A square crop of side
``s`` reproduces the training IOD when ``0.339 w / s = 0.355``, i.e.
``s = 0.955 w``; its top then lies at ``0.41 w - 0.402 s = 0.02 w`` below
the box top, so the crop centre is the box centre to within 0.01 w: the crop
is the Haar box shrunk to :data:`CROP_SCALE` = 0.96 about its own centre
(:data:`CROP_SHIFT` = (0, 0)).  The mouth check: eye-to-bottom-lip is
1.28 IOD on IMM and 1.30 IOD in training.csv.

False positives
---------------
The cascade also fires on background: with the photo settings
(:class:`FaceDetector` defaults) 8 of its 41 boxes on the 14 shared photos
are not faces (a collar, a scarf, two logos, a suit, a dress, a chin).
Their cascade neighbours (5-12) overlap those of real faces (7-142), and an
eye-cascade check misses real faces (squinting, small), so three filters
decide, in order; a rejected candidate is kept with its reason
(``Face.reason``):

* **size** -- boxes narrower than ``min_size`` x the photo's shorter side
  are not searched for at all (``minSize`` of ``detectMultiScale``);
* **overlap** -- a box covering more than :data:`OVERLAP` of its area with a
  box of more cascade neighbours is a duplicate;
* **keypoints** -- the keypoint model's own plausibility.  A regression net
  shown a non-face tends to output the mean face *wherever the crop sits*,
  while on a face its keypoints stay on the eyes and mouth when the crop
  moves.  So each candidate is also cropped shifted by :data:`SHIFT_TEST`
  x the crop side right, left, down and up; the **tracking error** is the
  mean distance between the keypoints predicted from a shifted and the
  centred crop, in photo pixels, divided by the shift, averaged over the
  four shifts: 0 when the keypoints follow the face, 1 when they follow
  the crop.  The confidence is ``1 - tracking error`` (clipped to [0, 1]);
  candidates below :data:`MIN_CONFIDENCE` are rejected, and so are
  predictions whose geometry is not a face (IOD outside :data:`IOD_RANGE`
  of the 96 frame, or the mouth not below the eyes).  Measured on the 14
  shared photos (``kfkd detect`` writes every candidate's
  ``tracking_error`` to detections.json) with a breeze net of 1.97 px
  validation RMSE: 0.20-0.45 on the 33 faces, 0.59-0.82 on the 8
  background boxes; :data:`MIN_CONFIDENCE` = 0.48 splits the gap.  Costs
  4 extra crops per candidate (a video face track is tested once,
  :func:`process_video`).

Examples
--------
>>> from kfkd.model import load_model  # doctest: +SKIP
>>> pipeline = KeypointPipeline(load_model())  # doctest: +SKIP
>>> image = read_image("photo.jpg")  # doctest: +SKIP
>>> faces = pipeline.faces(image)  # accepted faces only  # doctest: +SKIP
>>> faces[0].keypoints.shape  # (15, 2) photo pixels  # doctest: +SKIP
(15, 2)
>>> write_image("out.jpg", draw_faces(image, faces))  # doctest: +SKIP
"""
import math
import os
import struct
import time

import cv2
import numpy as np

from .data import DataError
from .fileio import atomic_path, atomic_write
from .keypoints import FRAME, KeypointSchema

__all__ = ["CROP_SCALE", "CROP_SHIFT", "OVERLAP", "SHIFT_TEST",
           "SHIFT_DIRECTIONS", "MIN_CONFIDENCE", "IOD_RANGE", "BLUR_SCALE",
           "BLUR_CELLS", "VIDEO_CODECS", "ImageError", "read_image",
           "MAX_PHOTO_PIXELS", "image_size", "output_stems",
           "write_image", "to_grey",
           "FaceDetector", "Face", "KeypointPipeline", "crop_square",
           "crop_faces", "frame_to_photo", "draw_faces", "blur_faces",
           "sunglasses_image", "SUNGLASSES_LENSES", "overlay_sunglasses",
           "eye_centres", "annotate", "detect_photos", "letterbox",
           "write_video", "read_video", "video_info", "process_video"]

#: Side of the square crop, as a multiple of the Haar box width (see the
#: module docstring for the derivation).
CROP_SCALE = 0.96

#: Shift of the crop centre from the Haar box centre, (x, y) in box widths.
CROP_SHIFT = (0.0, 0.0)

#: A box covering more than this share of its own area with a box of more
#: cascade neighbours is a duplicate.
OVERLAP = 0.3

#: Shift of the extra crops of the tracking test, as a share of the crop side.
SHIFT_TEST = 0.1

#: Directions of the tracking test's shifted crops: right, left, down, up.
SHIFT_DIRECTIONS = ((1, 0), (-1, 0), (0, 1), (0, -1))

#: Candidates whose confidence (1 - tracking error) is below this are
#: rejected (the middle of the gap between faces and background boxes
#: measured on the shared photos: module docstring).
MIN_CONFIDENCE = 0.48

#: Plausible inter-ocular distance of a predicted face, pixels in the 96
#: frame (training.csv: 34.1 +- 3.2 px).
IOD_RANGE = (17.0, 60.0)

#: Blurred region around a face: its Haar box scaled by this about its
#: centre (covers hair line and chin).
BLUR_SCALE = 1.3

#: A blurred face region is reduced to this many pixels across.
BLUR_CELLS = 10

#: The codec :func:`process_video` writes for each output extension (both
#: can be written by the opencv-python-headless wheel; H.264 cannot).
VIDEO_CODECS = {".mp4": "mp4v", ".avi": "MJPG"}

#: Largest photo read, in pixels (2**27, 134 megapixels: 400 MB as BGR).
#: Checked on the file's header before anything is decoded.
MAX_PHOTO_PIXELS = 2 ** 27

#: FFmpeg (OpenCV's video backend) prints its decoding errors on stderr,
#: beside kfkd's own one-line error about the same video: keep only fatal
#: ones (read when OpenCV first opens a video; the environment overrides).
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "8")

_CASCADES = {}


def _cascade(name):
    """The cascade ``name`` from the opencv wheel, loaded once."""
    if name not in _CASCADES:
        path = os.path.join(cv2.data.haarcascades, name)
        cascade = cv2.CascadeClassifier(path)
        if cascade.empty():
            raise IOError("%s: cannot load the Haar cascade" % path)
        _CASCADES[name] = cascade
    return _CASCADES[name]


# -- image I/O -------------------------------------------------------------
class ImageError(DataError):
    """A file that should be an image (or a video) is corrupt, truncated or
    something else."""


def _truncation(path):
    """Why a JPEG or PNG file is cut short, or None.

    OpenCV decodes a truncated JPEG without an error (libjpeg only warns
    "Premature end of JPEG file" and fills the rest with grey), so the end
    marker is checked here: JPEG's EOI (FF D9) within the last KiB (some
    writers pad after it), PNG's IEND chunk at the end.
    """
    with open(path, "rb") as f:
        head = f.read(8)
        f.seek(0, os.SEEK_END)
        size = f.tell()
        f.seek(max(0, size - 1024))
        tail = f.read()
    if head[:2] == b"\xff\xd8" and b"\xff\xd9" not in tail:
        return "truncated JPEG (no end-of-image marker)"
    if head == b"\x89PNG\r\n\x1a\n" and b"IEND" not in tail[-12:]:
        return "truncated PNG (no IEND chunk)"
    return None


def _png_size(f):
    f.seek(16)
    return struct.unpack(">II", f.read(8))


def _bmp_size(f):
    f.seek(14)
    header_size, = struct.unpack("<I", f.read(4))
    if header_size == 12:  # BITMAPCOREHEADER: 16-bit sizes
        return struct.unpack("<HH", f.read(4))
    width, height = struct.unpack("<ii", f.read(8))
    return abs(width), abs(height)  # a negative height is top-down


#: JPEG start-of-frame markers (C0-CF but DHT C4, JPG C8, DAC CC)
_JPEG_SOF = set(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def _jpeg_size(f):
    f.seek(2)
    while True:
        if f.read(1) != b"\xff":
            raise ValueError("no JPEG marker where one was expected")
        code = f.read(1)
        while code == b"\xff":  # fill bytes before a marker
            code = f.read(1)
        if not code or code[0] == 0xDA:  # the end, or the image data
            raise ValueError("no frame header (SOF) before the image data")
        if code[0] == 0x01 or 0xD0 <= code[0] <= 0xD7:
            continue  # markers without a length
        length, = struct.unpack(">H", f.read(2))
        if length < 2:
            raise ValueError("segment length %d" % length)
        if code[0] in _JPEG_SOF:
            height, width = struct.unpack(">xHH", f.read(5))
            return width, height
        f.seek(length - 2, os.SEEK_CUR)


#: signature -> reader of (width, height) from the file's header
_HEADER_READERS = ((b"\x89PNG\r\n\x1a\n", _png_size),
                   (b"\xff\xd8", _jpeg_size), (b"BM", _bmp_size))


def image_size(path):
    """``(width, height)`` in pixels from a PNG, JPEG or BMP file's header,
    without decoding it; None for another format (OpenCV checks those).

    Raises
    ------
    ImageError
        An empty file, or a PNG/JPEG/BMP whose header is cut short or
        malformed (the message names the file).
    """
    with open(path, "rb") as f:
        head = f.read(8)
        if not head:
            raise ImageError(path, "empty file")
        for signature, reader in _HEADER_READERS:
            if head.startswith(signature):
                try:
                    return tuple(int(v) for v in reader(f))
                except (struct.error, ValueError, OSError) as e:
                    raise ImageError(path, "malformed image header (%s)"
                                     % (e,))
    return None


def _check_input(path, what):
    """FileNotFoundError / ImageError unless ``path`` is an existing file."""
    if os.path.isdir(path):
        raise ImageError(path, "is a folder, not a %s" % what)
    if not os.path.isfile(path):
        raise FileNotFoundError("%s: no such file" % path)


def _check_photo(path):
    """FileNotFoundError / ImageError for what cannot be a photo, before
    anything is decoded: a missing path, a folder, an empty file, a header
    claiming more than :data:`MAX_PHOTO_PIXELS` (or no pixels)."""
    _check_input(path, "photo")
    size = image_size(path)
    if size is not None and (size[0] * size[1] > MAX_PHOTO_PIXELS
                             or min(size) < 1):
        raise ImageError(path, "the header says %dx%d pixels; photos of 1 to "
                         "%d pixels are read" % (size + (MAX_PHOTO_PIXELS,)))


def read_image(path):
    """Read a photo with OpenCV (``cv2.imread``).

    Parameters
    ----------
    path : str

    Returns
    -------
    ndarray, (H, W, 3) uint8, BGR

    Raises
    ------
    FileNotFoundError
        No such file (the message names it).
    ImageError
        A folder or an empty file; a PNG, JPEG or BMP whose header claims
        more than :data:`MAX_PHOTO_PIXELS` (checked before decoding, so
        nothing large is allocated); OpenCV cannot decode it (corrupt, not
        an image); a JPEG or PNG is truncated (the message names the file).
    """
    _check_photo(path)
    image = cv2.imread(path, cv2.IMREAD_COLOR)
    if image is None or image.size == 0:
        raise ImageError(path, "not an image OpenCV can read (corrupt, "
                         "truncated or another kind of file)")
    reason = _truncation(path)
    if reason:
        raise ImageError(path, reason)
    return image


def write_image(path, image):
    """Write ``image`` atomically, in the format of ``path``'s extension.

    Encoded with ``cv2.imencode`` (what ``cv2.imwrite`` does) and written
    through :func:`kfkd.fileio.atomic_write`: a temporary file in the same
    folder renamed onto ``path`` once complete.

    Raises
    ------
    ValueError
        OpenCV cannot encode that format.
    """
    ext = os.path.splitext(path)[1] or ".png"
    try:
        ok, data = cv2.imencode(ext, image)
    except cv2.error:
        ok = False
    if not ok:
        raise ValueError("%s: OpenCV cannot encode %r images" % (path, ext))
    with atomic_write(path, "wb") as f:
        f.write(data.tobytes())
    return path


def to_grey(image):
    """``(H, W)`` uint8 grey of a BGR or grey image."""
    if image.ndim == 2:
        return image
    if image.ndim == 3 and image.shape[2] == 1:
        return image[:, :, 0]
    if image.ndim == 3 and image.shape[2] in (3, 4):
        code = (cv2.COLOR_BGR2GRAY if image.shape[2] == 3
                else cv2.COLOR_BGRA2GRAY)
        return cv2.cvtColor(image, code)
    raise ValueError("expected an (H, W) or (H, W, 3) image, got shape %r"
                     % (image.shape,))


# -- detection ---------------------------------------------------------------
class FaceDetector(object):
    """OpenCV's frontal-face Haar cascade, on a downscaled grey copy.

    Parameters
    ----------
    max_side : int or None
        The photo is downscaled (``INTER_AREA``) so that its longer side is at
        most this many pixels before detection; boxes are scaled back.
        ``None``: full resolution.
    scale_factor : float
        ``detectMultiScale``'s step between window sizes.
    min_neighbors : int
        ``detectMultiScale``'s minimum number of overlapping raw detections.
    min_size : float
        Smallest face searched for, as a share of the photo's shorter side
        (never below the cascade's 24 px window at detection resolution).
    cascade : str
        File name in ``cv2.data.haarcascades``.
    """

    def __init__(self, max_side=640, scale_factor=1.1, min_neighbors=4,
                 min_size=0.04,
                 cascade="haarcascade_frontalface_default.xml"):
        self.max_side, self.scale_factor = max_side, scale_factor
        self.min_neighbors, self.min_size = min_neighbors, min_size
        self.cascade_name = cascade
        self.cascade = _cascade(cascade)

    @classmethod
    def for_video(cls):
        """Settings for live 640x480 video: detect at 320 px (the cascade's
        24 px window then finds faces from 48 px, 10% of the frame height),
        step 1.2 (see ``experiments/benchmark_pipeline.py --sweep``).
        """
        return cls(max_side=320, scale_factor=1.2, min_neighbors=4,
                   min_size=0.1)

    def __repr__(self):
        return ("FaceDetector(max_side=%r, scale_factor=%r, min_neighbors=%r,"
                " min_size=%r)" % (self.max_side, self.scale_factor,
                                   self.min_neighbors, self.min_size))

    def detect(self, grey):
        """Face boxes in ``grey``.

        Parameters
        ----------
        grey : ndarray, (H, W) uint8

        Returns
        -------
        boxes : ndarray, (M, 4) int
            ``(x, y, w, h)`` in photo pixels, most neighbours first.
        neighbours : ndarray, (M,) int
            Raw detections merged into each box (the cascade's confidence).
        """
        h, w = grey.shape[:2]
        scale = 1.0
        if self.max_side and max(h, w) > self.max_side:
            scale = self.max_side / float(max(h, w))
            grey = cv2.resize(grey, (max(1, int(round(w * scale))),
                                     max(1, int(round(h * scale)))),
                              interpolation=cv2.INTER_AREA)
        side = max(24, int(round(self.min_size * min(grey.shape[:2]))))
        boxes, neighbours = self.cascade.detectMultiScale2(
            grey, scaleFactor=self.scale_factor,
            minNeighbors=self.min_neighbors, minSize=(side, side))
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        neighbours = np.asarray(neighbours, dtype=np.int64).reshape(-1)
        boxes = np.round(boxes / scale).astype(np.int64)
        order = np.argsort(-neighbours, kind="stable")
        return boxes[order], neighbours[order]


# -- crops -----------------------------------------------------------------
def crop_square(box, scale=CROP_SCALE, shift=CROP_SHIFT):
    """The square cut from the photo for a Haar box.

    Parameters
    ----------
    box : (x, y, w, h)
        Haar box, photo pixels.
    scale : float
        Side of the square in box widths (:data:`CROP_SCALE`).
    shift : (float, float)
        Centre offset from the box centre, in box widths.

    Returns
    -------
    (x0, y0, side) : tuple of int
        Top-left corner and side, photo pixels (may reach outside the photo).

    Examples
    --------
    >>> crop_square((100, 50, 200, 200))
    (104, 54, 192)
    """
    x, y, w, h = [float(v) for v in box]
    side = max(1, int(round(scale * w)))
    cx = x + w / 2.0 + shift[0] * w
    cy = y + h / 2.0 + shift[1] * w
    return (int(round(cx - side / 2.0)), int(round(cy - side / 2.0)), side)


def crop_faces(grey, squares, frame=FRAME):
    """Cut squares from a grey photo and resize them to the model input.

    Parameters
    ----------
    grey : ndarray, (H, W) uint8
    squares : sequence of (x0, y0, side)
        From :func:`crop_square`; parts outside the photo replicate its
        border.
    frame : int

    Returns
    -------
    ndarray, (N, 1, frame, frame) float32 in [0, 1]
    """
    h, w = grey.shape[:2]
    out = np.empty((len(squares), 1, frame, frame), np.float32)
    for i, (x0, y0, side) in enumerate(squares):
        xa, ya = max(0, x0), max(0, y0)
        xb, yb = min(w, x0 + side), min(h, y0 + side)
        if xa >= xb or ya >= yb:
            raise ValueError("crop %r lies outside the %dx%d photo"
                             % ((x0, y0, side), w, h))
        patch = grey[ya:yb, xa:xb]
        if (xa, ya, xb, yb) != (x0, y0, x0 + side, y0 + side):
            patch = cv2.copyMakeBorder(patch, ya - y0, y0 + side - yb,
                                       xa - x0, x0 + side - xb,
                                       cv2.BORDER_REPLICATE)
        inter = cv2.INTER_AREA if side > frame else cv2.INTER_LINEAR
        out[i, 0] = cv2.resize(patch, (frame, frame),
                               interpolation=inter) / np.float32(255.0)
    return out


def frame_to_photo(keypoints, square, frame=FRAME):
    """Keypoints in the 96x96 frame -> photo pixels.

    ``cv2.resize`` maps the centre of frame pixel ``u`` to photo coordinate
    ``x0 + (u + 0.5) * side / frame - 0.5`` (both with pixel centres at
    integers); the same map is applied to the keypoints.

    Parameters
    ----------
    keypoints : ndarray, (..., 2K) or (..., K, 2) float, pixels in the frame
    square : (x0, y0, side)
    frame : int

    Returns
    -------
    ndarray, same shape, float64 photo pixels

    Examples
    --------
    >>> frame_to_photo(np.array([47.5, 47.5]), (104, 54, 192))  # the centre
    array([199.5, 149.5])
    """
    x0, y0, side = square
    k = np.asarray(keypoints, dtype=np.float64)
    xy = k.reshape(k.shape[:-1] + (-1, 2)) if k.shape[-1] != 2 else k
    out = (xy + 0.5) * (side / float(frame)) - 0.5 + np.array([x0, y0])
    return out.reshape(k.shape)


# -- faces -------------------------------------------------------------------
class Face(object):
    """One detected face (or rejected candidate).

    Attributes
    ----------
    box : tuple of int
        Haar box ``(x, y, w, h)``, photo pixels.
    square : tuple of int
        The crop ``(x0, y0, side)``, photo pixels.
    keypoints : ndarray, (K, 2) float64
        Keypoints ``(x, y)`` in photo pixels, in ``names`` order.
    keypoints_frame : ndarray, (K, 2) float32
        The model's output, pixels in the 96x96 crop.
    names : tuple of str
        Keypoint names (the model's schema).
    neighbours : int
        Raw cascade detections merged into the box.
    tracking_error : float or None
        Keypoint shift / crop shift of the tracking test (None if not run).
    confidence : float
        ``1 - tracking_error`` clipped to [0, 1] (1.0 if the test was off).
    reason : str or None
        Why the candidate was rejected; None for an accepted face.
    """

    def __init__(self, box, square, keypoints, keypoints_frame, names,
                 neighbours, tracking_error=None, reason=None):
        self.box = tuple(int(v) for v in box)
        self.square = tuple(int(v) for v in square)
        self.keypoints = np.asarray(keypoints, np.float64)
        self.keypoints_frame = np.asarray(keypoints_frame, np.float32)
        self.names = tuple(names)
        self.neighbours = int(neighbours)
        self.tracking_error = (None if tracking_error is None
                               else float(tracking_error))
        self.reason = reason

    @property
    def accepted(self):
        """True unless a filter rejected the candidate."""
        return self.reason is None

    @property
    def confidence(self):
        if self.tracking_error is None:
            return 1.0
        return float(np.clip(1.0 - self.tracking_error, 0.0, 1.0))

    def keypoint(self, name):
        """``(x, y)`` photo pixels of keypoint ``name``."""
        return self.keypoints[self.names.index(name)]

    def region(self, scale=BLUR_SCALE, shape=None):
        """The box scaled about its centre, ``(x0, y0, x1, y1)`` (exclusive),
        clipped to an image of ``shape`` (H, W, ...) if given."""
        x, y, w, h = self.box
        cx, cy = x + w / 2.0, y + h / 2.0
        x0, x1 = int(round(cx - scale * w / 2)), int(round(cx + scale * w / 2))
        y0, y1 = int(round(cy - scale * h / 2)), int(round(cy + scale * h / 2))
        if shape is not None:
            x0, y0 = max(0, x0), max(0, y0)
            x1, y1 = min(shape[1], x1), min(shape[0], y1)
        return x0, y0, x1, y1

    def to_dict(self):
        """JSON-ready description (photo pixels, rounded to 0.01 px)."""
        return {
            "box": list(self.box),
            "crop": list(self.square),
            "accepted": self.accepted,
            "reason": self.reason,
            "confidence": round(self.confidence, 4),
            "tracking_error": (None if self.tracking_error is None
                               else round(self.tracking_error, 4)),
            "neighbours": self.neighbours,
            "keypoints": {n: [round(float(v), 2) if np.isfinite(v) else None
                              for v in xy]
                          for n, xy in zip(self.names, self.keypoints)},
        }

    def __repr__(self):
        return "Face(box=%r, confidence=%.2f%s)" % (
            self.box, self.confidence,
            "" if self.accepted else ", rejected: %s" % self.reason)


def _intersection(a, b):
    """Area shared by boxes ``(x, y, w, h)`` a and b."""
    iw = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    ih = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    return float(iw * ih) if iw > 0 and ih > 0 else 0.0


def _overlap_share(a, b):
    """Intersection of boxes a and b over the area of a."""
    return _intersection(a, b) / float(a[2] * a[3])


def _iou(a, b):
    """Intersection over union of boxes a and b."""
    inter = _intersection(a, b)
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def _geometry_reason(kp_frame, names):
    """Why a predicted shape (K, 2), 96-frame px, is not a face, or None."""
    try:
        le = kp_frame[names.index("left_eye_center")]
        re = kp_frame[names.index("right_eye_center")]
    except ValueError:
        return None  # a schema without eye centres: nothing to check
    if not np.all(np.isfinite(kp_frame)):
        return "keypoints not finite"
    iod = float(np.hypot(*(le - re)))
    if not IOD_RANGE[0] <= iod <= IOD_RANGE[1]:
        return "implausible keypoints: eye distance %.1f px of 96" % iod
    if "mouth_center_bottom_lip" in names:
        lip = kp_frame[names.index("mouth_center_bottom_lip")]
        mid = (le + re) / 2.0
        # the mouth must lie below the eyes, on the eyes' perpendicular
        eyes = (le - re) / iod
        down = np.array([-eyes[1], eyes[0]])
        if float(np.dot(lip - mid, down)) < 0.5 * iod:
            return "implausible keypoints: mouth not below the eyes"
    return None


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
        if boxes is None:
            boxes, neighbours = self.detector.detect(grey)
        else:
            boxes = np.asarray(boxes, np.int64).reshape(-1, 4)
            neighbours = np.zeros(len(boxes), np.int64)
        if len(boxes) == 0:
            return []
        squares = [crop_square(b, self.crop_scale) for b in boxes]
        tracking = [None] * len(boxes)
        if self.tracking_test:
            for i, box in enumerate(boxes):
                for old in previous:
                    if (old.tracking_error is not None
                            and _iou(box, old.box) > 0.5):
                        tracking[i] = old.tracking_error
                        break
        tested = [i for i in range(len(boxes))
                  if self.tracking_test and tracking[i] is None]
        flat = list(squares)
        for dx, dy in SHIFT_DIRECTIONS if tested else ():
            for i in tested:
                x0, y0, side = squares[i]
                flat.append((x0 + int(round(dx * self.shift_test * side)),
                             y0 + int(round(dy * self.shift_test * side)),
                             side))
        pred = self._predict(crop_faces(grey, flat))
        photo = np.array([frame_to_photo(p, sq) for p, sq in zip(pred, flat)])
        n = len(boxes)
        for j, i in enumerate(tested):
            ratios = []
            for g in range(len(SHIFT_DIRECTIONS)):
                k = n + g * len(tested) + j
                shift = np.hypot(flat[k][0] - squares[i][0],
                                 flat[k][1] - squares[i][1])
                dist = np.hypot(*(photo[k] - photo[i]).T).mean()
                ratios.append(dist / max(shift, 1e-9))
            tracking[i] = float(np.mean(ratios))
        faces, kept = [], []
        for i in range(n):
            face = Face(boxes[i], squares[i], photo[i], pred[i], self.names,
                        neighbours[i], tracking[i])
            reason = None
            for k in kept:
                if _overlap_share(boxes[i], boxes[k]) > OVERLAP:
                    reason = "overlaps a box with more neighbours"
                    break
            if reason is None:
                reason = _geometry_reason(pred[i], self.names)
            if reason is None and face.confidence < self.min_confidence:
                reason = ("keypoints follow the crop, not the face "
                          "(confidence %.2f < %.2f)"
                          % (face.confidence, self.min_confidence))
            face.reason = reason
            if reason is None:
                kept.append(i)
            faces.append(face)
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


# -- drawing ---------------------------------------------------------------
_GROUP_COLOURS = (("eye", (0, 255, 255)), ("eyebrow", (255, 160, 0)),
                  ("nose", (0, 255, 0)), ("mouth", (255, 0, 255)))


def _colour(name):
    for key, colour in reversed(_GROUP_COLOURS):
        if key in name:
            return colour
    return (255, 255, 255)


def draw_faces(image, faces, boxes=True, rejected=()):
    """A copy of ``image`` with keypoints and boxes drawn.

    Parameters
    ----------
    image : ndarray, (H, W, 3) uint8 BGR
    faces : sequence of Face
        Drawn with a green box, keypoints as dots coloured by part (eyes
        yellow, eyebrows blue, nose green, mouth magenta) and the confidence.
    boxes : bool
        Draw the boxes.
    rejected : sequence of Face
        Drawn as thin red boxes with no keypoints.

    Returns
    -------
    ndarray, (H, W, 3) uint8
    """
    out = image.copy()
    if out.ndim == 2:
        out = cv2.cvtColor(out, cv2.COLOR_GRAY2BGR)
    for face in rejected:
        x, y, w, h = face.box
        cv2.rectangle(out, (x, y), (x + w, y + h), (0, 0, 255),
                      max(1, w // 120), cv2.LINE_AA)
    for face in faces:
        x, y, w, h = face.box
        thick = max(1, int(round(w / 80.0)))
        if boxes:
            cv2.rectangle(out, (x, y), (x + w, y + h), (0, 200, 0), thick,
                          cv2.LINE_AA)
            cv2.putText(out, "%.2f" % face.confidence,
                        (x, max(0, y - 2 * thick)), cv2.FONT_HERSHEY_SIMPLEX,
                        max(0.35, w / 250.0), (0, 200, 0), thick, cv2.LINE_AA)
        radius = max(1, int(round(w / 50.0)))
        for name, (kx, ky) in zip(face.names, face.keypoints):
            cv2.circle(out, (int(round(kx)), int(round(ky))), radius,
                       _colour(name), -1, cv2.LINE_AA)
    return out


def blur_faces(image, faces, scale=BLUR_SCALE, cells=BLUR_CELLS):
    """A copy of ``image`` with each face blurred beyond recognition.

    The region of a face is its Haar box scaled by ``scale`` about its centre
    (:meth:`Face.region`).  It is reduced to ``cells`` pixels across
    (``INTER_AREA``), Gaussian-blurred there (sigma 1.2 cells) and scaled
    back (bilinear) -- a Gaussian blur of sigma ~ 1/8 of the region width at
    a cost independent of the face size -- and blended in through an
    elliptical mask with soft edges.  Pixels outside every region are left
    exactly as they were.

    Parameters
    ----------
    image : ndarray, (H, W, 3) or (H, W) uint8
    faces : sequence of Face
    scale : float
    cells : int

    Returns
    -------
    ndarray, same shape, uint8
    """
    out = image.copy()
    for face in faces:
        x0, y0, x1, y1 = face.region(scale, out.shape)
        w, h = x1 - x0, y1 - y0
        if w < 2 or h < 2:
            continue
        roi = out[y0:y1, x0:x1]
        sw = max(1, min(w, cells))
        sh = max(1, min(h, int(round(cells * h / float(w)))))
        small = cv2.resize(roi, (sw, sh), interpolation=cv2.INTER_AREA)
        small = cv2.GaussianBlur(small, (0, 0), 1.2,
                                 borderType=cv2.BORDER_REPLICATE)
        blurred = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
        mw, mh = 4 * sw, 4 * sh
        mask = np.zeros((mh, mw), np.float32)
        cv2.ellipse(mask, (mw // 2, mh // 2),
                    (int(mw * 0.42), int(mh * 0.45)), 0, 0, 360, 1.0, -1)
        mask = cv2.resize(cv2.GaussianBlur(mask, (0, 0), 1.5), (w, h),
                          interpolation=cv2.INTER_LINEAR)
        if roi.ndim == 3:
            mask = mask[:, :, None]
        mixed = roi * (1.0 - mask) + blurred * mask
        out[y0:y1, x0:x1] = np.clip(np.rint(mixed), 0, 255).astype(np.uint8)
    return out


#: Lens centres ``(x, y)`` of :func:`sunglasses_image`, image's left lens
#: first (it covers the subject's right eye), in the pixels of that image.
SUNGLASSES_LENSES = ((120.0, 70.0), (320.0, 70.0))

_SUNGLASSES = []


def sunglasses_image():
    """The sunglasses, drawn with OpenCV shapes once: (150, 440, 4) uint8 BGRA.

    Two dark elliptical lenses with a faint reflection, a black rim, a bridge
    and short temples, anti-aliased (drawn at 4x and reduced with
    ``INTER_AREA``).  The lens centres are :data:`SUNGLASSES_LENSES`, 200 px
    apart, so the image scales by IOD / 200 onto a face.
    """
    if _SUNGLASSES:
        return _SUNGLASSES[0]
    k = 4
    big = np.zeros((150 * k, 440 * k, 4), np.uint8)

    def pt(x, y):
        return int(round(x * k)), int(round(y * k))

    for cx, cy in SUNGLASSES_LENSES:
        cv2.ellipse(big, pt(cx, cy), pt(90, 60), 0, 0, 360,
                    (40, 30, 25, 235), -1, cv2.LINE_AA)
        cv2.ellipse(big, pt(cx - 28, cy - 24), pt(36, 13), -20, 200, 320,
                    (230, 230, 230, 110), 3 * k, cv2.LINE_AA)
        cv2.ellipse(big, pt(cx, cy), pt(90, 60), 0, 0, 360,
                    (10, 10, 10, 255), 7 * k, cv2.LINE_AA)
    cv2.ellipse(big, pt(220, 60), pt(14, 9), 0, 190, 350, (10, 10, 10, 255),
                7 * k, cv2.LINE_AA)
    for x_from, x_to in ((32, 4), (408, 436)):
        cv2.line(big, pt(x_from, 50), pt(x_to, 42), (10, 10, 10, 255), 7 * k,
                 cv2.LINE_AA)
    small = cv2.resize(big, (440, 150), interpolation=cv2.INTER_AREA)
    small.setflags(write=False)
    _SUNGLASSES.append(small)
    return small


def eye_centres(face):
    """``(right_eye, left_eye)`` centres, photo pixels: the image's left eye
    (the subject's right) first.

    Raises
    ------
    KeyError
        The model's schema has no eye centres.
    """
    try:
        return (face.keypoint("right_eye_center"),
                face.keypoint("left_eye_center"))
    except ValueError:
        raise KeyError("the model predicts no eye centres (keypoints: %s)"
                       % ", ".join(face.names))


def _sunglasses_matrix(right_eye, left_eye):
    """2x3 similarity taking the lens centres onto the eye centres."""
    (ax, ay), (bx, by) = SUNGLASSES_LENSES
    src = complex(bx - ax, by - ay)
    dst = complex(left_eye[0] - right_eye[0], left_eye[1] - right_eye[1])
    z = dst / src  # rotation and scale as one complex number
    t = complex(*right_eye) - z * complex(ax, ay)
    return np.array([[z.real, -z.imag, t.real], [z.imag, z.real, t.imag]])


def overlay_sunglasses(image, faces):
    """A copy of ``image`` with sunglasses on every face.

    The glasses (:func:`sunglasses_image`) are mapped by the similarity
    (scale, rotation, shift) that puts their lens centres on the predicted
    eye centres, then alpha-blended.  Only pixels under the glasses change:
    about 2.2 x 0.75 inter-ocular distances around the eye midpoint.

    Parameters
    ----------
    image : ndarray, (H, W, 3) uint8 BGR
    faces : sequence of Face

    Returns
    -------
    ndarray, (H, W, 3) uint8
    """
    out = image.copy()
    glasses = sunglasses_image()
    gh, gw = glasses.shape[:2]
    corners = np.array([[0, 0, 1], [gw, 0, 1], [0, gh, 1], [gw, gh, 1]],
                       np.float64)
    for face in faces:
        right_eye, left_eye = eye_centres(face)
        if np.hypot(*(left_eye - right_eye)) < 2:
            continue
        m = _sunglasses_matrix(right_eye, left_eye)
        pts = corners @ m.T
        x0 = max(0, int(math.floor(pts[:, 0].min())))
        y0 = max(0, int(math.floor(pts[:, 1].min())))
        x1 = min(out.shape[1], int(math.ceil(pts[:, 0].max())) + 1)
        y1 = min(out.shape[0], int(math.ceil(pts[:, 1].max())) + 1)
        if x1 <= x0 or y1 <= y0:
            continue
        m_roi = m.copy()
        m_roi[:, 2] -= (x0, y0)
        warped = cv2.warpAffine(glasses, m_roi, (x1 - x0, y1 - y0),
                                flags=cv2.INTER_LINEAR,
                                borderMode=cv2.BORDER_CONSTANT,
                                borderValue=(0, 0, 0, 0))
        alpha = warped[:, :, 3:4].astype(np.float32) / 255.0
        roi = out[y0:y1, x0:x1]
        mixed = roi * (1.0 - alpha) + warped[:, :, :3] * alpha
        changed = alpha[:, :, 0] > 0
        roi[changed] = np.clip(np.rint(mixed[changed]), 0, 255).astype(
            np.uint8)
    return out


def annotate(image, faces, rejected=(), blur=False, sunglasses=False):
    """The output frame of ``kfkd video``: faces blurred and/or given
    sunglasses if asked, else keypoints and boxes drawn."""
    if blur:
        image = blur_faces(image, faces)
    if sunglasses:
        image = overlay_sunglasses(image, faces)
    if not (blur or sunglasses):
        image = draw_faces(image, faces, rejected=rejected)
    return image


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
    from .fileio import write_json

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


# -- video -----------------------------------------------------------------
def letterbox(image, size=(640, 480)):
    """``image`` scaled to fit ``size`` = (width, height), centred on black.

    Returns
    -------
    ndarray, (height, width, channels) uint8
    """
    width, height = size
    h, w = image.shape[:2]
    scale = min(width / float(w), height / float(h))
    new_w = max(1, int(round(w * scale)))
    new_h = max(1, int(round(h * scale)))
    resized = cv2.resize(image, (new_w, new_h), interpolation=(
        cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR))
    out = np.zeros((height, width) + image.shape[2:], np.uint8)
    x0, y0 = (width - new_w) // 2, (height - new_h) // 2
    out[y0:y0 + new_h, x0:x0 + new_w] = resized
    return out


def write_video(path, frames, fps=25.0):
    """Write BGR frames with ``cv2.VideoWriter``, atomically.

    The codec follows the extension (:data:`VIDEO_CODECS`); frames go to a
    temporary file beside ``path`` that is renamed onto it only when the
    last frame is written (on any error it is removed and ``path`` is left
    as it was).

    Parameters
    ----------
    path : str
    frames : iterable of ndarray, (H, W, 3) uint8
        All of one size (the first frame's).  May be a generator.
    fps : float

    Returns
    -------
    int
        Frames written.

    Raises
    ------
    ValueError
        An extension not in :data:`VIDEO_CODECS`, no frames, or a frame of
        another size.
    IOError
        OpenCV cannot open the writer.
    """
    ext = os.path.splitext(path)[1].lower()
    if ext not in VIDEO_CODECS:
        raise ValueError("%s: a video must end in %s" % (
            path, " or ".join(sorted(VIDEO_CODECS))))
    writer, size, n = None, None, 0
    with atomic_path(path, suffix=ext) as tmp:
        try:
            for frame in frames:
                if writer is None:
                    size = (frame.shape[1], frame.shape[0])
                    writer = cv2.VideoWriter(
                        tmp, cv2.VideoWriter_fourcc(*VIDEO_CODECS[ext]), fps,
                        size)
                    if not writer.isOpened():
                        raise IOError("%s: OpenCV cannot write %s video"
                                      % (path, VIDEO_CODECS[ext]))
                elif (frame.shape[1], frame.shape[0]) != size:
                    raise ValueError(
                        "%s: frame %d is %dx%d, the video %dx%d" % (
                            path, n, frame.shape[1], frame.shape[0], size[0],
                            size[1]))
                writer.write(frame)
                n += 1
            if writer is None:
                raise ValueError("%s: no frames to write" % path)
        finally:
            if writer is not None:
                writer.release()
    return n


def read_video(path):
    """Frames of a video, one by one (a generator of BGR uint8 arrays).

    Raises
    ------
    FileNotFoundError
        No such file.
    ImageError
        Not a video OpenCV can read.
    """
    _check_input(path, "video")
    capture = cv2.VideoCapture(path)
    if not capture.isOpened():
        raise ImageError(path, "not a video OpenCV can read")
    try:
        while True:
            ok, frame = capture.read()
            if not ok:
                return
            yield frame
    finally:
        capture.release()


def video_info(path):
    """``(frames, fps, width, height)`` as the container reports them.

    Raises
    ------
    FileNotFoundError
        No such file.
    ImageError
        A folder, or not a video OpenCV can read.
    """
    _check_input(path, "video")
    capture = cv2.VideoCapture(path)
    try:
        if not capture.isOpened():
            raise ImageError(path, "not a video OpenCV can read")
        return (int(capture.get(cv2.CAP_PROP_FRAME_COUNT)),
                capture.get(cv2.CAP_PROP_FPS),
                int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)),
                int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    finally:
        capture.release()


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
    from tqdm import tqdm

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

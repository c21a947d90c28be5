"""Photos and videos in and out: reading with checks, atomic writing.

A photo is checked before it is decoded: its size is read from its header
with Pillow (``PIL.Image.open`` is lazy: it reads the header only), so a
header claiming 60000x60000 pixels allocates nothing; a truncated JPEG or
PNG (which OpenCV decodes without an error, grey-filled) is refused by its
missing end marker.  A video is read frame by frame with
``cv2.VideoCapture`` and written with ``cv2.VideoWriter`` into a temporary
file renamed into place after its last frame.
"""
import contextlib
import os
import warnings

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from ..data import DataError
from ..fileio import atomic_path, atomic_write

__all__ = ["VIDEO_CODECS", "MAX_PHOTO_PIXELS", "ImageError", "image_size",
           "check_input", "read_image", "write_image", "to_grey",
           "letterbox", "write_video", "read_video", "video_info"]

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


@contextlib.contextmanager
def _no_pillow_pixel_limit():
    """Pillow's decompression-bomb check off while a header is opened.

    ``Image.open`` refuses (or warns about) a header of more than
    ``Image.MAX_IMAGE_PIXELS`` pixels without saying the size;
    :func:`read_image` checks :data:`MAX_PHOTO_PIXELS` itself on the size
    :func:`image_size` returns, and names it.  The limit is restored on exit
    (not thread-safe: the pipeline reads its photos in one thread).
    """
    saved = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            yield
    finally:
        Image.MAX_IMAGE_PIXELS = saved


def image_size(path):
    """``(width, height)`` in pixels from an image file's header, without
    decoding it (``PIL.Image.open`` is lazy: it reads the header only).

    Raises
    ------
    ImageError
        An empty file; a file Pillow cannot identify as an image (another
        kind of file, or an image whose header is malformed or cut short);
        a header Pillow cannot parse (the message names the file).
    """
    if os.path.getsize(path) == 0:
        raise ImageError(path, "empty file")
    try:
        with _no_pillow_pixel_limit(), Image.open(path) as image:
            return tuple(int(v) for v in image.size)
    except UnidentifiedImageError:
        raise ImageError(path, "not an image (Pillow cannot identify it: "
                         "another kind of file, or a malformed or cut-short "
                         "header)")
    except (OSError, ValueError, SyntaxError) as e:
        raise ImageError(path, "malformed image header (%s)" % (e,))


def check_input(path, what):
    """FileNotFoundError / ImageError unless ``path`` is an existing file."""
    if os.path.isdir(path):
        raise ImageError(path, "is a folder, not a %s" % what)
    if not os.path.isfile(path):
        raise FileNotFoundError("%s: no such file" % path)


def _check_photo(path):
    """FileNotFoundError / ImageError for what cannot be a photo, before
    anything is decoded: a missing path, a folder, an empty file, a header
    claiming more than :data:`MAX_PHOTO_PIXELS` (or no pixels)."""
    check_input(path, "photo")
    size = image_size(path)
    if size[0] * size[1] > MAX_PHOTO_PIXELS or min(size) < 1:
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
        A folder or an empty file; not an image Pillow can identify; a
        header claiming more than :data:`MAX_PHOTO_PIXELS` (checked before
        decoding, so nothing large is allocated); OpenCV cannot decode it
        (corrupt); a JPEG or PNG is truncated (the message names the file).
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
    check_input(path, "video")
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
    check_input(path, "video")
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


"""What is drawn on the faces: keypoints and boxes, blur, sunglasses.

Each function returns a copy of the image; pixels away from the faces are
left exactly as they were.
"""
import math

import cv2
import numpy as np

from .faces import BLUR_SCALE

__all__ = ["BLUR_CELLS", "SUNGLASSES_LENSES", "draw_faces", "blur_faces",
           "sunglasses_image", "eye_centres", "overlay_sunglasses",
           "annotate"]

#: A blurred face region is reduced to this many pixels across.
BLUR_CELLS = 10


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



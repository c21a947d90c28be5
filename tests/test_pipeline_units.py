"""Fast synthetic tests of the photo pipeline and the IMM evaluation: no
model, no shared data (hand-made boxes, images, ``.asf`` files, points and
a stand-in model whose keypoints follow a bright dot or its crop).
"""
import numpy as np
import pytest
from PIL import Image

from kfkd.data import DataError
from kfkd.keypoints import KeypointSchema
from kfkd.pipeline import (MAX_PHOTO_PIXELS, SHIFT_DIRECTIONS, Face,
                           ImageError, KeypointPipeline, crop_faces,
                           crop_square, frame_to_photo, image_size,
                           output_stems, read_image, write_image)
from kfkd.pipeline import imm, imm_eval
from kfkd.pipeline.faces import shifted_squares, tracking_errors

NAMES = KeypointSchema.kaggle().names

#: A face layout in the 96 frame, offsets from the bright dot (the nose
#: tip): eyes 34 px apart, mouth below them.
LAYOUT = {"left_eye_center": (17, -10), "right_eye_center": (-17, -10),
          "mouth_center_bottom_lip": (0, 25), "mouth_center_top_lip": (0, 15)}


# -- output names -------------------------------------------------------------
@pytest.mark.parametrize("paths,expected", [
    (["a/face.jpg", "b/face.jpg", "c/other.png"],
     ["a_face", "b_face", "other"]),
    (["x/face.jpg", "x/face.jpg"], ["x_face", "x_face_2"]),
    (["a/Face.JPG", "b/face.jpg"], ["a_Face", "b_face"]),
    (["face.jpg", "face.png"], ["face", "face"]),  # outputs differ by ext
    (["a/face.gif", "b/face.png"], ["a_face", "b_face"]),  # both .png out
], ids=["two-folders", "same-photo-twice", "case", "other-ext", "gif-as-png"])
def test_output_stems(paths, expected):
    assert output_stems(paths) == expected


# -- crop geometry ----------------------------------------------------------------
@pytest.mark.parametrize("box,scale,shift,square", [
    ((100, 50, 200, 200), 0.96, (0, 0), (104, 54, 192)),
    ((0, 0, 100, 100), 1.0, (0, 0), (0, 0, 100)),
    ((0, 0, 100, 100), 1.0, (0.1, -0.2), (10, -20, 100)),
    ((10, 10, 50, 80), 2.0, (0, 0), (-15, 0, 100)),  # centred on the box
])
def test_crop_square(box, scale, shift, square):
    assert crop_square(box, scale, shift) == square


def test_frame_to_photo_maps_the_frame_onto_the_square():
    square = (10, 20, 192)  # 2 photo px per frame px
    centre = frame_to_photo(np.array([47.5, 47.5]), square)
    assert np.allclose(centre, [10 + 95.5, 20 + 95.5])
    pairs = frame_to_photo(np.array([[0., 0.], [95., 95.]]), square)
    assert np.allclose(pairs, [[10.5, 20.5], [200.5, 210.5]])
    flat = frame_to_photo(np.array([[0., 0., 95., 95.]]), square)
    assert flat.shape == (1, 4) and np.allclose(flat, [[10.5, 20.5, 200.5,
                                                        210.5]])


def test_crop_faces_replicates_the_border_and_refuses_outside():
    grey = np.zeros((50, 60), np.uint8)
    grey[:, 0] = 200  # the left column
    crop = crop_faces(grey, [(-48, 0, 96)])[0, 0]  # half outside, left
    assert crop.shape == (96, 96) and crop.dtype == np.float32
    assert np.allclose(crop[:40, :48], 200 / 255.0)  # replicated column
    assert np.allclose(crop[:40, 50:], 0.0)
    with pytest.raises(ValueError, match="outside"):
        crop_faces(grey, [(60, 0, 10)])


# -- the tracking test ------------------------------------------------------------
def test_shifted_squares_and_tracking_errors():
    squares = [(0, 0, 100), (200, 0, 50)]
    flat = squares + shifted_squares(squares, [1], 0.1)
    assert flat[2:] == [(205, 0, 50), (195, 0, 50), (200, 5, 50),
                        (200, -5, 50)]
    assert len(flat) == 2 + len(SHIFT_DIRECTIONS)
    still = np.zeros((len(flat), 3, 2))  # keypoints stay: follow the face
    follow = still + np.array([[sq[0], sq[1]] for sq in flat])[:, None]
    assert tracking_errors(still, flat, 2, [1]) == {1: 0.0}
    assert tracking_errors(follow, flat, 2, [1]) == pytest.approx({1: 1.0})


class DotModel(object):
    """Predicts :data:`LAYOUT` around the brightest pixel of each crop
    (``follow_crop``: around the crop's centre, whatever it shows)."""

    def __init__(self, follow_crop=False):
        self.follow_crop = follow_crop
        self.schema = KeypointSchema.kaggle()

    def predict(self, images):
        out = np.full((len(images), len(NAMES), 2), 48.0)
        for i, crop in enumerate(images[:, 0]):
            y, x = np.unravel_index(np.argmax(crop), crop.shape)
            origin = (48.0, 48.0) if self.follow_crop else (x, y)
            for k, name in enumerate(NAMES):
                out[i, k] = np.add(origin, LAYOUT.get(name, (0, 0)))
        return out.reshape(len(images), -1)


@pytest.fixture
def dot_photo():
    image = np.zeros((300, 300, 3), np.uint8)
    image[148:152, 148:152] = 255
    return image


def test_keypoints_that_follow_the_face_are_accepted(dot_photo):
    pipeline = KeypointPipeline(DotModel())
    faces = pipeline.candidates(dot_photo, boxes=[(100, 100, 100, 100)])
    assert len(faces) == 1 and faces[0].accepted, faces
    assert faces[0].confidence > 0.9
    nose = faces[0].keypoint("nose_tip")
    assert np.all((nose >= 147) & (nose <= 152))  # on the dot (148-151)


def test_keypoints_that_follow_the_crop_are_rejected(dot_photo):
    pipeline = KeypointPipeline(DotModel(follow_crop=True))
    faces = pipeline.candidates(dot_photo, boxes=[(100, 100, 100, 100)])
    assert len(faces) == 1 and not faces[0].accepted
    assert faces[0].tracking_error == pytest.approx(1.0, abs=0.05)
    assert "follow the crop" in faces[0].reason


def test_overlapping_box_is_a_duplicate(dot_photo):
    pipeline = KeypointPipeline(DotModel(), tracking_test=False)
    faces = pipeline.candidates(dot_photo, boxes=[(100, 100, 100, 100),
                                                  (110, 110, 100, 100)])
    assert [f.accepted for f in faces] == [True, False]
    assert "overlaps" in faces[1].reason


# -- photo headers (Pillow) -------------------------------------------------------
def test_image_size_reads_the_header_and_keeps_pillows_limit(tmp_path):
    path = str(tmp_path / "made.png")
    write_image(path, np.zeros((37, 53, 3), np.uint8))
    limit = Image.MAX_IMAGE_PIXELS
    assert image_size(path) == (53, 37)
    assert read_image(path).shape == (37, 53, 3)
    big = str(tmp_path / "big.bmp")  # a header of 2**27 + 1 pixels
    Image.new("L", (1, 1)).save(big)
    with open(big, "r+b") as f:
        f.seek(18)
        f.write(np.array([MAX_PHOTO_PIXELS + 1, -1], "<i4").tobytes())
    with pytest.raises(ImageError, match=r"big\.bmp.*%dx1 " % (
            MAX_PHOTO_PIXELS + 1)):
        read_image(big)
    assert Image.MAX_IMAGE_PIXELS == limit


# -- the IMM database -------------------------------------------------------------
def _asf(points, host="01-1m.jpg", extra=""):
    lines = ["# a comment", "", str(len(points))]
    lines += ["0 4 %r %r %d %d %d%s" % (x, y, k, k - 1, k + 1, extra)
              for k, (x, y) in enumerate(points)]
    return "\n".join(lines + [host, ""])


def test_read_asf_on_a_hand_made_file(tmp_path):
    path = tmp_path / "01-1m.asf"
    path.write_text(_asf([(0.25, 0.5), (1.0, 0.0)], extra=" 0.0 0.0 0.0"))
    points, host = imm.read_asf(str(path))
    assert host == "01-1m.jpg"
    assert np.array_equal(points, [[0.25, 0.5], [1.0, 0.0]])


@pytest.mark.parametrize("text,match", [
    ("", "empty"),
    ("two\n", "line 1: expected the number of points"),
    ("3\n0 4 0.1 0.1 0 0 0\nhost.jpg\n", "3 points announced"),
    ("1\n0 4 0.1 0.1 0\nhost.jpg\n", "line 2: 5 fields"),
    ("1\n0 4 0.1 x 0 0 0\nhost.jpg\n", "line 2: x, y must be numbers"),
    ("1\n0 4 0.1 0.1 5 0 0\nhost.jpg\n", "line 2: point number 5"),
    ("1\n0 4 1.5 0.1 0 0 0\nhost.jpg\n", "line 2: relative coordinates"),
], ids=["empty", "count", "short", "fields", "number", "point-number",
        "outside"])
def test_read_asf_names_the_line(tmp_path, text, match):
    path = tmp_path / "bad.asf"
    path.write_text(text)
    with pytest.raises(DataError, match=r"bad\.asf.*" + match):
        imm.read_asf(str(path))


def _imm_points(reverse_left=False):
    """58 hand-made IMM points: eye contours as squares about (300, 200)
    (subject's left, image right) and (200, 200); every other point at its
    own place."""
    points = np.array([(k, 400.0 + k) for k in range(imm.N_POINTS)], float)
    for first, cx in ((13, 300.0), (21, 200.0)):
        ring = [(cx + 20, 200), (cx + 10, 195), (cx, 193), (cx - 10, 195),
                (cx - 20, 200), (cx - 10, 205), (cx, 207), (cx + 10, 205)]
        if first == 21:  # the right eye: its outer corner is on the left
            ring = [(2 * cx - x, y) for x, y in ring]
        if first == 13 and reverse_left:
            ring = ring[4:] + ring[:4]  # listed from the other corner
        points[first:first + 8] = ring
    return points


@pytest.mark.parametrize("reverse_left", [False, True],
                         ids=["as-listed", "reversed-contour"])
def test_imm_to_kaggle_mapping(reverse_left):
    points = _imm_points(reverse_left)
    k = dict(zip(NAMES, imm.imm_keypoints(points, NAMES)))
    assert np.allclose(k["left_eye_center"], (300, 200))
    assert np.allclose(k["right_eye_center"], (200, 200))
    assert np.allclose(k["left_eye_inner_corner"], (280, 200))  # nearer 200
    assert np.allclose(k["left_eye_outer_corner"], (320, 200))
    assert np.allclose(k["right_eye_inner_corner"], (220, 200))
    assert np.allclose(k["right_eye_outer_corner"], (180, 200))
    assert np.allclose(k["left_eyebrow_inner_end"], points[[29, 30]].mean(0))
    assert np.allclose(k["mouth_center_bottom_lip"], points[45])
    assert np.isnan(k["nose_tip"]).all()


def _face_at(box, keypoints):
    return Face(box, crop_square(box), keypoints, np.zeros((len(NAMES), 2)),
                NAMES, 5)


def test_match_face_takes_the_box_around_the_eyes():
    points = _imm_points()
    inside = _face_at((150, 150, 200, 200), np.zeros((15, 2)))
    elsewhere = _face_at((0, 0, 100, 100), np.zeros((15, 2)))
    assert imm.match_face([elsewhere, inside], points) is inside
    assert imm.match_face([elsewhere], points) is None


class ShiftedPipeline(object):
    """Finds one face whose keypoints are the truth shifted by ``shift``."""

    names = NAMES

    def __init__(self, points, shift):
        truth = imm.imm_keypoints(points, NAMES)
        truth[np.isnan(truth)] = 0.0
        self.face = _face_at((150, 100, 200, 200), truth + shift)

    def candidates(self, image):
        return [self.face]


def test_evaluate_on_a_known_shift(tmp_path):
    photo = str(tmp_path / "01-1m.jpg")
    write_image(photo, np.zeros((480, 640, 3), np.uint8))
    points = _imm_points()
    faces = [imm.ImmFace(photo, points, 1, 1, "m")]
    result = imm_eval.evaluate(ShiftedPipeline(points, (3.0, 4.0)), faces)
    assert result["detected"] == 1 and result["false_positives"] == 0
    assert result["rmse_px"] == pytest.approx(np.sqrt((9 + 16) / 2.0))
    assert result["nme"] == pytest.approx(5.0 / 100)  # IOD 100 px
    side = crop_square((150, 100, 200, 200))[2]
    assert result["rmse_frame_px"] == pytest.approx(
        result["rmse_px"] * 96.0 / side)
    rows = {r["keypoint"]: r for r in result["table"]}
    assert len(rows) == 15 and "nose_tip" not in rows
    assert result["by_type"] == [{"type": 1, "photos": 1, "detected": 1,
                                  "nme": pytest.approx(0.05)}]

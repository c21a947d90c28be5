"""The photo/video pipeline and the IMM evaluation, on real photos.

Uses the shared photos (``../shared/data/photos``), the IMM face database
(``../shared/data/imm``) and the ``reference_model`` fixture (the shipped
model, or ``$KFKD_MODEL``).

Face counts (checked by eye on the photos): the_beatles.jpg 4 (the four
men in front), obamas4.jpg 2, two_people.jpg 2, obama_and_biden.jpg 2 (the
two men; a child lower right, half hidden by a hand, and a woman cut by the
right edge are not counted and not found), kit_with_rose.jpg 2, and one
face in each of biden.jpg, fawzia.jpg and james.jpg.  The cascade adds
background boxes in biden.jpg (collar), fawzia.jpg (scarf) and
kit_with_rose.jpg (two logos, the suit, a chin) that the filters must
reject.  (The other six shared photos also come out right with the model
the bounds were measured on -- test_image_1.jpg 13 faces, the rest 1 --
but are left out to keep the file fast.)
"""
import json
import os

import numpy as np
import pytest

from kfkd.pipeline import imm, imm_eval
from kfkd.data import DataError
from kfkd.pipeline import (CROP_SCALE, BLUR_SCALE, FaceDetector, ImageError,
                           KeypointPipeline, blur_faces, crop_faces,
                           crop_square, draw_faces, frame_to_photo, letterbox,
                           overlay_sunglasses, process_video, read_image,
                           read_video, write_image, write_video, eye_centres)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PHOTOS = os.path.join(REPO, "..", "shared", "data", "photos")
IMM_DIR = os.environ.get("KFKD_IMM_DIR",
                         os.path.join(REPO, "..", "shared", "data", "imm"))

#: Faces in each photo (see the module docstring).
FACE_COUNTS = {"the_beatles.jpg": 4, "obamas4.jpg": 2, "two_people.jpg": 2,
               "obama_and_biden.jpg": 2, "kit_with_rose.jpg": 2,
               "biden.jpg": 1, "fawzia.jpg": 1, "james.jpg": 1}

#: Bound on the mean normalised error (mean over faces and the 14 mapped
#: keypoints of Euclidean error / true inter-ocular distance) on the 24 IMM
#: photos of ``kfkd.imm.spread_subset`` (24 people, each image type 4
#: times).  Measured with ``python experiments/imm_eval.py --subset24``
#: (the ``all`` row's mean/IOD): 0.057 with the shipped reference model
#: (1.59 px validation RMSE); 0.066 with a breeze of 1.97 px and 0.079 with
#: one of 2.23 px.  The bound is the shipped model's figure plus ~30%.
IMM_NME_BOUND = 0.075

#: Smallest share of the 24 IMM photos whose face must be found.
IMM_MIN_DETECTION = 0.95


@pytest.fixture(scope="module")
def pipeline(reference_model):
    return KeypointPipeline(reference_model)


@pytest.fixture(scope="module")
def found(pipeline):
    """name -> (image, accepted faces, rejected candidates)."""
    out = {}
    for name in FACE_COUNTS:
        image = read_image(os.path.join(PHOTOS, name))
        candidates = pipeline.candidates(image)
        out[name] = (image, [f for f in candidates if f.accepted],
                     [f for f in candidates if not f.accepted])
    return out


@pytest.mark.parametrize("name", sorted(FACE_COUNTS))
def test_face_count(found, name):
    _, faces, rejected = found[name]
    assert len(faces) == FACE_COUNTS[name], (faces, rejected)


def test_false_positives_are_rejected_with_a_reason(found):
    rejected = [f for name in ("biden.jpg", "fawzia.jpg",
                               "kit_with_rose.jpg")
                for f in found[name][2]]
    assert len(rejected) >= 3
    assert all(isinstance(f.reason, str) and f.reason for f in rejected)


def test_keypoints_inside_their_face_box(found):
    for name, (image, faces, _) in found.items():
        for face in faces:
            x0, y0, x1, y1 = face.region(BLUR_SCALE)  # box + 15% each side
            kp = face.keypoints
            assert kp.shape == (15, 2)
            assert np.all((kp[:, 0] >= x0) & (kp[:, 0] <= x1)), name
            assert np.all((kp[:, 1] >= y0) & (kp[:, 1] <= y1)), name
            # and they look like a face: eyes above the mouth, subject's
            # left eye on the image's right
            le = face.keypoint("left_eye_center")
            re = face.keypoint("right_eye_center")
            lip = face.keypoint("mouth_center_bottom_lip")
            assert le[0] > re[0] and lip[1] > max(le[1], re[1]), name


def test_detections_json_ready(found):
    image, faces, rejected = found["kit_with_rose.jpg"]
    d = json.loads(json.dumps([f.to_dict() for f in faces + rejected]))
    assert [x["accepted"] for x in d].count(True) == 2
    assert all(0 <= x["confidence"] <= 1 for x in d)
    assert all(x["reason"] for x in d if not x["accepted"])
    assert len(d[0]["keypoints"]) == 15 and len(d[0]["box"]) == 4


def test_crop_maps_back_to_the_photo():
    """A dot in the photo lands, through crop and frame_to_photo, back on
    itself (within the resize's blur), also for crops leaving the photo."""
    photo = np.zeros((300, 400), np.uint8)
    dot = np.array([263.0, 71.0])
    photo[71, 263] = 255
    for box in ((200, 20, 120, 120), (215, -10, 100, 100)):
        square = crop_square(box)
        assert square[2] == round(CROP_SCALE * box[2])
        crop = crop_faces(photo, [square])[0, 0]
        assert crop.shape == (96, 96) and crop.dtype == np.float32
        assert 0 <= crop.min() and crop.max() <= 1
        v, u = np.unravel_index(np.argmax(crop), crop.shape)
        back = frame_to_photo(np.array([u, v], float), square)
        assert np.hypot(*(back - dot)) <= square[2] / 96.0 + 0.5


def test_blur_changes_only_face_regions(found):
    image, faces, _ = found["obamas4.jpg"]
    out = blur_faces(image, faces)
    outside = np.ones(image.shape[:2], bool)
    for face in faces:
        x0, y0, x1, y1 = face.region(BLUR_SCALE, image.shape)
        outside[y0:y1, x0:x1] = False
        # the face itself is strongly changed
        cy, cx = (y0 + y1) // 2, (x0 + x1) // 2
        h = (y1 - y0) // 4
        centre = (slice(cy - h, cy + h), slice(cx - h, cx + h))
        assert np.abs(out[centre].astype(int) - image[centre]).mean() > 3
    assert np.array_equal(out[outside], image[outside])
    assert not np.array_equal(out, image)


def test_sunglasses_change_only_pixels_near_the_eyes(found):
    image, faces, _ = found["two_people.jpg"]
    out = overlay_sunglasses(image, faces)
    changed = np.any(out != image, axis=2)
    assert changed.sum() > 0
    ys, xs = np.nonzero(changed)
    near = np.zeros(len(xs), bool)
    for face in faces:
        right, left = eye_centres(face)
        mid, iod = (left + right) / 2, np.hypot(*(left - right))
        # the glasses are 2.2 x 0.75 IOD: every changed pixel lies within
        # 1.2 IOD of the eye midpoint
        near |= np.hypot(xs - mid[0], ys - mid[1]) <= 1.2 * iod
        # and both eyes are covered
        for eye in (left, right):
            assert changed[int(round(eye[1])), int(round(eye[0]))]
    assert near.all()


def test_draw_faces_marks_the_keypoints(found):
    image, faces, rejected = found["james.jpg"]
    out = draw_faces(image, faces, rejected=rejected)
    assert out.shape == image.shape and not np.array_equal(out, image)
    x, y = np.round(faces[0].keypoint("nose_tip")).astype(int)
    assert np.any(out[y, x] != image[y, x])


def test_unreadable_files_give_a_clear_error(tmp_path):
    text = tmp_path / "notes.jpg"
    text.write_text("not an image\n")
    with open(os.path.join(PHOTOS, "james.jpg"), "rb") as f:
        jpeg = f.read()
    header_only = tmp_path / "header_only.jpg"
    header_only.write_bytes(jpeg[:200])
    half = tmp_path / "half.jpg"  # cv2.imread alone decodes it, grey-filled
    half.write_bytes(jpeg[:len(jpeg) // 2])
    for path in (text, header_only, half):
        with pytest.raises(ImageError, match=str(path.name)):
            read_image(str(path))
    with pytest.raises(FileNotFoundError, match="missing.jpg"):
        read_image(str(tmp_path / "missing.jpg"))
    assert issubclass(ImageError, DataError)


def test_cli_detect_reports_a_bad_photo_in_one_line(tmp_path, capsys):
    from kfkd.cli import main

    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
    assert main(["detect", str(bad), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert "broken.png" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_cli_detect_writes_images_and_json(tmp_path, reference_model,
                                           monkeypatch, capsys):
    from kfkd import cli

    monkeypatch.setattr("kfkd.model.load_model", lambda folder=None:
                        reference_model)
    photo = os.path.join(PHOTOS, "obamas4.jpg")
    out = tmp_path / "out"
    assert cli.main(["detect", photo, "--out", str(out), "--blur",
                     "--sunglasses"]) == 0
    names = sorted(os.listdir(out))
    assert names == ["detections.json", "obamas4_blurred.jpg",
                     "obamas4_keypoints.jpg", "obamas4_sunglasses.jpg"]
    report = json.loads((out / "detections.json").read_text())
    assert len(report["photos"][0]["faces"]) == 2
    for name in names[1:]:
        assert read_image(str(out / name)).shape == (500, 759, 3)


def test_video_frames_in_equal_frames_out(tmp_path, reference_model):
    image = read_image(os.path.join(PHOTOS, "obama.jpg"))
    frames = [letterbox(np.roll(image, 4 * i, axis=1), (320, 240))
              for i in range(12)]
    src = str(tmp_path / "in.avi")
    assert write_video(src, frames, fps=10) == 12
    pipeline = KeypointPipeline(reference_model,
                                detector=FaceDetector.for_video())
    for ext in (".mp4", ".avi"):
        dst = str(tmp_path / ("out" + ext))
        stats = process_video(src, dst, pipeline, sunglasses=True,
                              progress=False)
        back = list(read_video(dst))
        assert stats["frames"] == len(back) == 12
        assert back[0].shape == (240, 320, 3)
        assert stats["frames_with_face"] >= 10 and stats["fps"] > 0
    # written atomically: nothing but the videos is left in the folder
    assert sorted(os.listdir(tmp_path)) == ["in.avi", "out.avi", "out.mp4"]
    with pytest.raises(ImageError, match="notes.mp4"):
        (tmp_path / "notes.mp4").write_text("text")
        process_video(str(tmp_path / "notes.mp4"), str(tmp_path / "o.avi"),
                      pipeline, progress=False)
    assert not (tmp_path / "o.avi").exists()


def test_write_image_is_atomic(tmp_path):
    image = read_image(os.path.join(PHOTOS, "james.jpg"))
    path = str(tmp_path / "x.png")
    write_image(path, image)
    assert np.array_equal(read_image(path), image)
    with pytest.raises(ValueError):
        write_image(str(tmp_path / "y.unknown"), image)
    assert sorted(os.listdir(tmp_path)) == ["x.png"]


def test_read_asf_names_file_and_line(tmp_path):
    points, host = imm.read_asf(os.path.join(IMM_DIR, "01-1m.asf"))
    assert points.shape == (58, 2) and host == "01-1m.jpg"
    lines = open(os.path.join(IMM_DIR, "01-1m.asf")).read().split("\n")
    k = next(i for i, line in enumerate(lines) if line.startswith("0 \t4"))
    lines[k + 3] = "0 4 0.3 oops 3 2 4"
    bad = tmp_path / "bad.asf"
    bad.write_text("\n".join(lines))
    with pytest.raises(DataError, match=r"bad\.asf: line %d" % (k + 4)):
        imm.read_asf(str(bad))


def test_imm_mapping_is_anatomical():
    faces = [f for f in imm.load_imm(IMM_DIR)
             if f.image_type in imm.FRONTAL_TYPES]
    names = tuple(imm.IMM_TO_KAGGLE) + ("nose_tip",)
    for face in faces:
        k = dict(zip(names, imm.imm_keypoints(face.points, names)))
        assert np.isnan(k["nose_tip"]).all()
        # subject's left is the image's right; corners bracket the centres
        assert (k["left_eye_outer_corner"][0] > k["left_eye_center"][0]
                > k["left_eye_inner_corner"][0]
                > k["right_eye_inner_corner"][0] > k["right_eye_center"][0]
                > k["right_eye_outer_corner"][0]), face
        assert k["mouth_left_corner"][0] > k["mouth_right_corner"][0]
        assert (k["mouth_center_bottom_lip"][1] > k["mouth_center_top_lip"][1]
                > k["left_eye_center"][1] > k["left_eyebrow_inner_end"][1])


def test_imm_subset_error_stays_under_bound(pipeline):
    faces = imm.spread_subset(imm.load_imm(IMM_DIR))
    assert len(faces) == 24
    assert sorted(f.image_type for f in faces) == sorted(list(range(1, 7)) * 4)
    result = imm_eval.evaluate(pipeline, faces)
    assert result["detection_rate"] >= IMM_MIN_DETECTION
    assert result["nme"] < IMM_NME_BOUND, imm_eval.format_table(result)
    rows = {r["keypoint"]: r for r in result["table"]}
    assert "nose_tip" not in rows and len(rows) == 15  # 14 + "all"
    # the error in the 96 frame is the photo error scaled by 96 / crop side
    assert rows["all"]["rmse_frame_px"] < rows["all"]["rmse_px"]

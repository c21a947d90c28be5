"""Reliability of ``kfkd detect`` and ``kfkd video`` against bad photos and
videos, made in ``tmp_path``: one line naming the file (exit 2), no output
written, an earlier output left as it was; and two photos of the same file
name in different folders both kept (issue #10, defect 10).

A photo's size is read from its header before anything is decoded
(:func:`kfkd.pipeline.image_size`, with Pillow), so a header claiming 60000x60000 pixels
allocates nothing; a truncated video (its container counts more frames than
decode) writes nothing (defect 11).
"""
import json
import os
import struct
import zlib

import cv2
import numpy as np
import pytest

from kfkd.pipeline import (MAX_PHOTO_PIXELS, image_size, output_stems,
                           read_video, write_video)

#: beside the data folder (conftest: $KFKD_DATA_DIR, else ../shared/data/kfkd)
SHARED_DATA = os.path.dirname(os.path.abspath(os.environ["KFKD_DATA_DIR"]))
PHOTOS = os.path.join(SHARED_DATA, "photos")
IMM = os.path.join(SHARED_DATA, "imm")


def _png_chunk(kind, data):
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data)))


def _png_header(width, height):
    """A PNG whose IHDR chunk claims width x height RGB pixels, followed by
    a small IDAT and IEND (Pillow reads a PNG's chunks up to its image
    data to identify it)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr)
            + _png_chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + _png_chunk(b"IEND", b""))


def _jpeg_header(width, height):
    """SOI, a JFIF APP0 segment, then a baseline SOF0 of width x height."""
    app0 = b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"
    sof = struct.pack(">BHHB", 8, height, width, 3) + b"\x01\x22\0" * 3
    return (b"\xff\xd8" + b"\xff\xe0" + struct.pack(">H", len(app0) + 2)
            + app0 + b"\xff\xc0" + struct.pack(">H", len(sof) + 2) + sof
            + b"\xff\xd9")


def _bmp_header(width, height):
    """BITMAPFILEHEADER and BITMAPINFOHEADER of a 24-bit width x height."""
    info = struct.pack("<IiiHHIIiiII", 40, width, -height, 1, 24, 0, 0,
                       2835, 2835, 0, 0)
    return b"BM" + struct.pack("<IHHI", 14 + len(info), 0, 0,
                               14 + len(info)) + info


def _frames(n, size=(80, 64)):
    rng = np.random.RandomState(0)
    return [rng.randint(0, 255, size[::-1] + (3,)).astype(np.uint8)
            for _ in range(n)]


def _truncated_video(path):
    """An MJPG .avi whose header says 10 frames, cut to 45% of its bytes."""
    whole = path + ".whole.avi"
    write_video(whole, _frames(10), fps=10)
    with open(whole, "rb") as f:
        data = f.read()
    os.remove(whole)
    with open(path, "wb") as f:
        f.write(data[:int(len(data) * 0.45)])
    return path


def _make(kind, path):
    """Write the bad input ``kind`` at ``path`` (or leave it absent)."""
    good = cv2.imencode(".jpg", _frames(1, (120, 90))[0])[1].tobytes()
    contents = {
        "text": b"these are notes, not an image\n",
        "empty": b"",
        "png-60000": _png_header(60000, 60000),
        "jpeg-60000": _jpeg_header(60000, 60000),
        "bmp-60000": _bmp_header(60000, 60000),
        "png-zero-width": _png_header(0, 480),
        "jpeg-truncated": good[:len(good) // 2],
        "jpeg-no-frame-header": b"\xff\xd8\xff\xe0\x00\x10" + b"\x00" * 14
                                + b"\xff\xda\x00\x08" + b"\x00" * 40,
        "jpeg-bad-segment-length": b"\xff\xd8\xff\xe0\x00\x00" + b"\x00" * 30,
    }
    if kind == "folder":
        os.makedirs(path)
    elif kind == "truncated-video":
        _truncated_video(path)
    elif kind != "missing":
        with open(path, "wb") as f:
            f.write(contents[kind])


PHOTO_ROWS = [
    ("missing", "face.jpg", ["face.jpg", "no such file"]),
    ("text", "notes.jpg", ["notes.jpg", "not an image"]),
    ("empty", "empty.png", ["empty.png", "empty"]),
    ("folder", "album.jpg", ["album.jpg", "folder"]),
    ("png-60000", "huge.png", ["huge.png", "60000x60000"]),
    ("jpeg-60000", "huge.jpg", ["huge.jpg", "60000x60000"]),
    ("bmp-60000", "huge.bmp", ["huge.bmp", "60000x60000"]),
    ("png-zero-width", "flat.png", ["flat.png", "header"]),  # Pillow refuses it
    ("jpeg-truncated", "cut.jpg", ["cut.jpg", "truncated"]),
    ("jpeg-no-frame-header", "nosof.jpg", ["nosof.jpg", "header"]),
    ("jpeg-bad-segment-length", "loop.jpg", ["loop.jpg", "header"]),
]


@pytest.mark.parametrize("kind,name,names", [
    pytest.param(*row, id="photo-" + row[0]) for row in PHOTO_ROWS])
def test_bad_photo_fails_in_one_line(kfkd_fails, tmp_path, kind, name, names):
    photo = str(tmp_path / name)
    _make(kind, photo)
    good = str(tmp_path / "good.jpg")
    cv2.imwrite(good, _frames(1, (120, 90))[0])
    out = tmp_path / "out"
    # the bad photo after a good one: nothing is written for either
    kfkd_fails(["detect", good, photo, "--out", out], names=names,
               untouched=[out, photo, good])


VIDEO_ROWS = [
    ("missing", "clip.avi", ["clip.avi", "no such file"]),
    ("text", "notes.mp4", ["notes.mp4", "not a video"]),
    ("empty", "empty.avi", ["empty.avi", "not a video"]),
    ("folder", "clips.avi", ["clips.avi", "folder"]),
]


@pytest.mark.parametrize("kind,name,names", [
    pytest.param(*row, id="video-" + row[0]) for row in VIDEO_ROWS])
def test_bad_video_fails_in_one_line(kfkd_fails, tmp_path, kind, name, names):
    video = str(tmp_path / name)
    _make(kind, video)
    out = tmp_path / "out.avi"
    kfkd_fails(["video", video, "--out", out], names=names,
               untouched=[out, video])


@pytest.fixture
def shared_model(reference_model, monkeypatch):
    """``kfkd.model.load_model`` returns the session's reference model."""
    monkeypatch.setattr("kfkd.model.load_model",
                        lambda folder=None: reference_model)
    return reference_model


def test_truncated_video_writes_nothing_and_keeps_the_old_output(
        kfkd_fails, tmp_path, shared_model):
    video = _truncated_video(str(tmp_path / "cut.avi"))
    decodable = len(list(read_video(video)))
    capture = cv2.VideoCapture(video)
    claimed = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    capture.release()
    assert claimed == 10 and 0 < decodable < 10  # what the row is about
    out = tmp_path / "out.avi"
    write_video(str(out), _frames(3), fps=10)  # an earlier result
    kfkd_fails(["video", video, "--out", out, "--quiet"],
               names=["cut.avi", "10 frames", "only %d" % decodable],
               untouched=[out, video])
    assert sorted(os.listdir(tmp_path)) == ["cut.avi", "out.avi"]


def test_same_file_name_in_two_folders_keeps_both(tmp_path, shared_model,
                                                  capsys):
    from kfkd import cli

    image = cv2.imread(os.path.join(PHOTOS, "obama.jpg"))
    for folder, picture in (("a", image), ("b", image[:, ::-1])):
        os.makedirs(tmp_path / folder)
        cv2.imwrite(str(tmp_path / folder / "face.jpg"), picture)
    out = tmp_path / "out"
    photos = [str(tmp_path / "a" / "face.jpg"), str(tmp_path / "b" / "face.jpg")]
    assert cli.main(["detect"] + photos + ["--out", str(out)]) == 0
    on_disk = sorted(os.listdir(out))
    assert on_disk == ["a_face_keypoints.jpg", "b_face_keypoints.jpg",
                       "detections.json"]
    report = json.loads((out / "detections.json").read_text())
    assert sorted(os.path.basename(p) for p in report["written"]) == on_disk
    assert [p["outputs"] for p in report["photos"]] == [
        [str(out / "a_face_keypoints.jpg")], [str(out / "b_face_keypoints.jpg")]]
    # each output is its own photo annotated (b is a mirror image of a)
    a, b = (cv2.imread(str(out / n)) for n in on_disk[:2])
    assert not np.array_equal(a, b)
    assert "wrote 3 files" in capsys.readouterr().err


def test_output_stems_are_unique():
    paths = ["x/a/face.jpg", "y/a/face.jpg", "z/a_face_2.jpg", "face.gif",
             "q/face.png", "b/Face.JPG", "c/other.png", "c/other.png"]
    stems = output_stems(paths)
    keys = [(s.lower(), os.path.splitext(p)[1].lower().replace(".gif", ".png"))
            for s, p in zip(stems, paths)]
    assert len(set(keys)) == len(paths)
    assert stems[:3] == ["a_face", "a_face_2", "a_face_2_2"]


def test_image_size_matches_opencv_on_real_photos(tmp_path):
    photos = [os.path.join(PHOTOS, n) for n in sorted(os.listdir(PHOTOS))
              if n.lower().endswith((".jpg", ".jpeg", ".png"))]
    photos += [os.path.join(IMM, n) for n in sorted(os.listdir(IMM))[:20]
               if n.lower().endswith(".jpg")]
    image = _frames(1, (53, 37))[0]
    for ext in (".png", ".bmp", ".jpg"):
        cv2.imwrite(str(tmp_path / ("made" + ext)), image)
        photos.append(str(tmp_path / ("made" + ext)))
    assert len(photos) > 10
    for path in photos:
        height, width = cv2.imread(path).shape[:2]
        assert image_size(path) == (width, height), path
    assert MAX_PHOTO_PIXELS < 60000 * 60000

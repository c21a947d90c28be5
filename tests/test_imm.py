"""``kfkd imm-train`` without training: the IMM 58-point schema, the split
by person, canonical eye order, the inter-ocular normalisation, the crops
and the argument checks.  The IMM tests read ``../shared/data/imm``
(skipped, with the reason, where it is absent)."""
import glob
import os

import numpy as np
import pytest

from kfkd.cli import main
from kfkd.imm import points as P
from kfkd.imm.report import draw_best_worst
from kfkd.pipeline.detection import crop_faces, photo_to_frame
from kfkd.pipeline import imm
from kfkd.pipeline.imm import ImmFace, read_asf

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IMM = os.environ.get("KFKD_IMM_DIR",
                     os.path.join(REPO, "..", "shared", "data", "imm"))
needs_imm = pytest.mark.skipif(not os.path.isdir(IMM),
                               reason="no IMM database at %s" % IMM)


def test_split_by_person():
    persons = np.repeat(np.arange(1, 41), 6)
    train, val, test = P.split_people(persons)
    assert (len(train), len(val), len(test)) == (168, 24, 48)
    assert set(persons[np.concatenate([train, val])]) == set(range(1, 33))
    assert set(persons[test]) == set(range(33, 41))
    assert not set(train) & set(val) | set(train) & set(test) | (
        set(val) & set(test))
    with pytest.raises(ValueError, match=r"\[32\]"):
        P.split_people(persons, val=(31, 32), test=(32, 33))


def test_schema_of_58_points():
    schema = P.target_schema("all58")
    assert schema.names == P.IMM_NAMES and len(set(schema.names)) == 58
    assert schema.n_outputs == 116 and len(schema.flip_pairs) == 27
    for i, j in schema.flip_pairs:
        a, b = schema.names[i], schema.names[j]
        assert a.replace("left", "right") == b or (
            a.replace("right", "left") == b), (a, b)
    assert {schema.names[k] for k in (6, 41, 45, 52)} == set(
        schema.names[k] for k in range(58) if schema.flip_index[k] == k)
    assert P.target_schema("nose").n_outputs == 2
    with pytest.raises(P.UsageError, match="--target 'eyes'"):
        P.target_schema("eyes")


@needs_imm
def test_flip_pairs_match_the_annotations():
    """Each point mirrored about the face's midline lands on its flip
    partner (mean shape over the 240 annotations, eyes levelled, IOD
    units)."""
    shapes = []
    for path in sorted(glob.glob(os.path.join(IMM, "*.asf"))):
        p = P.canonical_points(read_asf(path)[0] * [640, 480])
        left, right = p[13:21].mean(0), p[21:29].mean(0)
        angle = np.arctan2(*(left - right)[::-1])
        c, s = np.cos(angle), np.sin(angle)
        q = (p - (left + right) / 2) @ np.array([[c, -s], [s, c]])
        shapes.append(q / P.inter_ocular(p))
    mean = np.mean(shapes, axis=0)
    mirrored = mean * [-1, 1]
    dist = np.hypot(*(mirrored[:, None] - mean[None]).transpose(2, 0, 1))
    flip = P.target_schema("all58").flip_index
    np.testing.assert_array_equal(dist.argmin(axis=1), flip)
    assert dist[np.arange(58), flip].max() < 0.04


def test_canonical_points_reverse_an_eye():
    p = np.zeros((58, 2))
    p[21:29] = [(100, 0)] * 8  # the right eye, far to the image's left
    ring = [(50 + 10 * np.cos(a), 10 * np.sin(-a))  # outer corner first
            for a in np.arange(8) * np.pi / 4]
    p[13:21] = np.array(ring) + [200, 0]
    np.testing.assert_allclose(P.canonical_points(p), p)
    reversed_ = p.copy()
    reversed_[13:21] = p[13:21][[(4 - i) % 8 for i in range(8)]]
    np.testing.assert_allclose(P.canonical_points(reversed_), p, atol=1e-12)


def test_inter_ocular_normalisation():
    truth = np.zeros((2, 58, 2))
    truth[0, 13], truth[0, 21] = (70, 40), (30, 40)  # IOD 40
    truth[1, 13], truth[1, 21] = (60, 30), (30, 70)  # IOD 50
    np.testing.assert_allclose(P.inter_ocular(truth), [40, 50])
    diff = np.array([[[3.0, 4.0]], [[0.0, 10.0]]])  # errors 5 and 10 px
    row = P.error_table(["nose_base"], diff, P.inter_ocular(truth),
                        np.array([2.0, 1.0]))[0]
    assert row["nme"] == pytest.approx((5 / 40 + 10 / 50) / 2)
    assert row["rmse_px"] == pytest.approx(np.sqrt(125 / 4))
    assert row["rmse_photo_px"] == pytest.approx(np.sqrt(200 / 4))
    assert row["rmse_iod"] == pytest.approx(np.sqrt(
        ((3 / 40) ** 2 + (4 / 40) ** 2 + (10 / 50) ** 2) / 4))


def test_photo_to_frame_follows_the_crop():
    """A bright block's centre maps onto the centroid of its image in the
    crop (pixel centres at j + 0.5, the augmenter's convention)."""
    photo = np.zeros((480, 640), np.uint8)
    photo[150:154, 200:204] = 255  # centre (202, 152) in edge coordinates
    square = (104, 54, 192)
    crop = crop_faces(photo, [square])[0, 0]
    rows, cols = np.indices(crop.shape) + 0.5
    centroid = [(cols * crop).sum() / crop.sum(),
                (rows * crop).sum() / crop.sum()]
    np.testing.assert_allclose(photo_to_frame(np.array([202.0, 152.0]),
                                              square), centroid, atol=1e-6)


@needs_imm
def test_crops_hold_the_points(tmp_path):
    from kfkd.imm.crops import imm_crops
    from kfkd.pipeline import FaceDetector

    faces = [ImmFace(os.path.join(IMM, name + ".jpg"), read_asf(os.path.join(
        IMM, name + ".asf"))[0] * [640, 480], int(name[:2]), int(name[3]),
        "m") for name in ("01-1m", "40-3m")]
    crops = imm_crops(faces, FaceDetector(), 1.4)
    assert crops.names == ["01-1m", "40-3m"] and not crops.missed
    assert crops.images.shape == (2, 1, 96, 96)
    assert (crops.points > 0).all() and (crops.points < 96).all()
    iod = P.inter_ocular(crops.points)
    assert ((iod > 25) & (iod < 50)).all()
    npz = str(tmp_path / "faces.npz")
    np.savez(npz, images=(crops.images[:, 0] * 255).astype(np.uint8),
             truth=crops.points, predictions=crops.points + 1,
             names=np.array(crops.names), nme=np.array([0.01, 0.1]))
    paths = draw_best_worst(npz, str(tmp_path / "faces"))
    assert all(os.path.getsize(p) > 1000 for p in paths)


@pytest.mark.parametrize("argv, message", [
    (["--target", "eyes"], "--target 'eyes'"),
    (["--target", "nose", "--imm-dir", "/nonexistent"], "--imm-dir"),
    (["--target", "nose", "--max-minutes", "0"], "--max-minutes"),
    (["--target", "all58", "--epochs", "0"], "--epochs"),
    (["--target", "all58", "--crop-scale", "-1"], "--crop-scale"),
])
def test_arguments_checked_first(argv, message, capsys, monkeypatch):
    def load(*args):
        raise AssertionError("loaded the IMM database before the checks")

    monkeypatch.setattr(imm, "load_imm", load)
    assert main(["imm-train", "--imm-dir", IMM] + argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err

"""Tests of kfkd.augment on real faces from the shared Kaggle-format data.

Keypoints must follow the image: a Gaussian blob drawn (analytically, in the
continuous coordinates where pixel j covers [j, j + 1)) at a keypoint is
transformed as an image, and its peak must land on the transformed keypoint.
"""
import os

import cv2
import numpy as np
import pytest

from kfkd.augment import Augmenter, equalize_exposure
from kfkd.transforms import (affine_matrix, flip_horizontal,
                             transform_keypoints, warp_images)
from kfkd.data import DataNotFoundError, find_file, load_training
from kfkd.keypoints import FRAME, KeypointSchema

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA_DIR = os.environ.get("KFKD_DATA_DIR",
                          os.path.join(REPO, "..", "shared", "data", "kfkd"))
SCHEMA = KeypointSchema.kaggle()


@pytest.fixture(scope="module")
def faces():
    """48 fully labelled faces then 16 partly labelled ones (NaN)."""
    try:
        data = load_training(find_file("training.csv", DATA_DIR), verbose=False)
    except DataNotFoundError as e:
        pytest.skip("no training data: %s" % e)
    full = data.mask.all(axis=1)
    index = np.concatenate([np.flatnonzero(full)[:48],
                            np.flatnonzero(~full)[:16]])
    sub = data.subset(index)
    assert np.isnan(sub.keypoints[48:]).any()
    return sub.images, sub.keypoints


def blobs(points, sigma=1.5):
    """(M, 1, 96, 96) float32 images of one Gaussian blob at each (x, y)."""
    centres = np.arange(FRAME) + 0.5
    dx = centres[None, None, :] - points[:, 0, None, None]
    dy = centres[None, :, None] - points[:, 1, None, None]
    return np.exp(-(dx ** 2 + dy ** 2) / (2 * sigma ** 2)).astype(
        np.float32)[:, None]


def peaks(images):
    """(M, 2) continuous (x, y) of each image's brightest pixel centre."""
    flat = images.reshape(len(images), -1).argmax(axis=1)
    rows, cols = np.unravel_index(flat, images.shape[-2:])
    return np.column_stack([cols + 0.5, rows + 0.5])


def centroids(images, radius=7):
    """(M, 2) intensity centroid in a window about each image's peak."""
    out = []
    for image, (x, y) in zip(images[:, 0], peaks(images)):
        r, c = int(y), int(x)
        window = image[max(r - radius, 0):r + radius + 1,
                       max(c - radius, 0):c + radius + 1]
        rr, cc = np.mgrid[max(r - radius, 0):r + radius + 1,
                          max(c - radius, 0):c + radius + 1]
        rr, cc = rr[:window.shape[0], :window.shape[1]], cc[:window.shape[0],
                                                             :window.shape[1]]
        w = window / window.sum()
        out.append(((w * (cc + 0.5)).sum(), (w * (rr + 0.5)).sum()))
    return np.array(out)


def inside(points, margin):
    """(M,) bool: (x, y) at least ``margin`` px from every edge."""
    return np.all((points > margin) & (points < FRAME - margin), axis=1)


def labelled_points(keypoints):
    """(face, keypoint) index pairs and (M, 2) points of labelled keypoints."""
    points = keypoints.reshape(len(keypoints), -1, 2)
    face, k = np.nonzero(~np.isnan(points).any(axis=2))
    return face, k, points[face, k]


# -- flips -------------------------------------------------------------------

def test_flip_twice_is_identity(faces):
    images, keypoints = faces
    once = flip_horizontal(images, keypoints, SCHEMA)
    twice = flip_horizontal(*once, schema=SCHEMA)
    assert np.array_equal(twice[0], images)
    assert not np.array_equal(once[0], images)
    # float32: exact where 96 - x is exact (x >= 32), else within 2**-18 px
    np.testing.assert_array_equal(np.isnan(twice[1]), np.isnan(keypoints))
    np.testing.assert_allclose(twice[1], keypoints, rtol=0, atol=2.0 ** -18)
    big = keypoints >= 32
    assert np.array_equal(twice[1][big], keypoints[big])
    # float64: exact everywhere
    kp64 = keypoints.astype(np.float64)
    back = flip_horizontal(*flip_horizontal(images, kp64, SCHEMA), schema=SCHEMA)
    assert back[1].dtype == np.float64
    assert np.array_equal(back[1], kp64, equal_nan=True)


def test_flip_swaps_left_and_right(faces):
    images, keypoints = faces
    out, kp = flip_horizontal(images, keypoints, SCHEMA)
    assert out.shape == images.shape and out.dtype == images.dtype
    assert np.array_equal(out[:, :, :, 0], images[:, :, :, -1])
    lx, ly = SCHEMA.column_index("left_eye_center_x"), SCHEMA.column_index(
        "left_eye_center_y")
    rx, ry = SCHEMA.column_index("right_eye_center_x"), SCHEMA.column_index(
        "right_eye_center_y")
    np.testing.assert_allclose(kp[:, lx], 96 - keypoints[:, rx], atol=1e-5)
    np.testing.assert_array_equal(kp[:, ly], keypoints[:, ry])
    np.testing.assert_allclose(kp[:, rx], 96 - keypoints[:, lx], atol=1e-5)
    # the subject's left eye is on the image's right, before and after
    assert np.all(kp[:48, lx] > kp[:48, rx])
    assert np.all(keypoints[:48, lx] > keypoints[:48, rx])
    nose = SCHEMA.column_index("nose_tip_x")
    np.testing.assert_allclose(kp[:, nose], 96 - keypoints[:, nose], atol=1e-5)
    np.testing.assert_array_equal(np.isnan(kp),
                                  np.isnan(keypoints[:, SCHEMA.flip_columns]))


def test_flip_moves_blobs_with_keypoints(faces):
    _, keypoints = faces
    face, k, points = labelled_points(keypoints)
    flipped, _ = flip_horizontal(blobs(points), None)
    _, kp = flip_horizontal(np.zeros((len(keypoints), 1, 96, 96)), keypoints,
                            SCHEMA)
    target = kp.reshape(len(kp), -1, 2)[face, SCHEMA.flip_index[k]]
    assert np.abs(peaks(flipped) - target).max() <= 0.5 + 1e-6
    far = inside(points, 8)                  # whole blob in the frame
    assert far.mean() > 0.9
    np.testing.assert_allclose(centroids(flipped)[far], target[far], atol=0.02)


def test_flip_checks_shapes():
    with pytest.raises(ValueError):
        flip_horizontal(np.zeros((2, 1, 96, 96)), np.zeros((2, 28)), SCHEMA)
    with pytest.raises(ValueError):
        flip_horizontal(np.zeros((2, 96, 96)), None)


# -- affines -------------------------------------------------------------------

def test_affine_matrix_matches_opencv():
    for angle, scale in ((0, 1.0), (15, 1.1), (-40, 0.9), (90, 1.0)):
        np.testing.assert_allclose(
            affine_matrix(angle, scale, (0, 0)),
            cv2.getRotationMatrix2D((48.0, 48.0), angle, scale), atol=1e-12)
    np.testing.assert_array_equal(affine_matrix(0, 1, (0, 0)),
                                  [[1, 0, 0], [0, 1, 0]])
    with pytest.raises(ValueError):
        affine_matrix(0, 0.0, (0, 0))


def test_blob_follows_keypoint_under_affine(faces):
    """Image warp and keypoint transform agree to a fraction of a pixel."""
    _, keypoints = faces
    face, k, points = labelled_points(keypoints)
    rng = np.random.RandomState(3)
    n = len(points)
    matrices = np.array([affine_matrix(a, s, d) for a, s, d in zip(
        rng.uniform(-30, 30, n), rng.uniform(0.85, 1.15, n),
        rng.uniform(-6, 6, (n, 2)))])
    moved = transform_keypoints(points.reshape(n, 2), matrices)
    ok = inside(moved, 4)
    assert ok.mean() > 0.9
    warped = warp_images(blobs(points), matrices)
    dist = np.hypot(*(peaks(warped) - moved).T)[ok]
    assert dist.max() <= 1.0
    far = inside(points, 8) & inside(moved, 8)
    assert far.mean() > 0.8
    np.testing.assert_allclose(centroids(warped)[far], moved[far], atol=0.1)


def test_augmenter_moves_real_faces_and_keypoints_together(faces):
    images, keypoints = faces
    aug = Augmenter(flip=True, rotation=15, shift=5, scale=0.1)
    params = aug.sample_params(len(images), np.random.RandomState(7))
    assert 0 < params["flip"].sum() < len(images)
    out, kp = aug.apply(images, keypoints, params)
    assert not np.array_equal(out, images)
    # same parameters on blob images drawn at each original keypoint
    face, k, points = labelled_points(keypoints)
    blob_params = {name: value[face] for name, value in params.items()}
    warped, _ = aug.apply(blobs(points), None, blob_params)
    # keypoint k of a mirrored face is its mirror partner in the output
    out_k = np.where(params["flip"][face], SCHEMA.flip_index[k], k)
    target = kp.reshape(len(kp), -1, 2)[face, out_k]
    ok = inside(target, 4)
    assert ok.mean() > 0.9
    dist = np.hypot(*(peaks(warped) - target).T)[ok]
    assert dist.max() <= 1.0
    far = inside(points, 8) & inside(target, 8)
    assert far.mean() > 0.8
    np.testing.assert_allclose(centroids(warped)[far], target[far], atol=0.1)
    # the face itself moved as the blobs: warping its flipped version by the
    # same matrix reproduces it
    i = int(np.flatnonzero(params["flip"])[0])
    matrix = affine_matrix(params["angle"][i], params["scale"][i],
                           params["shift"][i])
    expected = warp_images(images[i:i + 1, :, :, ::-1], matrix)
    np.testing.assert_allclose(out[i:i + 1], expected, atol=1e-6)


def test_out_of_frame_keypoints_become_nan(faces):
    images, keypoints = faces
    aug = Augmenter(flip=False)
    params = aug.sample_params(len(images), 0)
    params["shift"][:] = (0, -40)            # up by 40 px: y < 40 leaves
    _, kp = aug.apply(images, keypoints, params)
    before = keypoints.reshape(len(keypoints), -1, 2)
    after = kp.reshape(len(kp), -1, 2)
    gone = before[..., 1] < 40
    assert gone.sum() > 100 and (~gone & ~np.isnan(before[..., 1])).sum() > 100
    assert np.isnan(after[gone]).all()       # both x and y, though x fits
    kept = ~gone & ~np.isnan(before[..., 1])
    np.testing.assert_allclose(after[kept], before[kept] + [0, -40], atol=1e-4)
    # huge random shifts: NaN always in x/y pairs, the rest in the frame
    _, kp = Augmenter(flip=True, shift=1000).transform(images, keypoints, 1)
    pairs = np.isnan(kp.reshape(len(kp), -1, 2))
    assert np.array_equal(pairs[..., 0], pairs[..., 1])
    assert pairs.mean() > 0.9
    assert np.all((kp[~np.isnan(kp)] >= 0) & (kp[~np.isnan(kp)] <= 96))


# -- the augmenter ---------------------------------------------------------------

def test_augmenter_params():
    aug = Augmenter(rotation=15, shift=5, scale=0.1, brightness=0.1)
    params = aug.get_params()
    assert params["rotation"] == 15 and params["flip"] is True
    assert params["contrast"] == 0.0
    assert Augmenter(**params).get_params() == params
    assert aug.set_params(rotation=3) is aug and aug.rotation == 3
    with pytest.raises(ValueError):
        aug.set_params(zoom=2)
    for bad in (dict(scale=1.0), dict(rotation=-1), dict(contrast=1.5),
                dict(flip=2.0), dict(border="wrap")):
        with pytest.raises(ValueError):
            Augmenter(**bad).transform(np.zeros((1, 1, 96, 96)), None, 0)


def test_zero_strength_is_identity(faces):
    images, keypoints = faces
    images_before, keypoints_before = images.copy(), keypoints.copy()
    out, kp = Augmenter(flip=False).transform(images, keypoints,
                                              np.random.RandomState(0))
    assert out is not images and kp is not keypoints
    assert np.array_equal(out, images)
    assert np.array_equal(kp, keypoints, equal_nan=True)
    # flip with probability 1 and nothing else is flip_horizontal
    out, kp = Augmenter(flip=1.0).transform(images, keypoints, 0)
    expected = flip_horizontal(images, keypoints, SCHEMA)
    assert np.array_equal(out, expected[0])
    assert np.array_equal(kp, expected[1], equal_nan=True)
    # inputs untouched
    assert np.array_equal(images, images_before)
    assert np.array_equal(keypoints, keypoints_before, equal_nan=True)


def test_deterministic_for_a_seed(faces):
    images, keypoints = faces
    aug = Augmenter(flip=True, rotation=15, shift=5, scale=0.1,
                    brightness=0.1, contrast=0.2)
    for make in (np.random.RandomState, np.random.default_rng):
        a = aug.transform(images, keypoints, make(42))
        b = aug.transform(images, keypoints, make(42))
        c = aug.transform(images, keypoints, make(43))
        assert np.array_equal(a[0], b[0])
        assert np.array_equal(a[1], b[1], equal_nan=True)
        assert not np.array_equal(a[0], c[0])
    # each face draws its own parameters
    params = aug.sample_params(64, np.random.RandomState(0))
    assert len(np.unique(params["angle"])) == 64


def test_output_dtype_shape_range(faces):
    images, keypoints = faces
    aug = Augmenter(flip=True, rotation=30, shift=8, scale=0.2,
                    brightness=0.5, contrast=0.9, border="reflect")
    out, kp = aug.transform(images.astype(np.float64),
                            keypoints.astype(np.float64), 5)
    assert out.shape == images.shape and out.dtype == np.float32
    assert kp.shape == keypoints.shape and kp.dtype == np.float32
    assert out.min() >= 0 and out.max() <= 1
    assert (out == 1).any() and (out == 0).any()     # clipping happened
    # brightness and contrast alone: shifts and scales about the mean
    aug = Augmenter(flip=False, brightness=0.2)
    params = aug.sample_params(len(images), 0)
    out, kp = aug.apply(images, keypoints, params)
    assert np.array_equal(kp, keypoints, equal_nan=True)
    mid = (images > 0.3) & (images < 0.7)
    delta = out - images
    np.testing.assert_allclose(
        delta[mid], np.broadcast_to(params["brightness"][:, None, None, None],
                                    images.shape)[mid], atol=1e-6)
    aug = Augmenter(flip=False, contrast=0.5)
    params = aug.sample_params(len(images), 0)
    out, _ = aug.apply(images, None, params)
    ratio = (out.std(axis=(1, 2, 3)) / images.std(axis=(1, 2, 3)))
    unclipped = (out > 0).all(axis=(1, 2, 3)) & (out < 1).all(axis=(1, 2, 3))
    assert unclipped.sum() > 10
    np.testing.assert_allclose(ratio[unclipped], params["contrast"][unclipped],
                               rtol=1e-3)


def test_images_only(faces):
    images, _ = faces
    out, kp = Augmenter(rotation=10).transform(images, None, 0)
    assert kp is None and out.shape == images.shape


# -- exposure --------------------------------------------------------------------

@pytest.mark.parametrize("method", ["clahe", "hist"])
def test_equalize_exposure_fixes_over_exposed_faces(faces, method):
    images, _ = faces
    over = np.clip(images * 0.6 + 0.5, 0, 1)    # washed out, clipped at 1
    assert over.mean() > 0.7 and (over == 1).mean() > 0.01
    out = equalize_exposure(over, method)
    assert out.shape == over.shape and out.dtype == np.float32
    assert out.min() >= 0 and out.max() <= 1
    axes = (1, 2, 3)
    spread = lambda x: (np.percentile(x, 95, axis=axes)
                        - np.percentile(x, 5, axis=axes))
    wider = spread(out) / spread(over)
    if method == "hist":                        # global: every face, mean down
        assert np.all(wider > 1.5)
        assert np.all(out.std(axis=axes) > over.std(axis=axes))
        assert np.all(out.mean(axis=axes) < over.mean(axis=axes))
        assert np.all(out.mean(axis=axes) < 0.65)
    else:                                       # local and contrast-limited
        assert np.mean(wider > 1) > 0.9 and np.median(wider) > 1.2
        assert np.median(out.std(axis=axes) / over.std(axis=axes)) > 1.2
    # normal faces keep their shape and range
    normal = equalize_exposure(images, method)
    assert normal.shape == images.shape
    assert normal.min() >= 0 and normal.max() <= 1


def test_equalize_exposure_rejects_unknown_method(faces):
    images, _ = faces
    with pytest.raises(ValueError, match="method"):
        equalize_exposure(images[:2], "gamma")
    with pytest.raises(ValueError):
        equalize_exposure(images[:2], "clahe", clip_limit=0)
    with pytest.raises(ValueError):
        equalize_exposure(images[:2, 0], "hist")

"""Occlusion sensitivity and censors, on real validation faces."""
import numpy as np
import pytest
from scipy import ndimage

from kfkd import occlusion
from kfkd.occlusion import (CENSORS, EdgeFreeCensor, MarginEdgeFreeCensor,
                            added_edge_energy, calibrate_scale,
                            censor_measures, make_censor, matched_censors,
                            occlusion_maps, patch_distance, patch_positions,
                            strength_table, window_mass)


@pytest.fixture(scope="module")
def grey_level(split):
    return float(split[0].images.mean())


@pytest.fixture(scope="module")
def faces(split):
    """Three validation faces with all 15 keypoints labelled."""
    val = split[1]
    full = np.flatnonzero(np.isfinite(val.keypoints).all(axis=1))[:3]
    return val.subset(full)


@pytest.fixture(scope="module")
def edge_free_maps(reference_model, faces):
    return occlusion_maps(reference_model, faces.images, faces.keypoints,
                          "edge_free", patch=12, stride=6)


# -- geometry ----------------------------------------------------------------

def test_positions_cover_the_frame():
    pos = patch_positions(12, 2)
    assert pos.shape == (43 * 43, 2)
    assert pos.min() == 0 and pos.max() == 96 - 12
    pos = patch_positions(12, 8)            # 0, 8, ..., 80 and then 84
    assert sorted(set(pos[:, 0])) == list(range(0, 81, 8)) + [84]
    with pytest.raises(ValueError):
        patch_positions(0, 2)
    with pytest.raises(ValueError):
        patch_positions(12, 0)


def test_patch_distance_sign():
    t = patch_distance(10, 20, 12)
    assert t[10, 20] < 0 and t[21, 31] < 0          # corners inside
    assert t[9, 20] == 0.5 and t[22, 31] == 0.5     # one row outside
    assert (t < 0).sum() == 144


# -- censors -----------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(CENSORS))
def test_censor_changes_only_its_patch(name, faces, grey_level):
    censor = make_censor(name, grey_level)
    y0, x0, size = 30, 24, 12
    out = censor.apply(faces.images, y0, x0, size)
    assert out.shape == faces.images.shape and out.dtype == np.float32
    assert np.isfinite(out).all() and out.min() >= 0 and out.max() <= 1
    # no censor changes a pixel outside its patch (bit for bit); the
    # margin edge-free censor also leaves the patch's outer 2 px alone
    t = patch_distance(y0, x0, size)
    untouched = t > (-2 if name == "edge_free_margin" else 0)
    np.testing.assert_array_equal(out[:, 0][:, untouched],
                                  faces.images[:, 0][:, untouched])
    fill = censor.fill(faces.images)
    w = censor.window(y0, x0, size)                 # C = w F + (1 - w) I
    np.testing.assert_allclose(out[:, 0], w * fill[:, 0]
                               + (1 - w) * faces.images[:, 0], atol=1e-6)
    core = t < (-4 if name == "edge_free_margin" else 0)
    if censor.hard or name == "edge_free_margin":   # fully censored core
        np.testing.assert_allclose(out[:, 0][:, core], fill[:, 0][:, core],
                                   atol=1e-6)
    assert not np.allclose(out[:, 0][:, core], faces.images[:, 0][:, core])


def test_hard_censor_fills():
    img = np.full((1, 1, 96, 96), 0.8, np.float32)
    assert (make_censor("black").apply(img, 0, 0, 12)[0, 0, :12, :12] == 0).all()
    grey = make_censor("grey", 0.4).apply(img, 84, 84, 12)[0, 0, 84:, 84:]
    np.testing.assert_allclose(grey, 0.4)


def test_edge_free_window_is_a_hann_window_over_the_patch():
    """w = p(s_y) p(s_x), p(s) = sin^2(pi s / 12) at depths .5 .. 5.5 px:
    zero (with zero slope) at the patch border, mass 6 x 6 = 36 px."""
    w = EdgeFreeCensor().window(40, 40, 12)
    p = np.sin(np.pi * (np.arange(6) + 0.5) / 12) ** 2
    np.testing.assert_allclose(w[40:52, 40:52], np.outer(
        np.r_[p, p[::-1]], np.r_[p, p[::-1]]), atol=1e-12)
    assert w[:40].max() == 0 and w[52:].max() == 0
    assert w[:, :40].max() == 0 and w[:, 52:].max() == 0
    assert w.sum() == pytest.approx(36.0)
    assert p[0] < 0.02                  # nearly 0 on the outermost row
    # scaled to 24 px about the same centre: the same shape, stretched
    w2 = EdgeFreeCensor().scaled(2.0).window(40, 40, 12)
    p2 = np.sin(np.pi * (np.arange(12) + 0.5) / 24) ** 2
    np.testing.assert_allclose(w2[34:58, 34:58], np.outer(
        np.r_[p2, p2[::-1]], np.r_[p2, p2[::-1]]), atol=1e-12)
    assert w2.sum() == pytest.approx(144.0)


def test_edge_free_margin_window_formula():
    c = MarginEdgeFreeCensor(sigma=6.0, margin=2.0, band=2.0)
    w = c.window(40, 40, 12)
    assert c.core(12) == 4
    # p(s) = (1 - cos(pi clip((s - 2) / 2, 0, 1))) / 2 at depths .5 .. 5.5
    p = 0.5 * (1 - np.cos(np.pi * np.clip((np.arange(6) + 0.5 - 2) / 2,
                                          0, 1)))
    np.testing.assert_allclose(p, [0, 0, 0.1464466, 0.8535534, 1, 1],
                               atol=1e-7)
    np.testing.assert_allclose(w[40:52, 40:52], np.outer(
        np.r_[p, p[::-1]], np.r_[p, p[::-1]]), atol=1e-12)
    assert (w[44:48, 44:48] == 1).all() and (w == 1).sum() == 16  # 4x4 core
    assert w[:40].max() == 0 and w[52:].max() == 0        # zero outside
    assert w[:, :40].max() == 0 and w[:, 52:].max() == 0
    np.testing.assert_allclose(w, w.T)                    # separable, sym.
    with pytest.raises(ValueError, match="core"):         # patch too small
        c.window(40, 40, 8)
    assert MarginEdgeFreeCensor().core(9) == 1
    with pytest.raises(ValueError):
        MarginEdgeFreeCensor(margin=-1)


def test_noise_censor_is_deterministic(faces):
    a = make_censor("noise", seed=3).apply(faces.images, 10, 10, 12)
    b = make_censor("noise", seed=3).apply(faces.images, 10, 10, 12)
    c = make_censor("noise", seed=4).apply(faces.images, 10, 10, 12)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    patch = a[:, 0, 10:22, 10:22]
    assert 0 <= patch.min() and patch.max() <= 1 and patch.std() > 0.2


def test_apply_positions_matches_apply(faces, grey_level):
    pos = patch_positions(12, 30)
    for name in ("grey", "edge_free"):
        c = make_censor(name, grey_level)
        batch = c.apply_positions(faces.images[0], pos, 12)
        for p, (y0, x0) in enumerate(pos):
            np.testing.assert_allclose(
                batch[p], c.apply(faces.images[:1], y0, x0, 12)[0], atol=1e-6)


def test_unknown_censor():
    with pytest.raises(ValueError, match="unknown censor"):
        make_censor("pink")


# -- added edge energy -------------------------------------------------------

@pytest.fixture(scope="module")
def matched_rows(split, grey_level):
    """Censors scaled to remove the hard grey patch's detail on 16
    validation faces (patch 12 px, positions every 6 px): the
    :func:`strength_table` rows by censor name."""
    images = split[1].images[:16]
    censors = [make_censor(c, grey_level) for c in
               ("grey", "blur", "edge_free", "edge_free_margin")]
    target, matched = matched_censors(images, censors, 12, 6,
                                      censors[0], rtol=0.005)
    rows = strength_table(images, matched, 12, 6)
    return target, {r["censor"]: r for r in rows}


def test_edge_free_adds_at_most_5_percent_of_grey_edges_per_detail(
        matched_rows):
    """At matched strength (every censor removes the grey patch's detail
    D = sum |I - C|), the edge-free censor's added edge energy per unit of
    detail removed is <= 5% of the hard grey censor's."""
    target, rows = matched_rows
    for r in rows.values():                       # the strengths match
        assert r["detail"] == pytest.approx(target, rel=0.01), r
    assert rows["grey"]["scale"] == 1.0
    assert rows["edge_free"]["per_detail_ratio"] <= 0.05, rows
    # the numbers that chose the default window: the Hann window beats
    # the margin window and the hard blurred patch
    assert (rows["edge_free"]["per_detail"]
            < rows["edge_free_margin"]["per_detail"]
            < rows["blur"]["per_detail"] < rows["grey"]["per_detail"]), rows
    # the cost: a wider window (and more of it) for the same detail
    assert rows["edge_free"]["side_px"] > 2 * 12
    assert rows["edge_free"]["mass"] > rows["grey"]["mass"]


def test_strength_measures_by_hand():
    """Detail removed D = sum |I - C| and mass sum w on hand-made faces."""
    flat = np.full((2, 1, 96, 96), 0.5, np.float32)
    # a censor identical to the face (the blur of a flat face) removes 0
    # detail and adds no edges
    m = censor_measures(flat, "edge_free", 12, 12)
    assert m["detail"] == 0 and m["difference"] == 0
    assert np.isnan(m["per_detail"])
    assert censor_measures(flat, "blur", 12, 12)["detail"] == 0
    # a hard grey patch 0.25 above the face: D = 0.25 x 144 px
    grey = occlusion.GreyCensor(0.75)
    assert censor_measures(flat, grey, 12, 12)["detail"] == pytest.approx(36.0)
    assert window_mass(grey, 12, 12) == 144.0
    assert window_mass("edge_free", 12, 12) == pytest.approx(36.0)
    # a 9 px square centred on a 12 px patch covers half of its border
    # pixels: mass 9 x 9, and D = 0.25 x 81
    g9 = grey.scaled(0.75)
    assert window_mass(g9, 12, 12) == pytest.approx(81.0)
    assert censor_measures(flat, g9, 12, 12)["detail"] == pytest.approx(
        0.25 * 81)
    # scale 1 is the patch itself, bit for bit
    face = np.random.RandomState(0).uniform(0, 1, (1, 1, 96, 96)).astype(
        np.float32)
    np.testing.assert_array_equal(grey.scaled(1.0).apply(face, 7, 9, 12),
                                  grey.apply(face, 7, 9, 12))
    # calibration: D grows as side^2, so D = 0.25 x 36 needs a 6 px square
    c = calibrate_scale(flat, grey, 12, 12, target=9.0, rtol=1e-3)
    assert c.scale == pytest.approx(0.5, rel=2e-3)
    assert repr(c) == "GreyCensor(level=0.75, scale=%r)" % c.scale
    with pytest.raises(ValueError, match="target"):
        calibrate_scale(flat, grey, 12, 12, target=0.0)
    with pytest.raises(ValueError, match="cannot remove"):   # flat: D = 0
        calibrate_scale(flat, "edge_free", 12, 12, target=1.0)
    with pytest.raises(ValueError, match="scale"):
        grey.scaled(0)


def test_ring_around_the_support():
    """The margin window's ring is centred on where it starts to change
    pixels (2 px inside the patch), not on the patch border it leaves
    untouched."""
    face = np.random.RandomState(1).uniform(0, 1, (2, 1, 96, 96)).astype(
        np.float32)
    c = MarginEdgeFreeCensor()
    assert c.support(10, 20, 12) == (12.0, 22.0, 8.0)
    assert EdgeFreeCensor().support(10, 20, 12) == (10, 20, 12.0)
    at_support = added_edge_energy(face, c, 12, 12)
    at_square = added_edge_energy(face, c, 12, 12, around="square")
    assert at_support > 2 * at_square > 0
    with pytest.raises(ValueError, match="around"):
        added_edge_energy(face, c, 12, 12, around="patch")


def test_edge_energy_by_hand():
    """A grey patch (level 0.5 + h) on a flat face (0.5): the difference
    image is a step of height h at the patch border, whose Sobel magnitude
    is 4 h on the two pixel rows beside it (the frame edge adds none)."""
    h = 0.25
    face = np.full((1, 1, 96, 96), 0.5, np.float32)
    censor = occlusion.GreyCensor(0.5 + h)
    pos = patch_positions(12, 200)                  # (0, 0) and (84, 84)
    expected = 0.0
    for y0, x0 in pos:                  # full-image scipy Sobel, by hand
        d = censor.apply(face, y0, x0, 12)[0, 0].astype(float) - 0.5
        mag = np.hypot(ndimage.sobel(d, 0, mode="nearest"),
                       ndimage.sobel(d, 1, mode="nearest"))
        expected += mag[np.abs(patch_distance(y0, x0, 12)) < 2].sum()
    e = added_edge_energy(face, censor, 12, 200)
    assert e == pytest.approx(expected / len(pos), rel=1e-5)
    # each patch has two inner sides: 2 sides x 2 rows x >= 10 px x 4 h
    assert e >= 2 * 2 * 10 * 4 * h
    assert added_edge_energy(face, "edge_free", 12, 200) == 0
    assert added_edge_energy(face, censor, 12, 200, measure="new_edges") > 0
    with pytest.raises(ValueError, match="measure"):
        added_edge_energy(face, "grey", 12, 200, measure="squared")


# -- heat maps (the model) ---------------------------------------------------

def test_heat_map_shapes_and_ranges(edge_free_maps, faces):
    m = edge_free_maps
    n, k = len(faces), 15
    assert m.displacement.shape == (n, k, 96, 96)
    assert m.error_increase.shape == (n, k, 96, 96)
    assert m.aggregate.shape == (n, 96, 96)
    assert m.positions.shape == (15 * 15, 2)        # 0, 6, ..., 84
    assert m.position_displacement.shape == (n, 225, k)
    for a in (m.displacement, m.error_increase, m.aggregate):
        assert np.isfinite(a).all()                 # all keypoints labelled
    assert m.displacement.min() >= 0
    assert m.displacement.max() > 0.1               # occlusion does something
    assert m.displacement.max() < 96
    np.testing.assert_allclose(m.aggregate, m.displacement.mean(axis=1),
                               rtol=1e-5)
    # error increase is bounded by the displacement (triangle inequality)
    assert (np.abs(m.position_error_increase)
            <= m.position_displacement + 1e-3).all()


CORNERS = [[0, 0], [0, 84], [84, 0], [84, 84]]


def _eye_movement(model, faces, censor, side):
    """(N, 5) mean displacement (px) of one eye's 3 keypoints (centre, inner
    and outer corner) with a 12 px patch on the labelled eye centre (column
    0) and on each background corner of the frame (columns 1-4)."""
    names = model.schema.names
    ks = [names.index("%s_eye_%s" % (side, part))
          for part in ("center", "inner_corner", "outer_corner")]
    clean = model.predict(faces.images).reshape(len(faces), -1, 2)[:, ks]
    out = []
    for i in range(len(faces)):
        x, y = faces.keypoints[i, 2 * ks[0]:2 * ks[0] + 2]
        eye = [int(np.clip(round(y - 6), 0, 84)),
               int(np.clip(round(x - 6), 0, 84))]
        batch = censor.apply_positions(faces.images[i],
                                       np.array([eye] + CORNERS), 12)
        pred = model.predict(batch).reshape(len(batch), -1, 2)[:, ks]
        out.append(np.hypot(*(pred - clean[i]).transpose(2, 0, 1)).mean(1))
    return np.array(out)


@pytest.mark.parametrize("side", ["left", "right"])
def test_patch_over_eye_moves_the_eye_more_than_the_corner(
        reference_model, faces, grey_level, side):
    free = _eye_movement(reference_model, faces, EdgeFreeCensor(), side)
    # every face: the eye patch beats the background corners (their mean);
    # on average over faces it beats the worst corner too
    assert (free[:, 0] > free[:, 1:].mean(axis=1)).all(), free
    assert free[:, 0].mean() > free[:, 1:].max(axis=1).mean(), free
    grey = _eye_movement(reference_model, faces,
                         make_censor("grey", grey_level), side)
    assert grey[:, 0].mean() > grey[:, 1:].mean(), grey
    # a hard grey square in an empty corner still moves the eye, through
    # the edges it adds: more than the edge-free censor there
    assert grey[:, 1:].mean() > free[:, 1:].mean()


def test_eye_region_dominates_the_eye_map(edge_free_maps, faces,
                                          reference_model):
    """The left eye's heat map is hotter around the eye than in the corner."""
    k = reference_model.schema.names.index("left_eye_center")
    for i in range(len(faces)):
        x, y = faces.keypoints[i, 2 * k:2 * k + 2].round().astype(int)
        hmap = edge_free_maps.displacement[i, k]
        eye = hmap[max(0, y - 6):y + 6, max(0, x - 6):x + 6].mean()
        corner = hmap[:12, :12].mean()
        assert eye > corner


def test_predict_callable_and_save_load(tmp_path, faces):
    """Any callable works (no Theano); results survive an npz round trip."""
    def predict(images):                # keypoint 0 at the brightest column
        prof = images[:, 0].mean(axis=1)
        x = prof.argmax(axis=1).astype(np.float32)
        out = np.full((len(images), 30), 48.0, np.float32)
        out[:, 0] = x
        return out
    m = occlusion_maps(predict, faces.images[:1], faces.keypoints[:1],
                       "black", patch=12, stride=12, batch_size=7)
    assert m.displacement[:, 1:].max() == 0
    path = m.save(str(tmp_path / "maps.npz"))
    back = occlusion.load_occlusion_maps(path)
    np.testing.assert_array_equal(back.displacement, m.displacement)
    assert back.censor_name == "black" and back.patch == 12
    with pytest.raises(ValueError):
        occlusion_maps(predict, faces.images[:, 0], censor="black")


def test_edge_free_map_focuses_on_keypoints_more_than_grey(
        edge_free_maps, reference_model, faces, grey_level):
    """The hard grey patch's own edges spread its map over the face; the
    edge-free map puts more of its mass near the keypoints."""
    grey = occlusion_maps(reference_model, faces.images, faces.keypoints,
                          "grey", patch=12, stride=6, grey_level=grey_level)
    free_focus, area = edge_free_maps.focus(8.0)
    grey_focus, _ = grey.focus(8.0)
    assert free_focus > area            # better than a uniform map
    assert free_focus > grey_focus


# -- the command ------------------------------------------------------------

BAD_OPTIONS = [
    (["occlusion", "--patch", "0"], ["--patch", "0"]),
    (["occlusion", "--patch", "200"], ["--patch", "200"]),
    (["occlusion", "--stride", "13"], ["--stride", "13", "--patch"]),
    (["occlusion", "--matched-stride", "20"], ["--matched-stride", "20"]),
    (["occlusion", "--faces", "0"], ["--faces", "0"]),
    (["occlusion", "--batch-size", "0"], ["--batch-size", "0"]),
    (["occlusion", "--compare-faces", "-1"], ["--compare-faces", "-1"]),
    (["occlusion", "--calibration-faces", "0"], ["--calibration-faces"]),
    (["occlusion", "--redraw"], ["occlusion_edge_free.npz"]),
    (["benchmark-occlusion", "--energy-faces", "0"], ["--energy-faces"]),
    (["benchmark-occlusion", "--stride", "0"], ["--stride", "0"]),
]


@pytest.mark.parametrize("argv, names", [
    pytest.param(a, n, id=" ".join(a)) for a, n in BAD_OPTIONS])
def test_bad_options_fail_in_one_line(kfkd_fails, tmp_path, argv, names):
    out = tmp_path / "out"
    if argv[0] == "occlusion":
        argv = argv + ["--out", str(out)]
    kfkd_fails(argv, names, untouched=[out])

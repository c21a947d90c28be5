"""The A1 poster, built from the shipped figures/ and rendered (PyMuPDF)."""
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pymupdf
import pytest

from kfkd.report import poster

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIGURES = os.path.join(REPO, "figures")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """poster/build.py run on figures/; (layout, PDF path)."""
    out = str(tmp_path_factory.mktemp("poster") / "poster.pdf")
    run = subprocess.run([sys.executable, os.path.join(REPO, "poster",
                                                       "build.py"),
                          "--figures", FIGURES, "--out", out],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "%d panels, 594 x 841 mm" % len(poster.PANELS) in run.stdout
    return json.load(open(out[:-4] + ".json")), out


def _non_white(gray):
    return float((gray < 235).mean())


def test_poster_is_one_a1_portrait_page(built):
    _, pdf = built
    doc = pymupdf.open(pdf)
    assert doc.page_count == 1
    width_mm, height_mm = (v / 72 * 25.4 for v in doc[0].rect[2:])
    assert width_mm == pytest.approx(594, abs=0.5)
    assert height_mm == pytest.approx(841, abs=0.5)


def test_every_panel_is_present_and_not_blank(built):
    layout, pdf = built
    page = pymupdf.open(pdf)[0]
    text = page.get_text()
    assert poster.TITLE in text
    titles = [p["title"] for p in layout["panels"]]
    assert titles == [p.title for p in poster.PANELS] and len(titles) == 10
    for title in titles:
        assert title in text, title
    pix = page.get_pixmap(dpi=36, colorspace=pymupdf.csGRAY)
    gray = np.frombuffer(pix.samples, np.uint8).reshape(pix.height,
                                                        pix.width)
    assert 0.25 < _non_white(gray) < 0.9 and gray.std() > 30   # not blank
    for panel in layout["panels"]:
        x0, y0, x1, y1 = panel["bbox"]
        # the panel's content: below its title bar, inside its border
        rows = slice(int((y0 + 0.032) * pix.height), int((y1 - 0.005)
                                                          * pix.height))
        cols = slice(int((x0 + 0.006) * pix.width), int((x1 - 0.006)
                                                         * pix.width))
        content = gray[rows, cols]
        assert _non_white(content) > 0.05, panel["title"]
        assert content.std() > 8, panel["title"]
        # its title bar is drawn (dark) across the panel
        bar = gray[int((y0 + 0.004) * pix.height), cols]   # above its text
        assert (bar < 128).mean() > 0.8, panel["title"]


def test_results_table_shows_the_figure_data(built):
    _, pdf = built
    text = pymupdf.open(pdf)[0].get_text()
    metrics = json.load(open(os.path.join(FIGURES, "predictions",
                                          "metrics.json")))
    assert "%.2f" % metrics["val_rmse_px"] in text
    assert "%.2f" % metrics["mean_shape_rmse_px"] in text
    for _, row in pd.read_csv(os.path.join(
            FIGURES, "training", "summary.csv")).iterrows():
        assert row["name"] in text
        assert "%.2f" % row["val_rmse_px"] in text
    # the ablations and the depth study: each variant's mean over its seeds
    for csv in ("ablations.csv", "depth/spread.csv"):
        for _, row in pd.read_csv(os.path.join(FIGURES, csv)).iterrows():
            assert row["name"] in text
            assert "%.2f" % row["mean"] in text
    labels = json.load(open(os.path.join(FIGURES, "samples", "labels.json")))
    assert "%d faces, %d fully and %d partly labelled" % (
        labels["n_faces"], labels["n_fully_labelled"],
        labels["n_partly_labelled"]) in " ".join(text.split())  # unwrapped
    # the published systems' panel: every row of figures/systems/systems.csv
    for row in poster.systems_rows(pd.read_csv(os.path.join(
            FIGURES, "systems", "systems.csv"))):
        assert " ".join(row) in " ".join(text.split()), row


def test_a_missing_figure_is_named_and_nothing_written(tmp_path):
    figures = tmp_path / "figures"
    shutil.copytree(FIGURES, figures)
    os.unlink(figures / "predictions" / "best_worst.png")
    out = tmp_path / "poster.pdf"
    with pytest.raises(FileNotFoundError, match="best_worst.png"):
        poster.build_poster(str(figures), str(out))
    assert not out.exists()


def test_no_text_runs_into_an_image(built):
    """Each panel's texts, images and tables, measured by matplotlib's
    renderer when the poster was drawn, are disjoint and inside the panel."""
    layout, _ = built
    content = layout["content"]
    assert sorted(content) == sorted(p.name for p in poster.PANELS)
    kinds = {name: [b["kind"] for b in boxes]
             for name, boxes in content.items()}
    for name in ("problem", "method", "search", "occlusion"):
        assert kinds[name] == ["text", "image"], name
    assert kinds["results"] == ["table", "text"]
    assert kinds["predictions"] == ["image", "image"]
    assert kinds["architecture"].count("text") > 10
    assert poster.layout_problems(content) == []
    for name, boxes in content.items():
        for box in boxes:
            x0, y0, x1, y1 = box["bbox"]
            assert 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1, (name, box)
        # the text above the image, not beside or under it
        texts = [b["bbox"] for b in boxes if b["kind"] == "text"]
        images = [b["bbox"] for b in boxes if b["kind"] == "image"]
        if name != "architecture":
            for t in texts:
                for i in images:
                    assert t[3] < i[1], (name, t, i)


def test_an_overlap_is_found():
    """layout_problems finds a text running under an image and a text
    poking out of its panel (measured the same way as the poster's)."""
    from kfkd.plotting import plt
    fig = plt.figure(figsize=(6, 6))
    text = fig.text(0.1, 0.85, "a long line of text " * 2, fontsize=20,
                    va="top")
    ax = fig.add_axes([0.3, 0.3, 0.6, 0.6])
    image = ax.imshow(np.zeros((10, 10)))
    spill = fig.text(0.9, 0.5, "past the right edge", fontsize=20)
    panel = poster.Panel("p", "P", (0.05, 0.0, 0.95, 0.95))
    boxes = poster.content_boxes(fig, {"p": [text, image, spill]})
    plt.close(fig)
    assert [b["kind"] for b in boxes["p"]] == ["text", "image", "text"]
    problems = poster.layout_problems(boxes, [panel])
    assert any("text 0" in p and "overlaps image 1" in p for p in problems)
    assert any("text 2" in p and "outside the panel" in p for p in problems)
    assert not any("overlaps text 2" in p for p in problems)
    # moved apart, the text and the image are fine
    boxes["p"][1]["bbox"][1] = boxes["p"][0]["bbox"][3] + 0.01
    assert not any("overlaps" in p for p in poster.layout_problems(
        boxes, [panel]))

"""The poster's page geometry and its layout check (no Theano).

:data:`PANELS` places each panel on the A1 page; :func:`content_boxes`
measures where a drawn poster's texts, images and tables are, and
:func:`layout_problems` checks that none runs out of its panel or over
another.

Examples
--------
>>> from kfkd.report import poster_layout
>>> poster_layout.PAGE_MM
(594, 841)
>>> [p.title for p in poster_layout.PANELS][:4]
['Problem', 'Method', 'Other published systems', 'Architecture']
"""
import collections

import matplotlib.image
import matplotlib.table
import matplotlib.text

__all__ = ["PAGE_MM", "Panel", "PANELS", "BAR", "TITLE_BOX", "FOOTER_BOX",
           "extent", "content_boxes", "layout_problems"]

#: A1 portrait, millimetres (ISO 216).
PAGE_MM = (594, 841)

#: A panel: its title and bounding box (x0, y0, x1, y1) as fractions of the
#: page, y from the top.
Panel = collections.namedtuple("Panel", "name title bbox")

_M, _G = 0.025, 0.012          # page margin, gap between panels
_COL = (_M, 0.5 - _G / 2, 0.5 + _G / 2, 1 - _M)
_THIRD = (_M, 0.33, 0.33 + _G, 0.67 - _G / 2, 0.67 + _G / 2, 1 - _M)
PANELS = (
    Panel("problem", "Problem", (_THIRD[0], 0.100, _THIRD[1], 0.290)),
    Panel("method", "Method", (_THIRD[2], 0.100, _THIRD[3], 0.290)),
    Panel("systems", "Other published systems", (_THIRD[4], 0.100,
                                                  _THIRD[5], 0.290)),
    Panel("architecture", "Architecture", (_THIRD[0], 0.302, _THIRD[1],
                                           0.520)),
    Panel("results", "Results", (_THIRD[2], 0.302, _COL[3], 0.520)),
    Panel("training", "Training curves", (_COL[0], 0.532, _COL[1], 0.735)),
    Panel("ablations", "Ablations", (_COL[2], 0.532, _COL[3], 0.735)),
    Panel("search", "Random search", (_THIRD[0], 0.747, _THIRD[1], 0.952)),
    Panel("predictions", "Predictions", (_THIRD[2], 0.747, _THIRD[3],
                                         0.952)),
    Panel("occlusion", "Occlusion sensitivity", (_THIRD[4], 0.747,
                                                  _THIRD[5], 0.952)),
)
#: The title banner and the footer line, as :data:`PANELS`' boxes.
TITLE_BOX = (_M, 0.013, 1 - _M, 0.088)
FOOTER_BOX = (_M, 0.960, 1 - _M, 0.985)

#: A panel's title bar, page heights.
BAR = 0.028


def _page_box(fig, bbox):
    """A display-space Bbox as (x0, y0, x1, y1) page fractions from the top
    left (the convention of :data:`PANELS`)."""
    w, h = fig.bbox.width, fig.bbox.height
    return (bbox.x0 / w, 1 - bbox.y1 / h, bbox.x1 / w, 1 - bbox.y0 / h)


def extent(fig, artist):
    """Where ``artist`` is drawn: (x0, y0, x1, y1) page fractions from the
    top left.  An image is measured as drawn, i.e. after its axes shrank
    to keep the image's aspect ratio."""
    renderer = fig.canvas.get_renderer()
    if isinstance(artist, matplotlib.image.AxesImage):
        artist.axes.apply_aspect()
    return _page_box(fig, artist.get_window_extent(renderer))


def _inner(panel):
    """The panel's inside below its title bar: (x0, y0, x1, y1) page
    fractions from the top left."""
    x0, y0, x1, y1 = panel.bbox
    return (x0, y0 + BAR, x1, y1)


def content_boxes(fig, parts):
    """Where each panel's texts, images and tables are drawn.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    parts : dict
        Panel name -> list of artists (``Text``, ``AxesImage``, ``Table``).

    Returns
    -------
    dict
        Panel name -> list of ``{"kind": "text" | "image" | "table",
        "bbox": [x0, y0, x1, y1]}``, page fractions from the top left,
        measured with the figure's renderer (a text's ink box, an image as
        drawn after aspect scaling).
    """
    kinds = {matplotlib.text.Text: "text",
             matplotlib.image.AxesImage: "image",
             matplotlib.table.Table: "table"}
    return {name: [{"kind": kinds[type(a)],
                    "bbox": [round(v, 5) for v in extent(fig, a)]}
                   for a in artists] for name, artists in parts.items()}


def _intersect(a, b):
    return min(a[2], b[2]) > max(a[0], b[0]) and min(a[3], b[3]) > max(
        a[1], b[1])


def layout_problems(content, panels=PANELS, tolerance=1e-4):
    """What is wrong with a layout of :func:`content_boxes`.

    Parameters
    ----------
    content : dict
        Panel name -> boxes, as returned by :func:`content_boxes` (also
        the ``content`` of the layout JSON).
    panels : sequence of Panel
    tolerance : float
        Page fraction a box may poke out of its panel.

    Returns
    -------
    list of str
        One line per pair of boxes of a panel that overlap (a text running
        under an image, say) and per box not inside its panel below the
        title bar; empty if the layout is clean.
    """
    problems = []
    for panel in panels:
        boxes = content.get(panel.name, [])
        x0, y0, x1, y1 = _inner(panel)
        for i, box in enumerate(boxes):
            bx0, by0, bx1, by1 = box["bbox"]
            if (bx0 < x0 - tolerance or by0 < y0 - tolerance or
                    bx1 > x1 + tolerance or by1 > y1 + tolerance):
                problems.append("%s: %s %d %s outside the panel %s" % (
                    panel.name, box["kind"], i, box["bbox"],
                    [x0, y0, x1, y1]))
            for j in range(i + 1, len(boxes)):
                if _intersect(box["bbox"], boxes[j]["bbox"]):
                    problems.append("%s: %s %d %s overlaps %s %d %s" % (
                        panel.name, box["kind"], i, box["bbox"],
                        boxes[j]["kind"], j, boxes[j]["bbox"]))
    return problems



"""Where the canvas labels go: greedy placement without collisions (issue 14).

Headless (no napari, no Qt): the napari workspace (:func:`flannot.napari.layers.arrange_labels`)
feeds it the labels of the frame on screen and applies the result.

Model
-----
A label is a line of text anchored at a point of its shape (a corner or the centre of
the shape's bounding box, as the protocol's ``label_anchor`` says) and aligned to that
point as napari aligns it (:data:`ANCHOR_ALIGN`). Text is a fixed size on screen, so its
box in image pixels depends on the zoom: ``char_px`` and ``line_px`` are one character's
width and one line's height in image pixels at the current zoom.

napari moves the labels of one layer together (one text ``translation`` per layer), so
labels come in *groups* that share one offset. Groups are placed in priority order (the
protocol's order); each takes the first candidate offset — its preferred one (the
protocol's ``label_offset``), then steps of a line up or down and of a few characters
sideways, nearest first — that collides with no label placed before it on the same frame,
with no obstacle (e.g. the redaction box) and stays inside the image (a label past its
edge is cut off by the canvas). When every candidate collides, the one with the fewest
collisions wins, then the one with the fewest labels on obstacles or past the edge.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "ANCHOR_ALIGN",
    "MAX_LABELS_PER_FRAME",
    "Label",
    "arrange",
    "candidate_offsets",
    "collisions",
    "label_box",
    "placed_boxes",
]

#: more labels on one frame than this are left at their preferred offsets (see arrange)
MAX_LABELS_PER_FRAME = 150

Box = tuple[float, float, float, float]  # row0, col0, row1, col1 (image pixels)
Offset = tuple[float, float]  # d_row, d_col (image pixels)

#: napari's text alignment for each anchor: (horizontal, vertical). "top" puts the
#: anchor at the text's bottom edge on screen (the text sits above it), "bottom" the
#: reverse — napari's 2-D camera has rows growing downwards.
ANCHOR_ALIGN: dict[str, tuple[str, str]] = {
    "center": ("center", "center"),
    "upper_left": ("left", "top"),
    "upper_right": ("right", "top"),
    "lower_left": ("left", "bottom"),
    "lower_right": ("right", "bottom"),
}


@dataclass(frozen=True)
class Label:
    """One canvas label.

    Attributes
    ----------
    group
        The labels that move together (a napari layer).
    text
        The text shown.
    row, col
        The anchor point in image pixels.
    anchor
        A key of :data:`ANCHOR_ALIGN`.
    frame
        The frame it is shown on (labels of different frames never collide).
    index
        Which item of its group it labels (the layer's row; -1 when not known).
    """

    group: str
    text: str
    row: float
    col: float
    anchor: str = "upper_left"
    frame: int = 0
    index: int = -1


def label_box(label: Label, offset: Offset, char_px: float, line_px: float) -> Box:
    """The box ``label`` covers when moved by ``offset`` (image pixels)."""
    lines = label.text.split("\n") or [""]
    width = max(len(line) for line in lines) * char_px
    height = len(lines) * line_px
    horizontal, vertical = ANCHOR_ALIGN.get(label.anchor, ANCHOR_ALIGN["center"])
    row, col = label.row + offset[0], label.col + offset[1]
    c0 = {"left": col, "right": col - width}.get(horizontal, col - width / 2)
    r0 = {"top": row - height, "bottom": row}.get(vertical, row - height / 2)
    return (r0, c0, r0 + height, c0 + width)


def _overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _inside(a: Box, bounds: Box) -> bool:
    return bounds[0] <= a[0] and bounds[1] <= a[1] and a[2] <= bounds[2] and a[3] <= bounds[3]


def collisions(boxes: Sequence[tuple[int, Box]]) -> int:
    """Pairs of ``(frame, box)`` that overlap on the same frame."""
    by_frame: dict[int, list[Box]] = {}
    for frame, box in boxes:
        by_frame.setdefault(frame, []).append(box)
    n = 0
    for same in by_frame.values():
        for i, a in enumerate(same):
            n += sum(_overlap(a, b) for b in same[i + 1 :])
    return n


def crowded_pairs(labels: Sequence[Label], char_px: float, line_px: float) -> list[tuple[int, int]]:
    """``(i, j)`` positions in ``labels`` of two labels of one group that overlap on a frame.

    Labels of one group move together, so no offset moves them apart: such a pair
    (a left and a right pedicle of one level on an AP, say) has to share one label.
    """
    boxes = [label_box(label, (0.0, 0.0), char_px, line_px) for label in labels]
    pairs = []
    for i, a in enumerate(labels):
        for j in range(i + 1, len(labels)):
            b = labels[j]
            if a.group == b.group and a.frame == b.frame and _overlap(boxes[i], boxes[j]):
                pairs.append((i, j))
    return pairs


def candidate_offsets(
    preferred: Offset, char_px: float, line_px: float, reach: int = 3
) -> list[Offset]:
    """Offsets to try for a group: ``preferred`` first, then by distance from it.

    Steps of half a line up or down (up to ``reach`` lines) and of three, six or
    twelve characters sideways (either side): labels of one layer move together, so
    a layer whose labels sit among several others' needs the finer and the wider steps.
    """
    out = []
    for half_lines in range(-2 * reach, 2 * reach + 1):
        for chars in (-12, -6, -3, 0, 3, 6, 12):
            out.append((preferred[0] + half_lines * line_px / 2, preferred[1] + chars * char_px))
    return sorted(out, key=lambda o: abs(o[0] - preferred[0]) + abs(o[1] - preferred[1]))


def arrange(
    labels: Iterable[Label],
    preferred: dict[str, Offset],
    char_px: float,
    line_px: float,
    obstacles: Iterable[tuple[int | None, Box]] = (),
    bounds: Box | None = None,
) -> dict[str, Offset]:
    """One offset per group so that labels of one frame do not overlap.

    Parameters
    ----------
    labels
        The labels, their groups in priority order (a group placed earlier keeps its
        preferred offset more often).
    preferred
        Each group's preferred offset (a missing group: ``(0, 0)``).
    char_px, line_px
        A character's width and a line's height in image pixels.
    obstacles
        ``(frame, box)`` areas labels should not cover (frame ``None``: every frame).
    bounds
        The area labels should stay inside (the image), or ``None``.

    Returns
    -------
    dict
        The offset chosen for each group.
    """
    labels = list(labels)
    per_frame: dict[int, int] = {}
    for label in labels:
        per_frame[label.frame] = per_frame.get(label.frame, 0) + 1
    if per_frame and max(per_frame.values()) > MAX_LABELS_PER_FRAME:
        # the greedy search grows with the square of a frame's labels: past this, keep
        # the protocol's offsets rather than stall the viewer after every edit
        return {label.group: preferred.get(label.group, (0.0, 0.0)) for label in labels}
    groups: dict[str, list[Label]] = {}
    for label in labels:
        groups.setdefault(label.group, []).append(label)
    blocked: dict[int | None, list[Box]] = {}
    for frame, area in obstacles:
        blocked.setdefault(frame, []).append(area)
    everywhere = blocked.get(None, [])
    placed: dict[str, list[tuple[int, Box]]] = {}  # each group's boxes where it is now
    chosen: dict[str, Offset] = {}

    def place(group: str, members: list[Label]) -> int:
        """Put ``group`` at its best offset against every other placed group; its hits."""
        others: dict[int, list[Box]] = {}  # by frame: labels only collide on their own frame
        for name, boxes in placed.items():
            if name != group:
                for frame, box in boxes:
                    others.setdefault(frame, []).append(box)
        best: tuple[tuple[int, int], Offset, list[tuple[int, Box]]] | None = None
        for offset in candidate_offsets(preferred.get(group, (0.0, 0.0)), char_px, line_px):
            boxes = [(m.frame, label_box(m, offset, char_px, line_px)) for m in members]
            hits = collisions(boxes)  # the group's own labels (the same for every offset)
            covered = 0
            for frame, box in boxes:
                hits += sum(_overlap(box, other) for other in others.get(frame, ()))
                areas = (*everywhere, *blocked.get(frame, ()))
                covered += sum(_overlap(box, area) for area in areas)
                covered += bounds is not None and not _inside(box, bounds)
            score = (hits, covered)
            if best is None or score < best[0]:
                best = (score, offset, boxes)
            if score == (0, 0):
                break
        assert best is not None
        chosen[group], placed[group] = best[1], best[2]
        return best[0][0] - collisions(best[2])

    # greedy in priority order, then a few passes that move a group still colliding
    # with others now that every group is placed (an earlier one may yield to a later)
    crowded = [g for g, members in groups.items() if place(g, members)]
    for _ in range(3):
        if not crowded:
            break
        crowded = [g for g in list(groups) if place(g, groups[g])]
    return chosen


def placed_boxes(
    labels: Iterable[Label], offsets: dict[str, Offset], char_px: float, line_px: float
) -> list[tuple[int, Box]]:
    """``(frame, box)`` of each label moved by its group's offset (for counting overlaps)."""
    return [
        (label.frame, label_box(label, offsets.get(label.group, (0.0, 0.0)), char_px, line_px))
        for label in labels
    ]

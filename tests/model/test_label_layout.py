"""Canvas label placement, headless (flannot.model.label_layout)."""

from __future__ import annotations

import subprocess
import sys

from flannot.model.label_layout import (
    Label,
    arrange,
    candidate_offsets,
    collisions,
    label_box,
    placed_boxes,
)

CHAR, LINE = 2.0, 4.0  # image pixels per character / per line


def test_box_follows_napari_alignment() -> None:
    lab = Label("g", "abcde", row=100.0, col=50.0, anchor="upper_left")
    assert label_box(lab, (0.0, 0.0), CHAR, LINE) == (96.0, 50.0, 100.0, 60.0)  # above, rightwards
    lab = Label("g", "abcde", row=100.0, col=50.0, anchor="lower_right")
    assert label_box(lab, (0.0, 0.0), CHAR, LINE) == (100.0, 40.0, 104.0, 50.0)  # below, leftwards
    lab = Label("g", "ab", row=10.0, col=10.0, anchor="center")
    assert label_box(lab, (1.0, -3.0), CHAR, LINE) == (9.0, 5.0, 13.0, 9.0)


def test_preferred_offset_kept_when_nothing_collides() -> None:
    labels = [
        Label("lf", "LF L3-L4 left", 100, 100),
        Label("ec", "EC L3-L4 left", 200, 100),
    ]
    pref = {"lf": (0.0, 8.0), "ec": (0.0, -8.0)}
    assert arrange(labels, pref, CHAR, LINE) == pref


def test_colliding_groups_are_moved_apart_and_the_first_keeps_its_place() -> None:
    # two labels on the same anchor: the second group has to move
    labels = [Label("lf", "LF L3-L4 left", 100, 100), Label("ec", "EC L3-L4 left", 101, 102)]
    pref = {"lf": (0.0, 0.0), "ec": (0.0, 0.0)}
    before = placed_boxes(labels, pref, CHAR, LINE)
    assert collisions(before) == 1
    chosen = arrange(labels, pref, CHAR, LINE)
    assert chosen["lf"] == (0.0, 0.0)
    assert chosen["ec"] != (0.0, 0.0)
    assert collisions(placed_boxes(labels, chosen, CHAR, LINE)) == 0


def test_labels_of_other_frames_do_not_collide() -> None:
    labels = [Label("lf", "LF", 100, 100, frame=0), Label("ec", "EC", 100, 100, frame=1)]
    pref = {"lf": (0.0, 0.0), "ec": (0.0, 0.0)}
    assert collisions(placed_boxes(labels, pref, CHAR, LINE)) == 0
    assert arrange(labels, pref, CHAR, LINE) == pref


def test_obstacles_are_avoided_on_their_frame() -> None:
    labels = [Label("v", "L1", 10, 10, anchor="center")]
    redaction = (0.0, 0.0, 20.0, 20.0)
    chosen = arrange(labels, {"v": (0.0, 0.0)}, CHAR, LINE, obstacles=[(None, redaction)])
    box = label_box(labels[0], chosen["v"], CHAR, LINE)
    assert collisions([(0, box), (0, redaction)]) == 0  # clear of the box
    assert collisions([(0, label_box(labels[0], (0.0, 0.0), CHAR, LINE)), (0, redaction)]) == 1
    # an obstacle of another frame does not move it
    assert arrange(labels, {"v": (0.0, 0.0)}, CHAR, LINE, obstacles=[(3, redaction)]) == {
        "v": (0.0, 0.0)
    }


def test_groups_move_together() -> None:
    labels = [
        Label("lf", "LF L3-L4", 100, 100),
        Label("lf", "LF L4-L5", 200, 100),
        Label("ec", "EC", 200, 100),
    ]
    pref = {"lf": (0.0, 0.0), "ec": (0.0, 0.0)}
    chosen = arrange(labels, pref, CHAR, LINE)
    assert set(chosen) == {"lf", "ec"}
    assert collisions(placed_boxes(labels, chosen, CHAR, LINE)) == 0


def test_candidates_start_at_the_preferred_offset_nearest_first() -> None:
    cands = candidate_offsets((0.0, 5.0), CHAR, LINE)
    assert cands[0] == (0.0, 5.0)
    dist = [abs(r) + abs(c - 5.0) for r, c in cands]
    assert dist == sorted(dist) and len(set(cands)) == len(cands)


def test_layout_module_is_headless() -> None:
    code = (
        "import sys, flannot.model.label_layout; "
        "print(sorted(m for m in ('napari', 'qtpy', 'vispy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_crowded_pairs_are_the_overlapping_labels_of_one_group() -> None:
    from flannot.model.label_layout import Label, crowded_pairs

    left = Label("pedicle", "Pedicle L3 left", 100.0, 100.0, "center", 0, 0)
    right = Label("pedicle", "Pedicle L3 right", 100.0, 130.0, "center", 0, 1)
    far = Label("pedicle", "Pedicle L4 left", 300.0, 100.0, "center", 0, 2)
    other = Label("vertebra", "L3", 100.0, 110.0, "center", 0, 0)
    later = Label("pedicle", "Pedicle L3 right", 100.0, 130.0, "center", 1, 3)
    pairs = crowded_pairs([left, right, far, other, later], 8.0, 16.0)
    assert pairs == [(0, 1)]  # not across groups, frames, or apart


def test_crowded_frames_keep_the_preferred_offsets() -> None:
    from flannot.model.label_layout import MAX_LABELS_PER_FRAME

    n = MAX_LABELS_PER_FRAME + 1
    labels = [Label(f"g{i % 7}", "LF L3-L4 left", 10.0 * (i % 20), 5.0 * i) for i in range(n)]
    pref = {f"g{i}": (0.0, float(i)) for i in range(7)}
    assert arrange(labels, pref, CHAR, LINE) == pref  # not searched: left as preferred
    # at the limit it still arranges
    few = labels[:MAX_LABELS_PER_FRAME]
    assert collisions(placed_boxes(few, arrange(few, pref, CHAR, LINE), CHAR, LINE)) <= collisions(
        placed_boxes(few, pref, CHAR, LINE)
    )


def test_labels_stay_inside_the_image_when_they_can() -> None:
    """A label whose preferred place runs past the image's edge (cut off by the canvas)
    moves inside; one that fits keeps its place."""
    image = (0.0, 0.0, 100.0, 100.0)
    near_edge = [Label("ec", "Epidural contrast L4-L5 left", 50, 60, anchor="upper_left")]
    pref = {"ec": (0.0, 4.0)}
    assert label_box(near_edge[0], pref["ec"], CHAR, LINE)[3] > 100  # past the right edge
    chosen = arrange(near_edge, pref, CHAR, LINE, bounds=image)
    box = label_box(near_edge[0], chosen["ec"], CHAR, LINE)
    assert 0 <= box[1] and box[3] <= 100 and 0 <= box[0] and box[2] <= 100
    assert arrange(near_edge, pref, CHAR, LINE) == pref  # no bounds given: as before
    inside = [Label("lf", "LF", 50, 20)]
    assert arrange(inside, {"lf": (0.0, 4.0)}, CHAR, LINE, bounds=image) == {"lf": (0.0, 4.0)}

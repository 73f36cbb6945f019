"""Window presets (VOI): all Window Center/Width pairs of the header, or one derived from data.

Header windows apply to modality-LUT output (PS3.3 C.11.2). flannot's
presentation values are that output, inverted for MONOCHROME1, so a window
centre ``c`` becomes ``lo + hi - c`` on an inverted image (the width is
unchanged) — the window then shows the same tissue range as in the header.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydicom.dataset import Dataset

from flannot.io import header as hdr

VOI_FUNCTIONS = ("LINEAR", "LINEAR_EXACT", "SIGMOID")
PERCENTILES = (0.5, 99.5)


@dataclass(frozen=True)
class Window:
    """A display window on presentation values.

    Attributes
    ----------
    center, width
        Window Center and Width (width > 0), in presentation values.
    explanation
        Where it came from (Window Center & Width Explanation, or how it was derived).
    """

    center: float
    width: float
    explanation: str = ""

    @property
    def contrast_limits(self) -> tuple[float, float]:
        """``(low, high)`` for napari's ``contrast_limits``."""
        return (self.center - self.width / 2.0, self.center + self.width / 2.0)

    def to_dict(self) -> dict[str, float | str]:
        return {"center": self.center, "width": self.width, "explanation": self.explanation}


def _explanations(item: Dataset, n: int) -> list[str]:
    value = hdr.find(item, "WindowCenterWidthExplanation")
    if value is None:
        names: list[str] = []
    elif isinstance(value, str):
        names = [value]
    else:
        names = [str(v) for v in value]
    return [names[i].strip() if i < len(names) and str(names[i]).strip() else "" for i in range(n)]


def header_windows(ds: Dataset, invert_about: float | None = None) -> list[Window]:
    """All valid windows of the header (top level or Frame VOI LUT functional groups).

    Parameters
    ----------
    ds
        The header.
    invert_about
        ``lo + hi`` of the presentation range when the image was inverted, else ``None``.
    """
    windows: list[Window] = []
    item = hdr.find_item_with(ds, "WindowCenter")
    if item is not None:
        centers = hdr.as_floats(hdr.find(item, "WindowCenter")) or []
        widths = hdr.as_floats(hdr.find(item, "WindowWidth")) or []
        n = min(len(centers), len(widths))
        names = _explanations(item, n)
        for i in range(n):
            if widths[i] <= 0:  # PS3.3: width >= 1 (LINEAR) / > 0 (LINEAR_EXACT); else unusable
                continue
            label = names[i] or f"header window {i + 1}"
            windows.append(Window(centers[i], widths[i], label))
    for i, lut in enumerate(hdr.find(ds, "VOILUTSequence") or []):
        desc = hdr.as_floats(lut.get("LUTDescriptor"))
        if not desc or len(desc) != 3:
            continue
        entries = desc[0] or 65536.0  # 0 means 2**16 entries
        label = str(lut.get("LUTExplanation", "") or f"VOI LUT {i + 1}").strip()
        windows.append(
            Window(desc[1] + entries / 2.0, entries, f"{label} (VOI LUT as a linear window)")
        )
    if invert_about is not None:
        windows = [Window(invert_about - w.center, w.width, w.explanation) for w in windows]
    return windows


def voi_lut_function(ds: Dataset) -> str:
    """VOI LUT Function (0028,1056); ``LINEAR`` when absent or unknown."""
    value = hdr.text(ds, "VOILUTFunction")
    return value if value in VOI_FUNCTIONS else "LINEAR"


def derived_window(frame: np.ndarray, frame_index: int) -> Window:
    """A window from the 0.5–99.5 percentiles of one frame (no window in the header)."""
    lo, hi = (float(v) for v in np.percentile(frame, PERCENTILES))
    width = max(hi - lo, 1.0)
    return Window(
        (lo + hi) / 2.0,
        width,
        f"derived from frame {frame_index} ({PERCENTILES[0]:g}-{PERCENTILES[1]:g} percentiles);"
        " the header has no window",
    )

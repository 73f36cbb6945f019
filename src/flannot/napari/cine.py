"""Playing a cine: a timer over the viewer's frame slider, with decoded frames read ahead.

:class:`ReadAhead` sits between the image layer and the image's lazy frames: while a
cine plays it decodes the next frames in one background thread into a small bounded
cache (``capacity`` frames), so the frame napari asks for next is usually decoded
already. :class:`CinePlayer` steps the slider at the image's own rate (Frame Time,
else Cine Rate / Recommended Display Frame Rate; 15 fps when the file says nothing),
looping or stopping at the last frame.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from flannot.io.frames import CACHE_FRAMES

DEFAULT_FPS = 15.0
READ_AHEAD = 3  # frames decoded ahead while playing
CAPACITY = CACHE_FRAMES + READ_AHEAD  # kept: the one on screen, the last one, those read ahead

__all__ = ["CinePlayer", "ReadAhead", "frame_interval_ms"]


class ReadAhead:
    """A numpy-like ``(n, rows, cols)`` view of ``frames`` that can decode ahead.

    The decoding ahead is the core's (:meth:`flannot.io.frames.LazyFrames.prefetch`:
    one background thread, a bounded number of frames); this wrapper only says
    which frames come next while the cine plays.

    Parameters
    ----------
    frames
        The image's lazy frames (``frames.frame(i)`` decodes one; thread-safe).
    capacity
        Decoded frames kept at most (memory stays bounded on a 300-frame cine).
    """

    def __init__(self, frames: Any, capacity: int = CAPACITY) -> None:
        self.frames = frames
        self.capacity = max(1, int(capacity))
        self.ahead = 0  # frames to decode ahead of each one asked for; the player sets it

    shape = property(lambda self: tuple(self.frames.shape))
    dtype = property(lambda self: self.frames.dtype)
    ndim = property(lambda self: len(self.frames.shape))

    def __len__(self) -> int:
        return int(self.frames.shape[0])

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        return np.asarray(self.frames, dtype=dtype)

    def __getitem__(self, key: Any) -> np.ndarray:
        first, rest = (key[0], key[1:]) if isinstance(key, tuple) else (key, ())
        if isinstance(first, (int, np.integer)):
            frame = self.frame(int(first))
            return frame[rest] if rest else frame
        if isinstance(first, slice):  # dask asks for one-frame chunks as slices
            picked = range(len(self))[first]
            if len(picked) == 1:
                return self.frame(picked[0])[np.newaxis][(slice(None), *rest)]
        return self.frames[key]

    def frame(self, index: int) -> np.ndarray:
        """Frame ``index`` (decoded ahead when it was asked for); reads the next ones ahead."""
        n = len(self)
        index %= n
        arr = self.frames.frame(index)
        ahead = min(self.ahead, self.capacity - CACHE_FRAMES)
        if ahead > 0 and hasattr(self.frames, "prefetch"):
            self.frames.prefetch([(index + k) % n for k in range(1, ahead + 1)])
        return np.asarray(arr)

    def cached(self) -> list[int]:
        """Indices of the decoded frames held now, on screen or ahead (tests)."""
        held = getattr(self.frames, "held", None)
        return list(held()) if held is not None else []

    def close(self) -> None:
        """Stop the read-ahead thread."""
        close = getattr(self.frames, "close", None)
        if close is not None:
            close()


def frame_interval_ms(image: Any) -> float:
    """Milliseconds between frames: the file's Frame Time / Cine Rate, else 15 fps."""
    ms = getattr(image, "frame_time_ms", None)
    return float(ms) if ms else 1000.0 / DEFAULT_FPS


class CinePlayer:
    """Play/pause the viewer's frame slider at the image's rate.

    Parameters
    ----------
    viewer
        The napari viewer (axis 0 is the frame axis of a cine).
    session
        Its flannot session (the image and its layer).
    on_change
        Called with ``playing`` whenever playback starts or stops (the dock's button).
    """

    def __init__(self, viewer: Any, session: Any, on_change: Callable[[bool], Any] = None):
        from qtpy.QtCore import QTimer

        self.viewer = viewer
        self.session = session
        self.loop = True
        self.on_change = on_change
        self._timer = QTimer()
        self._timer.timeout.connect(self.step)

    @property
    def playing(self) -> bool:
        return self._timer.isActive()

    @property
    def n_frames(self) -> int:
        image = self.session.image
        return int(image.n_frames) if image is not None else 0

    @property
    def fps(self) -> float:
        return 1000.0 / frame_interval_ms(self.session.image)

    def _reader(self) -> ReadAhead | None:
        layer = self.session.image_layer
        data = getattr(layer, "metadata", {}).get("flannot_frames") if layer is not None else None
        return data if isinstance(data, ReadAhead) else None

    def play(self) -> bool:
        """Start playing (a single-frame image does not play)."""
        if self.n_frames < 2:
            return False
        reader = self._reader()
        if reader is not None:
            reader.ahead = READ_AHEAD
        self._timer.start(max(1, round(frame_interval_ms(self.session.image))))
        self._changed()
        return True

    def pause(self) -> None:
        self._timer.stop()
        reader = self._reader()
        if reader is not None:
            reader.ahead = 0
        self._changed()

    def toggle(self) -> bool:
        if self.playing:
            self.pause()
        else:
            self.play()
        return self.playing

    def step(self) -> None:
        """One frame on; at the end loop to the first frame or stop."""
        n = self.n_frames
        if n < 2 or self.viewer.dims.ndim < 3:
            self.pause()
            return
        current = int(self.viewer.dims.current_step[0])
        nxt = current + 1
        if nxt >= n:
            if not self.loop:
                self.pause()
                return
            nxt = 0
        self.viewer.dims.set_current_step(0, nxt)

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change(self.playing)

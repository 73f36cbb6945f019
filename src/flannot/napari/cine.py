"""Playing a cine: a timer over the viewer's frame slider, with decoded frames read ahead.

:class:`ReadAhead` sits between the image layer and the image's lazy frames: while a
cine plays it decodes the next frames in one background thread into a small bounded
cache (``capacity`` frames), so the frame napari asks for next is usually decoded
already. :class:`CinePlayer` steps the slider at the image's own rate (Frame Time,
else Cine Rate / Recommended Display Frame Rate; 15 fps when the file says nothing),
looping or stopping at the last frame.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

DEFAULT_FPS = 15.0
READ_AHEAD = 3  # frames decoded ahead while playing
CAPACITY = 4  # frames kept: the one on screen and those read ahead

__all__ = ["CinePlayer", "ReadAhead", "frame_interval_ms"]


class ReadAhead:
    """A numpy-like ``(n, rows, cols)`` view of ``frames`` that can decode ahead.

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
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._queued: set[int] = set()

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
        """Frame ``index``, from the cache when it was read ahead; schedules the next ones."""
        index %= len(self)
        with self._lock:
            arr = self._cache.get(index)
            if arr is not None:
                self._cache.move_to_end(index)
        if arr is None:
            arr = self._keep(index, self.frames.frame(index))
        for k in range(1, self.ahead + 1):
            self._schedule((index + k) % len(self))
        return arr

    def cached(self) -> list[int]:
        """Indices of the decoded frames held now (tests)."""
        with self._lock:
            return list(self._cache)

    def _keep(self, index: int, arr: np.ndarray) -> np.ndarray:
        with self._lock:
            self._cache[index] = arr
            self._cache.move_to_end(index)
            while len(self._cache) > self.capacity:
                self._cache.popitem(last=False)
        return arr

    def _schedule(self, index: int) -> None:
        with self._lock:
            if index in self._cache or index in self._queued:
                return
            self._queued.add(index)
            if self._pool is None:
                self._pool = ThreadPoolExecutor(1, thread_name_prefix="flannot-readahead")
        self._pool.submit(self._decode_ahead, index)

    def _decode_ahead(self, index: int) -> None:
        try:
            self._keep(index, self.frames.frame(index))
        finally:
            with self._lock:
                self._queued.discard(index)

    def close(self) -> None:
        """Stop the read-ahead thread."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


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

"""Autosave of the session's edits to a recovery file (``flannot.model.recovery``).

Writes every ``interval`` seconds while there are unsaved edits, and a couple of
seconds after each burst of edits (debounced). Saving the case deletes the
recovery file (:meth:`Session.save`); opening a case with a newer recovery
file offers to restore it (:meth:`Session.load_case`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from qtpy.QtCore import QCoreApplication, QObject, QTimer

if TYPE_CHECKING:  # pragma: no cover
    from flannot.napari.session import Session

__all__ = ["Autosave"]


class Autosave(QObject):
    """QTimers that write the session's recovery file.

    Parameters
    ----------
    session
        The session to protect.
    interval_s
        Periodic autosave interval.
    debounce_s
        Delay after the last edit before writing.
    """

    def __init__(self, session: Session, interval_s: float = 30.0, debounce_s: float = 2.0):
        super().__init__()
        self.session = session
        self.last_error: str | None = None
        self.writes = 0
        self.stopped = False
        self._periodic = QTimer(self)
        self._periodic.setInterval(int(interval_s * 1000))
        self._periodic.timeout.connect(self.write)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(int(debounce_s * 1000))
        self._debounce.timeout.connect(self.write)
        session.events.annotations_changed.connect(self._restart_debounce)
        self._periodic.start()
        app = QCoreApplication.instance()
        if app is not None:  # last chance when napari quits within the debounce delay
            app.aboutToQuit.connect(self.write)

    def _restart_debounce(self) -> None:
        self._debounce.start()

    def write(self) -> None:
        """Write the recovery file now if there are unsaved edits (errors are kept, not raised)."""
        if self.stopped:
            return
        try:
            if self.session.autosave_now() is not None:
                self.writes += 1
            self.last_error = None
        except Exception as exc:  # autosave must never interrupt the user
            self.last_error = f"autosave failed: {exc}"

    def stop(self) -> None:
        """Stop autosaving for good (e.g. unattended screenshots of illustrative edits)."""
        self.stopped = True
        self._periodic.stop()
        self._debounce.stop()
        try:
            self.session.events.annotations_changed.disconnect(self._restart_debounce)
        except (TypeError, ValueError, RuntimeError):
            pass

"""The case decision drop-down: not decided / proceed / do not proceed and why (SPEC §6).

A thin widget over :func:`flannot.model.decision.decision_choices`: choosing an entry
sets the open case's ``decision`` (the attempt's in a quiz, the reference's while an
educator annotates) and marks the case changed, so it is saved and scored with it.
"""

from __future__ import annotations

from typing import Any

from qtpy.QtWidgets import QComboBox, QHBoxLayout, QLabel, QWidget

from flannot.model.decision import Decision, decision_choices
from flannot.napari._qt.table_model import connect_while_alive


class DecisionPanel(QWidget):
    """``Decision: [not decided | proceed | do not proceed: …]`` bound to a session."""

    def __init__(self, session: Any) -> None:
        super().__init__()
        self.session = session
        self.combo = QComboBox()
        self.combo.setToolTip(
            "Your decision for this case: proceed, or do not proceed and why "
            "(no laminar shelf, no epidurogram at level and side, grade II slip)"
        )
        self._choices: list[tuple[str, Decision | None]] = []
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("Decision:"))
        row.addWidget(self.combo, 1)
        self.combo.currentIndexChanged.connect(self._on_chosen)
        # bound methods, not lambdas: psygnal holds them weakly, so the session never keeps
        # the panel's Python wrapper alive until its own ``destroyed`` (a crash in sip)
        connect_while_alive(
            self,
            [
                (session.events.case_changed, self.refresh),
                (session.events.annotations_changed, self.refresh),
            ],
        )
        self.refresh()

    def refresh(self) -> None:
        """Show the open case's protocol's choices and its decision."""
        case = self.session.case
        protocol = getattr(self.session, "protocol", None) if case is not None else None
        choices = decision_choices(protocol) if protocol is not None else []
        current = None if case is None else case.decision
        index = 0
        for i, (_label, d) in enumerate(choices):
            if (
                d is not None
                and current is not None
                and (d.proceed, d.reason)
                == (
                    current.proceed,
                    current.reason,
                )
            ):
                index = i
        self.combo.blockSignals(True)
        try:
            if [c[0] for c in choices] != [c[0] for c in self._choices]:
                self.combo.clear()
                self.combo.addItems([label for label, _d in choices])
            self._choices = choices
            self.combo.setCurrentIndex(index if choices else -1)
        finally:
            self.combo.blockSignals(False)
        self.setEnabled(bool(choices))

    def choose(self, decision: Decision | None) -> None:
        """Set the case's decision (keeping its note) and mark the case changed."""
        case = self.session.case
        if case is None:
            return
        note = case.decision.note if case.decision is not None else ""
        new = None if decision is None else Decision(decision.proceed, decision.reason, note)
        if new == case.decision:
            return
        case.decision = new
        self.session.mark_changed()

    def _on_chosen(self, index: int) -> None:
        if 0 <= index < len(self._choices):
            self.choose(self._choices[index][1])

"""Render ``pacs_dock.png``: the PACS dock against a local Orthanc after a search and a pull.

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python docs/images/make_pacs_screenshot.py

Starts the test suite's Orthanc (Debian ``orthanc`` + ``orthanc-dicomweb``) on a free
loopback port with a throw-away storage folder, stores four made-up studies built from the
synthetic phantom images of ``sample_dicoms/`` with invented patient names and IDs put
in (no patient data), opens an empty teaching set, searches for XA studies of 2024 and
pulls Doe's: two de-identified cases, the first opens in the viewer. Nothing is left
behind.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent / "pacs_dock.png"
sys.path[:0] = [str(ROOT / "tests" / "pacs"), str(ROOT / "tests" / "deid"), str(ROOT)]

# made-up studies: (patient name, patient id, date, description, sample cases as series)
STUDIES = [
    ("DOE^JOHN^Q", "MRN99887766", "20240317", "LUMBAR MILD L4-L5", ["clo-left", "lateral"]),
    ("ROE^JANE", "MRN10203040", "20240611", "MILD L3-L4", ["ap", "clo-right-hypertrophic"]),
    ("POE^EDGAR^A", "MRN55501234", "20240902", "LUMBAR STENOSIS", ["lateral-stenotic"]),
    ("MOE^ANNA", "MRN77700011", "20231120", "LUMBAR SPINE 2 VIEWS", ["ap", "lateral"]),
]


def identified(case_ids: list[str], name: str, pid: str, date: str, text: str) -> list:
    """The sample images of ``case_ids`` as one identified study (one series each)."""
    import pydicom
    from pydicom.uid import generate_uid

    study_uid = generate_uid()
    out = []
    for n, cid in enumerate(case_ids, 1):
        ds = pydicom.dcmread(ROOT / "sample_dicoms" / "cases" / cid / "image.dcm")
        ds.PatientName, ds.PatientID, ds.PatientBirthDate = name, pid, "19550101"
        ds.StudyDate = ds.SeriesDate = date
        ds.StudyDescription, ds.AccessionNumber = text, f"ACC{pid[3:]}"
        ds.InstitutionName = "SAINT ELSEWHERE HOSPITAL"
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SeriesNumber = study_uid, generate_uid(), n
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        out.append(ds)
    return out


def main() -> int:
    import napari
    from pacs_support import PASSWORD, USER, Orthanc, new_set
    from qtpy.QtWidgets import QApplication

    from flannot.napari._qt.pacs_dock import PacsDock
    from flannot.napari.session import get_session
    from flannot.teach.teaching_set import TeachingSet

    os.environ.update(FLANNOT_PACS_USER=USER, FLANNOT_PACS_PASSWORD=PASSWORD)
    os.environ.pop("FLANNOT_PACS_TOKEN", None)
    with tempfile.TemporaryDirectory() as tmp:
        server = Orthanc(Path(tmp) / "orthanc")
        server.start()
        try:
            for name, pid, date, description, case_ids in STUDIES:
                server.upload(identified(case_ids, name, pid, date, description))
            viewer = napari.Viewer(title="flannot — PACS", show=True)
            viewer.window._qt_window.resize(1600, 1000)
            session = get_session(viewer)
            session.ask_restore = lambda _p: False
            session.teaching_set = TeachingSet.open(new_set(Path(tmp) / "MILD-from-PACS"))
            dock = PacsDock(viewer)
            dock.setMinimumWidth(470)  # every column of the study table readable
            viewer.window.add_dock_widget(dock, name="PACS", area="right")
            dock.url_edit.setText(server.url)
            dock.date_edit.setText("20240101-20241231")
            dock.modality_box.setCurrentText("XA")
            assert dock.search(), dock.status_label.text()
            dock.table.selectRow(dock.browser.rows().index(next(
                r for r in dock.browser.rows() if r[1].startswith("DOE")
            )))  # fmt: skip
            thread = dock.pull()
            assert thread is not None
            thread.join(timeout=60)
            for _ in range(50):  # the outcome arrives through the Qt event loop
                QApplication.processEvents()
            viewer.reset_view()
            for _ in range(5):
                QApplication.processEvents()
            viewer.screenshot(str(OUT), canvas_only=False)
            print(f"wrote {OUT}: {dock.status_label.text()}")
            viewer.close()
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

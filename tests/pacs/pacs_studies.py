"""Identified test studies for the PACS tests: the de-identification tests' XA builder
(:mod:`identified`) with fresh UIDs per study, so every test owns its study on the
shared Orthanc."""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np
from identified import IDENTIFIERS, make_xa
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid

# identifiers every pulled byte must be free of (the builder's fixed UIDs are replaced)
NAMES = [s for s in IDENTIFIERS if not s.startswith("1.2.826.0.1.3680043.8.498.")]


@dataclass
class Study:
    study_uid: str
    series_uids: list[str]
    datasets: list[Dataset] = field(default_factory=list)

    @property
    def uids(self) -> list[str]:
        """Every original UID an output must not contain."""
        return [self.study_uid, *self.series_uids, *(str(d.SOPInstanceUID) for d in self.datasets)]


def _frames(seed: int, n_frames: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(200, 3900, size=(n_frames, 64, 64), dtype=np.uint16)


def identified_study(singles: int = 3, cine_runs: int = 0, frames: int = 4) -> Study:
    """A study full of identifiers: one series of ``singles`` single-frame XA images
    and ``cine_runs`` series of one multi-frame XA run each; distinct pixels everywhere."""
    study = Study(generate_uid(), [])
    plan = ([(1, singles)] if singles else []) + [(frames, 1)] * cine_runs
    n = 0
    for series_number, (n_frames, count) in enumerate(plan, 1):
        series_uid = generate_uid()
        study.series_uids.append(series_uid)
        for i in range(count):
            ds = make_xa(i, n_frames=n_frames)
            sop = generate_uid()
            ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = sop
            ds.StudyInstanceUID, ds.SeriesInstanceUID = study.study_uid, series_uid
            ds.SeriesNumber, ds.InstanceNumber = series_number, i + 1
            if n_frames == 1:
                del ds.NumberOfFrames, ds.FrameIncrementPointer
            ds.PixelData = _frames(1000 + n, n_frames).tobytes()
            study.datasets.append(ds)
            n += 1
    return study


def dicom_bytes(study: Study) -> list[bytes]:
    """The study's instances as DICOM files (PS3.10) in memory."""
    out = []
    for ds in study.datasets:
        buf = io.BytesIO()
        ds.save_as(buf, enforce_file_format=True)
        out.append(buf.getvalue())
    return out
